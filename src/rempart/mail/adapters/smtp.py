"""``SmtpMailer``: real SMTP (aiosmtplib), DKIM-signed when a key is configured."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid

import aiosmtplib

from rempart.mail.dkim import DkimKey


class SmtpMailer:
    """Sends through an SMTP server (STARTTLS when the server offers it)."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        timeout: float = 10.0,
        dkim_key: DkimKey | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout
        self.dkim_key = dkim_key

    def compose(
        self, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None
    ) -> bytes:
        """The message as it goes on the wire (CRLF), signed when a DKIM key is set."""
        msg = EmailMessage(policy=SMTP)
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        domain = self.dkim_key.domain if self.dkim_key else self.sender.rpartition("@")[2]
        msg["Message-ID"] = make_msgid(domain=domain or "localhost")
        for name, value in (headers or {}).items():
            msg[name] = value
        msg.set_content(body)
        raw = msg.as_bytes()
        if self.dkim_key is not None:
            raw = self.dkim_key.signature(raw) + raw
        return raw

    def send(
        self, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None
    ) -> None:
        """Send one message; blocks until the server accepted it."""
        raw = self.compose(to, subject, body, headers)
        coro = aiosmtplib.send(
            raw,
            sender=self.sender,
            recipients=[to],
            hostname=self.host,
            port=self.port,
            timeout=self.timeout,
        )
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
