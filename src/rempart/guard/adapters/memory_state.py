"""``MemoryGuardState``: the guard's counters in one process (the default)."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Sequence

from rempart.guard.state import Admission, Window


class _Sliding:
    """Distinct members with their last-seen time; pruning is amortised O(1)."""

    __slots__ = ("last", "order")

    def __init__(self) -> None:
        self.last: dict[str, float] = {}
        self.order: deque[tuple[float, str]] = deque()

    def prune(self, cutoff: float) -> None:
        while self.order and self.order[0][0] <= cutoff:
            ts, member = self.order.popleft()
            if self.last.get(member) == ts:
                del self.last[member]

    def add(self, member: str, now: float) -> None:
        self.last[member] = now
        self.order.append((now, member))

    def oldest(self) -> float | None:
        while self.order:
            ts, member = self.order[0]
            if self.last.get(member) == ts:
                return ts
            self.order.popleft()
        return None


class MemoryGuardState:
    """Implements ``GuardState`` with dictionaries under one lock."""

    def __init__(self) -> None:
        self._windows: dict[str, _Sliding] = {}
        self._events: dict[str, deque[float]] = {}
        self._recent: dict[str, deque[int]] = {}
        self._values: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _window(self, key: str, seconds: int, now: float) -> _Sliding:
        w = self._windows.get(key)
        if w is None:
            w = self._windows[key] = _Sliding()
        w.prune(now - seconds)
        return w

    def admit(self, windows: Sequence[Window], members: Sequence[str], now: float) -> Admission:
        """Add members to all windows, or to none if one would overflow."""
        if len(members) == 1:
            return self._admit_one(windows, members[0], now)
        unique = list(dict.fromkeys(members))
        with self._lock:
            slides = [self._window(w.key, w.seconds, now) for w in windows]
            news = [sum(1 for m in unique if m not in s.last) for s in slides]
            for i, (w, s) in enumerate(zip(windows, slides, strict=True)):
                if news[i] and len(s.last) + news[i] > w.limit:
                    return self._refused(windows, slides, i, news, now)
            for s in slides:
                for m in unique:
                    s.add(m, now)
            return Admission(True, tuple(len(x.last) for x in slides), news[0] if news else 0)

    def _admit_one(self, windows: Sequence[Window], member: str, now: float) -> Admission:
        """A record read: one person, in every window. Every read takes this path, so it is
        written out (one pass to prune and count, one to add) rather than built from the
        general case."""
        with self._lock:
            slides: list[_Sliding] = []
            news: list[int] = []
            blocked = None
            for i, w in enumerate(windows):
                s = self._windows.get(w.key)
                if s is None:
                    s = self._windows[w.key] = _Sliding()
                elif s.order and s.order[0][0] <= now - w.seconds:
                    s.prune(now - w.seconds)
                new = 0 if member in s.last else 1
                if blocked is None and new and len(s.last) + 1 > w.limit:
                    blocked = i
                slides.append(s)
                news.append(new)
            if blocked is not None:
                return self._refused(windows, slides, blocked, news, now)
            for s in slides:
                s.last[member] = now
                s.order.append((now, member))
            return Admission(True, tuple(len(s.last) for s in slides), news[0] if news else 0)

    @staticmethod
    def _refused(
        windows: Sequence[Window], slides: list[_Sliding], i: int, news: list[int], now: float
    ) -> Admission:
        oldest = slides[i].oldest()
        wait = (oldest + windows[i].seconds - now) if oldest is not None else windows[i].seconds
        return Admission(
            admitted=False,
            counts=tuple(len(x.last) for x in slides),
            new_members=news[0] if news else 0,
            blocked=i,
            retry_after=max(1, math.ceil(wait)),
        )

    def distinct(self, key: str, seconds: int, now: float) -> int:
        """Members in the window."""
        with self._lock:
            return len(self._window(key, seconds, now).last)

    def count_event(self, key: str, seconds: int, now: float) -> int:
        """One more event in a sliding window."""
        with self._lock:
            q = self._events.setdefault(key, deque())
            q.append(now)
            while q and q[0] <= now - seconds:
                q.popleft()
            return len(q)

    def push_recent(self, key: str, value: int, keep: int) -> tuple[int, ...]:
        """Append to a bounded history."""
        with self._lock:
            q = self._recent.setdefault(key, deque(maxlen=keep))
            q.append(value)
            return tuple(q)

    def get(self, key: str, now: float) -> str | None:
        """A remembered value, if not expired (expiry follows the guard's own clock)."""
        # No lock: one dictionary read of an immutable pair is atomic under the interpreter's
        # lock, and ``put`` replaces the pair whole.
        item = self._values.get(key)
        if item is None or item[1] < now:
            return None
        return item[0]

    def put(self, key: str, value: str, ttl_seconds: int, now: float) -> None:
        """Remember a value."""
        with self._lock:
            self._values[key] = (value, now + ttl_seconds)

    def ping(self) -> None:
        """Always reachable."""
