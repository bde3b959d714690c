""" "Who consulted my file": the person's own view of the journal (after Estonia's Data Tracker).

A person proves who they are with their ``ft_id``, their birth date, and a one-time code mailed
to the address the agency holds; they then see every consultation of their file by partner
organisations and can flag one they do not recognise. The rules, with their reasons:

- The answer to a code request never says whether the person exists (no enumeration): the same
  status, body and work happen either way; a mismatch just stores a code nobody can type.
- Codes: 6 digits from the OS CSPRNG, stored as an HMAC keyed by the server secret (a leaked
  table cannot be brute-forced offline), valid 10 minutes, 5 attempts, usable once
  (ASVS V6.5.1, V6.5.3, V6.5.5, V6.6.3), compared in constant time.
- Requests slow down per (ft_id, birth date) pair and per client address (an IPv6 client by
  its /64), with growing delays like sign-in (ASVS V6.3.1): each code also lands in the
  person's mailbox, so guessing is loud as well. Never per ft_id alone: three requests with a
  wrong birth date once delayed the real person (right birth date, another address) for up to
  a day, and no mail ever reached them (2026 penetration test, finding 5). A mismatch sends
  nothing, so the pair that reaches a mailbox is the right one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from rempart.kernel.tags import Tag
from rempart.kernel.throttling import ThrottlePolicy

CODE_DIGITS = 6

# A person's mailbox is the thing being protected from floods: few codes per (ft_id, birth
# date) pair, then long pauses.
CHALLENGES_PER_PAIR = ThrottlePolicy(
    free=3, base_seconds=60.0, max_seconds=86_400.0, forget_after=dt.timedelta(hours=24)
)
# One address asking about many people is enumeration; an office NAT gets some slack.
CHALLENGES_PER_ADDRESS = ThrottlePolicy(
    free=10, base_seconds=1.0, max_seconds=3_600.0, forget_after=dt.timedelta(hours=1)
)


@dataclass(frozen=True, slots=True)
class CitizenChallenge:
    """A one-time code sent (or, for an unknown person, pretended to be sent)."""

    id: str
    ft_id: str
    client_address: str
    created_at: dt.datetime
    expires_at: dt.datetime
    code_hash: str
    attempts: int = 0
    consumed_at: dt.datetime | None = None
    pair_key: str = ""  # keyed digest of (ft_id, birth date): what the person's throttle counts


def pair_key(secret: bytes, ft_id: str, birth_date: dt.date) -> str:
    """The throttle's key for one (ft_id, birth date) pair: keyed, so the table holds no
    birth date and no guessable digest of one."""
    message = f"citizen-pair\x00{ft_id}\x00{birth_date.isoformat()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class CitizenSession:
    """A person signed in to see their own accesses: short-lived, separate from agents'."""

    token_hash: str
    csrf_hash: str
    ft_id: str
    created_at: dt.datetime
    expires_at: dt.datetime
    # Bound like an agent's session (``signin.model.bound_address``: the exact IPv4 address or
    # the IPv6 /64, and the browser): a copied cookie is worth nothing elsewhere (finding 6).
    bound_address: str = ""
    user_agent: str = ""

    @property
    def public_id(self) -> str:
        """What the journal records: not the token, nothing that can be replayed."""
        return "citizen:" + self.token_hash[:16]


@dataclass(frozen=True, slots=True)
class CitizenFlag:
    """ "I don't recognise this": one journal entry reported by the person it concerns."""

    ft_id: str
    seq: int
    at: dt.datetime
    comment: str = ""
    alert_id: int = 0


def code_digest(secret: bytes, challenge_id: str, code: str) -> str:
    """HMAC-SHA-256 of a code, bound to its challenge."""
    return hmac.new(secret, f"{challenge_id}\x00{code}".encode(), hashlib.sha256).hexdigest()


def is_code(text: str) -> bool:
    """True for exactly ``CODE_DIGITS`` ASCII digits."""
    return len(text) == CODE_DIGITS and text.isascii() and text.isdigit()


# What the person reads for each kind of entry: plain words, not tags.
ACTION_LABELS: dict[Tag, str] = {
    Tag.PORTAL_PERSON_READ: "Consultation de votre dossier",
    Tag.PORTAL_PERSON_LOOKUP: "Recherche de votre dossier (identifiant et date de naissance)",
    Tag.PORTAL_PORTFOLIO_LIST: "Affichage de votre nom dans une liste de personnes suivies",
    Tag.PORTAL_SESSION_ROSTER: "Affichage de votre nom sur la liste d'une formation",
    Tag.PORTAL_ATTENDANCE_WRITE: "Saisie de votre présence à une formation",
    Tag.PORTAL_ENROLMENT_CREATE: "Inscription à une formation",
    Tag.PORTAL_NOTE_WRITE: "Rédaction d'une note de suivi",
    Tag.PORTAL_ROSTER_EXPORT: "Export d'une liste de stagiaires comprenant votre nom",
    Tag.PORTAL_FOLLOW_UP_HANDED_OVER: "Transfert de votre suivi à un autre conseiller",
    Tag.PORTAL_FOLLOW_UP_CLOSED: "Fin de votre suivi par un conseiller",
    Tag.PORTAL_FOLLOW_UP_CONFIRMATION_SENT: "Demande de votre accord pour un suivi",
    Tag.PORTAL_FOLLOW_UP_TAKEN_ON: "Début de votre suivi par un conseiller, avec votre accord",
}


def action_label(tag: Tag) -> str:
    """The plain-words description of an access."""
    return ACTION_LABELS.get(tag, "Accès à votre dossier")
