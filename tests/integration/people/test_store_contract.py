"""People's store ports, one contract for every implementation: ``MemoryPeople`` (the unit
tests' twin) and ``SqlPortalStore`` on SQLite, and on PostgreSQL when configured.

The same world is built in each (``populate_standard``) and the same assertions run against
each, so the twin the unit tests rely on keeps the SQL adapter's semantics. Scope rests on these
reads (ASVS 5.0 V8.2.2: a relation is only the agent's organisation's enrolment or an assignment
to the agent; V8.3.1: the data gate's facts are read from the trusted store on every request).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import pytest
from sqlalchemy import Engine, insert, update

from rempart.db.engine import make_engine
from rempart.db.migrate import upgrade
from rempart.db.schema.core import AgentRow
from rempart.db.schema.governance import OrgSuspensionRow
from rempart.kernel.actors import Agent, App, OrgKind, Role
from rempart.kernel.clock import months_before
from rempart.people.adapters.memory import MemoryPeople
from rempart.people.adapters.sql import SqlPortalStore
from rempart.people.model import AccessStanding, AttendanceMark, Person
from rempart.people.ports import AccessStandings, PortalStore
from tests.factories import NOW, TODAY, MemoryWorld, World, populate_standard

GRACE_FROM = months_before(TODAY, 6)


class Store(PortalStore, AccessStandings, Protocol):
    """Every port people's adapters implement."""


class Facts(Protocol):
    """The gate's facts other capabilities write: set here the way each backend keeps them."""

    def suspend(self, org_id: str) -> None: ...
    def lift(self, org_id: str) -> None: ...
    def set_pending(self, agent_id: int, pending: bool) -> None: ...


class SqlFacts:
    """The facts as governance and sign-in write them: rows in ``org_suspensions``, a flag."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def suspend(self, org_id: str) -> None:
        with self.engine.begin() as c:
            c.execute(
                insert(OrgSuspensionRow).values(
                    org_id=org_id, reason="test", suspended_by="ag.admin", suspended_at=NOW
                )
            )

    def lift(self, org_id: str) -> None:
        with self.engine.begin() as c:
            c.execute(
                update(OrgSuspensionRow)
                .where(OrgSuspensionRow.org_id == org_id, OrgSuspensionRow.lifted_at.is_(None))
                .values(lifted_at=NOW, lifted_by="ag.admin")
            )

    def set_pending(self, agent_id: int, pending: bool) -> None:
        with self.engine.begin() as c:
            c.execute(
                update(AgentRow).where(AgentRow.id == agent_id).values(enrolment_pending=pending)
            )


class MemoryFacts:
    """The same facts through the twin's own methods."""

    def __init__(self, store: MemoryPeople) -> None:
        self.store = store

    def suspend(self, org_id: str) -> None:
        self.store.suspend_organisation(org_id)

    def lift(self, org_id: str) -> None:
        self.store.lift_suspension(org_id)

    def set_pending(self, agent_id: int, pending: bool) -> None:
        self.store.set_enrolment_pending(agent_id, pending)


@dataclass
class Backend:
    store: Store
    world: World | MemoryWorld
    facts: Facts


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    """The standard world in one implementation of people's ports."""
    if request.param == "memory":
        mw = populate_standard(MemoryWorld())
        yield Backend(mw.store, mw, MemoryFacts(mw.store))
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db')}/rempart.db"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    upgrade(url)
    engine = make_engine(url)
    try:
        yield Backend(SqlPortalStore(engine), populate_standard(World(engine)), SqlFacts(engine))
    finally:
        engine.dispose()


def agent_of(b: Backend, login: str) -> Agent:
    agent = b.store.agent_by_login(login)
    assert agent is not None
    return agent


def person(b: Backend, name: str) -> Person:
    return b.world.persons[name]


# -- Directory ------------------------------------------------------------------------------


