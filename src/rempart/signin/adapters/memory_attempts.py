"""``MemoryAttemptCounter``: failed-attempt tallies in process memory (one replica, tests)."""

from __future__ import annotations

import datetime as dt
import threading

from rempart.kernel.throttling import Failures

MAX_KEYS = 100_000  # an attacker cycling addresses must not grow memory without bound


class MemoryAttemptCounter:
    """Implements ``AttemptCounter``."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[int, dt.datetime, dt.timedelta]] = {}
        self._lock = threading.Lock()

    def failures(self, key: str, now: dt.datetime) -> Failures:
        """The current tally for ``key``."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return Failures()
            count, last, forget = entry
            if now - last >= forget:
                del self._data[key]
                return Failures()
            return Failures(count, last)

    def record_failure(self, key: str, now: dt.datetime, forget_after: dt.timedelta) -> Failures:
        """One more failure for ``key``."""
        with self._lock:
            entry = self._data.get(key)
            count = 1
            if entry is not None and now - entry[1] < entry[2]:
                count = entry[0] + 1
            if len(self._data) >= MAX_KEYS and key not in self._data:
                self._evict(now)
            self._data[key] = (count, now, forget_after)
            return Failures(count, now)

    def clear(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._data.pop(key, None)

    def _evict(self, now: dt.datetime) -> None:
        stale = [k for k, (_, last, forget) in self._data.items() if now - last >= forget]
        for k in stale:
            del self._data[k]
        if len(self._data) >= MAX_KEYS:  # still full: drop the oldest tenth
            oldest = sorted(self._data, key=lambda k: self._data[k][1])[: MAX_KEYS // 10]
            for k in oldest:
                del self._data[k]
