"""Mailers: real SMTP (aiosmtplib) and an in-process outbox (demo mode and tests)."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

log = logging.getLogger("rempart.mail")


@dataclass(frozen=True, slots=True)
class SentMail:
    to: str
    subject: str
    body: str


class SmtpMailer:
    """Sends through an SMTP server (STARTTLS when the server offers it)."""

    def __init__(self, host: str, port: int, sender: str, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout

    def send(self, to: str, subject: str, body: str) -> None:
        """Send one message; blocks until the server accepted it."""
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content(body)
        coro = aiosmtplib.send(msg, hostname=self.host, port=self.port, timeout=self.timeout)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(coro)
            return
        # Called from inside an event loop (async code path): run on a helper thread.
        error: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(coro)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                error.append(exc)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        t.join()
        if error:
            raise error[0]


class MemoryMailer:
    """Keeps messages in memory; in demo mode also prints them so the demo needs no SMTP."""

    def __init__(self, echo: bool = False) -> None:
        self.outbox: list[SentMail] = []
        self.echo = echo
        self._lock = threading.Lock()

    def send(self, to: str, subject: str, body: str) -> None:
        """Keep the message (and print it in demo mode)."""
        with self._lock:
            self.outbox.append(SentMail(to, subject, body))
        if self.echo:
            log.warning("demo mail to %s: %s\n%s", to, subject, body)