def test_agents_and_organisations_are_found_by_id_and_login(backend: Backend) -> None:
    """An agent carries its organisation's kind; unknown ids and logins find nobody."""
    agent = agent_of(backend, "ml.adv1")
    assert agent.id == backend.world.agents["ml.adv1"]
    assert agent.org_id == backend.world.orgs["Mission Locale Nord"]
    assert agent.org_kind is OrgKind.MISSION_LOCALE
    assert agent.roles == frozenset({Role.ADVISOR})
    assert agent.active is True
    assert backend.store.agent_by_id(agent.id) == agent
    assert backend.store.agent_by_id(999_999) is None
    assert backend.store.agent_by_login("nobody") is None
    org = backend.store.organisation(agent.org_id)
    assert org is not None
    assert (org.kind, org.name, org.region) == (
        OrgKind.MISSION_LOCALE,
        "Mission Locale Nord",
        "Île-de-France",
    )
    assert backend.store.organisation("NOPE-0000") is None


# -- PersonRecords --------------------------------------------------------------------------


def test_a_person_is_found_by_ft_id_whole(backend: Backend) -> None:
    """Every field round-trips; an unknown ft_id finds nobody."""
    stored = person(backend, "cap_person")
    assert backend.store.person_by_ft_id(stored.ft_id) == stored
    assert backend.store.person_by_ft_id("9999999X") is None


def test_relations_are_the_agents_organisations_enrolments_and_assignments_to_the_agent(
    backend: Backend,
) -> None:
    """Another training body's enrolment and another advisor's assignment are no relation."""
    trainee = person(backend, "trainee")
    dupont, martin = agent_of(backend, "tm.dupont"), agent_of(backend, "tm.martin")
    rel = backend.store.relations(trainee.id, dupont)
    assert [(e.training_id, e.org_id) for e in rel.enrolments] == [
        (backend.world.trainings["Soudure"], dupont.org_id)
    ]
    assert rel.assignments == ()
    assert backend.store.relations(trainee.id, martin).enrolments == ()

    youth = person(backend, "youth")
    adv1, adv2 = agent_of(backend, "ml.adv1"), agent_of(backend, "ml.adv2")
    mine = backend.store.relations(youth.id, adv1)
    assert [(a.agent_id, a.person_id, a.end_date) for a in mine.assignments] == [
        (adv1.id, youth.id, None)
    ]
    assert mine.enrolments == ()
    assert backend.store.relations(youth.id, adv2) == backend.store.relations(-1, adv1)
    assert backend.store.relations(-1, adv1).assignments == ()


def test_relations_hold_ended_enrolments_too(backend: Backend) -> None:
    """Dates are the scope policy's to judge: the store returns every enrolment of the org."""
    rel = backend.store.relations(
        person(backend, "trainee_long_ended").id, agent_of(backend, "tm.dupont")
    )
    assert [e.end_date for e in rel.enrolments] == [TODAY - dt.timedelta(days=700)]


def test_enrolments_of_a_person_are_those_of_one_organisation_with_their_training(
    backend: Backend,
) -> None:
    trainee = person(backend, "trainee")
    dupont = backend.world.orgs["Formations Dupont"]
    [(enrolment, training)] = backend.store.enrolments_of_person(trainee.id, dupont)
    assert training.title == "Soudure"
    assert enrolment.training_id == training.id
    assert (
        backend.store.enrolments_of_person(trainee.id, backend.world.orgs["Formations Martin"])
        == []
    )


def test_the_training_managers_portfolio_is_current_and_recent_trainees_by_name(
    backend: Backend,
) -> None:
    """Enrolments ended before the grace period and other bodies' trainees are left out."""
    dupont = agent_of(backend, "tm.dupont")
    rows = backend.store.portfolio(dupont, TODAY, GRACE_FROM, 0, 10)
    expected = sorted(
        (p.ft_id, p.last_name, p.first_name)
        for p in (person(backend, "trainee"), person(backend, "trainee_ended"))
    )
    assert rows == sorted(expected, key=lambda r: (r[1], r[2], r[0]))
    # A grace period that starts after the ended training leaves only the current trainee.
    later = TODAY - dt.timedelta(days=30)
    assert [r[0] for r in backend.store.portfolio(dupont, TODAY, later, 0, 10)] == [
        person(backend, "trainee").ft_id
    ]


