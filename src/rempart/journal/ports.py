"""Ports: what the use cases need from the outside world, named for their role.

Each port is as narrow as the use cases that need it: the citizen view reads one person's
accesses, the guard's baselines read activity, the console reads volumes, the auditor's
verification scans the stored rows, a proof reads one body and the tree. ``SqlJournalStore``
and ``MemoryJournal`` implement every one of them; the wide ``JournalQueries`` and
``JournalArchive`` are their unions, for the wiring that hands one store to several roles.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Protocol

from rempart.journal.integrity import Checkpoint, CheckpointKind, Cosignature
from rempart.journal.model import JournalEntry, StoredEntry


class JournalWriter(Protocol):
    def append(self, entries: Sequence[JournalEntry]) -> int:
        """Durably record the entries; return the last sequence number. Blocks until committed."""
        ...

    async def append_async(self, entries: Sequence[JournalEntry]) -> int:
        """``append`` for a caller on an event loop: returns once the entries are committed,
        without holding a thread while it waits."""
        ...


# -- reading back (entries come from their hashed canonical form, not a copy) -----------------


class PersonAccesses(Protocol):
    """The entries concerning one person: what the person sees of their own file."""

    def entry(self, seq: int) -> StoredEntry | None:
        """One entry by sequence number."""
        ...

    def who_consulted(
        self, ft_id: str, offset: int, limit: int, *, by_agents_only: bool = False
    ) -> list[StoredEntry]:
        """Entries concerning a person, newest first."""
        ...


class AgentActivity(Protocol):
    """What agents did over time: the guard's baselines and the incident responder."""

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
        ...


class ScopedEntries(Protocol):
    """Every entry of some agents, one session or one organisation over a window, streamed:
    the incident responder's exposure reads it to the end (no page, no cap)."""

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
        """``(seq, canonical form)`` of the entries in ``[since, until]`` (None: unbounded)
        filed under one of ``agent_logins``, or ``session_id``, or ``org_id`` (the first
        given), in no particular order. The caller checks the canonical form: the indexes
        that find the entries are copies."""
        ...


class JournalVolumes(Protocol):
    """How much was journaled, per day and organisation: the console's overview."""

    def volumes(self, since: dt.datetime, until: dt.datetime) -> list[tuple[dt.date, str, int]]:
        """Entries per (UTC day, organisation) in ``[since, until)``."""
        ...


class JournalQueries(PersonAccesses, AgentActivity, JournalVolumes, Protocol):
    """Every way of reading the journal back (a store that serves all three roles)."""


class CheckpointSigner(Protocol):
    """Signs journal checkpoints; the private key never enters the domain."""

    key_id: str
    public_key: bytes

    def sign(self, message: bytes) -> bytes: ...


# -- the archive side: verification, proofs, checkpoints, retention -----------------------------


class MerkleSource(Protocol):
    """The stored journal's Merkle tree."""

    def subtree(self, start: int, end: int) -> bytes:
        """MTH of the perfect aligned range ``[start, end)`` of leaf indexes."""
        ...

    def checkpoints(self) -> list[Checkpoint]:
        """Every stored checkpoint, by tree size."""
        ...


class JournalScan(MerkleSource, Protocol):
    """What a verification reads: every stored row, node and checkpoint, and the boundary."""

    def body(self, seq: int) -> bytes | None:
        """The canonical form of one entry."""
        ...

    def purge_base(self) -> Checkpoint | None:
        """The retention boundary the remaining entries start after, if any."""
        ...

    def rows(self, after: int) -> Iterator[tuple[int, bytes, bytes]]:
        """``(seq, canonical entry, chain)`` for every entry after ``after``, in order."""
        ...

    def nodes(self) -> dict[tuple[int, int], bytes]:
        """The stored perfect Merkle subtrees, by (level, index)."""
        ...

    def index_mismatch(self, after: int) -> int | None:
        """The first entry whose query columns or person rows disagree with its canonical
        form (they are copies kept for the indexes; the hash covers only the canonical form)."""
        ...


