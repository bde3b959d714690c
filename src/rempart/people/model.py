"""The entities of the partner portal: people, organisations, agents and their relations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class PersonKind(StrEnum):
    JOB_SEEKER = "job_seeker"
    YOUTH = "youth"


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    IN_TRAINING = "in_training"
    DEREGISTERED = "deregistered"
    SUSPENDED = "suspended"


class AttendanceMark(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    EXCUSED = "excused"


@dataclass(frozen=True, slots=True)
class PostalAddress:
    line: str
    postcode: str
    city: str

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"line": self.line, "postcode": self.postcode, "city": self.city}


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    ft_id: str
    kind: PersonKind
    nir: str
    last_name: str
    first_name: str
    birth_date: dt.date
    email: str
    phone: str
    address: PostalAddress
    registration_status: RegistrationStatus
    registration_date: dt.date
    deregistration_date: dt.date | None
    last_activity_date: dt.date
    rqth_since: dt.date | None = None  # disability recognition: a sensitive category (GDPR art. 9)
    is_canary: bool = False


@dataclass(frozen=True, slots=True)
class Training:
    id: int
    org_id: str
    title: str
    start_date: dt.date
    end_date: dt.date


@dataclass(frozen=True, slots=True)
class TrainingSession:
    id: int
    training_id: int
    day: dt.date
    label: str


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A person enrolled in a training: the training body's relation to that person."""

    id: int
    training_id: int
    person_id: int
    org_id: str
    start_date: dt.date
    end_date: dt.date
    # The relation is confirmed: by the agency (its prescription, delivered by the import) or
    # by the person (a one-time code sent to the address on file, given back). An enrolment
    # made from an exact lookup (ft_id and birth date, a pair the 2024 leak put in circulation)
    # is not, and opens no contact data until it is.
    confirmed: bool = True


@dataclass(frozen=True, slots=True)
class EnrolmentConfirmation:
    """Where an enrolment's confirmation by the person stands."""

    confirmed: bool
    code_hash: str = ""  # keyed digest of the one-time code sent to the address on file
    expires_at: dt.datetime | None = None
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class Assignment:
    """A follow-up assignment of a person to one advisor: the advisor's relation to that person."""

    id: int
    agent_id: int
    person_id: int
    org_id: str
    start_date: dt.date
    end_date: dt.date | None


@dataclass(frozen=True, slots=True)
class Relations:
    """Everything that ties one person to one agent's organisation, loaded for a scope decision."""

    enrolments: tuple[Enrolment, ...] = ()
    assignments: tuple[Assignment, ...] = ()


@dataclass(frozen=True, slots=True)
class FollowUpNote:
    id: int
    person_id: int
    org_id: str
    author_login: str
    written_at: dt.datetime
    text: str


@dataclass(slots=True)
class AttendanceRecord:
    session_id: int
    person_id: int
    mark: AttendanceMark
    recorded_by: str
    recorded_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass(frozen=True, slots=True)
class AccessStanding:
    """What decides, on every request, whether an account may reach people's data at all
    besides its own record (active, end date, training attestation): facts kept by governance
    (a suspended organisation, a factor still to enrol) and the partner apps' kill switches."""

    org_suspended: bool = False
    enrolment_pending: bool = False
    app_enabled: bool = True


class ConfirmationPurpose(StrEnum):
    """What a person confirms by giving back a one-time code."""

    TAKE_ON = "take_on"  # an adviser starts following them


@dataclass(frozen=True, slots=True)
class PersonConfirmation:
    """A one-time code sent to a person (by the official messages, to the address on file),
    which they give back to the agent asking, to confirm an action about them. Generic: the
    purpose names the action; only a keyed digest of the code is kept."""

    id: str
    purpose: ConfirmationPurpose
    person_id: int
    agent_id: int
    org_id: str
    code_hash: str
    created_at: dt.datetime
    expires_at: dt.datetime
    attempts: int = 0
    consumed_at: dt.datetime | None = None

    def usable(self, now: dt.datetime, max_attempts: int) -> bool:
        """True while unused, unexpired and not guessed at too often."""
        return self.consumed_at is None and now < self.expires_at and self.attempts < max_attempts
