"""The journal's streamed read for incident response, on the memory twin, SQLite and PostgreSQL.

The same entries go in; the same ``(seq, body)`` set comes out for every selector and window,
whether an entry is already in the derived indexes or still past their watermark.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.kernel.clock import ManualClock
from tests.factories import NOW
from tests.support.journal import SIGNER, read

Store = MemoryJournal | SqlJournalStore


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    clock = ManualClock(NOW)
    s: Store
    if request.param == "memory":
        s = MemoryJournal(clock=clock, signer=SIGNER)
    else:
        url = (
            f"sqlite:///{tmp_path}/journal.db"
            if request.param == "sqlite"
            else str(request.getfixturevalue("fresh_postgres_url"))
        )
        s = SqlJournalStore(url, clock=clock)
        s.use_signer(SIGNER)
    yield s
    s.close()


def _fill(s: Store) -> None:
    for i in range(40):
        s.append([read(i, at=NOW + dt.timedelta(minutes=i))])
    if isinstance(s, SqlJournalStore):
        s.catch_up_index()  # the first 40 through the derived indexes, the rest past them
    for i in range(40, 60):
        s.append([read(i, at=NOW + dt.timedelta(minutes=i))])


def _seqs(s: Store, **kw: object) -> list[int]:
    since = kw.pop("since", None)
    until = kw.pop("until", None)
    rows = list(s.scoped_entries(since, until, **kw))  # type: ignore[arg-type]
    for seq, body in rows:
        assert body == s.body(seq)
    return sorted(seq for seq, _ in rows)


def test_every_selector_finds_its_entries_across_the_index_watermark(store: Store) -> None:
    _fill(store)
    # read(n): agent n % 4, organisation n % 3, session n % 6; seq = n + 1.
    assert _seqs(store, agent_logins=["agent1"]) == [n + 1 for n in range(60) if n % 4 == 1]
    assert _seqs(store, agent_logins=["agent1", "agent2", "agent1"]) == [
        n + 1 for n in range(60) if n % 4 in (1, 2)
    ]
    assert _seqs(store, session_id="sess-5") == [n + 1 for n in range(60) if n % 6 == 5]
    assert _seqs(store, org_id="ORG-2") == [n + 1 for n in range(60) if n % 3 == 2]
    assert _seqs(store, agent_logins=["nobody"]) == []
    assert _seqs(store) == []  # no selector: nothing, never everything


def test_the_window_bounds_are_inclusive(store: Store) -> None:
    _fill(store)
    since, until = NOW + dt.timedelta(minutes=8), NOW + dt.timedelta(minutes=48)
    assert _seqs(store, agent_logins=["agent0"], since=since, until=until) == [
        n + 1 for n in range(8, 49) if n % 4 == 0
    ]
    assert _seqs(store, org_id="ORG-0", until=NOW) == [1]
    assert _seqs(store, session_id="sess-0", since=NOW + dt.timedelta(hours=2)) == []


def test_the_whole_window_is_asked_for_by_name_only(store: Store) -> None:
    """A network in doubt has no index: ``whole_window`` streams every entry of the window,
    on both sides of the watermark, and only when asked (no selector still means nothing)."""
    _fill(store)
    assert _seqs(store, whole_window=True) == list(range(1, 61))
    since, until = NOW + dt.timedelta(minutes=38), NOW + dt.timedelta(minutes=42)
    assert _seqs(store, whole_window=True, since=since, until=until) == [39, 40, 41, 42, 43]
