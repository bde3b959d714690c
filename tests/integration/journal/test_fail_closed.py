"""The journal's writer stalled or failing: the caller gets ``JournalUnavailable`` (a 503) in
bounded time, never a silent success and never an endless wait; the writer resumes by itself
once its database is back (ASVS 5.0 V16.5.3 fail closed, V16.3.2 no access without its log
entry, V16.5.1 errors without internals)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from rempart.journal.adapters.sql import _PG_LOCK, SqlJournalStore
from rempart.kernel.clock import ManualClock
from rempart.kernel.errors import JournalUnavailable
from tests.factories import NOW
from tests.support import aio
from tests.support.journal import read

WAIT = 0.4


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def journal_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/journal.db"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def store(journal_url: str) -> Iterator[SqlJournalStore]:
    s = SqlJournalStore(journal_url, clock=ManualClock(NOW), wait_seconds=WAIT)
    s.start()
    yield s
    s.close()


@contextmanager
def writer_stalled(url: str) -> Iterator[None]:
    """Another session holds the journal's append lock (SQLite: its write lock)."""
    if url.startswith("sqlite"):
        other = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    with psycopg.connect(url) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (_PG_LOCK,))
        try:
            yield
        finally:
            other.execute("SELECT pg_advisory_unlock(%s)", (_PG_LOCK,))


def test_a_stalled_writer_fails_the_caller_closed_in_bounded_time(
    store: SqlJournalStore, journal_url: str
) -> None:
    store.append([read(1)])
    with writer_stalled(journal_url):
        started = time.monotonic()
        with pytest.raises(JournalUnavailable):
            store.append([read(2)])
        assert time.monotonic() - started < WAIT + 2
    # Back by itself: the next append commits (the one that timed out may land too: an entry
    # for a request that was refused is over-recording, never a consultation without entry).
    last = store.append([read(3)])
    assert last >= 2
    assert store.head()[0] == last


def test_an_awaited_append_fails_closed_too(store: SqlJournalStore, journal_url: str) -> None:
    async def stalled_then_back() -> int:
        with writer_stalled(journal_url), pytest.raises(JournalUnavailable):
            await store.append_async([read(1)])
        return await store.append_async([read(2)])

    assert aio.run(stalled_then_back()) >= 1


def test_a_caller_whose_loop_is_gone_does_not_stop_the_writer(
    store: SqlJournalStore, journal_url: str
) -> None:
    with writer_stalled(journal_url), pytest.raises(JournalUnavailable):
        aio.run(store.append_async([read(1)]))  # its loop is closed when it returns
    assert store.append([read(2)]) >= 1


def test_a_write_that_fails_reaches_the_caller_as_journal_unavailable(
    store: SqlJournalStore, journal_url: str
) -> None:
    """A database error inside the writer (here, its table gone) is a 503 for the caller, with
    the cause kept for the log; it is never swallowed."""
    store.append([read(1)])
    if journal_url.startswith("sqlite"):
        with sqlite3.connect(journal_url.removeprefix("sqlite:///")) as conn:
            conn.execute("ALTER TABLE journal_entries RENAME TO journal_entries_away")
    else:
        with psycopg.connect(journal_url) as conn:
            conn.execute("ALTER TABLE journal_entries RENAME TO journal_entries_away")
    with pytest.raises(JournalUnavailable) as caught:
        store.append([read(2)])
    assert caught.value.__cause__ is not None
