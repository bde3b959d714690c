"""Ports: what the SIEM capability needs from the rest of Rempart, and from a rule toolkit.

``JournalFeed`` is the narrow view of the journal the export reads: its entries in order from
a sequence number, and where to start for a time. The journal's SQL store and its memory twin
both satisfy it as they are (``rows`` and ``last_seq_before`` are their auditor's methods).
``RuleToolkit`` parses and converts Sigma rules; pySigma implements it. ``EventTable`` runs
SQLite-converted rules over exported events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from rempart.siem.rules import ConvertedRule, Hit, RuleFile


class JournalFeed(Protocol):
    """The journal as a stream of entries, for an export or a shipper that follows it."""

    def rows(self, after: int) -> Iterator[tuple[int, bytes, bytes]]:
        """``(seq, canonical entry, chain)`` for every entry after ``after``, in order."""
        ...

    def last_seq_before(self, at: dt.datetime) -> int:
        """The highest sequence number such that it and every entry before it are older
        than ``at``."""
        ...


class RuleToolkit(Protocol):
    """Sigma rules: parse every file, convert them for one target."""

    targets: tuple[str, ...]

    def check(self, rules: list[RuleFile]) -> None:
        """Parse every rule; raise ``InvalidRequest`` naming the file and the reason."""
        ...

    def convert(self, rules: list[RuleFile], target: str) -> list[ConvertedRule]:
        """Each rule as the target's query language (one or more queries per rule)."""
        ...


class OpenJournalFeed(JournalFeed, Protocol):
    """A feed a command opened, and closes when it is done."""

    def close(self) -> None:
        """Release the journal's connections."""
        ...


class EventTable(Protocol):
    """ECS events where SQLite-converted rules can run: a SIEM in a file."""

    def load(self, events: Iterable[dict[str, Any]]) -> int:
        """Add events; the number added."""
        ...

    def run(self, rule: ConvertedRule) -> list[Hit]:
        """Where ``rule`` fires."""
        ...

    def close(self) -> None:
        """Drop the events."""
        ...
