"""``MemoryMailer``: an in-process outbox (demo mode and tests)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

log = logging.getLogger("rempart.mail")


@dataclass(frozen=True, slots=True)
class SentMail:
    to: str
    subject: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)


class MemoryMailer:
    """Keeps messages in memory; in demo mode also prints them so the demo needs no SMTP."""

    def __init__(self, echo: bool = False) -> None:
        self.outbox: list[SentMail] = []
        self.echo = echo
        self._lock = threading.Lock()

    def send(
        self, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None
    ) -> None:
        """Keep the message (and print it in demo mode)."""
        with self._lock:
            self.outbox.append(SentMail(to, subject, body, dict(headers or {})))
        if self.echo:
            log.warning("demo mail to %s: %s\n%s", to, subject, body)
