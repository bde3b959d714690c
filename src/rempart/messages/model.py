"""Official messages people can verify, so that a leak cannot become a phishing campaign.

After a leak, victims get messages that quote their real data and imitate the agency. Every
message Rempart sends to a person (a one-time code, an incident letter) is therefore:

- registered *before* it leaves: a reference, the channel, the subject, a keyed hash of the
  exact content, when it was registered, handed to its channel and delivered, the person;
- marked with that reference, in the body (``Référence : XXXX-XXXX-XXXX``) and, for mail, in
  the ``X-Rempart-Reference`` header; it holds no link: it tells the person to type the
  official address themselves and enter the reference there;
- verifiable by anyone holding it: genuine gives when, on which channel and about what;
  anything else (malformed, unknown, revoked) gives one and the same "not from us" answer,
  and guessing is throttled per client address and for everyone together.

References: 12 characters from A–Z and 2–9 (no 0 or 1, so no O/0 or I/1 confusion), drawn from
the OS CSPRNG: 34¹² ≈ 2⁶¹, so a guess hits one of a million registered messages with odds of
about one in 2·10¹²; the throttle makes even that many guesses impossible.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from rempart.kernel.throttling import ThrottlePolicy

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 12
GROUP = 4
_REFERENCE = re.compile(rf"[{ALPHABET}]{{{REFERENCE_LENGTH}}}")
# A link in a message to a person is what a phisher's copy would carry: none in ours.
_LINK = re.compile(r"(?i)\b(?:https?://|ftp://|www\.)|\bhttps?:|<a\s")
# What the register keeps instead of a secret the message carried (a one-time code).
MASK = "••••••"

# One address checking references: a person checks a few; a guesser is slowed down fast.
CHECKS_PER_ADDRESS = ThrottlePolicy(
    free=10, base_seconds=2.0, max_seconds=3_600.0, forget_after=dt.timedelta(hours=1)
)
# Everyone together: a distributed guess cannot go faster than this many misses per window.
CHECKS_GLOBAL_MISSES = 1_000
CHECKS_GLOBAL_WINDOW = dt.timedelta(minutes=10)


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"


CHANNEL_LABELS: dict[Channel, str] = {
    Channel.EMAIL: "courriel",
    Channel.SMS: "SMS",
    Channel.LETTER: "courrier postal",
}


@dataclass(frozen=True, slots=True)
class OfficialMessage:
    """One entry of the register: what was sent to whom, when, and how to recognise it."""

    reference: str  # canonical form, without dashes
    ft_id: str
    channel: Channel
    subject: str
    content_hash: str  # HMAC-SHA-256 (register key) of channel, subject and the body as sent
    body: str  # the body as sent, its secrets masked: what the person sees in their space
    registered_at: dt.datetime
    key: str = ""  # the caller's idempotency key ("" when none)
    sent_at: dt.datetime | None = None  # handed to its channel
    delivered_at: dt.datetime | None = None  # accepted by the mail server / SMS gateway / printer
    revoked_at: dt.datetime | None = None

    @property
    def display_reference(self) -> str:
        """``XXXX-XXXX-XXXX``."""
        return display(self.reference)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A registered message on its way: the body with its secrets, never stored."""

    reference: str
    channel: Channel
    recipient: str  # e-mail address, phone number, or the postal address (lines)
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to "did this come from you?"; ``message`` only when genuine."""

    message: OfficialMessage | None = None

    @property
    def genuine(self) -> bool:
        return self.message is not None


@dataclass(frozen=True, slots=True)
class Check:
    """One verification asked for, kept to throttle guessing."""

    client_address: str
    at: dt.datetime
    genuine: bool


def new_reference() -> str:
    """A fresh reference (canonical form, no dashes)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_LENGTH))


def display(reference: str) -> str:
    """``ABCD2345WXYZ`` → ``ABCD-2345-WXYZ``."""
    return "-".join(reference[i : i + GROUP] for i in range(0, len(reference), GROUP))


def parse_reference(text: str) -> str | None:
    """The canonical reference a person typed (any case, spaces or dashes between groups), or
    None when it cannot be one. Bounded work whatever the input."""
    if len(text) > 64:
        return None
    compact = "".join(c for c in text.upper() if c not in " -\t")
    return compact if _REFERENCE.fullmatch(compact) else None


def has_link(text: str) -> bool:
    """True when ``text`` carries something a mail reader would turn into a link."""
    return _LINK.search(text) is not None


def content_hash(key: bytes, channel: Channel, subject: str, body: str) -> str:
    """Keyed: a leaked register cannot be searched offline for the one-time code a body held."""
    material = f"{channel}\x00{subject}\x00{body}".encode()
    return hmac.new(key, material, hashlib.sha256).hexdigest()


def masked(body: str, hidden: tuple[str, ...]) -> str:
    """``body`` with each secret replaced by ``MASK``."""
    for secret in hidden:
        if secret:
            body = body.replace(secret, MASK)
    return body


def official_body(body: str, reference: str, address: str) -> str:
    """The caller's text, then the reference and how to check it (no link: typed by hand)."""
    return (
        f"{body.rstrip()}\n\n"
        f"Référence : {display(reference)}\n\n"
        "Ce message vient-il vraiment de nous ? Sans cliquer sur rien, tapez vous-même "
        f"l'adresse {address} dans votre navigateur, ouvrez « Ce message vient-il vraiment de "
        "nous ? » et saisissez la référence ci-dessus. Nos messages ne contiennent jamais de "
        "lien et ne vous demandent jamais de mot de passe ni de coordonnées bancaires.\n"
    )


def sms_text(body: str, reference: str, address: str) -> str:
    """The short form for an SMS: the text, the reference, the address to type."""
    return f"{body.rstrip()}\nRéférence : {display(reference)}\nVérifiez-la sur {address}"
