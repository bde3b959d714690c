"""One contract, three journals: the memory twin, SQLite, and PostgreSQL when configured.

The unit tests of the journal's users run on ``MemoryJournal``; these assertions run on it and
on ``SqlJournalStore`` alike, so the twin cannot drift from the store it stands for: same
sequence numbers, same chain and Merkle heads, same checkpoints, same queries, and the same
entry named by verification when a row is altered, deleted or cut off (ASVS V16.2.1, V16.4.2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.integrity import BLOCK, CheckpointKind
from rempart.journal.merkle import leaf_hash, verify_inclusion
from rempart.journal.model import canonical_bytes
from rempart.journal.ports import JournalArchive, JournalQueries, JournalWriter
from rempart.journal.service import audit
from rempart.kernel.clock import ManualClock
from rempart.kernel.errors import Conflict, PolicyError
from rempart.kernel.tags import Tag
from tests.factories import NOW
from tests.integration.journal.test_sql_store import as_intruder
from tests.support.journal import SIGNER, TRUST, read


class Journal(JournalWriter, JournalQueries, JournalArchive, Protocol):
    """What every journal implementation offers (for the type checker)."""


@dataclass
class Subject:
    """A journal under test, and how an intruder edits its stored rows."""

    store: Journal
    alter_body: Callable[[int, bytes], None]
    delete_from: Callable[[int, int], None]  # entries in [first, last]
    close: Callable[[], None]


def _memory(clock: ManualClock) -> Subject:
    store = MemoryJournal(clock=clock, signer=SIGNER, checkpoint_every=50)

    def alter(seq: int, body: bytes) -> None:
        store.stored[seq].body = body

    def delete(first: int, last: int) -> None:
        for seq in range(first, last + 1):
            del store.stored[seq]

    return Subject(store, alter, delete, store.close)


def _sql(url: str, clock: ManualClock) -> Subject:
    store = SqlJournalStore(url, clock=clock, checkpoint_every=50)
    store.use_signer(SIGNER)

    def alter(seq: int, body: bytes) -> None:
        literal = f"X'{body.hex()}'" if url.startswith("sqlite") else f"'\\x{body.hex()}'::bytea"
        as_intruder(
            url, "journal_entries", f"UPDATE journal_entries SET body = {literal} WHERE seq = {seq}"
        )

    def delete(first: int, last: int) -> None:
        as_intruder(
            url,
            "journal_entries",
            f"DELETE FROM journal_entries WHERE seq >= {first} AND seq <= {last}",
        )

    return Subject(store, alter, delete, store.close)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Subject]:
    clock = ManualClock(NOW)
    if request.param == "memory":
        s = _memory(clock)
    elif request.param == "sqlite":
        s = _sql(f"sqlite:///{tmp_path}/journal.db", clock)
    else:
        s = _sql(str(request.getfixturevalue("fresh_postgres_url")), clock)
    yield s
    s.close()


def fill(store: JournalWriter, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        store.append([read(i)])


def test_appends_number_entries_and_read_back_their_canonical_form(subject: Subject) -> None:
    s = subject.store
    assert s.head()[0] == 0
    assert s.append([read(0)]) == 1
    assert s.append([read(1), read(2)]) == 3
    assert s.append([]) == 3
    assert s.body(2) == canonical_bytes(read(1))
    stored = s.entry(3)
    assert stored is not None
    assert stored.entry == read(2)
    assert s.entry(4) is None
    assert s.body(0) is None


def test_chain_tree_and_checkpoints_are_the_same_as_the_memory_twin(subject: Subject) -> None:
    reference = MemoryJournal(clock=ManualClock(NOW), signer=SIGNER, checkpoint_every=50)
    fill(subject.store, 2 * BLOCK + 3)
    fill(reference, 2 * BLOCK + 3)
    assert subject.store.head() == reference.head()
    assert subject.store.nodes() == reference.nodes()
    assert [c.tree_size for c in subject.store.checkpoints()] == [
        c.tree_size for c in reference.checkpoints()
    ]
    assert [(c.root, c.chain_head) for c in subject.store.checkpoints()] == [
        (c.root, c.chain_head) for c in reference.checkpoints()
    ]
    assert subject.store.subtree(0, BLOCK) == reference.subtree(0, BLOCK)
    assert subject.store.subtree(BLOCK * 2, BLOCK * 2 + 2) == reference.subtree(
        BLOCK * 2, BLOCK * 2 + 2
    )
    assert subject.store.public_keys() == {SIGNER.key_id: SIGNER.public_key}
    assert list(subject.store.rows(2 * BLOCK + 1)) == list(reference.rows(2 * BLOCK + 1))


def test_queries(subject: Subject) -> None:
    s = subject.store
    day1 = NOW - dt.timedelta(days=1)
    for i in range(30):
        s.append([read(i, at=day1 + dt.timedelta(minutes=i))])
    for i in range(30, 45):
        s.append([read(i, at=NOW + dt.timedelta(minutes=i))])
    assert [e.seq for e in s.who_consulted("0000005K", 0, 2)] == [36, 26]
    assert [e.seq for e in s.who_consulted("0000005K", 2, 10)] == [16, 6]
    acts = s.activity(day1, day1 + dt.timedelta(minutes=10), agent_login="agent2")
    assert [e.seq for e in acts] == [3, 7]
    by_session = s.activity(NOW, NOW + dt.timedelta(days=1), session_id="sess-0")
    assert [e.seq for e in by_session] == [31, 37, 43]
    everything = s.activity(day1, NOW + dt.timedelta(days=1), offset=40, limit=3)
    assert [e.seq for e in everything] == [41, 42, 43]
    assert s.volumes(day1 - dt.timedelta(hours=12), NOW + dt.timedelta(days=1)) == [
        (day1.date(), "ORG-0", 10),
        (day1.date(), "ORG-1", 10),
        (day1.date(), "ORG-2", 10),
        (NOW.date(), "ORG-0", 5),
        (NOW.date(), "ORG-1", 5),
        (NOW.date(), "ORG-2", 5),
    ]


def test_an_intact_journal_verifies(subject: Subject) -> None:
    fill(subject.store, 120)
    report = audit.verify(subject.store, TRUST)
    assert report.ok, report.problems
    assert (report.entries, report.last_seq, report.checkpoints) == (120, 120, 2)
    assert subject.store.index_mismatch(0) is None


def test_verify_names_an_altered_entry(subject: Subject) -> None:
    fill(subject.store, 120)
    subject.alter_body(57, canonical_bytes(read(57, agent="someone.else")))
    assert audit.verify(subject.store, TRUST).first_bad == 57


def test_verify_names_a_deleted_entry(subject: Subject) -> None:
    fill(subject.store, 120)
    subject.delete_from(88, 88)
    assert audit.verify(subject.store, TRUST).first_bad == 88


def test_verify_names_a_tail_cut_below_its_checkpoint(subject: Subject) -> None:
    fill(subject.store, 120)  # checkpoints at 50 and 100
    subject.delete_from(91, 120)
    report = audit.verify(subject.store, TRUST)
    assert report.first_bad == 91
    assert any("covers missing entries" in p.reason for p in report.problems)


def test_checkpoints_and_proofs(subject: Subject) -> None:
    s = subject.store
    fill(s, 60)
    with pytest.raises(Conflict):
        audit.prove(s, 55)  # after the checkpoint at 50
    cp = s.checkpoint(CheckpointKind.MANUAL)
    assert (cp.tree_size, cp.kind, cp.key_id) == (60, CheckpointKind.MANUAL, SIGNER.key_id)
    assert TRUST(cp)
    proof = audit.prove(s, 55)
    assert proof["tree_size"] == 60
    path = [bytes.fromhex(p) for p in proof["inclusion_path"]]
    assert verify_inclusion(54, 60, leaf_hash(s.body(55) or b""), path, cp.root)


def test_retention(subject: Subject) -> None:
    s = subject.store
    old = NOW - dt.timedelta(days=400)
    for i in range(300):
        s.append([read(i, at=old + dt.timedelta(minutes=i))])
    for i in range(300, 310):
        s.append([read(i, at=NOW - dt.timedelta(days=10))])
    assert s.last_seq_before(NOW - dt.timedelta(days=365)) == 300
    with pytest.raises(Conflict):
        s.purge(100)  # not on a block
    result = audit.purge(s, s, TRUST, NOW - dt.timedelta(days=365), NOW)
    assert result.cut == BLOCK
    base = s.purge_base()
    assert base is not None
    assert base.tree_size == BLOCK
    assert s.entry(BLOCK) is None
    assert s.entry(BLOCK + 1) is not None
    last = s.entry(s.head()[0])
    assert last is not None
    assert last.entry.tag is Tag.JOURNAL_RETENTION_PURGED
    report = audit.verify(s, TRUST)
    assert report.ok, report.problems
    assert report.base == BLOCK
    with pytest.raises(Conflict):
        s.purge(BLOCK)  # already purged


def test_no_signer_no_checkpoint(tmp_path: Path) -> None:
    for store in (
        MemoryJournal(clock=ManualClock(NOW)),
        SqlJournalStore(f"sqlite:///{tmp_path}/j.db", clock=ManualClock(NOW)),
    ):
        store.append([read(1)])
        with pytest.raises(PolicyError):
            store.checkpoint(CheckpointKind.MANUAL)
        store.close()
