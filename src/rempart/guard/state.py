"""What the guard's shared counters speak: sliding windows of distinct people, and the answer
to an admission (the port itself is ``ports.GuardState``)."""

from __future__ import annotations

from typing import NamedTuple

# Named tuples rather than frozen dataclasses: a record read builds eight windows and two
# admissions, and a frozen dataclass pays one ``object.__setattr__`` per field to be built.


class Window(NamedTuple):
    """A sliding window of distinct members under ``key``, limited to ``limit`` members."""

    key: str
    seconds: int
    limit: int


class Admission(NamedTuple):
    """The answer to an admission: admitted or not, and the windows' counts after it."""

    admitted: bool
    counts: tuple[int, ...]  # members in each window after the call
    new_members: int  # members the first window had not seen (the people newly exposed)
    blocked: int | None = None  # index of the window that refused
    retry_after: int = 0
