"""Wires official messages: the register in the portal database, mail through the portal's
(blocking, DKIM-signing) mailer on a worker thread, SMS in memory until a gateway exists,
letters as files for the print shop (or in memory)."""

from __future__ import annotations

import hashlib
from contextlib import ExitStack
from urllib.parse import urlsplit

from rempart.db.uow import Database
from rempart.kernel.ports import Clock
from rempart.mail.ports import Mailer
from rempart.messages.adapters.channels import (
    FileLetterChannel,
    MailerEmailChannel,
    MemoryLetterChannel,
    MemorySmsChannel,
)
from rempart.messages.adapters.dispatch import ThreadDispatcher
from rempart.messages.adapters.sql import SqlMessageRegister
from rempart.messages.ports import LetterChannel
from rempart.messages.service import MessagesDeps, Messenger
from rempart.people.ports import PortalStore
from rempart.settings import Settings

VERIFY_PAGE = "/citoyen"


def official_address(settings: Settings) -> str:
    """What people are told to type: the configured address, else the portal's host."""
    if settings.official_address:
        return settings.official_address
    return (urlsplit(settings.public_url).netloc or "localhost") + VERIFY_PAGE


def build_messages(
    settings: Settings,
    db: Database,
    *,
    portal: PortalStore,
    mailer: Mailer,
    clock: Clock,
    resources: ExitStack,
) -> Messenger:
    """The official messages' use cases; ``mailer`` may block (deliveries run on a thread
    that ``resources`` drains when they close)."""
    dispatcher = ThreadDispatcher()
    resources.callback(dispatcher.close)
    letters: LetterChannel = (
        FileLetterChannel(settings.letters_dir) if settings.letters_dir else MemoryLetterChannel()
    )
    return Messenger(
        MessagesDeps(
            register=SqlMessageRegister(db),
            portal=portal,
            email=MailerEmailChannel(mailer),
            sms=MemorySmsChannel(echo=settings.demo),
            letters=letters,
            dispatcher=dispatcher,
            clock=clock,
            # A key of its own: a content hash is never comparable with any other HMAC here.
            key=hashlib.sha256(
                b"rempart official messages\x00" + settings.secret_key.get_secret_value().encode()
            ).digest(),
            official_address=official_address(settings),
        )
    )
