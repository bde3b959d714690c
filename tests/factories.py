"""Test data builders: small, explicit worlds of organisations, agents, people and relations."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from sqlalchemy import Engine, insert

from rempart.db.schema.core import (
    AgentRow,
    AssignmentRow,
    EnrolmentRow,
    OrganisationRow,
    PersonRow,
    TrainingRow,
    TrainingSessionRow,
)
from rempart.kernel.actors import Agent, Organisation, OrgKind, Role
from rempart.kernel.identifiers import ft_id_from_number, make_nir, make_siret
from rempart.people.adapters.memory import MemoryPeople
from rempart.people.model import Person, PersonKind, PostalAddress, RegistrationStatus

TODAY = dt.date(2026, 11, 16)  # a Monday
NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)

_seq = itertools.count(1)


def make_person(n: int | None = None, **overrides: object) -> Person:
    """A plausible person; ``n`` fixes the identifiers."""
    n = n if n is not None else next(_seq)
    values: dict[str, object] = {
        "id": n,
        "ft_id": ft_id_from_number(n),
        "kind": PersonKind.JOB_SEEKER,
        "nir": make_nir(f"1{85:02d}{1:02d}75{n % 1000:03d}{n % 1000:03d}"),
        "last_name": f"Nom{n}",
        "first_name": f"Prénom{n}",
        "birth_date": dt.date(1985, 1, 1) + dt.timedelta(days=n % 3000),
        "email": f"person{n}@example.fr",
        "phone": f"06{n:08d}"[:10],
        "address": PostalAddress(f"{n} rue de la Paix", "75002", "Paris"),
        "registration_status": RegistrationStatus.REGISTERED,
        "registration_date": dt.date(2025, 1, 1),
        "deregistration_date": None,
        "last_activity_date": dt.date(2026, 10, 1),
        "rqth_since": dt.date(2024, 3, 1),
    }
    values.update(overrides)
    return Person(**values)  # type: ignore[arg-type]


def make_agent(org_kind: OrgKind, roles: set[Role], **overrides: object) -> Agent:
    """A domain agent (no storage)."""
    n = next(_seq)
    values: dict[str, object] = {
        "id": n,
        "login": f"agent{n}",
        "email": f"agent{n}@example.fr",
        "org_id": f"ORG-{org_kind}",
        "org_kind": org_kind,
        "roles": frozenset(roles),
        "training_valid_until": NOW.date() + dt.timedelta(days=365),
    }
    values.update(overrides)
    return Agent(**values)  # type: ignore[arg-type]


@dataclass
class World:
    """A small stored world, with handles on what each test needs."""

    engine: Engine
    orgs: dict[str, str] = field(default_factory=dict)  # name -> id
    agents: dict[str, int] = field(default_factory=dict)  # login -> id
    persons: dict[str, Person] = field(default_factory=dict)  # name -> person
    trainings: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)

    def org(self, name: str, kind: OrgKind) -> str:
        """Store an organisation."""
        org_id = f"{kind.value[:3].upper()}-{len(self.orgs) + 1:04d}"
        with self.engine.begin() as c:
            c.execute(
                insert(OrganisationRow).values(
                    id=org_id,
                    kind=str(kind),
                    name=name,
                    siret=make_siret(f"{len(self.orgs) + 1:013d}"),
                    region="Île-de-France",
                )
            )
        self.orgs[name] = org_id
        return org_id

    def agent(self, login: str, org: str, *roles: Role, **extra: object) -> int:
        """Store an agent in organisation ``org`` (its name)."""
        values: dict[str, object] = {
            "login": login,
            "email": f"{login}@example.fr",
            "org_id": self.orgs[org],
            "roles": " ".join(sorted(str(r) for r in roles)),
            "active": True,
            "created_at": NOW - dt.timedelta(days=400),
            # The data gate fails closed without an attestation: the world's agents hold one.
            "training_valid_until": NOW.date() + dt.timedelta(days=365),
        }
        values.update(extra)
        with self.engine.begin() as c:
            res = c.execute(insert(AgentRow).values(**values))
            agent_id = int(res.inserted_primary_key[0])  # type: ignore[index]
        self.agents[login] = agent_id
        return agent_id

    def person(self, name: str, n: int, **overrides: object) -> Person:
        """Store a person."""
        p = make_person(n, **overrides)
        with self.engine.begin() as c:
            c.execute(
                insert(PersonRow).values(
                    id=p.id,
                    ft_id=p.ft_id,
                    kind=str(p.kind),
                    nir=p.nir,
                    last_name=p.last_name,
                    first_name=p.first_name,
                    birth_date=p.birth_date,
                    email=p.email,
                    phone=p.phone,
                    address_line=p.address.line,
                    postcode=p.address.postcode,
                    city=p.address.city,
                    registration_status=str(p.registration_status),
                    registration_date=p.registration_date,
                    deregistration_date=p.deregistration_date,
                    last_activity_date=p.last_activity_date,
                    rqth_since=p.rqth_since,
                    is_canary=p.is_canary,
                )
            )
        self.persons[name] = p
        return p

    def training(self, name: str, org: str, start: dt.date, end: dt.date, sessions: int = 2) -> int:
        """Store a training of organisation ``org`` with a few sessions."""
        with self.engine.begin() as c:
            res = c.execute(
                insert(TrainingRow).values(
                    org_id=self.orgs[org], title=name, start_date=start, end_date=end
                )
            )
            tid = int(res.inserted_primary_key[0])  # type: ignore[index]
            for i in range(sessions):
                r = c.execute(
                    insert(TrainingSessionRow).values(
                        training_id=tid, day=start + dt.timedelta(days=i), label=f"Séance {i + 1}"
                    )
                )
                self.sessions[f"{name}#{i + 1}"] = int(r.inserted_primary_key[0])  # type: ignore[index]
        self.trainings[name] = tid
        return tid

    def enrol(self, person: str, training: str, org: str, start: dt.date, end: dt.date) -> None:
        """Enrol a stored person in a stored training."""
        with self.engine.begin() as c:
            c.execute(
                insert(EnrolmentRow).values(
                    training_id=self.trainings[training],
                    person_id=self.persons[person].id,
                    org_id=self.orgs[org],
                    start_date=start,
                    end_date=end,
                )
            )

    def assign(
        self, person: str, agent: str, org: str, start: dt.date, end: dt.date | None = None
    ) -> None:
        """Assign a stored person to a stored advisor."""
        with self.engine.begin() as c:
            c.execute(
                insert(AssignmentRow).values(
                    agent_id=self.agents[agent],
                    person_id=self.persons[person].id,
                    org_id=self.orgs[org],
                    start_date=start,
                    end_date=end,
                )
            )


class WorldBuilder(Protocol):
    """What ``populate_standard`` builds with: the SQL ``World`` or the ``MemoryWorld``."""

    orgs: dict[str, str]
    agents: dict[str, int]
    persons: dict[str, Person]

    def org(self, name: str, kind: OrgKind) -> str: ...
    def agent(self, login: str, org: str, *roles: Role, **extra: object) -> int: ...
    def person(self, name: str, n: int, **overrides: object) -> Person: ...
    def training(
        self, name: str, org: str, start: dt.date, end: dt.date, sessions: int = 2
    ) -> int: ...
    def enrol(self, person: str, training: str, org: str, start: dt.date, end: dt.date) -> None: ...
    def assign(
        self, person: str, agent: str, org: str, start: dt.date, end: dt.date | None = None
    ) -> None: ...


@dataclass
class MemoryWorld:
    """The same small world as ``World``, built in people's memory twin (same ids, same order)."""

    store: MemoryPeople = field(default_factory=MemoryPeople)
    orgs: dict[str, str] = field(default_factory=dict)
    agents: dict[str, int] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
    trainings: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)

    def org(self, name: str, kind: OrgKind) -> str:
        """Store an organisation."""
        org_id = f"{kind.value[:3].upper()}-{len(self.orgs) + 1:04d}"
        self.store.add_organisation(
            Organisation(
                org_id, kind, name, make_siret(f"{len(self.orgs) + 1:013d}"), "Île-de-France"
            )
        )
        self.orgs[name] = org_id
        return org_id

    def agent(self, login: str, org: str, *roles: Role, **extra: object) -> int:
        """Store an agent in organisation ``org`` (its name); ``extra``: the twin's keywords."""
        extra.setdefault("created_at", NOW - dt.timedelta(days=400))
        extra.setdefault("training_valid_until", NOW.date() + dt.timedelta(days=365))
        agent = self.store.add_agent(login, self.orgs[org], roles, **extra)  # type: ignore[arg-type]
        self.agents[login] = agent.id
        return agent.id

    def person(self, name: str, n: int, **overrides: object) -> Person:
        """Store a person."""
        p = self.store.add_person(make_person(n, **overrides))
        self.persons[name] = p
        return p

    def training(self, name: str, org: str, start: dt.date, end: dt.date, sessions: int = 2) -> int:
        """Store a training of organisation ``org`` with a few sessions."""
        t = self.store.add_training(self.orgs[org], name, start, end)
        for i in range(sessions):
            s = self.store.add_session(t.id, start + dt.timedelta(days=i), f"Séance {i + 1}")
            self.sessions[f"{name}#{i + 1}"] = s.id
        self.trainings[name] = t.id
        return t.id

    def enrol(self, person: str, training: str, org: str, start: dt.date, end: dt.date) -> None:
        """Enrol a stored person in a stored training."""
        self.store.add_enrolment(
            self.trainings[training], self.persons[person].id, self.orgs[org], start, end
        )

    def assign(
        self, person: str, agent: str, org: str, start: dt.date, end: dt.date | None = None
    ) -> None:
        """Assign a stored person to a stored advisor."""
        self.store.add_assignment(
            self.agents[agent], self.persons[person].id, self.orgs[org], start, end
        )


