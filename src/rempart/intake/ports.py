"""Ports of the import: the rows of one file, the store the rows are upserted into, progress.

``IntakeStore`` is a bulk loader: it holds one connection for the whole import (its scratch
tables of the relations each file lists live on that connection), commits at checkpoints so
that memory and the write-ahead log stay flat, and is rolled back whole in a dry run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from rempart.intake.model import (
    AgentRowIn,
    ImportFile,
    OrgRow,
    PersonRowIn,
    RelationRowIn,
    TrainingRowIn,
)
from rempart.kernel.actors import OrgKind, Role


@dataclass(frozen=True, slots=True)
class AgentRef:
    """What the import needs to know of an existing account."""

    id: int
    org_id: str
    org_kind: OrgKind
    roles: frozenset[Role]


@dataclass(frozen=True, slots=True)
class Upserted:
    """What one batch of rows did: new rows, changed rows (the rest were already so)."""

    inserted: int
    updated: int
    new_keys: tuple[str, ...] = ()  # the natural keys of the inserted rows (new accounts)


class RowSource(Protocol):
    """One CSV file: its header, then its rows with their line numbers."""

    name: str

    def header(self) -> list[str] | None:
        """The header row (None: the file is empty or not text)."""
        ...

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(line, fields)`` for every row after the header."""
        ...

    def size(self) -> int:
        """Bytes in the file (for the progress bar)."""
        ...

    def consumed(self) -> int:
        """Bytes read so far."""
        ...


class Progress(Protocol):
    """Where the import says how far it is (a progress bar, or nothing)."""

    def stage(self, name: str, total: int) -> None:
        """A file of ``total`` bytes begins."""
        ...

    def advance(self, name: str, done: int) -> None:
        """``done`` bytes of it are read."""
        ...


class IntakeStore(Protocol):
    """The portal's organisations, accounts, people, trainings and relations, loaded in bulk."""

    def start(self) -> None:
        """Open the import's connection and its scratch tables."""
        ...

    def checkpoint(self) -> None:
        """Commit what was written so far (never called in a dry run)."""
        ...

    def finish(self, *, keep: bool) -> None:
        """Commit (``keep``) or roll back everything since the last checkpoint, and close."""
        ...

    def begin_batch(self, ran_by: str, source: str, at: dt.datetime) -> int:
        """Record the start of a run; return its batch number."""
        ...

    def end_batch(
        self, batch_id: int, counts: dict[str, object], rejected: int, at: dt.datetime
    ) -> None:
        """Record what the run did."""
        ...

    def organisation_kinds(self, ids: Collection[str]) -> dict[str, OrgKind]:
        """The kind of each of these organisations that exists."""
        ...

    def agents(self, logins: Collection[str]) -> dict[str, AgentRef]:
        """The existing accounts among these logins."""
        ...

    def person_ids(self, ft_ids: Collection[str]) -> dict[str, int]:
        """The ids of the real people among these ft_ids (canaries are nobody's reference)."""
        ...

    def training_orgs(self, ids: Collection[int]) -> dict[int, str]:
        """The training body of each of these trainings that exists."""
        ...

    def upsert_organisations(self, rows: Sequence[OrgRow]) -> Upserted:
        """Insert or update organisations by id."""
        ...

    def upsert_agents(
        self, rows: Sequence[tuple[AgentRowIn, frozenset[Role]]], at: dt.datetime
    ) -> Upserted:
        """Insert or update accounts by login with the roles given beside each row; a new
        account has no factor and must enrol (``new_keys``: their logins)."""
        ...

    def upsert_persons(self, rows: Sequence[PersonRowIn]) -> Upserted:
        """Insert or update people by ft_id (a canary holding one of them moves aside)."""
        ...

    def upsert_trainings(self, rows: Sequence[TrainingRowIn]) -> Upserted:
        """Insert or update trainings by id."""
        ...

    def upsert_enrolments(self, rows: Sequence[tuple[int, int, str, RelationRowIn]]) -> Upserted:
        """``(training id, person id, training body, row)``: upsert by training and person."""
        ...

    def upsert_assignments(self, rows: Sequence[tuple[int, int, str, RelationRowIn]]) -> Upserted:
        """``(adviser id, person id, organisation, row)``: upsert by adviser and person."""
        ...

    def mark_listed(self, file: ImportFile, pairs: Collection[tuple[int, int]]) -> None:
        """These relations are in the file (loaded or not): never end them for this import."""
        ...

    def end_unlisted(self, file: ImportFile, today: dt.date) -> list[tuple[str, int]]:
        """End the imported relations of ``file`` still running that the file no longer
        lists (end date: yesterday); return ``(organisation, how many)`` for each."""
        ...
