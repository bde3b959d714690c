"""The evidence pack: the journal entries in scope, each proved against one signed checkpoint.

Layout of the pack (``tools/verify_evidence.py`` checks it with the standard library and
``cryptography`` only):

- ``entries.jsonl``: one line per entry, ``{"seq", "entry"}`` (the canonical form, as hashed)
  with its RFC 9162 inclusion path against the checkpoint;
- ``checkpoints.json``: the signed checkpoint(s) the entries are proved against (the same
  fields and signed text as ``rempart journal prove``);
- ``public_key.txt``: the signer's key id and Ed25519 public key;
- ``published_checkpoint.note``, ``log_key.txt``, ``consistency.json`` (when the journal
  publishes C2SP checkpoints): the latest published checkpoint as a signed note with the
  witnesses' cosignatures, the log's verifier key, and the RFC 9162 consistency proof between
  that checkpoint and the one the entries are proved against: the pack's checkpoint is one of
  the log every witness saw, not a fork shown only to the regulator;
- ``incident.json``: what the pack is about (selector, window, counts);
- ``manifest.json``: the SHA-256 and size of every other file, in canonical JSON.

The entries are authenticated by the signature (a trusted key given to the verifier makes it
authenticity, not only consistency); every file, the manifest included, is bound by the
manifest's hashes and canonical form, so any changed byte is reported.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from rempart.journal.integrity import Checkpoint, CheckpointKind, Cosignature, checkpoint_note
from rempart.journal.merkle import (
    consistency_path,
    inclusion_path,
    leaf_hash,
    root_from_inclusion,
)
from rempart.journal.model import format_time
from rempart.journal.notes import ED25519, verifier_key
from rempart.journal.ports import JournalCheckpoints, ProofSource
from rempart.kernel.errors import Conflict, JournalTampered

PACK_FORMAT = "rempart-evidence-pack/v1"
MANIFEST = "manifest.json"


class EvidenceSource(ProofSource, JournalCheckpoints, Protocol):
    """What the pack reads: entries, the Merkle tree, checkpoints (signing one if needed)."""


class PublishedLog(Protocol):
    """The published side of the journal, as far as the pack reads it."""

    @property
    def origin(self) -> str: ...
    def signer_public_key(self) -> bytes | None: ...
    def latest_published(self) -> Checkpoint | None: ...
    def cosignatures(self, tree_size: int, root: bytes) -> list[Cosignature]: ...
    def checkpoints(self) -> list[Checkpoint]: ...


def canonical_json(value: object) -> bytes:
    """The one serialisation the verifier accepts for the manifest."""
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=True) + "\n").encode("ascii")


class _CachedTree:
    """A subtree source that remembers: many proofs in one tree share most of their nodes."""

    def __init__(self, source: ProofSource) -> None:
        self.source = source
        self.cache: dict[tuple[int, int], bytes] = {}

    def __call__(self, start: int, end: int) -> bytes:
        key = (start, end)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self.source.subtree(start, end)
        return found


def checkpoint_json(cp: Checkpoint) -> dict[str, object]:
    """A checkpoint as the pack (and ``rempart journal prove``) writes it: every signed field,
    and the signature in base64."""
    return {
        "tree_size": cp.tree_size,
        "root": cp.root.hex(),
        "chain_head": cp.chain_head.hex(),
        "time": format_time(cp.at),
        "kind": str(cp.kind),
        "key_id": cp.key_id,
        "signature": base64.b64encode(cp.signature).decode(),
    }


def _covering(source: EvidenceSource, last_seq: int, can_sign: bool) -> Checkpoint:
    signed = [c for c in source.checkpoints() if c.tree_size >= last_seq]
    if signed:
        return max(signed, key=lambda c: (c.tree_size, c.at))
    if not can_sign:
        raise Conflict(
            f"entry {last_seq} is not covered by a signed checkpoint yet: "
            "run `rempart journal checkpoint` (or set REMPART_JOURNAL_SIGNING_KEY)"
        )
    return source.checkpoint(CheckpointKind.MANUAL)


def write_pack(
    source: EvidenceSource,
    seqs: Iterable[int],
    directory: Path,
    about: dict[str, object],
    *,
    can_sign: bool,
    publication: PublishedLog | None = None,
) -> dict[str, object]:
    """Write the pack for these entries into ``directory``; return its manifest."""
    wanted = sorted(set(seqs))
    directory.mkdir(parents=True, exist_ok=True)
    cp = _covering(source, wanted[-1] if wanted else 0, can_sign) if wanted else None
    tree = _CachedTree(source)
    with (directory / "entries.jsonl").open("wb") as f:
        for seq in wanted:
            body = source.body(seq)
            if body is None or cp is None:
                raise JournalTampered(seq, f"entry {seq} is missing from the journal")
            path = inclusion_path(seq - 1, cp.tree_size, tree)
            if root_from_inclusion(seq - 1, cp.tree_size, leaf_hash(body), path) != cp.root:
                raise JournalTampered(seq, f"entry {seq} does not lead to the signed root")
            line = {
                "seq": seq,
                "entry": body.decode("ascii"),
                "tree_size": cp.tree_size,
                "inclusion_path": [p.hex() for p in path],
            }
            f.write(json.dumps(line, sort_keys=True).encode("ascii") + b"\n")
    checkpoints = [checkpoint_json(cp)] if cp is not None else []
    (directory / "checkpoints.json").write_bytes(canonical_json(checkpoints))
    keys = source.public_keys()
    key_lines = [
        f"{key_id} {base64.b64encode(keys[key_id]).decode()}\n"
        for key_id in sorted({str(c["key_id"]) for c in checkpoints})
        if key_id in keys
    ]
    (directory / "public_key.txt").write_text("".join(key_lines), encoding="ascii")
    published = _published(publication, cp, tree, directory) if cp is not None else 0
    (directory / "incident.json").write_bytes(
        canonical_json({**about, "entries": len(wanted), "format": PACK_FORMAT})
    )
    files = {
        p.name: {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "bytes": p.stat().st_size}
        for p in sorted(directory.iterdir())
        if p.is_file() and p.name != MANIFEST
    }
    manifest: dict[str, object] = {
        "format": PACK_FORMAT,
        "entries": len(wanted),
        "checkpoints": len(checkpoints),
        "published_tree_size": published,
        "files": files,
    }
    (directory / MANIFEST).write_bytes(canonical_json(manifest))
    return manifest


def _published(log: PublishedLog | None, cp: Checkpoint, tree: _CachedTree, directory: Path) -> int:
    """Write the latest published checkpoint, the log's key and the consistency proof between
    it and ``cp``; return its size (0 when the journal publishes nothing)."""
    key = log.signer_public_key() if log is not None else None
    latest = log.latest_published() if log is not None else None
    if log is None or key is None or latest is None or not log.origin:
        return 0
    # The latest checkpoint witnesses cosigned (what the outside world saw), else the latest.
    for earlier in sorted(log.checkpoints(), key=lambda c: -c.tree_size):
        if earlier.published and log.cosignatures(earlier.tree_size, earlier.root):
            latest = earlier
            break
    note = checkpoint_note(latest, key, log.cosignatures(latest.tree_size, latest.root))
    (directory / "published_checkpoint.note").write_bytes(note.encode())
    (directory / "log_key.txt").write_text(
        verifier_key(log.origin, ED25519, key).text() + "\n", encoding="ascii"
    )
    first, second = sorted((cp.tree_size, latest.tree_size))
    proof = consistency_path(first, second, tree)
    (directory / "consistency.json").write_bytes(
        canonical_json({"first": first, "second": second, "proof": [p.hex() for p in proof]})
    )
    return int(latest.tree_size)
