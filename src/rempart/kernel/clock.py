"""Clocks: the system's, and one that tests and the bench move by hand."""

from __future__ import annotations

import datetime as dt
import threading


class SystemClock:
    """Wall-clock UTC time."""

    def now(self) -> dt.datetime:
        """Current UTC time."""
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that only moves when told to (bench: days pass in seconds)."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        """The clock's current time."""
        with self._lock:
            return self._now

    def set(self, when: dt.datetime) -> None:
        """Move the clock to ``when``."""
        with self._lock:
            self._now = when

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)


def months_before(day: dt.date, months: int) -> dt.date:
    """``day`` moved back by whole months, clamped to the end of shorter months."""
    year, month = divmod(day.year * 12 + (day.month - 1) - months, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")
