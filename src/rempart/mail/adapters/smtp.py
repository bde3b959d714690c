"""``SmtpMailer``: real SMTP (aiosmtplib)."""

from __future__ import annotations

import asyncio
import threading
from email.message import EmailMessage

import aiosmtplib


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
