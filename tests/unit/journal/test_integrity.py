"""The journal's canonical form, hash chain, checkpoints and verification (ASVS V16.2.1 who/
when/where/what in each entry, V16.2.2 UTC times, V16.4.1 no log injection, V16.4.2 logs that
cannot be modified unnoticed)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.journal.integrity import (
    BLOCK,
    GENESIS,
    NODE_LEVEL,
    Base,
    Checkpoint,
    CheckpointKind,
    base_from_purge,
    chain_next,
    checkpoint_text,
    purge_boundary,
    verify_rows,
)
from rempart.journal.merkle import Frontier, leaf_hash, root_of
from rempart.journal.model import (
    JournalEntry,
    canonical_bytes,
    entry_from_canonical,
    format_time,
    reference_canonical_bytes,
)
from rempart.kernel.tags import Decision, Tag

T0 = dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC)
KEY = b"unit-test-key"

Row = tuple[int, bytes, bytes]


def entry(n: int, **overrides: object) -> JournalEntry:
    values: dict[str, object] = {
        "at": T0 + dt.timedelta(seconds=n),
        "tag": Tag.PORTAL_PERSON_READ,
        "decision": Decision.ALLOW,
        "agent_login": f"agent{n % 3}",
        "org_id": "TRA-0002",
        "session_id": f"s{n % 5}",
        "client_address": "192.0.2.10",
        "user_agent": "pytest",
        "persons": (f"{n:07d}K",),
        "categories": ("contact", "identity"),
        "purpose": "training_follow_up",
        "agent_roles": ("training_manager",),
    }
    values.update(overrides)
    return JournalEntry(**values)  # type: ignore[arg-type]


def sign(cp: Checkpoint) -> Checkpoint:
    return dataclasses.replace(cp, signature=hashlib.sha256(KEY + cp.signed_text()).digest())


def signature_ok(cp: Checkpoint) -> bool:
    return cp.signature == hashlib.sha256(KEY + cp.signed_text()).digest()


def build(
    n: int, every: int = 5
) -> tuple[list[Row], list[Checkpoint], dict[tuple[int, int], bytes]]:
    """A journal of ``n`` entries as the writer stores it, with a checkpoint every few."""
    chain = GENESIS
    frontier = Frontier()
    rows: list[Row] = []
    checkpoints: list[Checkpoint] = []
    nodes: dict[tuple[int, int], bytes] = {}
    for seq in range(1, n + 1):
        body = canonical_bytes(entry(seq))
        leaf = leaf_hash(body)
        chain = chain_next(chain, leaf)
        for level, idx, h in frontier.push(leaf):
            if level >= NODE_LEVEL:
                nodes[(level, idx)] = h
        rows.append((seq, body, chain))
        if seq % every == 0 or seq == n:
            cp = Checkpoint(seq, frontier.root(), chain, T0, CheckpointKind.PERIODIC, "k1")
            checkpoints.append(sign(cp))
    return rows, checkpoints, nodes


def check(
    rows: list[Row], cps: list[Checkpoint], nodes: dict[tuple[int, int], bytes]
) -> int | None:
    return verify_rows(rows, cps, nodes, signature_ok).first_bad


# -- the canonical form ---------------------------------------------------------------------


def test_canonical_form_is_fixed_compact_sorted_ascii_json() -> None:
    e = entry(7, details={"page": 2, "b": "é"}, persons=("0000009K", "0000008K", "0000009K"))
    assert canonical_bytes(e) == (
        b'{"agent_login":"agent1","agent_roles":["training_manager"],'
        b'"at":"2026-11-16T09:30:07.000000Z","categories":["contact","identity"],'
        b'"client_address":"192.0.2.10","decision":"allow",'
        b'"details":{"b":"\\u00e9","page":2},"network":"","org_id":"TRA-0002",'
        b'"persons":["0000008K","0000009K"],"purpose":"training_follow_up","reason":"",'
        b'"session_id":"s2","tag":"portal:person:read","user_agent":"pytest","v":1}'
    )


def test_canonical_form_round_trips() -> None:
    e = entry(3, details={"training_id": 4}, reason="enrolled")
    assert entry_from_canonical(canonical_bytes(e)) == e


def test_times_are_recorded_in_utc_whatever_the_offset_given() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    local = dt.datetime(2026, 11, 16, 10, 30, tzinfo=paris)
    assert format_time(local) == "2026-11-16T09:30:00.000000Z"
    assert format_time(dt.datetime(2026, 11, 16, 9, 30)) == "2026-11-16T09:30:00.000000Z"
    assert entry_from_canonical(canonical_bytes(entry(0, at=local))).at == T0


def test_nothing_a_client_sends_can_forge_a_line_or_a_field() -> None:
    evil = 'x",\n"decision":"deny"}\r\n{"tag":"auth:login:succeeded'
    body = canonical_bytes(entry(1, user_agent=evil, reason="\x00\x1b[31m"))
    assert b"\n" not in body
    assert b"\r" not in body
    assert b"\x1b" not in body
    assert body.isascii()
    decoded = json.loads(body)
    assert decoded["user_agent"] == evil
    assert decoded["decision"] == "allow"


texts = st.text(max_size=20)


@settings(max_examples=200)
@given(
    login=texts,
    roles=st.lists(texts, max_size=3),
    persons=st.lists(texts, max_size=4),
    agent=texts,
    details=st.dictionaries(texts, st.one_of(st.integers(), texts, st.booleans()), max_size=3),
)
def test_fast_canonical_form_equals_its_definition(
    login: str, roles: list[str], persons: list[str], agent: str, details: dict[str, object]
) -> None:
    e = entry(
        1,
        agent_login=login,
        agent_roles=tuple(roles),
        persons=tuple(persons),
        user_agent=agent,
        details=details,
    )
    assert canonical_bytes(e) == reference_canonical_bytes(e)


def test_unexpected_value_types_fall_back_to_the_definition() -> None:
    e = entry(1, persons=(12345,))  # not text: the general encoder renders it
    assert canonical_bytes(e) == reference_canonical_bytes(e)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        entry_from_canonical(b'{"v":2}')
    with pytest.raises(ValueError, match="not a canonical journal entry"):
        entry_from_canonical(b'{"v":1}')


# -- chain and checkpoints ----------------------------------------------------------------


def test_each_chain_value_covers_the_previous_one_and_the_entry() -> None:
    rows, _, _ = build(3)
    leaves = [leaf_hash(b) for _, b, _ in rows]
    c1 = hashlib.sha256(GENESIS + leaves[0]).digest()
    c2 = hashlib.sha256(c1 + leaves[1]).digest()
    assert [r[2] for r in rows[:2]] == [c1, c2]


def test_checkpoint_text_names_every_signed_field() -> None:
    text = checkpoint_text(5, b"\x01" * 32, b"\x02" * 32, T0, "periodic", "abcd")
    assert text.decode() == (
        "rempart journal checkpoint v1\n"
        "tree_size 5\n"
        f"root {'01' * 32}\n"
        f"chain_head {'02' * 32}\n"
        "time 2026-11-16T09:30:00.000000Z\n"
        "kind periodic\n"
        "key_id abcd\n"
    )


def test_an_intact_journal_verifies() -> None:
    rows, cps, nodes = build(23)
    report = verify_rows(rows, cps, nodes, signature_ok)
    assert report.ok, report.problems
    assert report.entries == 23
    assert report.last_seq == 23
    assert report.checkpoints == len(cps)
    assert cps[-1].root == root_of([leaf_hash(b) for _, b, _ in rows])


# -- tampering: every kind is caught, at the right entry ---------------------------------------


def _renumber(rows: list[Row], start: int, delta: int) -> list[Row]:
    return [(s + delta, b, c) if i >= start else (s, b, c) for i, (s, b, c) in enumerate(rows)]


def tamper(rows: list[Row], op: str, i: int, j: int) -> tuple[list[Row], int]:
    """Apply one intruder's edit at 0-based position ``i``; return the rows and the seq to blame."""
    rows = list(rows)
    seq = i + 1
    forged = canonical_bytes(entry(i + 1, agent_login="intruder", persons=("0000001A",)))
    if op == "alter":
        rows[i] = (seq, forged, rows[i][2])
    elif op == "alter_chain":
        rows[i] = (seq, rows[i][1], hashlib.sha256(b"junk").digest())
    elif op == "remove":
        del rows[i]
    elif op == "remove_renumbered":
        del rows[i]
        rows = _renumber(rows, i, -1)
    elif op == "swap":
        a, b = min(i, j), max(i, j)
        sa, ba, ca = rows[a]
        sb, bb, cb = rows[b]
        rows[a], rows[b] = (sa, bb, cb), (sb, ba, ca)
        seq = a + 1
    elif op == "insert":
        rows = _renumber(rows, i, +1)
        rows.insert(i, (seq, forged, hashlib.sha256(b"junk").digest()))
    elif op == "insert_chained":
        # A careful intruder chains the forged row properly, but cannot rewrite the next one.
        rows = _renumber(rows, i, +1)
        prev = rows[i - 1][2] if i else GENESIS
        rows.insert(i, (seq, forged, chain_next(prev, leaf_hash(forged))))
    elif op == "truncate":
        rows = rows[:i]
    else:
        raise AssertionError(op)
    return rows, seq


