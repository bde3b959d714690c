"""``MemoryTransactions``: the ``Transactions`` twin for stores that apply each write at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class MemoryTransactions:
    """Implements ``Transactions`` for memory twins: the block runs, nothing is held back.

    Memory stores have nothing to roll back, so a failure in the middle of a use case leaves
    what was written before it; atomicity is the SQL adapters' (``Database``) to prove.
    """

    def __init__(self) -> None:
        self.opened = 0  # how many units of work were asked for (tests read it)
        self.settled = 0  # how many times a use case committed what it had so far

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """Run the block."""
        self.opened += 1
        yield

    def settle(self) -> None:
        """Nothing is held back: count the call."""
        self.settled += 1
