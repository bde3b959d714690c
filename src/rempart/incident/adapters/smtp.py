"""``SmtpLetterChannel``: the letters over one SMTP connection, kept open between messages.

Every message carries its reference (``X-Rempart-Reference``, and in the body) and a
``Message-ID`` derived from its idempotency key: a retry of the same letter is the same
message, which mail systems recognise as such.
"""

from __future__ import annotations

import hashlib
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from rempart.incident.ports import OutgoingLetter


class SmtpLetterChannel:
    """Implements ``LetterChannel`` over SMTP (STARTTLS when the server offers it)."""

    def __init__(self, host: str, port: int, sender: str, timeout: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
            self._smtp = smtp
        return self._smtp

    def deliver(self, letter: OutgoingLetter) -> str:
        """Send one letter; returns once the server accepted it (raises OSError otherwise)."""
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = letter.to
        msg["Subject"] = letter.subject
        msg["Date"] = formatdate(usegmt=True)
        digest = hashlib.sha256(letter.idempotency_key.encode()).hexdigest()[:32]
        msg["Message-ID"] = f"<{digest}@rempart.letters>"
        msg["X-Rempart-Reference"] = letter.reference
        msg.set_content(letter.body)
        try:
            self._connection().send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()  # a fresh connection for the next letter
            raise OSError(f"SMTP delivery failed: {type(exc).__name__}") from exc
        return letter.reference

    def close(self) -> None:
        """Say goodbye to the server."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