W = TypeVar("W", bound=WorldBuilder)


def standard_world(engine: Engine) -> World:
    """One of each kind of organisation, each kind of agent, and people tied in every way."""
    return populate_standard(World(engine))


def memory_world() -> MemoryWorld:
    """The standard world in people's memory twin."""
    return populate_standard(MemoryWorld())


def populate_standard(w: W) -> W:
    """Build the standard world with ``w``: the same calls whatever it stores in."""
    w.org("Agence Paris 2e", OrgKind.AGENCY)
    w.org("Formations Dupont", OrgKind.TRAINING_BODY)
    w.org("Formations Martin", OrgKind.TRAINING_BODY)
    w.org("Mission Locale Nord", OrgKind.MISSION_LOCALE)
    w.org("Cap emploi 75", OrgKind.CAP_EMPLOI)
    w.agent("tm.dupont", "Formations Dupont", Role.TRAINING_MANAGER)
    w.agent("tm.martin", "Formations Martin", Role.TRAINING_MANAGER)
    w.agent("am.dupont", "Formations Dupont", Role.ACCOUNT_MANAGER)
    w.agent("ml.adv1", "Mission Locale Nord", Role.ADVISOR)
    w.agent("ml.adv2", "Mission Locale Nord", Role.ADVISOR)
    w.agent("cap.adv", "Cap emploi 75", Role.ADVISOR)
    w.agent("ag.adv", "Agence Paris 2e", Role.ADVISOR)
    w.agent("ag.sec", "Agence Paris 2e", Role.SECURITY_OFFICER)
    w.agent("ag.dpo", "Agence Paris 2e", Role.DPO)
    w.agent("ag.admin", "Agence Paris 2e", Role.ADMIN)
    for i, name in enumerate(
        [
            "trainee",
            "trainee_ended",
            "trainee_long_ended",
            "youth",
            "cap_person",
            "agency_person",
            "stranger",
            "trainee_martin",
        ],
        start=1000,
    ):
        w.person(name, i, kind=PersonKind.YOUTH if name == "youth" else PersonKind.JOB_SEEKER)
    w.training(
        "Soudure", "Formations Dupont", TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=60)
    )
    w.training(
        "Bureautique",
        "Formations Dupont",
        TODAY - dt.timedelta(days=300),
        TODAY - dt.timedelta(days=60),
    )
    w.training(
        "Anglais",
        "Formations Dupont",
        TODAY - dt.timedelta(days=900),
        TODAY - dt.timedelta(days=700),
    )
    w.training(
        "Cuisine", "Formations Martin", TODAY - dt.timedelta(days=10), TODAY + dt.timedelta(days=90)
    )
    w.enrol(
        "trainee",
        "Soudure",
        "Formations Dupont",
        TODAY - dt.timedelta(days=30),
        TODAY + dt.timedelta(days=60),
    )
    w.enrol(
        "trainee_ended",
        "Bureautique",
        "Formations Dupont",
        TODAY - dt.timedelta(days=300),
        TODAY - dt.timedelta(days=60),
    )
    w.enrol(
        "trainee_long_ended",
        "Anglais",
        "Formations Dupont",
        TODAY - dt.timedelta(days=900),
        TODAY - dt.timedelta(days=700),
    )
    w.enrol(
        "trainee_martin",
        "Cuisine",
        "Formations Martin",
        TODAY - dt.timedelta(days=10),
        TODAY + dt.timedelta(days=90),
    )
    w.assign("youth", "ml.adv1", "Mission Locale Nord", TODAY - dt.timedelta(days=100))
    w.assign("cap_person", "cap.adv", "Cap emploi 75", TODAY - dt.timedelta(days=100))
    w.assign("agency_person", "ag.adv", "Agence Paris 2e", TODAY - dt.timedelta(days=100))
    return w
