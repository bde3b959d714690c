"""Tamper evidence for the journal: hash chain, signed checkpoints, and their verification.

Each stored entry carries ``chain = H(previous chain ‖ leaf hash)`` (the first entry chains
from 32 zero bytes), so altering, removing, reordering or inserting a row breaks the chain at
that very row. A rewriter who recomputes every later chain value is still caught by the
*checkpoints*: every N entries and every T seconds the writer signs (Ed25519, outside this
module) the tree size, the RFC 9162 Merkle tree head and the chain head. Without the signing
key, nobody can make a rewritten journal match them; such a rewrite is then reported at the
first entry after the last checkpoint that still holds.

Perfect Merkle subtrees of ``2^NODE_LEVEL`` leaves and more are stored beside the entries so
that inclusion proofs and retention (which deletes old entries) need no full rescan; they are
checked here too.

What this cannot see: entries appended *after* the last checkpoint and then removed leave no
trace (the checkpoint period bounds that window), and whoever holds the signing key can forge
anything — keep it out of the journal database in production.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from rempart.journal.merkle import EMPTY_ROOT, Frontier, node_hash, root_of
from rempart.journal.model import format_time
from rempart.journal.notes import (
    COSIGNATURE_V1,
    ED25519,
    Note,
    NoteSignature,
    TreeHead,
    cosignature_bytes,
    key_hash,
)

GENESIS = bytes(32)  # the chain value "before" entry 1
NODE_LEVEL = 8  # store perfect subtrees of 256 leaves and up
BLOCK = 1 << NODE_LEVEL
CHECKPOINT_HEADER = "rempart journal checkpoint v1"
MAX_PROBLEMS = 100


def chain_next(previous: bytes, leaf: bytes) -> bytes:
    """The chain value of an entry: ``H(previous chain ‖ leaf hash)``."""
    return hashlib.sha256(previous + leaf).digest()


def key_id_of(public_key: bytes) -> str:
    """A short, stable name for a public key (first 16 hex digits of its SHA-256)."""
    return hashlib.sha256(public_key).hexdigest()[:16]


class CheckpointKind(StrEnum):
    PERIODIC = "periodic"  # every N entries or T seconds
    PURGE = "purge"  # the boundary below which retention deleted entries
    MANUAL = "manual"  # asked for by an operator (e.g. before proving a fresh entry)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement: "the journal had ``tree_size`` entries with these heads at ``at``".

    Signed twice with the same key: ``signature`` covers Rempart's own text (chain head, time,
    kind: what verification and retention rely on), ``note_signature`` covers the C2SP
    checkpoint ``<origin>\n<size>\n<base64 root>\n`` that is published and that witnesses
    cosign. Checkpoints signed before publication existed have no origin and no note
    signature; they keep verifying through ``signature``.
    """

    tree_size: int
    root: bytes
    chain_head: bytes
    at: dt.datetime
    kind: CheckpointKind
    key_id: str
    signature: bytes = b""
    origin: str = ""
    note_signature: bytes = b""

    def signed_text(self) -> bytes:
        """The exact bytes the signature covers (rebuilt by the standalone verifier)."""
        return checkpoint_text(
            self.tree_size, self.root, self.chain_head, self.at, self.kind, self.key_id
        )

    def note_text(self) -> str:
        """The C2SP checkpoint text (what ``note_signature`` covers)."""
        return TreeHead(self.origin, self.tree_size, self.root).text()

    @property
    def published(self) -> bool:
        """True when the checkpoint carries a C2SP note signature."""
        return bool(self.origin and self.note_signature)


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A witness's C2SP cosignature of one published checkpoint."""

    tree_size: int
    root: bytes
    witness: str  # the witness's key name
    key_hash: bytes  # SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4]
    timestamp: int  # POSIX seconds, as signed
    signature: bytes  # the 64-byte Ed25519 signature

    def note_signature(self) -> NoteSignature:
        """The cosignature as a signature line of the checkpoint's note."""
        return NoteSignature(
            self.witness, self.key_hash, cosignature_bytes(self.timestamp, self.signature)
        )


def checkpoint_note(
    cp: Checkpoint, public_key: bytes, cosignatures: Sequence[Cosignature] = ()
) -> Note:
    """A published checkpoint as a signed note: the log's signature, then witnesses'."""
    if not cp.published:
        raise ValueError("this checkpoint was signed before publication: it has no note form")
    own = NoteSignature(cp.origin, key_hash(cp.origin, ED25519, public_key), cp.note_signature)
    return Note(cp.note_text(), (own, *(c.note_signature() for c in cosignatures)))


def witness_key_hash(name: str, public_key: bytes) -> bytes:
    """The key hash of a witness's cosignature key (signature type 0x04)."""
    return key_hash(name, COSIGNATURE_V1, public_key)


