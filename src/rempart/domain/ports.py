"""Ports: what the use cases need from the outside world, named for their role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from rempart.domain.alerts import Alert
from rempart.domain.journal import JournalEntry
from rempart.domain.model import (
    Agent,
    App,
    AttendanceMark,
    Enrolment,
    FollowUpNote,
    Organisation,
    Person,
    Relations,
    Training,
    TrainingSession,
)


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """Current time, timezone-aware UTC."""
        ...


class JournalWriter(Protocol):
    def append(self, entries: Sequence[JournalEntry]) -> int:
        """Durably record the entries; return the last sequence number. Blocks until committed."""
        ...


class AlertSink(Protocol):
    """Where alerts go: stored for the console and the API, and fanned out (webhook, syslog)."""

    def raise_alert(self, alert: Alert) -> int:
        """Record an alert; return its id."""
        ...

    def alerts_since(self, since: dt.datetime | None, limit: int) -> list[Alert]:
        """Alerts newest first, optionally only those at or after ``since``."""
        ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None:
        """Send one plain-text e-mail (raises on failure; callers decide whether to retry)."""
        ...


class PortalStore(Protocol):
    """The portal's own data: people, organisations, agents, relations, trainings."""

    def agent_by_id(self, agent_id: int) -> Agent | None: ...
    def agent_by_login(self, login: str) -> Agent | None: ...
    def organisation(self, org_id: str) -> Organisation | None: ...
    def person_by_ft_id(self, ft_id: str) -> Person | None: ...
    def relations(self, person_id: int, agent: Agent) -> Relations: ...
    def portfolio(
        self, agent: Agent, today: dt.date, grace_from: dt.date, offset: int, limit: int
    ) -> list[tuple[str, str, str]]: ...
    def trainings_of(self, org_id: str) -> list[Training]: ...
    def training(self, training_id: int) -> Training | None: ...
    def sessions_of(self, training_id: int) -> list[TrainingSession]: ...
    def session(self, session_id: int) -> TrainingSession | None: ...
    def enrolments_of_training(self, training_id: int) -> list[tuple[Enrolment, Person]]: ...
    def enrolments_of_person(
        self, person_id: int, org_id: str
    ) -> list[tuple[Enrolment, Training]]: ...
    def enrol(
        self, training: Training, person: Person, start: dt.date, end: dt.date
    ) -> Enrolment: ...
    def attendance_of(self, session_id: int) -> dict[int, AttendanceMark]: ...
    def record_attendance(
        self, session_id: int, marks: dict[int, AttendanceMark], by_login: str, at: dt.datetime
    ) -> None: ...
    def notes_of(self, person_id: int, org_id: str) -> list[FollowUpNote]: ...
    def add_note(
        self, person_id: int, org_id: str, author: str, at: dt.datetime, text: str
    ) -> FollowUpNote: ...
    def app_enabled(self, app: App, org_id: str) -> bool: ...
    def set_app_enabled(self, app: App, org_id: str | None, enabled: bool) -> None: ...
