"""Ports: what the use cases need from the outside world, named for their role."""

from __future__ import annotations

from typing import Protocol


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None:
        """Send one plain-text e-mail (raises on failure; callers decide whether to retry)."""
        ...
