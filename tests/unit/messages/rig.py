"""Official messages on memory twins, deliveries run at once: for the capabilities above."""

from __future__ import annotations

from rempart.kernel.ports import Clock
from rempart.mail.adapters.memory import MemoryMailer
from rempart.messages.adapters.channels import (
    MailerEmailChannel,
    MemoryLetterChannel,
    MemorySmsChannel,
)
from rempart.messages.adapters.dispatch import InlineDispatcher
from rempart.messages.adapters.memory import MemoryMessageRegister
from rempart.messages.service import MessagesDeps, Messenger
from rempart.people.ports import PortalStore

OFFICIAL_ADDRESS = "rempart.example.fr/citoyen"


def messages_deps(
    portal: PortalStore,
    mailer: MemoryMailer,
    clock: Clock,
    *,
    register: MemoryMessageRegister | None = None,
    sms: MemorySmsChannel | None = None,
    letters: MemoryLetterChannel | None = None,
) -> MessagesDeps:
    """Memory register and channels, mail into ``mailer``'s outbox."""
    return MessagesDeps(
        register=register or MemoryMessageRegister(),
        portal=portal,
        email=MailerEmailChannel(mailer),
        sms=sms or MemorySmsChannel(),
        letters=letters or MemoryLetterChannel(),
        dispatcher=InlineDispatcher(),
        clock=clock,
        key=b"m" * 32,
        official_address=OFFICIAL_ADDRESS,
        register_wait_seconds=0.0,
    )


def messenger(portal: PortalStore, mailer: MemoryMailer, clock: Clock) -> Messenger:
    """The ``OfficialMessages`` port on twins."""
    return Messenger(messages_deps(portal, mailer, clock))
