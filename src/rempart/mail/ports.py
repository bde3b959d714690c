"""Ports: what the use cases need from the outside world, named for their role."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class Mailer(Protocol):
    def send(
        self, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None
    ) -> None:
        """Send one plain-text e-mail, with extra header fields if given (raises on failure;
        callers decide whether to retry)."""
        ...
