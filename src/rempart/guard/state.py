"""The guard's shared counters: sliding windows of distinct people, events, small memories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Window:
    """A sliding window of distinct members under ``key``, limited to ``limit`` members."""

    key: str
    seconds: int
    limit: int


@dataclass(frozen=True, slots=True)
class Admission:
    admitted: bool
    counts: tuple[int, ...]  # members in each window after the call
    new_members: int  # members the first window had not seen (the people newly exposed)
    blocked: int | None = None  # index of the window that refused
    retry_after: int = 0


class GuardState(Protocol):
    """Counters shared by every replica (memory in one process, Redis across several)."""

    def admit(self, windows: Sequence[Window], members: Sequence[str], now: float) -> Admission:
        """Atomically add ``members`` to every window, unless one would exceed its limit."""
        ...

    def distinct(self, key: str, seconds: int, now: float) -> int:
        """Members currently in a window."""
        ...

    def count_event(self, key: str, seconds: int, now: float) -> int:
        """Record one event; return the events within the window, this one included."""
        ...

    def push_recent(self, key: str, value: int, keep: int) -> tuple[int, ...]:
        """Append a value to a short history; return it, oldest first."""
        ...

    def get(self, key: str, now: float) -> str | None:
        """A small remembered value, unless it expired by ``now``."""
        ...

    def put(self, key: str, value: str, ttl_seconds: int, now: float) -> None:
        """Remember a small value until ``now + ttl_seconds`` (the guard's clock, not Redis')."""
        ...

    def ping(self) -> None:
        """Raise when the state cannot be reached (the guard then fails closed)."""
        ...
