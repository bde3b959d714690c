"""``MemoryAlertStore``: alerts kept in one process (unit tests, a portal without a database)."""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections import Counter
from dataclasses import replace

from rempart.guard.alerts import Alert


class MemoryAlertStore:
    """Implements ``AlertSink`` in memory: ids from 1, newest first by time then id."""

    def __init__(self) -> None:
        self.items: list[Alert] = []  # as stored, in the order raised
        self._lock = threading.Lock()

    def raise_alert(self, alert: Alert) -> int:
        """Store the alert under the next id; return it."""
        with self._lock:
            # A copy of the evidence: the caller's dict changing later must not rewrite history.
            stored = replace(alert, id=len(self.items) + 1, evidence=copy.deepcopy(alert.evidence))
            self.items.append(stored)
            return stored.id

    def alerts_since(self, since: dt.datetime | None, limit: int) -> list[Alert]:
        """Alerts newest first, optionally only those at or after ``since``."""
        with self._lock:
            found = [a for a in self.items if since is None or a.at >= since]
        found.sort(key=lambda a: (a.at, a.id), reverse=True)
        return found[: max(limit, 0)]

    def counts_by_rule(self) -> dict[str, int]:
        """How many alerts each rule raised, all time."""
        with self._lock:
            return dict(Counter(a.rule for a in self.items))