OPS = [
    "alter",
    "alter_chain",
    "remove",
    "remove_renumbered",
    "swap",
    "insert",
    "insert_chained",
    "truncate",
]


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(min_value=2, max_value=40),
    op=st.sampled_from(OPS),
    data=st.data(),
)
def test_any_single_alteration_removal_reorder_or_insertion_is_found_at_its_entry(
    n: int, op: str, data: st.DataObject
) -> None:
    rows, cps, nodes = build(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 1), label="position")
    j = data.draw(st.integers(min_value=0, max_value=n - 1).filter(lambda x: x != i), label="other")
    tampered, expected = tamper(rows, op, i, j)
    assert check(tampered, cps, nodes) == expected


def test_a_rewritten_chain_is_caught_by_the_next_checkpoint() -> None:
    rows, cps, nodes = build(20, every=5)
    # An intruder with write access alters entry 12 and recomputes every later chain value.
    forged = canonical_bytes(entry(12, agent_login="intruder"))
    rewritten = rows[:11]
    chain = rows[10][2]
    for seq, stored, _ in rows[11:]:
        body = forged if seq == 12 else stored
        chain = chain_next(chain, leaf_hash(body))
        rewritten.append((seq, body, chain))
    report = verify_rows(rewritten, cps, nodes, signature_ok)
    # The rows agree with each other; the checkpoint at 15 does not: blame starts after 10.
    assert report.first_bad == 11
    assert "checkpoint at 15" in report.problems[0].reason
    assert cps[1].tree_size == 10


