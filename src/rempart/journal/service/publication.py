"""Publishing the journal: its signed checkpoint, its key, consistency proofs, cosignatures.

What the public endpoints (``/api/v1/journal/*``), ``rempart journal checkpoint --export`` and
the incident evidence pack use. The functions to build on:

- ``checkpoint_note(log)``: the latest checkpoint as a C2SP signed note (the log's Ed25519
  signature, then every witness cosignature received for it), the bytes to archive;
- ``log_verifier_key(log)``: the log's key in the signed-note form ``NAME+HASH+KEY``;
- ``consistency_proof(log, first, second)``: the RFC 9162 proof between two tree sizes
  (check it with ``merkle.verify_consistency``);
- ``accept_cosignatures(deps, note)``: record the cosignatures a witness sends back, once
  each verifies under a configured witness key and names a checkpoint this log signed.

``notes.parse_note`` and ``notes.parse_checkpoint`` read what these functions write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rempart.journal.integrity import (
    Checkpoint,
    Cosignature,
    Published,
    key_id_of,
)
from rempart.journal.integrity import (
    checkpoint_note as note_of,
)
from rempart.journal.merkle import consistency_path
from rempart.journal.notes import (
    COSIGNATURE_SIZE,
    COSIGNATURE_V1,
    ED25519,
    NoteError,
    VerifierKey,
    cosignature_message,
    key_hash,
    parse_checkpoint,
    parse_note,
    split_cosignature,
    verifier_key,
)
from rempart.journal.ports import JournalPublication
from rempart.kernel.errors import Conflict, Forbidden, InvalidRequest, JournalTampered, NotFound

# (public key, message, signature) -> True when the Ed25519 signature holds.
Ed25519Check = Callable[[bytes, bytes, bytes], bool]


@dataclass(frozen=True, slots=True)
class PublicationDeps:
    """The published journal (None: this portal's journal publishes nothing), the witnesses
    whose cosignatures it accepts, and the Ed25519 check."""

    log: JournalPublication | None
    witnesses: tuple[VerifierKey, ...]
    verify: Ed25519Check


def published_log(deps: PublicationDeps) -> JournalPublication:
    """The published journal, or NotFound when this portal's journal publishes nothing."""
    if deps.log is None:
        raise NotFound()
    return deps.log


def latest_cosigned(log: JournalPublication) -> tuple[Checkpoint, list[Cosignature]] | None:
    """The latest published checkpoint and the witnesses' cosignatures of it (what the public
    page shows), or None before the first one."""
    cp = log.latest_published()
    return (cp, log.cosignatures(cp.tree_size, cp.root)) if cp is not None else None


def checkpoint_note(log: JournalPublication) -> bytes:
    """The latest published checkpoint with its cosignatures, as a C2SP signed note."""
    cp = log.latest_published()
    if cp is None:
        raise NotFound()
    key = log.signer_public_key()
    if key is None or key_id_of(key) != cp.key_id:  # signed by an earlier (or no) key
        key = log.public_keys().get(cp.key_id)
    if key is None:
        raise NotFound()
    return note_of(cp, key, log.cosignatures(cp.tree_size, cp.root)).encode()


def log_verifier_key(log: JournalPublication) -> str:
    """The checkpoint signer's verifier key, ``<origin>+<hex key hash>+base64(0x01 ‖ key)``."""
    key = log.signer_public_key()
    if key is None or not log.origin:
        raise NotFound()
    return verifier_key(log.origin, ED25519, key).text()


def consistency_proof(log: JournalPublication, first: int, second: int) -> list[bytes]:
    """The RFC 9162 consistency proof between the tree heads of sizes ``first`` and
    ``second`` (empty when ``first`` is 0 or equals ``second``)."""
    if not 0 <= first <= second:
        raise InvalidRequest("a consistency proof needs 0 <= first <= second")
    size, _ = log.head()
    if second > size:
        raise InvalidRequest(f"the journal holds {size} entries: second must not exceed it")
    try:
        return consistency_path(first, second, log.subtree)
    except JournalTampered:
        raise Conflict(
            "entries this proof needs were deleted by retention: ask from a later size"
        ) from None


def cosignature_holds(witness: VerifierKey, text: str, raw: bytes, verify: Ed25519Check) -> bool:
    """True when ``raw`` (time ‖ signature) is ``witness``'s cosignature of note ``text``."""
    try:
        timestamp, signature = split_cosignature(raw)
        message = cosignature_message(timestamp, text)
    except NoteError:
        return False
    return verify(witness.public_key, message, signature)


def accept_cosignatures(deps: PublicationDeps, note: bytes) -> list[Cosignature]:
    """Record the cosignatures in ``note`` (a checkpoint this log signed, with signature
    lines): each must be by a configured witness and verify; returns those recorded."""
    log = published_log(deps)
    try:
        parsed = parse_note(note)
        head = parse_checkpoint(parsed.text)
    except NoteError as exc:
        raise InvalidRequest(f"not a C2SP checkpoint: {exc}") from None
    key = log.signer_public_key()
    own = verifier_key(log.origin, ED25519, key) if key is not None and log.origin else None
    if own is None or head.origin != own.name:
        raise InvalidRequest("not a checkpoint of this journal")
    # The checkpoint must be one this log signed: its own signature is on the note.
    if not any(
        deps.verify(own.public_key, parsed.text.encode(), s.signature)
        for s in parsed.by(own.name, own.key_hash)
    ):
        raise InvalidRequest("not a checkpoint this journal signed")
    accepted = []
    for witness in deps.witnesses:
        if witness.sig_type != COSIGNATURE_V1:
            continue
        for s in parsed.by(witness.name, witness.key_hash):
            if cosignature_holds(witness, parsed.text, s.signature, deps.verify):
                timestamp, signature = split_cosignature(s.signature)
                accepted.append(
                    Cosignature(
                        head.size, head.root, witness.name, witness.key_hash, timestamp, signature
                    )
                )
    if not accepted:
        raise Forbidden("no cosignature by a witness this journal knows verifies")
    log.add_cosignatures(accepted)
    return accepted


def read_published(
    data: bytes, label: str, public_keys: Iterable[bytes], verify: Ed25519Check
) -> Published:
    """A checkpoint kept outside the journal (``checkpoint --export``, a witness's state),
    once its signature by one of ``public_keys`` under its origin verifies."""
    try:
        note = parse_note(data)
        head = parse_checkpoint(note.text)
    except NoteError as exc:
        raise InvalidRequest(f"{label}: not a C2SP checkpoint ({exc})") from None
    # The latest cosignature time says when the checkpoint existed at the latest (not
    # verified here: it only narrows down where a mismatch is blamed).
    times = []
    for sig in note.signatures:
        if len(sig.signature) == COSIGNATURE_SIZE:
            with contextlib.suppress(NoteError):
                times.append(split_cosignature(sig.signature)[0])
    seen_at = dt.datetime.fromtimestamp(max(times), dt.UTC) if times else None
    for key in public_keys:
        for s in note.by(head.origin, key_hash(head.origin, ED25519, key)):
            if verify(key, note.text.encode(), s.signature):
                return Published(head.size, head.root, f"{label} ({head.origin})", seen_at)
    raise InvalidRequest(f"{label}: not signed by a trusted key of this journal")