def test_the_portfolio_pages_by_offset_and_limit(backend: Backend) -> None:
    dupont = agent_of(backend, "tm.dupont")
    whole = backend.store.portfolio(dupont, TODAY, GRACE_FROM, 0, 10)
    assert len(whole) == 2
    assert backend.store.portfolio(dupont, TODAY, GRACE_FROM, 0, 1) == whole[:1]
    assert backend.store.portfolio(dupont, TODAY, GRACE_FROM, 1, 1) == whole[1:]
    assert backend.store.portfolio(dupont, TODAY, GRACE_FROM, 2, 5) == []


def test_the_advisers_portfolio_is_their_active_assignments(backend: Backend) -> None:
    """Another advisor's, an ended, a future assignment and one of another org are left out."""
    w = backend.world
    w.person("ended", 2001)
    w.person("future", 2002)
    w.person("elsewhere", 2003)
    w.assign(
        "ended",
        "ml.adv1",
        "Mission Locale Nord",
        TODAY - dt.timedelta(days=90),
        TODAY - dt.timedelta(days=1),
    )
    w.assign("future", "ml.adv1", "Mission Locale Nord", TODAY + dt.timedelta(days=1))
    w.assign("elsewhere", "ml.adv1", "Cap emploi 75", TODAY - dt.timedelta(days=10))
    w.assign("youth", "ml.adv1", "Mission Locale Nord", TODAY - dt.timedelta(days=5), TODAY)
    adv1 = agent_of(backend, "ml.adv1")
    assert [r[0] for r in backend.store.portfolio(adv1, TODAY, GRACE_FROM, 0, 10)] == [
        person(backend, "youth").ft_id
    ]
    assert backend.store.portfolio(agent_of(backend, "ml.adv2"), TODAY, GRACE_FROM, 0, 10) == []


def test_canaries_never_appear_in_a_portfolio(backend: Backend) -> None:
    """A canary enrolled or assigned is still reachable by ft_id, never listed."""
    w = backend.world
    canary = w.person("canary", 3001, is_canary=True)
    w.enrol("canary", "Soudure", "Formations Dupont", TODAY - dt.timedelta(days=5), TODAY)
    w.assign("canary", "ml.adv1", "Mission Locale Nord", TODAY - dt.timedelta(days=5))
    for login in ("tm.dupont", "ml.adv1"):
        rows = backend.store.portfolio(agent_of(backend, login), TODAY, GRACE_FROM, 0, 100)
        assert canary.ft_id not in [r[0] for r in rows]
    assert backend.store.person_by_ft_id(canary.ft_id) == canary


@pytest.mark.parametrize("login", ["am.dupont", "ag.sec", "ag.dpo", "ag.admin"])
def test_roles_without_people_have_an_empty_portfolio(backend: Backend, login: str) -> None:
    assert backend.store.portfolio(agent_of(backend, login), TODAY, GRACE_FROM, 0, 100) == []


# -- Trainings ------------------------------------------------------------------------------


def test_trainings_of_a_body_newest_first(backend: Backend) -> None:
    """Same start day: the older id first."""
    w = backend.world
    twin = w.training("Soudure bis", "Formations Dupont", TODAY - dt.timedelta(days=30), TODAY)
    titles = [t.title for t in backend.store.trainings_of(w.orgs["Formations Dupont"])]
    assert titles == ["Soudure", "Soudure bis", "Bureautique", "Anglais"]
    assert backend.store.trainings_of(w.orgs["Agence Paris 2e"]) == []
    t = backend.store.training(twin)
    assert t is not None
    assert (t.org_id, t.title, t.start_date, t.end_date) == (
        w.orgs["Formations Dupont"],
        "Soudure bis",
        TODAY - dt.timedelta(days=30),
        TODAY,
    )
    assert backend.store.training(999_999) is None


