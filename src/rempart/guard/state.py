"""What the guard's shared counters speak: sliding windows of distinct people, and the answer
to an admission (the port itself is ``ports.GuardState``)."""

from __future__ import annotations

from dataclasses import dataclass


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
