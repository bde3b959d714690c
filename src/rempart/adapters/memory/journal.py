"""``MemoryJournal``: entries kept in a list (unit tests, in-memory demo)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from rempart.domain.journal import JournalEntry


class MemoryJournal:
    """Implements ``JournalWriter`` in memory."""

    def __init__(self) -> None:
        self.entries: list[JournalEntry] = []
        self._lock = threading.Lock()

    def append(self, entries: Sequence[JournalEntry]) -> int:
        """Keep the entries; return the last sequence number (1-based)."""
        with self._lock:
            self.entries.extend(entries)
            return len(self.entries)
