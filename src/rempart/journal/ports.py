"""Ports: what the use cases need from the outside world, named for their role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Protocol

from rempart.journal.integrity import Checkpoint, CheckpointKind
from rempart.journal.model import JournalEntry, StoredEntry


class JournalWriter(Protocol):
    def append(self, entries: Sequence[JournalEntry]) -> int:
        """Durably record the entries; return the last sequence number. Blocks until committed."""
        ...


class JournalQueries(Protocol):
    """Reading the journal back; entries come from their hashed canonical form, not a copy."""

    def entry(self, seq: int) -> StoredEntry | None:
        """One entry by sequence number."""
        ...

    def who_consulted(
        self, ft_id: str, offset: int, limit: int, *, by_agents_only: bool = False
    ) -> list[StoredEntry]:
        """Entries concerning a person, newest first."""
        ...

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

    def volumes(self, since: dt.datetime, until: dt.datetime) -> list[tuple[dt.date, str, int]]:
        """Entries per (UTC day, organisation) in ``[since, until)``."""
        ...


class CheckpointSigner(Protocol):
    """Signs journal checkpoints; the private key never enters the domain."""

    key_id: str
    public_key: bytes

    def sign(self, message: bytes) -> bytes: ...


class JournalArchive(Protocol):
    """Raw access to the stored journal for verification, proofs and retention."""

    def head(self) -> tuple[int, bytes]:
        """Last sequence number and its chain value (after a purge with no entry left: the
        purge checkpoint's)."""
        ...

    def purge_base(self) -> Checkpoint | None:
        """The retention boundary the remaining entries start after, if any."""
        ...

    def rows(self, after: int) -> Iterator[tuple[int, bytes, bytes]]:
        """``(seq, canonical entry, chain)`` for every entry after ``after``, in order."""
        ...

    def checkpoints(self) -> list[Checkpoint]:
        """Every stored checkpoint, by tree size."""
        ...

    def nodes(self) -> dict[tuple[int, int], bytes]:
        """The stored perfect Merkle subtrees, by (level, index)."""
        ...

    def subtree(self, start: int, end: int) -> bytes:
        """MTH of the perfect aligned range ``[start, end)`` of leaf indexes."""
        ...

    def body(self, seq: int) -> bytes | None:
        """The canonical form of one entry."""
        ...

    def index_mismatch(self, after: int) -> int | None:
        """The first entry whose query columns or person rows disagree with its canonical
        form (they are copies kept for the indexes; the hash covers only the canonical form)."""
        ...

    def public_keys(self) -> dict[str, bytes]:
        """Public keys recorded in the journal itself, by key id."""
        ...

    def checkpoint(self, kind: CheckpointKind) -> Checkpoint:
        """Sign and store a checkpoint of the journal as it is now."""
        ...

    def last_seq_before(self, at: dt.datetime) -> int:
        """The highest sequence number such that it and every entry before it are older
        than ``at``."""
        ...

    def purge(self, cut: int) -> Checkpoint:
        """Delete entries up to ``cut`` behind a signed purge checkpoint at ``cut``."""
        ...
