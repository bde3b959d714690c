"""Ports: what the use cases need from the outside world, named for their role.

Each narrow port serves one seam of the use cases; ``PortalStore`` combines them (with kernel's
``Directory`` and ``AppSwitches``) for the capabilities that still take the portal's data whole.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from rempart.kernel.actors import Agent, App
from rempart.kernel.ports import AppSwitches, Directory
from rempart.people.canaries import CanaryIdentity
from rempart.people.model import (
    AccessStanding,
    Assignment,
    AttendanceMark,
    Enrolment,
    EnrolmentConfirmation,
    FollowUpNote,
    Person,
    PersonConfirmation,
    Relations,
    Training,
    TrainingSession,
)


class PersonRecords(Protocol):
    """A person's record and what ties them to an agent: the read path of a consultation."""

    def person_by_ft_id(self, ft_id: str) -> Person | None:
        """The person with this ft_id (canaries included: the caller decides)."""
        ...

    def relations(self, person_id: int, agent: Agent) -> Relations:
        """The person's enrolments in the agent's organisation and assignments to the agent."""
        ...

    def enrolments_of_person(self, person_id: int, org_id: str) -> list[tuple[Enrolment, Training]]:
        """A person's enrolments in one organisation's trainings."""
        ...

    def portfolio(
        self, agent: Agent, today: dt.date, grace_from: dt.date, offset: int, limit: int
    ) -> list[tuple[str, str, str]]:
        """``(ft_id, last name, first name)`` of the people the agent follows, by name."""
        ...


class Trainings(Protocol):
    """A training body's trainings, their sessions and their enrolments."""

    def trainings_of(self, org_id: str) -> list[Training]:
        """The trainings of one training body, newest first."""
        ...

    def training(self, training_id: int) -> Training | None:
        """One training."""
        ...

    def sessions_of(self, training_id: int) -> list[TrainingSession]:
        """The sessions of a training, in date order."""
        ...

    def session(self, session_id: int) -> TrainingSession | None:
        """One training session."""
        ...

    def enrolments_of_training(self, training_id: int) -> list[tuple[Enrolment, Person]]:
        """The enrolled people of a training, by name."""
        ...

    def enrol(
        self,
        training: Training,
        person: Person,
        start: dt.date,
        end: dt.date,
        *,
        confirmed: bool = True,
    ) -> Enrolment:
        """Enrol a person in a training (idempotent: an existing enrolment is returned);
        ``confirmed`` False for one made from an exact lookup."""
        ...

    def confirmation_of(self, enrolment_id: int) -> EnrolmentConfirmation | None:
        """The pending confirmation of an enrolment (its code's digest, end, attempts)."""
        ...

    def set_confirmation(self, enrolment_id: int, state: EnrolmentConfirmation) -> None:
        """Record a confirmation's new state (a code sent, an attempt, the relation confirmed)."""
        ...


class AttendanceRegister(Protocol):
    """The attendance marks of training sessions."""

    def attendance_of(self, session_id: int) -> dict[int, AttendanceMark]:
        """Marks recorded for a session, by person id."""
        ...

    def record_attendance(
        self, session_id: int, marks: dict[int, AttendanceMark], by_login: str, at: dt.datetime
    ) -> None:
        """Replace the marks of these people for this session."""
        ...


class FollowUpNotes(Protocol):
    """The follow-up notes an organisation writes about the people it follows."""

    def notes_of(self, person_id: int, org_id: str) -> list[FollowUpNote]:
        """Notes written by one organisation about a person, newest first."""
        ...

    def add_note(
        self, person_id: int, org_id: str, author: str, at: dt.datetime, text: str
    ) -> FollowUpNote:
        """Write a follow-up note."""
        ...


class CanaryRecords(Protocol):
    """The canary records: planted, counted, given a fresh identity."""

    def ft_id_taken(self, ft_id: str) -> bool:
        """True when a person (real or canary) already has this ft_id."""
        ...

    def plant_canary(self, identity: CanaryIdentity) -> int:
        """Store one canary; return its id."""
        ...

    def canary_ids(self) -> list[int]:
        """Every canary, by id."""
        ...

    def rekey_canary(self, canary_id: int, identity: CanaryIdentity) -> None:
        """Give a canary a whole new identity (rotation)."""
        ...


class FollowUps(Protocol):
    """Advisers' follow-ups (assignments): who follows whom, from when, until when."""

    def running_assignments(self, agent_id: int, today: dt.date) -> list[tuple[Assignment, str]]:
        """The agent's assignments running today, with each person's ft_id."""
        ...

    def start_assignment(self, agent_id: int, person_id: int, org_id: str, start: dt.date) -> int:
        """A new assignment from ``start`` on, with no end; return its id."""
        ...

    def end_assignment(self, assignment_id: int, last_day: dt.date) -> None:
        """The assignment's last day (scope follows: yesterday ends it today)."""
        ...


class PersonConfirmations(Protocol):
    """One-time codes a person gives back to confirm an action about them."""

    def add_confirmation(self, confirmation: PersonConfirmation) -> None:
        """Store a new code (its digest)."""
        ...

    def confirmation(self, confirmation_id: str) -> PersonConfirmation | None:
        """One confirmation by id."""
        ...

    def count_confirmation_failure(self, confirmation_id: str) -> int:
        """One more wrong code; return the new count."""
        ...

    def consume_confirmation(self, confirmation_id: str, at: dt.datetime) -> bool:
        """Use the code once; False when it was already used."""
        ...

    def confirmations_since(self, agent_id: int, since: dt.datetime) -> int:
        """How many codes the agent had sent since ``since`` (a throttle)."""
        ...


class PersonNotifier(Protocol):
    """Writes to a person at the address on file (the official messages, with a reference)."""

    def send_code(self, ft_id: str, subject: str, body: str, code: str) -> None:
        """Queue one message carrying a one-time code (masked in the register)."""
        ...


class PortalStore(
    Directory,
    AppSwitches,
    PersonRecords,
    Trainings,
    AttendanceRegister,
    FollowUpNotes,
    Protocol,
):
    """The portal's own data whole: accounts, organisations, people, trainings, notes, switches.

    For the capabilities that take it in one piece (governance, citizen, console, the bench);
    people's use cases name only the narrow ports above.
    """


class AccessStandings(Protocol):
    """The data gate's facts about one account, read fresh on every data request."""

    def access_standing(self, agent_id: int, org_id: str, app: App) -> AccessStanding:
        """One read: organisation suspended? second factor still to enrol? app switched off?"""
        ...
