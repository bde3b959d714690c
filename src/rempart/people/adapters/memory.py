"""Memory twins of people's ports: ``MemoryPeople`` (every store port) and
``MemoryExposureGuard`` (kernel's ``ExposureGuard``, recording what it is asked).

Same semantics as ``SqlPortalStore``, checked by the contract tests that run the same
assertions against both: unit tests build their world here, and so can an in-memory demo.
Strings sort by code point, as SQLite's default collation does.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from rempart.journal.entries import entry_for
from rempart.journal.ports import JournalWriter
from rempart.kernel.actors import Agent, App, Organisation, OrgKind, Role
from rempart.kernel.context import RequestContext
from rempart.kernel.exposure import GuardRequest
from rempart.kernel.tags import Decision, Tag
from rempart.people.canaries import CanaryIdentity
from rempart.people.model import (
    AccessStanding,
    Assignment,
    AttendanceMark,
    AttendanceRecord,
    Enrolment,
    EnrolmentConfirmation,
    FollowUpNote,
    Person,
    PersonConfirmation,
    PersonKind,
    PostalAddress,
    RegistrationStatus,
    Relations,
    Training,
    TrainingSession,
)
from rempart.people.scope import FOLLOW_UP_ORG_KINDS

ALL_ORGS = "*"


class MemoryPeople:
    """Implements ``PortalStore`` (``Directory``, ``AppSwitches``, ``PersonRecords``,
    ``Trainings``, ``AttendanceRegister``, ``FollowUpNotes``) and ``AccessStandings`` in memory.

    The ``add_*``, ``set_enrolment_pending``, ``suspend_organisation`` and ``lift_suspension``
    methods are the twin's own: they set the facts that other capabilities (governance,
    sign-in, seeding) write in SQL.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._ids = {
            name: itertools.count(1)
            for name in ("agent", "training", "session", "enrolment", "assignment", "note")
        }
        self._orgs: dict[str, Organisation] = {}
        self._agents: dict[int, Agent] = {}
        self._enrolment_pending: set[int] = set()
        self._suspended: set[str] = set()
        self._persons: dict[int, Person] = {}
        self._trainings: dict[int, Training] = {}
        self._sessions: dict[int, TrainingSession] = {}
        self._enrolments: dict[int, Enrolment] = {}
        self._confirmations: dict[int, EnrolmentConfirmation] = {}
        self._assignments: dict[int, Assignment] = {}
        self._attendance: dict[tuple[int, int], AttendanceRecord] = {}
        self._notes: dict[int, FollowUpNote] = {}
        self._switches: dict[tuple[str, str], bool] = {}

    # -- building the world (the twin's own) ---------------------------------------------

    def add_organisation(self, org: Organisation) -> Organisation:
        """Store an organisation."""
        with self._lock:
            if org.id in self._orgs:
                raise ValueError(f"organisation {org.id} exists")
            self._orgs[org.id] = org
        return org

    def add_agent(
        self,
        login: str,
        org_id: str,
        roles: Iterable[Role],
        *,
        email: str = "",
        active: bool = True,
        created_at: dt.datetime | None = None,
        end_date: dt.date | None = None,
        training_valid_until: dt.date | None = None,
        probation_until: dt.datetime | None = None,
        enrolment_pending: bool = False,
    ) -> Agent:
        """Store an agent of a stored organisation; the id is the next one, as in SQL."""
        with self._lock:
            org = self._orgs[org_id]
            if any(a.login == login for a in self._agents.values()):
                raise ValueError(f"login {login} exists")
            agent = Agent(
                id=next(self._ids["agent"]),
                login=login,
                email=email or f"{login}@example.fr",
                org_id=org_id,
                org_kind=org.kind,
                roles=frozenset(roles),
                active=active,
                created_at=created_at,
                end_date=end_date,
                training_valid_until=training_valid_until,
                probation_until=probation_until,
            )
            self._agents[agent.id] = agent
            if enrolment_pending:
                self._enrolment_pending.add(agent.id)
        return agent

    def add_person(self, person: Person) -> Person:
        """Store a person (its id and ft_id are the caller's, and unique)."""
        with self._lock:
            if person.id in self._persons or self._by_ft_id(person.ft_id) is not None:
                raise ValueError(f"person {person.id}/{person.ft_id} exists")
            self._persons[person.id] = person
        return person

    def add_training(self, org_id: str, title: str, start: dt.date, end: dt.date) -> Training:
        """Store a training of a stored organisation."""
        with self._lock:
            if org_id not in self._orgs:
                raise KeyError(org_id)
            training = Training(next(self._ids["training"]), org_id, title, start, end)
            self._trainings[training.id] = training
        return training

    def add_session(self, training_id: int, day: dt.date, label: str) -> TrainingSession:
        """Store a session of a stored training."""
        with self._lock:
            if training_id not in self._trainings:
                raise KeyError(training_id)
            session = TrainingSession(next(self._ids["session"]), training_id, day, label)
            self._sessions[session.id] = session
        return session

    def add_enrolment(
        self,
        training_id: int,
        person_id: int,
        org_id: str,
        start: dt.date,
        end: dt.date,
        confirmed: bool = True,
    ) -> Enrolment:
        """Store an enrolment as given (``enrol`` is the use cases' idempotent way)."""
        with self._lock:
            if training_id not in self._trainings or person_id not in self._persons:
                raise KeyError((training_id, person_id))
            e = Enrolment(
                next(self._ids["enrolment"]), training_id, person_id, org_id, start, end, confirmed
            )
            self._enrolments[e.id] = e
            self._confirmations[e.id] = EnrolmentConfirmation(confirmed)
        return e

    def add_assignment(
        self, agent_id: int, person_id: int, org_id: str, start: dt.date, end: dt.date | None = None
    ) -> Assignment:
        """Store a follow-up assignment of a person to an advisor."""
        with self._lock:
            if agent_id not in self._agents or person_id not in self._persons:
                raise KeyError((agent_id, person_id))
            a = Assignment(next(self._ids["assignment"]), agent_id, person_id, org_id, start, end)
            self._assignments[a.id] = a
        return a

    def set_enrolment_pending(self, agent_id: int, pending: bool) -> None:
        """The account still has (or no longer has) a second factor to enrol."""
        with self._lock:
            if pending:
                self._enrolment_pending.add(agent_id)
            else:
                self._enrolment_pending.discard(agent_id)

    def suspend_organisation(self, org_id: str) -> None:
        """An administrator switched the organisation off."""
        with self._lock:
            self._suspended.add(org_id)

    def lift_suspension(self, org_id: str) -> None:
        """The organisation's suspension is lifted."""
        with self._lock:
            self._suspended.discard(org_id)

    # -- Directory ------------------------------------------------------------------------

    def agent_by_id(self, agent_id: int) -> Agent | None:
        """The agent with this id."""
        with self._lock:
            return self._agents.get(agent_id)

    def agent_by_login(self, login: str) -> Agent | None:
        """The agent with this login."""
        with self._lock:
            return next((a for a in self._agents.values() if a.login == login), None)

    def organisation(self, org_id: str) -> Organisation | None:
        """The organisation with this id."""
        with self._lock:
            return self._orgs.get(org_id)

    # -- PersonRecords --------------------------------------------------------------------

    def _by_ft_id(self, ft_id: str) -> Person | None:
        return next((p for p in self._persons.values() if p.ft_id == ft_id), None)

    def person_by_ft_id(self, ft_id: str) -> Person | None:
        """The person with this ft_id."""
        with self._lock:
            return self._by_ft_id(ft_id)

    # -- canaries (``CanaryRecords``) ------------------------------------------------------

    @staticmethod
    def _canary(canary_id: int, c: CanaryIdentity) -> Person:
        return Person(
            id=canary_id,
            ft_id=c.ft_id,
            kind=PersonKind.JOB_SEEKER,
            nir=c.nir,
            last_name=c.last_name,
            first_name=c.first_name,
            birth_date=c.birth_date,
            email=c.email,
            phone=c.phone,
            address=PostalAddress(c.address_line, c.postcode, c.city),
            registration_status=RegistrationStatus.REGISTERED,
            registration_date=c.registration_date,
            deregistration_date=None,
            last_activity_date=c.registration_date,
            is_canary=True,
        )

    def ft_id_taken(self, ft_id: str) -> bool:
        """True when a person already has this ft_id."""
        return self.person_by_ft_id(ft_id) is not None

    def plant_canary(self, identity: CanaryIdentity) -> int:
        """Store one canary."""
        with self._lock:
            canary_id = max(self._persons, default=0) + 1
            self._persons[canary_id] = self._canary(canary_id, identity)
            return canary_id

    def canary_ids(self) -> list[int]:
        """Every canary, by id."""
        with self._lock:
            return sorted(i for i, p in self._persons.items() if p.is_canary)

    def rekey_canary(self, canary_id: int, identity: CanaryIdentity) -> None:
        """A whole new identity for one canary."""
        with self._lock:
            if canary_id in self._persons and self._persons[canary_id].is_canary:
                self._persons[canary_id] = self._canary(canary_id, identity)

    def relations(self, person_id: int, agent: Agent) -> Relations:
        """The enrolments in the agent's organisation and the assignments to the agent."""
        with self._lock:
            return Relations(
                enrolments=tuple(
                    e
                    for e in self._enrolments.values()
                    if e.person_id == person_id and e.org_id == agent.org_id
                ),
                assignments=tuple(
                    a
                    for a in self._assignments.values()
                    if a.person_id == person_id and a.agent_id == agent.id
                ),
            )

    def enrolments_of_person(self, person_id: int, org_id: str) -> list[tuple[Enrolment, Training]]:
        """A person's enrolments in one organisation's trainings."""
        with self._lock:
            return [
                (e, self._trainings[e.training_id])
                for e in self._enrolments.values()
                if e.person_id == person_id and e.org_id == org_id
            ]

    def portfolio(
        self, agent: Agent, today: dt.date, grace_from: dt.date, offset: int, limit: int
    ) -> list[tuple[str, str, str]]:
        """People tied to the agent by a relation the scope policy accepts, by name."""
        ids: set[int] = set()
        with self._lock:
            if agent.has(Role.ADVISOR) and agent.org_kind in FOLLOW_UP_ORG_KINDS:
                ids |= {
                    a.person_id
                    for a in self._assignments.values()
                    if a.agent_id == agent.id
                    and a.org_id == agent.org_id
                    and a.start_date <= today
                    and (a.end_date is None or a.end_date >= today)
                }
            if agent.org_kind is OrgKind.TRAINING_BODY and agent.has(Role.TRAINING_MANAGER):
                ids |= {
                    e.person_id
                    for e in self._enrolments.values()
                    if e.org_id == agent.org_id
                    and e.start_date <= today
                    and e.end_date >= grace_from
                }
            people = [self._persons[i] for i in ids if not self._persons[i].is_canary]
        people.sort(key=lambda p: (p.last_name, p.first_name, p.ft_id))
        return [(p.ft_id, p.last_name, p.first_name) for p in people[offset : offset + limit]]

    # -- Trainings ------------------------------------------------------------------------

    def trainings_of(self, org_id: str) -> list[Training]:
        """The trainings of one training body, newest first."""
        with self._lock:
            found = [t for t in self._trainings.values() if t.org_id == org_id]
        # Newest start first, then by id: two sorts, the second stable on the first.
        found.sort(key=lambda t: t.id)
        found.sort(key=lambda t: t.start_date, reverse=True)
        return found

    def training(self, training_id: int) -> Training | None:
        """One training."""
        with self._lock:
            return self._trainings.get(training_id)

    def sessions_of(self, training_id: int) -> list[TrainingSession]:
        """The sessions of a training, in date order."""
        with self._lock:
            found = [s for s in self._sessions.values() if s.training_id == training_id]
        return sorted(found, key=lambda s: (s.day, s.id))

    def session(self, session_id: int) -> TrainingSession | None:
        """One training session."""
        with self._lock:
            return self._sessions.get(session_id)

    def enrolments_of_training(self, training_id: int) -> list[tuple[Enrolment, Person]]:
        """The enrolled people of a training, by name."""
        with self._lock:
            found = [
                (e, self._persons[e.person_id])
                for e in self._enrolments.values()
                if e.training_id == training_id
            ]
        return sorted(found, key=lambda ep: (ep[1].last_name, ep[1].first_name, ep[1].ft_id))

    def enrol(
        self,
        training: Training,
        person: Person,
        start: dt.date,
        end: dt.date,
        *,
        confirmed: bool = True,
    ) -> Enrolment:
        """Enrol a person in a training (idempotent: an existing enrolment is returned)."""
        with self._lock:
            for e in self._enrolments.values():
                if e.training_id == training.id and e.person_id == person.id:
                    return e
            return self.add_enrolment(
                training.id, person.id, training.org_id, start, end, confirmed
            )

    def confirmation_of(self, enrolment_id: int) -> EnrolmentConfirmation | None:
        """The pending confirmation of an enrolment."""
        with self._lock:
            return self._confirmations.get(enrolment_id)

    def set_confirmation(self, enrolment_id: int, state: EnrolmentConfirmation) -> None:
        """Record a confirmation's new state (the enrolment follows its ``confirmed``)."""
        with self._lock:
            if enrolment_id in self._enrolments:
                self._confirmations[enrolment_id] = state
                self._enrolments[enrolment_id] = replace(
                    self._enrolments[enrolment_id], confirmed=state.confirmed
                )

    # -- AttendanceRegister ---------------------------------------------------------------

    def attendance_of(self, session_id: int) -> dict[int, AttendanceMark]:
        """Marks recorded for a session, by person id."""
        with self._lock:
            return {pid: r.mark for (sid, pid), r in self._attendance.items() if sid == session_id}

    def record_attendance(
        self, session_id: int, marks: dict[int, AttendanceMark], by_login: str, at: dt.datetime
    ) -> None:
        """Replace the marks of these people for this session."""
        with self._lock:
            for pid, mark in marks.items():
                self._attendance[(session_id, pid)] = AttendanceRecord(
                    session_id, pid, mark, by_login, at
                )

    # -- FollowUpNotes --------------------------------------------------------------------

    def notes_of(self, person_id: int, org_id: str) -> list[FollowUpNote]:
        """Follow-up notes written by one organisation about a person, newest first."""
        with self._lock:
            found = [
                n for n in self._notes.values() if n.person_id == person_id and n.org_id == org_id
            ]
        return sorted(found, key=lambda n: (n.written_at, n.id), reverse=True)

    def add_note(
        self, person_id: int, org_id: str, author: str, at: dt.datetime, text: str
    ) -> FollowUpNote:
        """Write a follow-up note."""
        with self._lock:
            note = FollowUpNote(next(self._ids["note"]), person_id, org_id, author, at, text)
            self._notes[note.id] = note
        return note

    # -- AccessStandings and AppSwitches --------------------------------------------------

    def access_standing(self, agent_id: int, org_id: str, app: App) -> AccessStanding:
        """``AccessStandings``: the gate's three facts."""
        with self._lock:
            if agent_id not in self._agents:  # an account removed under a live session
                return AccessStanding(org_suspended=True)
            return AccessStanding(
                org_suspended=org_id in self._suspended,
                enrolment_pending=agent_id in self._enrolment_pending,
                app_enabled=self.app_enabled(app, org_id),
            )

    def app_enabled(self, app: App, org_id: str) -> bool:
        """False when the app is switched off for everyone or for this organisation."""
        with self._lock:
            return all(self._switches.get((str(app), key), True) for key in (ALL_ORGS, org_id))

    def set_app_enabled(self, app: App, org_id: str | None, enabled: bool) -> None:
        """Switch an app on or off, for everyone (``org_id`` None) or one organisation."""
        with self._lock:
            self._switches[(str(app), org_id or ALL_ORGS)] = enabled


