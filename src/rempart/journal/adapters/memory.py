"""``MemoryJournal``: entries kept in a list (unit tests, in-memory demo)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Sequence

from rempart.journal.model import JournalEntry, StoredEntry


class MemoryJournal:
    """Implements ``JournalWriter`` and ``JournalQueries`` in memory (no tamper evidence)."""

    def __init__(self) -> None:
        self.entries: list[JournalEntry] = []
        self._lock = threading.Lock()

    def append(self, entries: Sequence[JournalEntry]) -> int:
        """Keep the entries; return the last sequence number (1-based)."""
        with self._lock:
            self.entries.extend(entries)
            return len(self.entries)

    def _stored(self) -> list[StoredEntry]:
        with self._lock:
            return [StoredEntry(i, e) for i, e in enumerate(self.entries, start=1)]

    def entry(self, seq: int) -> StoredEntry | None:
        """One entry by sequence number."""
        with self._lock:
            if 1 <= seq <= len(self.entries):
                return StoredEntry(seq, self.entries[seq - 1])
        return None

    def who_consulted(
        self, ft_id: str, offset: int, limit: int, *, by_agents_only: bool = False
    ) -> list[StoredEntry]:
        """Entries concerning a person, newest first."""
        found = [
            s
            for s in reversed(self._stored())
            if ft_id in s.entry.persons and (s.entry.agent_login or not by_agents_only)
        ]
        return found[offset : offset + limit]

    def activity(
        self,
        since: dt.datetime,
        until: dt.datetime,
        *,
        agent_login: str = "",
        session_id: str = "",
        offset: int = 0,
        limit: int = 100,
    ) -> list[StoredEntry]:
        """What an agent (or one session) did in ``[since, until)``, oldest first."""
        found = sorted(
            (
                s
                for s in self._stored()
                if since <= s.entry.at < until
                and (not agent_login or s.entry.agent_login == agent_login)
                and (not session_id or s.entry.session_id == session_id)
            ),
            key=lambda s: (s.entry.at, s.seq),
        )
        return found[offset : offset + limit]

    def volumes(self, since: dt.datetime, until: dt.datetime) -> list[tuple[dt.date, str, int]]:
        """Entries per (UTC day, organisation) in ``[since, until)``."""
        counts = Counter(
            (s.entry.at.astimezone(dt.UTC).date(), s.entry.org_id)
            for s in self._stored()
            if since <= s.entry.at < until
        )
        return [(day, org, n) for (day, org), n in sorted(counts.items())]
