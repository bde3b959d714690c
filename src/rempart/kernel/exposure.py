"""What a data request would expose, and the port of the guard that admits it or not.

The capabilities that serve personal data (people, training follow-up) describe each request
to the guard in these terms and ask it to admit the request before any data leaves; the guard
itself is wired in by ``bootstrap``, so the data path never depends on how the guard decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from rempart.kernel.context import RequestContext


class Exposure(StrEnum):
    """What kind of data request it is."""

    READ = "read"  # one full record
    LOOKUP = "lookup"  # the exact lookup outside scope
    LIST = "list"  # names of several people (portfolio, rosters)
    EXPORT = "export"


@dataclass(frozen=True, slots=True)
class GuardRequest:
    """One data request as the guard sees it."""

    kind: Exposure
    asked: tuple[str, ...]  # identifiers the caller asked for
    exposed: tuple[str, ...]  # people whose data would leave if allowed
    found: bool = True
    canary: bool = False
    # How many people the caller's scope holds, counted only when the guard asks (it keeps the
    # figure a while): day one's budgets and the whole-scope detector are measured against it.
    scope_size: Callable[[], int] | None = None


class ExposureGuard(Protocol):
    """The inline guard, as the data path sees it."""

    def admit(self, ctx: RequestContext, request: GuardRequest) -> None:
        """Return when the data may leave; raise the API's error (budget exhausted, step-up
        required, session revoked, a canary's 404...) when it must not."""
        ...
