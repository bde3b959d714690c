"""The entities of the partner portal: people, organisations, agents and their relations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class OrgKind(StrEnum):
    AGENCY = "agency"
    TRAINING_BODY = "training_body"
    MISSION_LOCALE = "mission_locale"
    CAP_EMPLOI = "cap_emploi"


class Role(StrEnum):
    ADVISOR = "advisor"
    TRAINING_MANAGER = "training_manager"
    ACCOUNT_MANAGER = "account_manager"
    SECURITY_OFFICER = "security_officer"
    DPO = "dpo"
    ADMIN = "admin"


PRIVILEGED_ROLES = frozenset({Role.ACCOUNT_MANAGER, Role.ADMIN, Role.SECURITY_OFFICER})


class App(StrEnum):
    """The partner applications served by the one portal; each can be switched off alone."""

    TRAINING_FOLLOW_UP = "training_follow_up"
    YOUTH_FOLLOW_UP = "youth_follow_up"
    CAP_EMPLOI = "cap_emploi"
    AGENCY = "agency"


APP_OF_ORG_KIND: dict[OrgKind, App] = {
    OrgKind.TRAINING_BODY: App.TRAINING_FOLLOW_UP,
    OrgKind.MISSION_LOCALE: App.YOUTH_FOLLOW_UP,
    OrgKind.CAP_EMPLOI: App.CAP_EMPLOI,
    OrgKind.AGENCY: App.AGENCY,
}


class DataCategory(StrEnum):
    IDENTITY = "identity"
    CONTACT = "contact"
    NIR = "nir"
    STATUS = "status"
    TRAINING = "training"
    FOLLOW_UP_NOTES = "follow_up_notes"
    DISABILITY = "disability"


class Purpose(StrEnum):
    TRAINING_FOLLOW_UP = "training_follow_up"
    YOUTH_FOLLOW_UP = "youth_follow_up"
    EMPLOYMENT_SUPPORT = "employment_support"
    ENROLMENT = "enrolment"
    SECURITY_INVESTIGATION = "security_investigation"


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
class Organisation:
    id: str
    kind: OrgKind
    name: str
    siret: str
    region: str = ""

    @property
    def app(self) -> App:
        """The partner app this organisation's agents use."""
        return APP_OF_ORG_KIND[self.kind]


@dataclass(frozen=True, slots=True)
class Agent:
    id: int
    login: str
    email: str
    org_id: str
    org_kind: OrgKind
    roles: frozenset[Role]
    active: bool = True
    created_at: dt.datetime | None = None
    end_date: dt.date | None = None
    training_valid_until: dt.date | None = None
    probation_until: dt.datetime | None = None  # a new account's first weeks: small budgets

    def has(self, role: Role) -> bool:
        """True when the agent holds ``role``."""
        return role in self.roles

    @property
    def privileged(self) -> bool:
        """Privileged roles must use the phishing-resistant factor."""
        return bool(self.roles & PRIVILEGED_ROLES)


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