@dataclass
class MemoryExposureGuard:
    """Implements kernel's ``ExposureGuard``: records every request it is asked to admit, and
    refuses them all with ``refusal`` when one is set.

    Like the inline guard, a refusal is journaled (``guard:request:denied``) before the error
    is raised, when a journal is given: the data path itself writes nothing on a refusal.
    """

    journal: JournalWriter | None = None
    refusal: Exception | None = None
    requests: list[GuardRequest] = field(default_factory=list)

    def admit(self, ctx: RequestContext, request: GuardRequest) -> None:
        """Record the request; raise ``refusal`` (after journaling it) when one is set."""
        self.requests.append(request)
        if self.refusal is None:
            return
        if self.journal is not None:
            self.journal.append(
                [
                    entry_for(
                        ctx,
                        Tag.GUARD_REQUEST_DENIED,
                        Decision.DENY,
                        persons=request.asked,
                        reason=type(self.refusal).__name__,
                        details={"kind": str(request.kind)},
                    )
                ]
            )
        raise self.refusal


class MemoryFollowUps:
    """The twin of ``SqlFollowUps`` over a ``MemoryPeople``'s assignments."""

    def __init__(self, people: MemoryPeople) -> None:
        self.people = people

    def running_assignments(self, agent_id: int, today: dt.date) -> list[tuple[Assignment, str]]:
        """The agent's assignments running today, with each person's ft_id."""
        p = self.people
        with p._lock:
            return [
                (a, p._persons[a.person_id].ft_id)
                for a in sorted(p._assignments.values(), key=lambda a: a.id)
                if a.agent_id == agent_id
                and a.start_date <= today
                and (a.end_date is None or a.end_date >= today)
                and a.person_id in p._persons
            ]

    def start_assignment(self, agent_id: int, person_id: int, org_id: str, start: dt.date) -> int:
        """A new open assignment."""
        p = self.people
        with p._lock:
            assignment_id = next(p._ids["assignment"])
            p._assignments[assignment_id] = Assignment(
                assignment_id, agent_id, person_id, org_id, start, None
            )
            return assignment_id

    def end_assignment(self, assignment_id: int, last_day: dt.date) -> None:
        """Set the assignment's last day."""
        p = self.people
        with p._lock:
            found = p._assignments[assignment_id]
            p._assignments[assignment_id] = Assignment(
                found.id, found.agent_id, found.person_id, found.org_id, found.start_date, last_day
            )