def test_sessions_of_a_training_in_date_order(backend: Backend) -> None:
    w = backend.world
    tid = w.trainings["Soudure"]
    sessions = backend.store.sessions_of(tid)
    assert [s.label for s in sessions] == ["Séance 1", "Séance 2"]
    assert [s.day for s in sessions] == [
        TODAY - dt.timedelta(days=30),
        TODAY - dt.timedelta(days=29),
    ]
    one = backend.store.session(w.sessions["Soudure#2"])
    assert one == sessions[1]
    assert backend.store.session(999_999) is None
    assert backend.store.sessions_of(999_999) == []


def test_enrolments_of_a_training_by_name_with_the_person(backend: Backend) -> None:
    w = backend.world
    w.person("zed", 4001, last_name="Zed")
    w.person("abel", 4002, last_name="Abel")
    for name in ("zed", "abel"):
        w.enrol(name, "Soudure", "Formations Dupont", TODAY, TODAY + dt.timedelta(days=60))
    enrolled = backend.store.enrolments_of_training(w.trainings["Soudure"])
    assert [p.last_name for _, p in enrolled] == ["Abel", "Nom1000", "Zed"]
    assert all(e.person_id == p.id for e, p in enrolled)
    assert enrolled[1][1] == person(backend, "trainee")


def test_enrol_is_idempotent_and_takes_the_trainings_organisation(backend: Backend) -> None:
    w = backend.world
    cuisine = backend.store.training(w.trainings["Cuisine"])
    assert cuisine is not None
    stranger = person(backend, "stranger")
    first = backend.store.enrol(cuisine, stranger, TODAY, cuisine.end_date)
    assert (first.training_id, first.person_id, first.org_id) == (
        cuisine.id,
        stranger.id,
        w.orgs["Formations Martin"],
    )
    assert (first.start_date, first.end_date) == (TODAY, cuisine.end_date)
    again = backend.store.enrol(cuisine, stranger, TODAY + dt.timedelta(days=3), TODAY)
    assert again == first
    assert [p.id for _, p in backend.store.enrolments_of_training(cuisine.id)].count(
        stranger.id
    ) == 1
    rel = backend.store.relations(stranger.id, agent_of(backend, "tm.martin"))
    assert [e.id for e in rel.enrolments] == [first.id]


# -- AttendanceRegister ---------------------------------------------------------------------


def test_attendance_replaces_the_named_peoples_marks_only(backend: Backend) -> None:
    w = backend.world
    sid, other = w.sessions["Soudure#1"], w.sessions["Soudure#2"]
    a, b = person(backend, "trainee").id, person(backend, "stranger").id
    assert backend.store.attendance_of(sid) == {}
    backend.store.record_attendance(
        sid, {a: AttendanceMark.PRESENT, b: AttendanceMark.ABSENT}, "tm.dupont", NOW
    )
    backend.store.record_attendance(sid, {b: AttendanceMark.EXCUSED}, "tm.dupont", NOW)
    backend.store.record_attendance(sid, {}, "tm.dupont", NOW)
    assert backend.store.attendance_of(sid) == {
        a: AttendanceMark.PRESENT,
        b: AttendanceMark.EXCUSED,
    }
    assert backend.store.attendance_of(other) == {}


# -- FollowUpNotes --------------------------------------------------------------------------


