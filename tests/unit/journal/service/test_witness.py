"""The witness cosigns only a log that grew honestly, and refuses (with an alert) a fork, a
rewrite or a truncation (ASVS V16.4.2 logs that cannot be modified unnoticed, V16.4.3 logs
kept on a separate system)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.adapters.signing import verify_signature
from rempart.journal.adapters.witness import Alarm, Ed25519Cosigner
from rempart.journal.notes import parse_verifier_key
from rempart.journal.service import publication
from rempart.journal.service.witness import (
    LogUnreachable,
    Verdict,
    Witness,
    witness_round,
)
from tests.support import transparency
from tests.support.journal import SIGNER, read

ORIGIN = "portal.example/journal"
COSIGNER = Ed25519Cosigner.from_text(Ed25519Cosigner.generate("cnil.example/w").private_text())


@dataclass
class Served:
    """The log as the witness sees it, over a journal the test can rewrite."""

    journal: MemoryJournal
    submitted: list[bytes] = field(default_factory=list)
    down: bool = False

    def checkpoint(self) -> bytes:
        if self.down:
            raise LogUnreachable("down")
        return publication.checkpoint_note(self.journal)

    def consistency(self, first: int, second: int) -> list[bytes]:
        return publication.consistency_proof(self.journal, first, second)

    def submit(self, note: bytes) -> None:
        self.submitted.append(note)


@dataclass
class Memory:
    note: bytes | None = None

    def load(self) -> bytes | None:
        return self.note

    def save(self, note: bytes) -> None:
        self.note = note


@dataclass
class Alarms:
    raised: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def alert(self, kind: str, detail: str, evidence: dict[str, str]) -> None:
        self.raised.append((kind, detail, evidence))


def journal_of(n: int) -> MemoryJournal:
    j = MemoryJournal(signer=SIGNER, origin=ORIGIN)
    for i in range(n):
        j.append([read(i)])
    j.checkpoint()
    return j


def witness_of(log: Served, state: Memory, alarms: Alarms, clock: list[int]) -> Witness:
    return Witness(
        log=log,
        log_key=parse_verifier_key(publication.log_verifier_key(log.journal)),
        state=state,
        alarm=alarms,
        signer=COSIGNER,
        verify=verify_signature,
        now=lambda: clock[0],
    )


def test_an_honestly_growing_log_is_cosigned_each_round() -> None:
    journal = journal_of(10)
    log, state, alarms, clock = Served(journal), Memory(), Alarms(), [1_800_000_000]
    w = witness_of(log, state, alarms, clock)
    assert witness_round(w).verdict is Verdict.COSIGNED  # first sight: trusted as it is
    for more in (1, 300, 5):
        for i in range(more):
            journal.append([read(100 + i)])
        journal.checkpoint()
        clock[0] += 60
        r = witness_round(w)
        assert r.verdict is Verdict.COSIGNED, r.detail
    assert r.size == 316
    assert not alarms.raised
    assert state.note is not None
    assert transparency.cosigned_at(state.note, COSIGNER.verifier_text()) == clock[0]
    assert (
        transparency.checkpoint(
            transparency.verified_text(state.note, publication.log_verifier_key(journal))
        )[1]
        == 316
    )
    assert log.submitted[-1] == state.note
    # The same checkpoint again: cosigned again, with a fresh time.
    clock[0] += 60
    assert witness_round(w).verdict is Verdict.COSIGNED


def _rewritten(n: int, keep: int) -> MemoryJournal:
    """A journal equal to ``journal_of(n)`` for its first ``keep`` entries, different after."""
    j = MemoryJournal(signer=SIGNER, origin=ORIGIN)
    for i in range(n):
        j.append([read(i, agent=f"forged{i % 3}" if i >= keep else "")])
    j.checkpoint()
    return j


LATER = {
    "rewritten": lambda: _rewritten(400, 250),  # the tail rewritten, then grown
    "truncated": lambda: journal_of(200),  # the tail cut
    "fork": lambda: _rewritten(300, 250),  # the same size, another root
}


@pytest.mark.parametrize("kind", sorted(LATER))
def test_a_log_that_did_not_grow_honestly_is_refused_with_an_alert(kind: str) -> None:
    log, state, alarms, clock = Served(journal_of(300)), Memory(), Alarms(), [1_800_000_000]
    w = witness_of(log, state, alarms, clock)
    assert witness_round(w).verdict is Verdict.COSIGNED
    honest = state.note
    log.journal = LATER[kind]()  # the same signing key: only the witness can tell
    r = witness_round(w)
    assert r.verdict is Verdict.REFUSED
    assert [a[0] for a in alarms.raised] == [kind]
    _, detail, evidence = alarms.raised[0]
    assert detail == r.detail
    assert evidence["last_cosigned"] == honest.decode()  # type: ignore[union-attr]
    assert state.note == honest  # the state keeps the last honest checkpoint
    assert len(log.submitted) == 1
    # And it keeps refusing: the log cannot talk its way back.
    assert witness_round(w).verdict is Verdict.REFUSED


def test_a_checkpoint_not_signed_by_the_log_or_not_a_checkpoint_is_refused() -> None:
    log, state, alarms, clock = Served(journal_of(5)), Memory(), Alarms(), [1_800_000_000]
    w = witness_of(log, state, alarms, clock)
    other = MemoryJournal(signer=type(SIGNER).generate(), origin=ORIGIN)
    other.append([read(1)])
    other.checkpoint()
    log.journal = other
    assert witness_round(w).verdict is Verdict.REFUSED
    assert alarms.raised[-1][0] == "bad_signature"
    log.checkpoint = lambda: b"<html>oops</html>"  # type: ignore[method-assign]
    assert witness_round(w).verdict is Verdict.REFUSED
    assert alarms.raised[-1][0] == "malformed"
    assert state.note is None


def test_a_damaged_state_is_refused_and_an_unreachable_log_decides_nothing() -> None:
    log, state, alarms, clock = Served(journal_of(5)), Memory(), Alarms(), [1_800_000_000]
    w = witness_of(log, state, alarms, clock)
    log.down = True
    assert witness_round(w).verdict is Verdict.UNREACHABLE
    assert not alarms.raised
    log.down = False
    assert witness_round(w).verdict is Verdict.COSIGNED
    state.note = state.note.replace(b"\n5\n", b"\n4\n")  # type: ignore[union-attr]
    assert witness_round(w).verdict is Verdict.REFUSED
    assert alarms.raised[-1][0] == "state_damaged"


def test_the_alarm_raises_a_lasting_refusal_once_and_a_new_one_again(tmp_path: Path) -> None:
    alarm = Alarm(tmp_path / "w.state.alerts")
    for _ in range(3):
        alarm.alert("truncated", "the log shrank", {"served": "A"})
    alarm.alert("fork", "another root", {"served": "B"})
    lines = [json.loads(line) for line in (tmp_path / "w.state.alerts").open()]
    assert [(a["rule"], a["evidence"]["served"]) for a in lines] == [
        ("witness:journal:truncated", "A"),
        ("witness:journal:fork", "B"),
    ]