class MemoryPersonConfirmations:
    """The twin of ``SqlPersonConfirmationStore``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, PersonConfirmation] = {}

    def add_confirmation(self, confirmation: PersonConfirmation) -> None:
        """Store a new code's digest."""
        with self._lock:
            self._rows[confirmation.id] = confirmation

    def confirmation(self, confirmation_id: str) -> PersonConfirmation | None:
        """One confirmation by id."""
        with self._lock:
            return self._rows.get(confirmation_id)

    def count_confirmation_failure(self, confirmation_id: str) -> int:
        """One more wrong code."""
        with self._lock:
            found = self._rows[confirmation_id]
            self._rows[confirmation_id] = replace(found, attempts=found.attempts + 1)
            return found.attempts + 1

    def consume_confirmation(self, confirmation_id: str, at: dt.datetime) -> bool:
        """Use the code once."""
        with self._lock:
            found = self._rows.get(confirmation_id)
            if found is None or found.consumed_at is not None:
                return False
            self._rows[confirmation_id] = replace(found, consumed_at=at)
            return True

    def confirmations_since(self, agent_id: int, since: dt.datetime) -> int:
        """Codes the agent had sent since ``since``."""
        with self._lock:
            return sum(
                c.agent_id == agent_id and c.created_at >= since for c in self._rows.values()
            )
