"""Governance's FastAPI dependencies, shared by its API and its pages (and the console's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from rempart.governance.service.deps import GovernanceDeps
from rempart.web.deps import container


def governance(request: Request) -> GovernanceDeps:
    """The governance use cases' dependencies (wired by ``governance.wiring``)."""
    return container(request).governance


Gov = Annotated[GovernanceDeps, Depends(governance)]
