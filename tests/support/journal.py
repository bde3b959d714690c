"""Journal test material: one signing key, and entries that differ in every indexed field."""

from __future__ import annotations

import datetime as dt

from rempart.journal.adapters.signing import Ed25519Signer, checkpoint_checker
from rempart.journal.model import JournalEntry
from rempart.kernel.tags import Decision, Tag
from tests.factories import NOW

SIGNER = Ed25519Signer.from_raw(bytes(range(32)))
TRUST = checkpoint_checker({SIGNER.key_id: SIGNER.public_key})


def read(n: int, *, at: dt.datetime = NOW, agent: str = "", ft_id: str = "") -> JournalEntry:
    """The ``n``-th consultation: agents, organisations, sessions and people cycle with ``n``."""
    return JournalEntry(
        at=at,
        tag=Tag.PORTAL_PERSON_READ,
        decision=Decision.ALLOW,
        agent_login=agent or f"agent{n % 4}",
        agent_roles=("advisor",),
        org_id=f"ORG-{n % 3}",
        session_id=f"sess-{n % 6}",
        client_address="192.0.2.7",
        network="AS:TEST/FR",
        user_agent="pytest",
        persons=(ft_id or f"{n % 10:07d}K",),
        categories=("contact", "identity"),
        purpose="employment_support",
        reason="assigned",
    )
