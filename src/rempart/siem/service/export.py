"""Export the journal as ECS JSON lines, once or following it as it grows (for a log shipper).

Entries are read back from their hashed canonical form, so the export says what the journal
proves. Each line is one ECS event (``rempart.siem.model.ecs_events``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from rempart.journal.model import StoredEntry, entry_from_canonical
from rempart.siem.model import ecs_events
from rempart.siem.ports import JournalFeed

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True, slots=True)
class Window:
    """Which entries to export: ``[since, until)`` in time, after a sequence number."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    after: int = 0  # a shipper's cursor: the last sequence number already exported

    def start(self, feed: JournalFeed) -> int:
        """The sequence number to read after: the cursor, or the first entry at ``since``."""
        if self.since is None:
            return self.after
        return max(self.after, feed.last_seq_before(self.since))

    def holds(self, at: dt.datetime) -> bool:
        """Whether an entry at ``at`` is in the window."""
        return (self.since is None or at >= self.since) and (self.until is None or at < self.until)


@dataclass(frozen=True, slots=True)
class Batch:
    """What one pass wrote: entries and events, and the last sequence number read."""

    entries: int
    events: int
    last_seq: int


def export_once(
    feed: JournalFeed,
    write: Callable[[str], object],
    window: Window,
    written: Callable[[int], None] | None = None,
) -> Batch:
    """Every entry of the window, in journal order, as ECS lines passed to ``write`` (an
    entry's lines in one call); ``written`` hears each sequence number once its lines are."""
    after = window.start(feed)
    entries = events = 0
    last = after
    for seq, body, _chain in feed.rows(after):
        last = seq
        entry = entry_from_canonical(body)
        if window.holds(entry.at):
            lines = [_ENCODER.encode(e) + "\n" for e in ecs_events(StoredEntry(seq, entry))]
            write("".join(lines))
            entries += 1
            events += len(lines)
        if written is not None:
            written(seq)
    return Batch(entries, events, last)


def follow(
    feed: JournalFeed,
    write: Callable[[str], object],
    window: Window,
    *,
    sleep: Callable[[], None],
    done: Callable[[Batch], bool],
    written: Callable[[int], None] | None = None,
) -> Batch:
    """Export the window, then keep exporting what is appended, batch after batch.

    ``done`` sees each batch (the caller flushes and saves its cursor there) and says whether
    to stop; ``sleep`` waits between polls; ``written`` hears each entry exported (a follower
    stopped mid-batch saves its cursor there). A window with ``until`` stops once the journal
    has an entry past it (entries are appended in time order, give or take a commit).
    """
    after = window.start(feed)
    total = Batch(0, 0, after)
    while True:
        batch = export_once(feed, write, Window(window.since, window.until, after), written)
        after = batch.last_seq
        total = Batch(total.entries + batch.entries, total.events + batch.events, after)
        if done(batch) or _past(feed, window, after):
            return total
        sleep()


def _past(feed: JournalFeed, window: Window, after: int) -> bool:
    if window.until is None:
        return False
    return feed.last_seq_before(window.until) < after
