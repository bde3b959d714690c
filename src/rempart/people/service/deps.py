"""What the use cases are given: the ports, wired by ``people.wiring``.

``PortalDeps`` is the one bag the edge holds. Each use-case module names, as a Protocol below,
only the part of it it uses (``GateDeps``, ``ConsultDeps``, ``TrainingDeps``); ``PortalDeps``
satisfies them all, and a unit test can hand in memory twins of just those ports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rempart.journal.ports import JournalWriter
from rempart.kernel.exposure import ExposureGuard
from rempart.kernel.ports import Clock, Transactions
from rempart.people.ports import (
    AccessStandings,
    AttendanceRegister,
    FollowUpNotes,
    PersonNotifier,
    PersonRecords,
    PortalStore,
    Trainings,
)
from rempart.people.scope import ScopeRules


@dataclass(frozen=True, slots=True)
class PortalDeps:
    store: PortalStore
    journal: JournalWriter
    clock: Clock
    rules: ScopeRules
    standings: AccessStandings  # the data gate's facts, read on every data request
    transactions: Transactions  # the request's unit of work, settled before the journal's wait
    guard: ExposureGuard | None = None  # None: scope policy only (the bench's "off")
    # Enrolment confirmations by the person: None where no message can reach people (the
    # relation is then confirmed only by the agency's import).
    notices: PersonNotifier | None = None


class RecordStore(PersonRecords, FollowUpNotes, Protocol):
    """What consulting people reads: records, relations, portfolios, notes."""


class TrainingStore(PersonRecords, Trainings, AttendanceRegister, FollowUpNotes, Protocol):
    """What the training follow-up app and the follow-up notes read and write."""


class GateDeps(Protocol):
    """What the data gate reads: the account's standing, and the guard when one is wired."""

    @property
    def standings(self) -> AccessStandings: ...
    @property
    def guard(self) -> ExposureGuard | None: ...


class ConsultDeps(GateDeps, Protocol):
    """What consulting people (record, lookup, portfolio, export) is given."""

    @property
    def store(self) -> RecordStore: ...
    @property
    def journal(self) -> JournalWriter: ...
    @property
    def rules(self) -> ScopeRules: ...


class RecordReadDeps(ConsultDeps, Protocol):
    """What a record read on the event loop is given besides: the unit of work, settled before
    the wait for the journal."""

    @property
    def transactions(self) -> Transactions: ...


class TrainingDeps(GateDeps, Protocol):
    """What the training follow-up app and the follow-up notes are given."""

    @property
    def store(self) -> TrainingStore: ...
    @property
    def journal(self) -> JournalWriter: ...
    @property
    def rules(self) -> ScopeRules: ...
    @property
    def notices(self) -> PersonNotifier | None: ...
