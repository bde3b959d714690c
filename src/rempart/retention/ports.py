"""The one port of retention: the people past the rule, and erasing them everywhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol


class PersonErasure(Protocol):
    """People whose registration ended before a day, and their erasure across the portal."""

    def past(
        self, deregistered_before: dt.date, after_id: int, limit: int
    ) -> list[tuple[int, str]]:
        """``(id, ft_id)`` of real people (never canaries) deregistered before the day, by id,
        from ``after_id`` on."""
        ...

    def related(self, person_ids: Sequence[int], ft_ids: Sequence[str]) -> dict[str, int]:
        """How many rows of each table are about these people (the dry run's report)."""
        ...

    def erase(self, person_ids: Sequence[int], ft_ids: Sequence[str]) -> dict[str, int]:
        """Delete these people and everything about them; anonymise the messages sent to
        them. One transaction; returns the rows touched per table."""
        ...