def checkpoint_text(
    tree_size: int,
    root: bytes,
    chain_head: bytes,
    at: dt.datetime,
    kind: str,
    key_id: str,
) -> bytes:
    """Line-oriented text of a checkpoint, one field per line, ending with a newline."""
    lines = [
        CHECKPOINT_HEADER,
        f"tree_size {tree_size}",
        f"root {root.hex()}",
        f"chain_head {chain_head.hex()}",
        f"time {format_time(at)}",
        f"kind {kind}",
        f"key_id {key_id}",
    ]
    return ("\n".join(lines) + "\n").encode("ascii")


# (checkpoint) -> True when its signature verifies under the key it names.
SignatureCheck = Callable[[Checkpoint], bool]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the journal, attributed to the first entry it puts in doubt."""

    seq: int
    reason: str


@dataclass(slots=True)
class Report:
    """What a verification saw."""

    base: int = 0  # entries up to this one were purged by retention
    entries: int = 0
    last_seq: int = 0
    checkpoints: int = 0
    nodes: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not checked, and why

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    @property
    def first_bad(self) -> int | None:
        """The lowest sequence number put in doubt, or None."""
        return min((p.seq for p in self.problems), default=None)

    def add(self, seq: int, reason: str) -> None:
        """Record a problem (the list is capped; the lowest sequence number always wins)."""
        if len(self.problems) < MAX_PROBLEMS or seq < (self.first_bad or seq + 1):
            self.problems.append(Problem(seq, reason))


@dataclass(frozen=True, slots=True)
class Published:
    """A checkpoint kept outside the journal (an archived export, a witness's state): its
    signature already checked, the journal must still prove it."""

    tree_size: int
    root: bytes
    label: str  # where it came from, for the report
    # When it is known to have existed (its latest cosignature): a checkpoint the journal
    # holds that was signed later, at a smaller size, may come from whoever rewrote it.
    seen_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Base:
    """Where verification starts: nothing purged (size 0), or a purge checkpoint."""

    size: int = 0
    chain: bytes = GENESIS
    frontier: Frontier = field(default_factory=Frontier)


def base_from_purge(
    checkpoint: Checkpoint, frontier: Frontier, signature_ok: SignatureCheck, report: Report
) -> Base:
    """The verified starting point after a retention purge (problems go into ``report``)."""
    first = checkpoint.tree_size + 1
    if checkpoint.kind is not CheckpointKind.PURGE:
        report.add(first, f"the boundary at {checkpoint.tree_size} is not a purge checkpoint")
    elif not signature_ok(checkpoint):
        report.add(first, f"purge checkpoint at {checkpoint.tree_size}: bad signature")
    elif frontier.root() != checkpoint.root:
        report.add(first, "stored Merkle nodes below the purge boundary do not match its root")
    return Base(checkpoint.tree_size, checkpoint.chain_head, frontier)


def verify_rows(  # noqa: PLR0912, PLR0915 - one inlined loop: it runs once per entry
    rows: Iterable[tuple[int, bytes, bytes]],
    checkpoints: Sequence[Checkpoint],
    nodes: Mapping[tuple[int, int], bytes],
    signature_ok: SignatureCheck,
    base: Base | None = None,
    report: Report | None = None,
    published: Sequence[Published] = (),
) -> Report:
    """Check stored rows ``(seq, canonical entry, chain)`` in ``seq`` order against everything.

    Rows must start right after ``base``. Each problem is attributed to the first entry it
    puts in doubt; verification goes on to the end so the lowest such entry is found.

    ``published`` checkpoints were kept outside the journal: a journal that no longer has
    their entries, or whose tree at their size has another root, fails at the first entry
    after the last checkpoint (kept or stored) that still holds below them.
    """
    base = base or Base()
    report = report or Report()
    report.base = base.size
    sha = hashlib.sha256
    prev = base.chain
    before_prev = b""  # the chain before ``prev``: recognises an inserted row
    # The Merkle tree is built a block of 2^NODE_LEVEL leaves at a time (list comprehensions,
    # not a per-leaf loop); ``stack`` holds the perfect subtrees of whole blocks so far.
    stack = list(base.frontier.hashes)
    blocks = base.size // BLOCK
    block: list[bytes] = []
    if base.size % BLOCK:
        report.add(base.size + 1, f"the purge boundary {base.size} is not on a block")
    expected = base.size + 1
    row_problems: list[int] = []
    # Checkpoint and node mismatches are blamed at the end: a row problem found at or below
    # them (sometimes only one row later, for an insertion) explains them better.
    deferred: list[tuple[int, int, str]] = []  # (seq to blame, last seq covered, reason)
    last_good = base.size

    pending = sorted((c for c in checkpoints if c.tree_size > base.size), key=lambda c: c.tree_size)
    for c in checkpoints:
        if c.tree_size <= base.size and not signature_ok(c):
            report.add(base.size + 1, f"checkpoint at {c.tree_size}: bad signature")
    report.checkpoints = len(checkpoints)
    cp_i = 0
    next_cp = pending[0].tree_size if pending else -1
    outside = sorted((p for p in published if p.tree_size > base.size), key=lambda p: p.tree_size)
    for p in published:
        if p.tree_size == base.size and p.root != base.frontier.root():
            report.add(base.size + 1, f"{p.label}: the purge boundary has another root")
        elif p.tree_size < base.size:
            report.notes.append(f"{p.label}: below the retention boundary, not checked")
    out_i = 0
    next_out = outside[0].tree_size if outside else -1
    held: list[tuple[int, dt.datetime]] = []  # stored checkpoints that held, in order
    kept_good = base.size  # the last checkpoint kept outside that held
    count = 0

    for seq, body, chain in rows:
        leaf = sha(b"\x00" + body).digest()
        if seq != expected:
            if seq > expected:
                row_problems.append(expected)
                report.add(expected, f"entries {expected}..{seq - 1} are missing")
            else:
                row_problems.append(seq)
                report.add(seq, f"entry {seq} is out of order")
        elif sha(prev + leaf).digest() != chain:
            if before_prev and sha(before_prev + leaf).digest() == chain:
                # This row chains from the one before the previous: that one was inserted.
                row_problems.append(seq - 1)
                report.add(seq - 1, f"entry {seq - 1} was inserted")
            else:
                row_problems.append(seq)
                report.add(seq, f"entry {seq} does not match its chain")
        # Later rows are still checked against each other: carry on from the stored value.
        before_prev, prev = prev, chain
        count += 1
        expected = max(expected, seq) + 1
        block.append(leaf)
        if len(block) == BLOCK:
            blocks += 1
            h = _perfect_root(block)
            block = []
            level, m = NODE_LEVEL, blocks
            while True:
                idx = (blocks >> (level - NODE_LEVEL)) - 1
                stored = nodes.get((level, idx))
                if stored != h:
                    what = "missing" if stored is None else "altered"
                    reason = f"stored Merkle node ({level}, {idx}) is {what}"
                    deferred.append(((idx << level) + 1, seq, reason))
                if m & 1 or not stack:
                    break
                h = sha(b"\x01" + stack.pop() + h).digest()
                level += 1
                m >>= 1
            stack.append(h)
        while seq == next_cp:
            cp = pending[cp_i]
            if not signature_ok(cp):
                report.add(cp.tree_size, f"checkpoint at {cp.tree_size}: bad signature")
            elif _fold(stack, block) == cp.root and prev == cp.chain_head:
                last_good = cp.tree_size
                held.append((cp.tree_size, cp.at))
            else:
                # Rows and chain agree with each other but not with what was signed: the
                # chain was recomputed after a change since the last checkpoint that held.
                reason = f"entries since {last_good} do not match the checkpoint at {seq}"
                deferred.append((last_good + 1, seq, reason))
            cp_i += 1
            next_cp = pending[cp_i].tree_size if cp_i < len(pending) else -1
        while seq == next_out:
            kept = outside[out_i]
            if _fold(stack, block) == kept.root:
                kept_good = kept.tree_size
            else:
                # Stored checkpoints below it that hold may have been re-signed by whoever
                # rewrote the journal with the key: only those signed before it was seen.
                trusted = [
                    n
                    for n, at in held
                    if n < kept.tree_size and (kept.seen_at is None or at <= kept.seen_at)
                ]
                since = max([kept_good, *trusted])
                report.add(
                    since + 1,
                    f"entries since {since} no longer prove {kept.label} "
                    f"(tree size {kept.tree_size})",
                )
            out_i += 1
            next_out = outside[out_i].tree_size if out_i < len(outside) else -1
    report.entries = count
    report.last_seq = expected - 1
    first_row_problem = min(row_problems, default=None)
    for blame, covered, reason in deferred:
        if first_row_problem is None or first_row_problem > covered:
            report.add(blame, reason)
    for cp in pending[cp_i:]:
        # A signed checkpoint names entries the journal no longer has: its tail was cut.
        report.add(expected, f"checkpoint at {cp.tree_size} covers missing entries")
    for kept in outside[out_i:]:
        report.add(
            expected,
            f"{kept.label} covers {kept.tree_size} entries; the journal has {expected - 1}: "
            "its tail was cut",
        )
    return report


def _perfect_root(leaves: list[bytes]) -> bytes:
    """MTH of a power-of-two number of leaf hashes."""
    sha = hashlib.sha256
    level = leaves
    while len(level) > 1:
        level = [
            sha(b"\x01" + a + b).digest() for a, b in zip(level[::2], level[1::2], strict=True)
        ]
    return level[0]


def _fold(stack: list[bytes], block: list[bytes]) -> bytes:
    """The tree head from whole-block subtrees and the leaves of the block being filled."""
    parts = [*stack, root_of(block)] if block else stack
    if not parts:
        return EMPTY_ROOT
    r = parts[-1]
    for h in reversed(parts[:-1]):
        r = node_hash(h, r)
    return r


def purge_boundary(candidate: int) -> int:
    """Retention deletes whole blocks of ``BLOCK`` entries, so that every Merkle subtree a
    later proof needs is either a stored node or made of entries still present."""
    return candidate - candidate % BLOCK
