"""Journal test material: one signing key, and entries that differ in every indexed field."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

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


def cut_tail(path: Path, keep: int) -> None:
    """Play the intruder with write access to a SQLite journal file (but not the signing key):
    delete every entry after ``keep``, the checkpoints and Merkle nodes that covered them, and
    set the index watermark back, as if they had never been."""
    conn = sqlite3.connect(path)
    try:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        for table in ("journal_entries", "journal_persons", "journal_by_person"):
            conn.execute(f"DELETE FROM {table} WHERE seq > ?", (keep,))
        for table in ("journal_by_agent", "journal_by_session"):
            conn.execute(f"DELETE FROM {table} WHERE seq > ?", (keep,))
        conn.execute("DELETE FROM journal_checkpoints WHERE tree_size > ?", (keep,))
        conn.execute("DELETE FROM journal_nodes WHERE ((idx + 1) << level) > ?", (keep,))
        conn.execute("UPDATE journal_index_state SET upto = min(upto, ?)", (keep,))
        conn.commit()
    finally:
        conn.close()
