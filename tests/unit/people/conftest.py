"""People's use cases on memory twins only: the standard world in ``MemoryPeople``, a
``MemoryJournal``, a recording ``MemoryExposureGuard``. No database, no network."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.model import JournalEntry
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.exposure import ExposureGuard
from rempart.kernel.tags import Tag
from rempart.kernel.transactions import MemoryTransactions
from rempart.people.adapters.memory import MemoryExposureGuard, MemoryPeople
from rempart.people.ports import PersonNotifier
from rempart.people.scope import ScopeRules
from tests.factories import NOW, MemoryWorld, memory_world


@dataclass(frozen=True, slots=True)
class UseCaseDeps:
    """Just what people's use cases name (``ConsultDeps``, ``TrainingDeps``, ``GateDeps``):
    no clock, no alert sink, no directory is needed to run them."""

    store: MemoryPeople
    journal: MemoryJournal
    rules: ScopeRules
    standings: MemoryPeople
    guard: ExposureGuard | None
    notices: PersonNotifier | None = None
    transactions: MemoryTransactions = field(default_factory=MemoryTransactions)


@pytest.fixture
def world() -> MemoryWorld:
    """The standard world, in the memory twin (this overrides the SQL one of tests/)."""
    return memory_world()


@pytest.fixture
def store(world: MemoryWorld) -> MemoryPeople:
    return world.store


@pytest.fixture
def guard(journal: MemoryJournal) -> MemoryExposureGuard:
    """A guard that admits everything and records what it was asked."""
    return MemoryExposureGuard(journal=journal)


@pytest.fixture
def deps(store: MemoryPeople, journal: MemoryJournal, guard: MemoryExposureGuard) -> UseCaseDeps:
    return UseCaseDeps(store, journal, ScopeRules(enrolment_grace_months=6), store, guard)


ContextFor = Callable[..., RequestContext]


@pytest.fixture
def ctx_for(store: MemoryPeople) -> ContextFor:
    """A request context for a stored agent, as the session layer would build it."""

    def make(login: str, *, now: dt.datetime = NOW, **agent_changes: object) -> RequestContext:
        agent = store.agent_by_login(login)
        assert agent is not None
        org = store.organisation(agent.org_id)
        assert org is not None
        if agent_changes:
            agent = replace(agent, **agent_changes)  # type: ignore[arg-type]
        return RequestContext(
            agent=agent,
            org=org,
            session_id=f"s-{login}",
            client=ClientInfo(address="192.0.2.10", user_agent="pytest", network="AS-TEST"),
            now=now,
        )

    return make


def tags(journal: MemoryJournal) -> list[Tag]:
    """The tags journaled so far, in order."""
    return [e.tag for e in journal.entries]


def only_entry(journal: MemoryJournal) -> JournalEntry:
    """The one entry journaled."""
    assert len(journal.entries) == 1, journal.entries
    return journal.entries[0]
