"""The channels an official message leaves by: mail (the portal's mailer), SMS, printed letters."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from rempart.mail.ports import Mailer

log = logging.getLogger("rempart.messages")

REFERENCE_HEADER = "X-Rempart-Reference"


class MailerEmailChannel:
    """Implements ``EmailChannel`` over a blocking ``Mailer`` (the dispatcher is the thread)."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def send_email(self, to: str, subject: str, body: str, reference: str) -> None:
        """One mail with its reference header."""
        self.mailer.send(to, subject, body, {REFERENCE_HEADER: reference})


@dataclass(frozen=True, slots=True)
class Sms:
    phone: str
    text: str


class MemorySmsChannel:
    """Implements ``SmsChannel`` without a gateway: kept in memory (printed in demo mode)."""

    def __init__(self, echo: bool = False) -> None:
        self.sent: list[Sms] = []
        self.echo = echo
        self._lock = threading.Lock()

    def send_sms(self, phone: str, text: str) -> None:
        """Keep the SMS."""
        with self._lock:
            self.sent.append(Sms(phone, text))
        if self.echo:
            log.warning("demo SMS to %s:\n%s", phone, text)


@dataclass(frozen=True, slots=True)
class Letter:
    reference: str
    address: str
    subject: str
    body: str

    def printable(self) -> str:
        """The letter as it is printed: the address block, the subject, the text."""
        return f"{self.address}\n\n\nObjet : {self.subject}\n\n{self.body}"


class MemoryLetterChannel:
    """Implements ``LetterChannel`` in memory."""

    def __init__(self) -> None:
        self.printed: list[Letter] = []
        self._lock = threading.Lock()

    def print_letter(self, reference: str, address: str, subject: str, body: str) -> None:
        """Keep the letter."""
        with self._lock:
            self.printed.append(Letter(reference, address, subject, body))


class FileLetterChannel:
    """Implements ``LetterChannel``: one UTF-8 text file per letter, named by its reference,
    in the directory the print shop collects from."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def print_letter(self, reference: str, address: str, subject: str, body: str) -> None:
        """Write ``REFERENCE.txt`` (complete or not at all: written aside, then renamed)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{reference}.txt"
        partial = target.with_suffix(".part")
        partial.write_text(Letter(reference, address, subject, body).printable(), "utf-8")
        partial.replace(target)
