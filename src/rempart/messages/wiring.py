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
from rempart.messages.adapters.dispatch import InlineDispatcher, ThreadDispatcher
from rempart.messages.adapters.sql import SqlMessageRegister
from rempart.messages.model import Channel
from rempart.messages.ports import Dispatcher, LetterChannel, OfficialMessages
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
    inline: bool = False,
    letters_dir: str = "",
) -> Messenger:
    """The official messages' use cases; ``mailer`` may block (deliveries run on a thread
    that ``resources`` drains when they close). ``inline``: each message is delivered before
    ``send_official_message`` returns (a bulk sender that follows every delivery: incident
    letters). ``letters_dir``: where printed letters go, instead of the setting's."""
    dispatcher: Dispatcher
    if inline:
        dispatcher = InlineDispatcher()
    else:
        dispatcher = thread = ThreadDispatcher()
        resources.callback(thread.close)
    where = letters_dir or settings.letters_dir
    letters: LetterChannel = FileLetterChannel(where) if where else MemoryLetterChannel()
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


class OfficialCodeNotifier:
    """Implements people's ``PersonNotifier`` with the official messages: a code goes out as
    a registered e-mail carrying its reference, the code itself masked in the register."""

    def __init__(self, messages: OfficialMessages) -> None:
        self.messages = messages

    def send_code(self, ft_id: str, subject: str, body: str, code: str) -> None:
        """Queue the message (the caller's answer does not wait for the mail)."""
        self.messages.queue_official_message(ft_id, Channel.EMAIL, subject, body, secrets=(code,))