def test_a_forged_checkpoint_signature_is_caught() -> None:
    rows, cps, nodes = build(20, every=5)
    cps[2] = dataclasses.replace(cps[2], signature=b"\x00" * 32)
    report = verify_rows(rows, cps, nodes, signature_ok)
    assert report.first_bad == 15
    assert "bad signature" in report.problems[0].reason


def test_a_checkpoint_beyond_the_last_entry_means_the_tail_was_cut() -> None:
    rows, cps, nodes = build(20, every=5)
    assert check(rows[:17], cps, nodes) == 18


# -- stored Merkle nodes and retention ----------------------------------------------------------


def test_stored_nodes_are_checked() -> None:
    rows, cps, nodes = build(600, every=100)
    assert check(rows, cps, nodes) is None
    assert set(nodes) == {(8, 0), (8, 1), (9, 0)}
    altered = dict(nodes)
    altered[(8, 1)] = b"\x00" * 32
    assert check(rows, cps, altered) == 257
    del altered[(8, 1)]
    assert check(rows, cps, altered) == 257


def test_a_journal_purged_below_a_signed_boundary_still_verifies() -> None:
    rows, cps, nodes = build(600, every=100)
    cut = purge_boundary(300)
    assert cut == BLOCK
    frontier = Frontier.at(cut, lambda s, e: nodes[((e - s).bit_length() - 1, s >> 8)])
    purge_cp = sign(
        Checkpoint(cut, frontier.root(), rows[cut - 1][2], T0, CheckpointKind.PURGE, "k1")
    )
    report = verify_rows(rows[cut:], [*cps, purge_cp], nodes, signature_ok, base=None)
    assert report.first_bad == 1  # without its base, the start looks missing
    from rempart.journal.integrity import Report

    start = Report()
    base = base_from_purge(purge_cp, frontier, signature_ok, start)
    assert start.ok
    report = verify_rows(rows[cut:], [*cps, purge_cp], nodes, signature_ok, base=base, report=start)
    assert report.ok, report.problems
    assert report.base == cut
    # Deleting the first kept entry is still caught.
    assert verify_rows(rows[cut + 1 :], cps, nodes, signature_ok, base=base).first_bad == cut + 1


def test_a_purge_base_must_be_a_signed_purge_checkpoint() -> None:
    rows, _, nodes = build(600, every=100)
    frontier = Frontier.at(256, lambda s, e: nodes[((e - s).bit_length() - 1, s >> 8)])
    from rempart.journal.integrity import Report

    for cp in [
        Checkpoint(256, frontier.root(), rows[255][2], T0, CheckpointKind.PERIODIC, "k1"),
        Checkpoint(256, frontier.root(), rows[255][2], T0, CheckpointKind.PURGE, "k1"),
        Checkpoint(256, b"\x00" * 32, rows[255][2], T0, CheckpointKind.PURGE, "k1"),
    ]:
        report = Report()
        signed = sign(cp) if cp.root != frontier.root() or cp.kind == "periodic" else cp
        base_from_purge(signed, frontier, signature_ok, report)
        assert report.first_bad == 257
    assert Base().size == 0
