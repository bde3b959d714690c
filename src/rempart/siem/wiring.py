"""Builds the SIEM capability's parts: the journal it reads, the Sigma toolkit it converts with."""

from __future__ import annotations

from rempart.journal.wiring import open_journal_archive
from rempart.siem.adapters.pysigma import PySigmaToolkit
from rempart.siem.adapters.sqlite_hunt import SqliteEvents
from rempart.siem.ports import EventTable, OpenJournalFeed, RuleToolkit


def open_feed(url: str) -> OpenJournalFeed:
    """The journal at ``url``, for reading (the export signs nothing)."""
    return open_journal_archive(url, None)


def rule_toolkit() -> RuleToolkit:
    """pySigma and the backends ``rempart rules convert`` offers."""
    return PySigmaToolkit()


def event_table() -> EventTable:
    """An in-memory SQLite table of events for the SQLite-converted rules."""
    return SqliteEvents()