def test_notes_are_one_organisations_newest_first(backend: Backend) -> None:
    """Same instant: the later note first; another organisation's notes are not returned."""
    w = backend.world
    youth = person(backend, "youth")
    ml, cap = w.orgs["Mission Locale Nord"], w.orgs["Cap emploi 75"]
    early = backend.store.add_note(youth.id, ml, "ml.adv1", NOW - dt.timedelta(days=1), "first")
    late_a = backend.store.add_note(youth.id, ml, "ml.adv1", NOW, "second")
    late_b = backend.store.add_note(youth.id, ml, "ml.adv2", NOW, "third")
    backend.store.add_note(youth.id, cap, "cap.adv", NOW, "not yours")
    assert (early.person_id, early.org_id, early.author_login, early.written_at, early.text) == (
        youth.id,
        ml,
        "ml.adv1",
        NOW - dt.timedelta(days=1),
        "first",
    )
    notes = backend.store.notes_of(youth.id, ml)
    assert [n.text for n in notes] == ["third", "second", "first"]
    assert notes == [late_b, late_a, early]
    assert backend.store.notes_of(person(backend, "stranger").id, ml) == []


# -- AppSwitches and AccessStandings --------------------------------------------------------


def test_an_app_switched_off_for_everyone_or_for_one_organisation(backend: Backend) -> None:
    s, w = backend.store, backend.world
    dupont, martin = w.orgs["Formations Dupont"], w.orgs["Formations Martin"]
    app = App.TRAINING_FOLLOW_UP
    assert s.app_enabled(app, dupont)
    assert s.app_enabled(app, martin)
    s.set_app_enabled(app, dupont, False)
    assert not s.app_enabled(app, dupont)
    assert s.app_enabled(app, martin)
    assert s.app_enabled(App.AGENCY, dupont)
    s.set_app_enabled(app, None, False)
    assert not s.app_enabled(app, martin)
    s.set_app_enabled(app, dupont, True)
    assert not s.app_enabled(app, dupont)  # still off for everyone
    s.set_app_enabled(app, None, True)
    assert s.app_enabled(app, dupont)
    assert s.app_enabled(app, martin)


def test_the_standing_of_an_account_in_good_order(backend: Backend) -> None:
    w = backend.world
    got = backend.store.access_standing(
        w.agents["tm.dupont"], w.orgs["Formations Dupont"], App.TRAINING_FOLLOW_UP
    )
    assert got == AccessStanding(org_suspended=False, enrolment_pending=False, app_enabled=True)


def test_the_standing_reads_each_of_its_three_facts(backend: Backend) -> None:
    """Suspension (until lifted), a factor still to enrol, a kill switch (everyone or org)."""
    s, w, facts = backend.store, backend.world, backend.facts
    agent, org, app = w.agents["tm.dupont"], w.orgs["Formations Dupont"], App.TRAINING_FOLLOW_UP

    def standing() -> AccessStanding:
        return s.access_standing(agent, org, app)

    facts.suspend(org)
    assert standing() == AccessStanding(org_suspended=True)
    facts.suspend(w.orgs["Formations Martin"])
    facts.lift(org)
    assert standing() == AccessStanding()

    facts.set_pending(agent, True)
    assert standing() == AccessStanding(enrolment_pending=True)
    assert s.access_standing(w.agents["tm.martin"], w.orgs["Formations Martin"], app) == (
        AccessStanding(org_suspended=True)
    )
    facts.set_pending(agent, False)
    assert standing() == AccessStanding()

    s.set_app_enabled(app, org, False)
    assert standing() == AccessStanding(app_enabled=False)
    assert s.access_standing(agent, org, App.AGENCY) == AccessStanding()
    s.set_app_enabled(app, org, True)
    s.set_app_enabled(app, None, False)
    assert standing() == AccessStanding(app_enabled=False)


def test_the_standing_of_a_removed_account_reaches_nothing(backend: Backend) -> None:
    org = backend.world.orgs["Formations Dupont"]
    assert backend.store.access_standing(999_999, org, App.TRAINING_FOLLOW_UP).org_suspended
