"""``MemoryJournal``: the journal in one process, with the SQL store's tamper evidence.

Each entry is kept as the SQL store keeps it: its canonical form, its chain value and its time,
with the perfect Merkle subtrees of ``2^NODE_LEVEL`` leaves and up, signed checkpoints every
``checkpoint_every`` entries (when a signer is set), on demand and at close, and retention
behind a signed purge checkpoint. Queries decode the stored canonical form, as the SQL store
does, so what a test reads back is what verification covers. Time-based checkpoints need the
SQL store's writer thread and are not made here.

The stored rows are plain attributes (``stored``, ``merkle_nodes``, ``signed``): a unit test
plays the intruder by editing them, where an integration test drops a trigger.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from rempart.journal.integrity import (
    BLOCK,
    GENESIS,
    NODE_LEVEL,
    Checkpoint,
    CheckpointKind,
    Cosignature,
    chain_next,
)
from rempart.journal.merkle import Frontier, leaf_hash, node_hash, root_of
from rempart.journal.model import (
    JournalEntry,
    StoredEntry,
    canonical_bytes,
    entry_from_canonical,
)
from rempart.journal.ports import CheckpointSigner
from rempart.kernel.clock import SystemClock
from rempart.kernel.errors import Conflict, JournalTampered, PolicyError
from rempart.kernel.ports import Clock


@dataclass(slots=True)
class StoredRow:
    """One entry as stored: what the chain and the tree cover, and the time it is filed under."""

    body: bytes
    chain: bytes
    at: dt.datetime


class MemoryJournal:
    """Implements every journal port (writer, queries, archive) in memory."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        signer: CheckpointSigner | None = None,
        checkpoint_every: int = 10_000,
        origin: str = "",
    ) -> None:
        self.entries: list[JournalEntry] = []  # every entry appended, as given
        self.stored: dict[int, StoredRow] = {}
        self.merkle_nodes: dict[tuple[int, int], bytes] = {}
        self.signed: list[Checkpoint] = []
        self.keys: dict[str, bytes] = {}
        self.cosigned: list[Cosignature] = []
        self.origin = origin  # the log's origin line; empty: checkpoints are not published
        self._clock = clock or SystemClock()
        self._signer: CheckpointSigner | None = None
        self._every = checkpoint_every
        self._seq = 0
        self._chain = GENESIS
        self._frontier = Frontier()
        self._lock = threading.RLock()
        if signer is not None:
            self.use_signer(signer)

    # -- keys ------------------------------------------------------------------------------

    def use_signer(self, signer: CheckpointSigner) -> None:
        """Sign checkpoints with ``signer`` from now on, and record its public key here."""
        with self._lock:
            self.keys.setdefault(signer.key_id, signer.public_key)
            self._signer = signer

    def public_keys(self) -> dict[str, bytes]:
        """Public keys recorded in the journal, by key id."""
        with self._lock:
            return dict(self.keys)

    # -- appending -------------------------------------------------------------------------

    async def append_async(self, entries: Sequence[JournalEntry]) -> int:
        """``JournalWriter.append_async``: in memory, nothing to wait for."""
        return self.append(entries)

    def append(self, entries: Sequence[JournalEntry]) -> int:
        """Record the entries; return the last sequence number (1-based)."""
        with self._lock:
            for e in entries:
                body = canonical_bytes(e)
                leaf = leaf_hash(body)
                self._seq += 1
                self._chain = chain_next(self._chain, leaf)
                self.stored[self._seq] = StoredRow(body, self._chain, e.at.astimezone(dt.UTC))
                for level, idx, h in self._frontier.push(leaf):
                    if level >= NODE_LEVEL:
                        self.merkle_nodes[(level, idx)] = h
                self.entries.append(e)
            if self._signer is not None and self._seq - self._signed_size() >= self._every:
                self._store_checkpoint(CheckpointKind.PERIODIC)
            return self._seq

    def close(self) -> None:
        """Sign what no checkpoint covers yet, as the SQL store does when it stops."""
        with self._lock:
            if self._signer is not None and self._seq > self._signed_size():
                self._store_checkpoint(CheckpointKind.PERIODIC)

    def _signed_size(self) -> int:
        return max((c.tree_size for c in self.signed), default=0)

    def _store_checkpoint(self, kind: CheckpointKind) -> Checkpoint:
        cp = self._sign(self._seq, self._frontier.root(), self._chain, kind)
        self.signed.append(cp)
        return cp

    def _sign(self, size: int, root: bytes, chain: bytes, kind: CheckpointKind) -> Checkpoint:
        if self._signer is None:
            raise PolicyError("no journal signing key: set REMPART_JOURNAL_SIGNING_KEY")
        at = self._clock.now().astimezone(dt.UTC)
        cp = Checkpoint(size, root, chain, at, kind, self._signer.key_id)
        cp = replace(cp, signature=self._signer.sign(cp.signed_text()))
        if self.origin:
            cp = replace(cp, origin=self.origin)
            cp = replace(cp, note_signature=self._signer.sign(cp.note_text().encode()))
        return cp

    # -- publication -----------------------------------------------------------------------

    def signer_public_key(self) -> bytes | None:
        """The public key checkpoints are signed with now, if a signer is set."""
        return self._signer.public_key if self._signer is not None else None

    def latest_published(self) -> Checkpoint | None:
        """The latest checkpoint signed in the C2SP note form, if any."""
        with self._lock:
            published = [c for c in self.signed if c.published]
        return max(published, key=lambda c: c.tree_size) if published else None

    def cosignatures(self, tree_size: int, root: bytes) -> list[Cosignature]:
        """The latest cosignature of each witness key for that checkpoint."""
        with self._lock:
            found = [c for c in self.cosigned if c.tree_size == tree_size and c.root == root]
        latest: dict[tuple[str, bytes], Cosignature] = {}
        for c in sorted(found, key=lambda c: -c.timestamp):
            latest.setdefault((c.witness, c.key_hash), c)
        return sorted(latest.values(), key=lambda c: (c.witness, c.key_hash))

    def add_cosignatures(self, cosignatures: Sequence[Cosignature]) -> None:
        """Record verified cosignatures."""
        with self._lock:
            self.cosigned.extend(cosignatures)

    # -- reading back ----------------------------------------------------------------------

    def _decoded(self) -> list[StoredEntry]:
        with self._lock:
            rows = sorted(self.stored.items())
        return [StoredEntry(seq, entry_from_canonical(row.body)) for seq, row in rows]

    def head(self) -> tuple[int, bytes]:
        """Last sequence number and its chain value (a purge boundary's when none is left)."""
        with self._lock:
            if self.stored:
                seq = max(self.stored)
                return seq, self.stored[seq].chain
            base = self.purge_base()
            return (base.tree_size, base.chain_head) if base else (0, GENESIS)

    def body(self, seq: int) -> bytes | None:
        """The canonical form of one entry."""
        with self._lock:
            row = self.stored.get(seq)
            return row.body if row is not None else None

    def entry(self, seq: int) -> StoredEntry | None:
        """One entry by sequence number."""
        body = self.body(seq)
        return StoredEntry(seq, entry_from_canonical(body)) if body is not None else None

    def who_consulted(
        self, ft_id: str, offset: int, limit: int, *, by_agents_only: bool = False
    ) -> list[StoredEntry]:
        """Entries concerning a person, newest first."""
        found = [
            s
            for s in reversed(self._decoded())
            if ft_id in s.entry.persons and (s.entry.agent_login or not by_agents_only)
        ]
        return found[offset : offset + limit]

    def activity(
        self,
        since: dt.datetime,
        until: dt.datetime,
        *,
        agent_login: str = "",
        session_id: str = "",
        offset: int = 0,
        limit: int = 100,
    ) -> list[StoredEntry]:
        """What an agent (or one session) did in ``[since, until)``, oldest first."""
        found = sorted(
            (
                s
                for s in self._decoded()
                if since <= s.entry.at < until
                and (not agent_login or s.entry.agent_login == agent_login)
                and (not session_id or s.entry.session_id == session_id)
            ),
            key=lambda s: (s.entry.at, s.seq),
        )
        return found[offset : offset + limit]

    def scoped_entries(
        self,
        since: dt.datetime | None,
        until: dt.datetime | None,
        *,
        agent_logins: Sequence[str] = (),
        session_id: str = "",
        org_id: str = "",
        whole_window: bool = False,
    ) -> Iterator[tuple[int, bytes]]:
        """``(seq, canonical form)`` of the entries of these agents (or this session, or this
        organisation, or the whole window) in ``[since, until]``."""
        for s in self._decoded():
            e = s.entry
            if (since is not None and e.at < since) or (until is not None and e.at > until):
                continue
            if agent_logins:
                hit = e.agent_login in agent_logins
            elif session_id:
                hit = e.session_id == session_id
            elif org_id:
                hit = e.org_id == org_id
            else:
                hit = whole_window
            if hit:
                body = self.body(s.seq)
                if body is not None:
                    yield s.seq, body

    def volumes(self, since: dt.datetime, until: dt.datetime) -> list[tuple[dt.date, str, int]]:
        """Entries per (UTC day, organisation) in ``[since, until)``."""
        counts = Counter(
            (s.entry.at.astimezone(dt.UTC).date(), s.entry.org_id)
            for s in self._decoded()
            if since <= s.entry.at < until
        )
        return [(day, org, n) for (day, org), n in sorted(counts.items())]

    # -- verification, proofs, retention ---------------------------------------------------

    def purge_base(self) -> Checkpoint | None:
        """The retention boundary the remaining entries start after, if any."""
        with self._lock:
            purges = [c for c in self.signed if c.kind is CheckpointKind.PURGE]
        return max(purges, key=lambda c: c.tree_size) if purges else None

    def checkpoints(self) -> list[Checkpoint]:
        """Every stored checkpoint, by tree size."""
        with self._lock:
            return sorted(self.signed, key=lambda c: c.tree_size)

    def nodes(self) -> dict[tuple[int, int], bytes]:
        """The stored perfect Merkle subtrees, by (level, index)."""
        with self._lock:
            return dict(self.merkle_nodes)

    def rows(self, after: int) -> Iterator[tuple[int, bytes, bytes]]:
        """``(seq, canonical entry, chain)`` after ``after``, in order."""
        with self._lock:
            rows = sorted((s, r.body, r.chain) for s, r in self.stored.items() if s > after)
        yield from rows

    def index_mismatch(self, after: int) -> int | None:
        """Always None: this store keeps no copy of an entry beside its canonical form, and
        every query reads that form, so there is no index that could disagree with it."""
        return None

    def subtree(self, start: int, end: int) -> bytes:
        """MTH of the perfect aligned range ``[start, end)`` of leaf indexes."""
        with self._lock:
            return self._subtree(start, end)

    def _subtree(self, start: int, end: int) -> bytes:
        n = end - start
        level = n.bit_length() - 1
        if level >= NODE_LEVEL:
            stored = self.merkle_nodes.get((level, start >> level))
            if stored is not None:
                return stored
            if level > NODE_LEVEL:
                mid = start + n // 2
                return node_hash(self._subtree(start, mid), self._subtree(mid, end))
        leaves = []
        for seq in range(start + 1, end + 1):
            row = self.stored.get(seq)
            if row is None:
                raise JournalTampered(seq)
            leaves.append(leaf_hash(row.body))
        return root_of(leaves)

    def checkpoint(self, kind: CheckpointKind = CheckpointKind.MANUAL) -> Checkpoint:
        """Sign and store a checkpoint of the journal as it is now."""
        with self._lock:
            return self._store_checkpoint(kind)

    def last_seq_before(self, at: dt.datetime) -> int:
        """The highest seq such that it and every entry before it are older than ``at``."""
        with self._lock:
            kept = [s for s, r in self.stored.items() if r.at >= at]
            return min(kept) - 1 if kept else self.head()[0]

    def purge(self, cut: int) -> Checkpoint:
        """Delete entries up to ``cut`` (a multiple of the node block) behind a signed purge
        checkpoint at ``cut``: the rest stays verifiable from it."""
        if cut % BLOCK:
            raise Conflict(f"the purge boundary must be a multiple of {BLOCK}")
        with self._lock:
            base = self.purge_base()
            if base is not None and cut <= base.tree_size:
                raise Conflict(f"entries up to {base.tree_size} are already purged")
            row = self.stored.get(cut)
            if row is None:
                raise JournalTampered(cut, f"entry {cut} is missing: cannot purge up to it")
            frontier = Frontier.at(cut, self._subtree)
            cp = self._sign(cut, frontier.root(), row.chain, CheckpointKind.PURGE)
            self.signed.append(cp)
            for seq in [s for s in self.stored if s <= cut]:
                del self.stored[seq]
            return cp
