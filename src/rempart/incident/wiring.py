"""Wires incident response: the journal it reads (and journals its own accesses in), the
portal's people, its records and the channel its letters go through."""

from __future__ import annotations

from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.wiring import open_journal_archive


def open_journal(url: str, signing_key: str | None) -> SqlJournalStore:
    """The journal an incident command reads, and appends its own accesses to."""
    return open_journal_archive(url, signing_key)
