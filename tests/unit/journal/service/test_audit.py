"""The auditor's tools on the memory journal: verification names the first bad entry, proofs
check against a signed root, retention only purges a journal that verifies.

ASVS 5.0: V16.2.1 (each entry says when, who, what), V16.4.2 (logs cannot be altered or removed
unnoticed), V16.4.3 (the journal is verifiable apart from the portal).
"""

from __future__ import annotations

import datetime as dt

import pytest

from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.integrity import BLOCK, CheckpointKind, chain_next
from rempart.journal.merkle import leaf_hash, verify_inclusion
from rempart.journal.model import canonical_bytes
from rempart.journal.service import audit
from rempart.kernel.clock import ManualClock
from rempart.kernel.errors import Conflict, InvalidRequest, JournalTampered, NotFound
from rempart.kernel.tags import Tag
from tests.factories import NOW
from tests.support.journal import SIGNER, TRUST, read


def journal(n: int = 0, *, every: int = 50) -> MemoryJournal:
    j = MemoryJournal(clock=ManualClock(NOW), signer=SIGNER, checkpoint_every=every)
    for i in range(n):
        j.append([read(i)])
    return j


def test_an_intact_journal_verifies() -> None:
    """V16.4.2: an untouched journal verifies, with every checkpoint counted."""
    report = audit.verify(journal(120), TRUST)
    assert report.ok, report.problems
    assert (report.entries, report.last_seq, report.checkpoints) == (120, 120, 2)


def test_a_flipped_byte_is_named_at_its_entry() -> None:
    """V16.4.2: one byte changed in one stored entry is reported at that entry."""
    j = journal(120)
    body = bytearray(j.stored[57].body)
    body[10] ^= 0x01
    j.stored[57].body = bytes(body)
    report = audit.verify(j, TRUST)
    assert not report.ok
    assert report.first_bad == 57


def test_a_rewritten_entry_with_a_recomputed_chain_is_still_caught_by_the_checkpoint() -> None:
    """V16.4.2: rewriting an entry and every chain value after it still misses the signature."""
    j = journal(120)
    j.stored[57].body = canonical_bytes(read(57, agent="someone.else"))
    prev = j.stored[56].chain
    for seq in range(57, 121):
        j.stored[seq].chain = prev = chain_next(prev, leaf_hash(j.stored[seq].body))
    assert audit.verify(j, TRUST).first_bad == 51  # the first entry after the last good checkpoint


def test_a_deleted_entry_is_named() -> None:
    """V16.4.2: a removed entry leaves a gap verification names."""
    j = journal(120)
    del j.stored[88]
    assert audit.verify(j, TRUST).first_bad == 88


def test_a_truncated_tail_is_named_by_the_checkpoint_that_covered_it() -> None:
    """V16.4.2: cutting off the last entries is caught when a signed checkpoint covered them."""
    j = journal(120)  # checkpoints at 50 and 100
    for seq in range(91, 121):
        del j.stored[seq]
    report = audit.verify(j, TRUST)
    assert report.first_bad == 91
    assert [p.reason for p in report.problems] == ["checkpoint at 100 covers missing entries"]


def test_a_forged_checkpoint_signature_is_caught() -> None:
    """V16.4.2: a checkpoint not signed by the trusted key does not count."""
    j = journal(60)
    cp = j.signed[0]
    j.signed[0] = type(cp)(
        cp.tree_size, cp.root, cp.chain_head, cp.at, cp.kind, cp.key_id, b"\x00" * 64
    )
    assert audit.verify(j, TRUST).first_bad == 50


def test_a_proof_checks_against_the_signed_root() -> None:
    j = journal(60)
    with pytest.raises(Conflict):
        audit.prove(j, 55)  # no checkpoint covers it yet
    with pytest.raises(NotFound):
        audit.prove(j, 61)
    cp = j.checkpoint(CheckpointKind.MANUAL)
    proof = audit.prove(j, 55)
    path = [bytes.fromhex(p) for p in proof["inclusion_path"]]
    assert verify_inclusion(54, 60, leaf_hash(j.stored[55].body), path, cp.root)
    assert proof["checkpoint"]["root"] == cp.root.hex()
    assert proof["entry"]["agent_login"] == read(54).agent_login
    assert audit.prove(j, 10, tree_size=50)["tree_size"] == 50
    j.stored[55].body = canonical_bytes(read(55, agent="someone.else"))
    with pytest.raises(JournalTampered):
        audit.prove(j, 55)


def test_retention_purges_whole_blocks_behind_a_signed_checkpoint() -> None:
    """V16.4.2: retention deletes only behind a signed boundary, and the rest still verifies."""
    j = journal()
    old = NOW - dt.timedelta(days=400)
    for i in range(300):
        j.append([read(i, at=old + dt.timedelta(minutes=i))])
    for i in range(300, 310):
        j.append([read(i)])
    cutoff = audit.retention_cutoff(NOW.date(), 12)
    result = audit.purge(j, j, TRUST, cutoff, NOW)
    assert result.cut == BLOCK
    assert result.checkpoint is not None
    assert result.checkpoint.kind is CheckpointKind.PURGE
    assert j.entry(BLOCK) is None
    last = j.entry(j.head()[0])
    assert last is not None
    assert last.entry.tag is Tag.JOURNAL_RETENTION_PURGED
    assert last.entry.details["up_to_seq"] == BLOCK
    report = audit.verify(j, TRUST)
    assert report.ok, report.problems
    assert report.base == BLOCK
    assert audit.purge(j, j, TRUST, cutoff, NOW).checkpoint is None  # nothing more to purge


def test_retention_refuses_a_journal_that_does_not_verify_and_the_future() -> None:
    j = journal()
    for i in range(300):
        j.append([read(i, at=NOW - dt.timedelta(days=500))])
    with pytest.raises(InvalidRequest):
        audit.purge(j, j, TRUST, NOW + dt.timedelta(days=1), NOW)
    del j.stored[5]
    with pytest.raises(JournalTampered):
        audit.purge(j, j, TRUST, NOW - dt.timedelta(days=365), NOW)
    assert j.purge_base() is None


def test_who_consulted_pages_and_activity_needs_a_subject() -> None:
    j = journal(40)
    found, more = audit.who_consulted(j, "0000003K", 1, 3)
    assert ([s.seq for s in found], more) == ([34, 24, 14], True)
    found, more = audit.who_consulted(j, "0000003K", 2, 3)
    assert ([s.seq for s in found], more) == ([4], False)
    with pytest.raises(InvalidRequest):
        audit.who_consulted(j, "0000003K", 0, 3)
    with pytest.raises(InvalidRequest):
        audit.who_consulted(j, "0000003K", 1, 1001)
    day = (NOW, NOW + dt.timedelta(days=1))
    assert [s.seq for s in audit.activity(j, *day, session_id="sess-1")] == [
        2,
        8,
        14,
        20,
        26,
        32,
        38,
    ]
    with pytest.raises(InvalidRequest):
        audit.activity(j, *day)
    with pytest.raises(InvalidRequest):
        audit.activity(j, day[1], day[0], agent_login="agent1")


def test_entry_json_carries_every_recorded_field() -> None:
    j = journal(1)
    stored = j.entry(1)
    assert stored is not None
    shown = audit.entry_json(stored)
    assert shown["seq"] == 1
    assert shown["persons"] == ["0000000K"]
    assert shown["agent_roles"] == ["advisor"]
    assert shown["at"] == "2026-11-16T10:00:00.000000Z"