class ProofSource(MerkleSource, Protocol):
    """What an inclusion proof reads: one entry's canonical form, and the keys that signed."""

    def body(self, seq: int) -> bytes | None:
        """The canonical form of one entry."""
        ...

    def public_keys(self) -> dict[str, bytes]:
        """Public keys recorded in the journal itself, by key id."""
        ...


class JournalCheckpoints(Protocol):
    """Where the journal stands, and signing that on demand."""

    def head(self) -> tuple[int, bytes]:
        """Last sequence number and its chain value (after a purge with no entry left: the
        purge checkpoint's)."""
        ...

    def checkpoint(self, kind: CheckpointKind) -> Checkpoint:
        """Sign and store a checkpoint of the journal as it is now."""
        ...


class JournalRetention(JournalScan, Protocol):
    """Deleting old entries, behind a signed boundary, once the journal verifies."""

    def last_seq_before(self, at: dt.datetime) -> int:
        """The highest sequence number such that it and every entry before it are older
        than ``at``."""
        ...

    def purge(self, cut: int) -> Checkpoint:
        """Delete entries up to ``cut`` behind a signed purge checkpoint at ``cut``."""
        ...


class JournalArchive(JournalRetention, ProofSource, JournalCheckpoints, Protocol):
    """Raw access to the stored journal for verification, proofs and retention."""


# -- publication: what the public endpoints and the witnesses see -------------------------------


class JournalPublication(Protocol):
    """The published side of the journal: its latest C2SP checkpoint, its tree (for
    consistency proofs) and the cosignatures witnesses sent back."""

    @property
    def origin(self) -> str:
        """The log's origin line (empty: checkpoints are not published)."""
        ...

    def signer_public_key(self) -> bytes | None:
        """The public key checkpoints are signed with now, if any."""
        ...

    def public_keys(self) -> dict[str, bytes]:
        """Public keys recorded in the journal, by key id (those of earlier checkpoints)."""
        ...

    def head(self) -> tuple[int, bytes]:
        """Last sequence number and its chain value."""
        ...

    def subtree(self, start: int, end: int) -> bytes:
        """MTH of the perfect aligned range ``[start, end)`` of leaf indexes."""
        ...

    def latest_published(self) -> Checkpoint | None:
        """The latest checkpoint signed in the C2SP note form."""
        ...

    def cosignatures(self, tree_size: int, root: bytes) -> list[Cosignature]:
        """The latest cosignature of each witness key for that checkpoint."""
        ...

    def add_cosignatures(self, cosignatures: Sequence[Cosignature]) -> None:
        """Record verified cosignatures."""
        ...


# -- the witness: another process, another machine, its own key and state ----------------------


class WitnessedLog(Protocol):
    """The log a witness watches, as its public endpoints show it."""

    def checkpoint(self) -> bytes:
        """The latest signed checkpoint (a C2SP signed note)."""
        ...

    def consistency(self, first: int, second: int) -> list[bytes]:
        """The RFC 9162 consistency proof between two tree sizes."""
        ...

    def submit(self, note: bytes) -> None:
        """Hand the cosigned checkpoint back to the log, which serves it from then on."""
        ...


class WitnessState(Protocol):
    """The one thing a witness remembers: the last checkpoint it cosigned."""

    def load(self) -> bytes | None:
        """That checkpoint with its signatures (a signed note), or None the first time."""
        ...

    def save(self, note: bytes) -> None:
        """Replace it, durably, before the cosignature leaves."""
        ...


class WitnessAlarm(Protocol):
    """Where a witness's refusal goes: its operator, out of the log's reach."""

    def alert(self, kind: str, detail: str, evidence: dict[str, str]) -> None:
        """Raise an alert: what happened, in one sentence, and the notes that show it."""
        ...


class Cosigner(Protocol):
    """The witness's own Ed25519 key (C2SP tlog-cosignature, type 0x04)."""

    name: str
    public_key: bytes

    def sign(self, message: bytes) -> bytes: ...
