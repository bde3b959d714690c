"""A witness of the journal: it cosigns a checkpoint only if the log grew honestly.

Run by someone other than the portal's operator (the DPO on another machine of the agency,
the CNIL), with its own key and its own state: the last checkpoint it cosigned. Each round it
fetches the log's latest checkpoint, checks the log's signature, and then:

- the same size and root as last time: cosigns again (a fresh time);
- a larger tree: asks the log for the RFC 9162 consistency proof from the size it cosigned,
  and cosigns only if the proof shows the old tree is a prefix of the new one;
- anything else (a smaller tree: a truncation or a roll-back; another root for the same size:
  a fork; a proof that fails: a rewrite) is refused, the state is left as it was, and an alert
  carries both checkpoints to the witness's operator.

The cosignature (C2SP tlog-cosignature) goes into the state first, then back to the log,
which serves it beside its checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from rempart.journal.merkle import verify_consistency
from rempart.journal.notes import (
    COSIGNATURE_V1,
    ED25519,
    Note,
    NoteError,
    NoteSignature,
    TreeHead,
    VerifierKey,
    cosignature_bytes,
    cosignature_message,
    key_hash,
    parse_checkpoint,
    parse_note,
    split_cosignature,
)
from rempart.journal.ports import Cosigner, WitnessAlarm, WitnessedLog, WitnessState

# (public key, message, signature) -> True when the Ed25519 signature holds.
Ed25519Check = Callable[[bytes, bytes, bytes], bool]


class Verdict(StrEnum):
    COSIGNED = "cosigned"  # the log grew honestly (or stayed as it was)
    REFUSED = "refused"  # it did not: an alert was raised
    UNREACHABLE = "unreachable"  # no answer from the log: nothing decided


class LogUnreachable(Exception):
    """The log did not answer (network, HTTP error): no verdict on its honesty."""


@dataclass(frozen=True, slots=True)
class Round:
    """What one round decided."""

    verdict: Verdict
    size: int
    detail: str


@dataclass(frozen=True, slots=True)
class Witness:
    """A witness's configuration and parts."""

    log: WitnessedLog
    log_key: VerifierKey  # the log's checkpoint key (type 0x01); its name is the origin
    state: WitnessState
    alarm: WitnessAlarm
    signer: Cosigner
    verify: Ed25519Check
    now: Callable[[], int]  # POSIX seconds

    @property
    def key_hash(self) -> bytes:
        """This witness's key hash (type 0x04)."""
        return key_hash(self.signer.name, COSIGNATURE_V1, self.signer.public_key)


class _Refusal(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def witness_round(w: Witness) -> Round:
    """Fetch the log's checkpoint and cosign it, or refuse and alert."""
    try:
        served = w.log.checkpoint()
    except LogUnreachable as exc:
        return Round(Verdict.UNREACHABLE, 0, str(exc))
    previous = w.state.load()
    try:
        note, head = _signed_by_log(w, served)
        old = _own_state(w, previous) if previous is not None else None
        if old is not None:
            _check_growth(w, old, head)
    except _Refusal as refusal:
        evidence = {"served": served.decode("utf-8", "replace")}
        if previous is not None:
            evidence["last_cosigned"] = previous.decode("utf-8", "replace")
        w.alarm.alert(refusal.kind, refusal.detail, evidence)
        return Round(Verdict.REFUSED, 0, refusal.detail)
    except LogUnreachable as exc:
        return Round(Verdict.UNREACHABLE, 0, str(exc))
    cosigned = cosign(w, note)
    w.state.save(cosigned)
    detail = f"cosigned {head.origin} at tree size {head.size}"
    try:
        w.log.submit(cosigned)
    except LogUnreachable as exc:  # kept in the state: handed over at the next round
        detail += f" (not handed back to the log: {exc})"
    return Round(Verdict.COSIGNED, head.size, detail)


def cosign(w: Witness, note: Note) -> bytes:
    """``note`` with the log's own signatures and this witness's fresh cosignature."""
    timestamp = w.now()
    signature = w.signer.sign(cosignature_message(timestamp, note.text))
    mine = NoteSignature(w.signer.name, w.key_hash, cosignature_bytes(timestamp, signature))
    return Note(note.text, (*note.by(w.log_key.name, w.log_key.key_hash), mine)).encode()


def _signed_by_log(w: Witness, served: bytes) -> tuple[Note, TreeHead]:
    try:
        note = parse_note(served)
        head = parse_checkpoint(note.text)
    except NoteError as exc:
        raise _Refusal("malformed", f"the log served no valid checkpoint: {exc}") from None
    if head.origin != w.log_key.name:
        raise _Refusal("wrong_origin", f"the checkpoint is for {head.origin!r}, not this log")
    if w.log_key.sig_type != ED25519:
        raise _Refusal("wrong_key", "the log's key is not an Ed25519 note key")
    sigs = note.by(w.log_key.name, w.log_key.key_hash)
    if not sigs or not all(
        w.verify(w.log_key.public_key, note.text.encode(), s.signature) for s in sigs
    ):
        raise _Refusal("bad_signature", "the checkpoint is not signed by the log's key")
    return note, head


def _own_state(w: Witness, previous: bytes) -> TreeHead:
    """The checkpoint this witness cosigned last, once its own cosignature checks out."""
    try:
        note = parse_note(previous)
        head = parse_checkpoint(note.text)
        mine = note.by(w.signer.name, w.key_hash)
        ok = bool(mine)
        for s in mine:
            timestamp, signature = split_cosignature(s.signature)
            message = cosignature_message(timestamp, note.text)
            ok = ok and w.verify(w.signer.public_key, message, signature)
    except NoteError:
        ok = False
    if not ok:
        raise _Refusal("state_damaged", "the witness's own state does not carry its cosignature")
    return head


def _check_growth(w: Witness, old: TreeHead, new: TreeHead) -> None:
    if new.size < old.size:
        raise _Refusal(
            "truncated",
            f"the log shrank from {old.size} to {new.size} entries: "
            "its tail was cut or rolled back",
        )
    if new.size == old.size:
        if new.root != old.root:
            raise _Refusal("fork", f"the log shows another tree for the same {new.size} entries")
        return
    proof = w.log.consistency(old.size, new.size)
    if not verify_consistency(old.size, new.size, old.root, new.root, proof):
        raise _Refusal(
            "rewritten",
            f"the log's tree of {new.size} entries does not extend the {old.size} it had "
            "signed before: entries it had published were rewritten",
        )
