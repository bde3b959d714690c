"""The agency's files, row by row: what each column must hold, and why a row is refused. Pure.

``rempart import`` reads the CSV files of ``FILES`` (any subset, UTF-8, a header row) and
upserts each valid row by its natural key. A row is checked here on its own (formats, the
NIR's control key, the SIRET's Luhn digit, real calendar dates, known roles); the references it
makes to other rows (an organisation, a training, a person, an adviser) are checked by the
service against the database, where earlier files of the same import already are.

A refusal names the column and the rule, never the value: the report of an import travels
between teams, and a NIR or a birth date has no business in it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from rempart.kernel.actors import OrgKind, Role
from rempart.kernel.identifiers import NIR_RE, is_ft_id, is_valid_siret, nir_key

# Roles the import never grants by itself: they form one four-eyes request per import.
PRIVILEGED_IMPORT_ROLES = frozenset(
    {Role.ACCOUNT_MANAGER, Role.SECURITY_OFFICER, Role.DPO, Role.ADMIN}
)
NATIONAL_ROLES = frozenset({Role.ADMIN, Role.SECURITY_OFFICER, Role.DPO})

# Roles an account of each kind of organisation may hold (national roles: the agency only).
ROLES_BY_KIND: dict[OrgKind, frozenset[Role]] = {
    OrgKind.TRAINING_BODY: frozenset({Role.TRAINING_MANAGER, Role.ACCOUNT_MANAGER}),
    OrgKind.MISSION_LOCALE: frozenset({Role.ADVISOR, Role.ACCOUNT_MANAGER}),
    OrgKind.CAP_EMPLOI: frozenset({Role.ADVISOR, Role.ACCOUNT_MANAGER}),
    OrgKind.AGENCY: frozenset({Role.ADVISOR, Role.ACCOUNT_MANAGER}) | NATIONAL_ROLES,
}
FOLLOW_UP_KINDS = frozenset({OrgKind.MISSION_LOCALE, OrgKind.CAP_EMPLOI, OrgKind.AGENCY})

ORG_ID_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,31}\Z")
LOGIN_RE = re.compile(r"\A[a-z0-9][a-z0-9._-]{2,63}\Z")
EMAIL_RE = re.compile(r"\A[^@\s,;]{1,64}@[^@\s,;]+\.[^@\s,;]+\Z")
PHONE_RE = re.compile(r"\A\+?[0-9 .]{6,20}\Z")
POSTCODE_RE = re.compile(r"\A[0-9][0-9AB][0-9]{3}\Z")  # 2A/2B: Corsica
TRAINING_ID_RE = re.compile(r"\A[1-9][0-9]{0,17}\Z")
EARLIEST = dt.date(1900, 1, 1)
_BAD_CHARS = frozenset({"\x7f", "\ufffd"})  # DEL, and what undecodable bytes became


class ImportFile(StrEnum):
    """The files an import reads, in the order it reads them (references point backwards)."""

    ORGANISATIONS = "organisations.csv"
    AGENTS = "agents.csv"
    PERSONS = "persons.csv"
    TRAININGS = "trainings.csv"
    ENROLMENTS = "enrolments.csv"
    ASSIGNMENTS = "assignments.csv"


COLUMNS: dict[ImportFile, tuple[str, ...]] = {
    ImportFile.ORGANISATIONS: ("id", "kind", "name", "siret", "region"),
    ImportFile.AGENTS: ("login", "email", "org_id", "roles", "end_date", "training_valid_until"),
    ImportFile.PERSONS: (
        "ft_id",
        "kind",
        "nir",
        "last_name",
        "first_name",
        "birth_date",
        "email",
        "phone",
        "address_line",
        "postcode",
        "city",
        "registration_status",
        "registration_date",
        "deregistration_date",
        "rqth_since",
    ),
    ImportFile.TRAININGS: ("id", "org_id", "title", "start_date", "end_date"),
    ImportFile.ENROLMENTS: ("training_id", "ft_id", "start_date", "end_date"),
    ImportFile.ASSIGNMENTS: ("advisor_login", "ft_id", "start_date", "end_date"),
}

PERSON_KINDS = frozenset({"job_seeker", "youth"})
REGISTRATION_STATUSES = frozenset({"registered", "in_training", "deregistered", "suspended"})


class Invalid(Exception):
    """A row that cannot be loaded: which column, and which rule it breaks."""

    def __init__(self, column: str, rule: str) -> None:
        super().__init__(f"{column}: {rule}")
        self.column = column
        self.rule = rule

    @property
    def reason(self) -> str:
        """The sentence the report prints."""
        return f"{self.column}: {self.rule}"


@dataclass(frozen=True, slots=True)
class Rejection:
    """One refused row, as the report names it."""

    file: str
    line: int
    reason: str


@dataclass(slots=True)
class FileCounts:
    """What one file did to the database."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    ended: int = 0  # relations the file no longer lists, ended (never deleted)
    ending_skipped: bool = False  # some rejected rows had no readable key: nothing was ended

    def as_dict(self) -> dict[str, int | bool]:
        """JSON-ready form."""
        return {
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "ended": self.ended,
            "ending_skipped": self.ending_skipped,
        }


@dataclass(slots=True)
class ImportSummary:
    """The whole import: counts per file, the privileged rows held for four eyes."""

    batch_id: int
    dry_run: bool
    files: dict[str, FileCounts] = field(default_factory=dict)
    privileged: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    privilege_request: str | None = None
    enrolment_links: int = 0
    unreadable: list[str] = field(default_factory=list)  # files that could not be read at all

    @property
    def rejected(self) -> int:
        """Rows refused across every file (an unreadable file counts as one)."""
        return sum(c.rejected for c in self.files.values())

    @property
    def loaded(self) -> int:
        """Rows accepted across every file."""
        return sum(c.read - c.rejected for c in self.files.values())

    def exit_code(self) -> int:
        """0: every row loaded; 1: some rejected; 2: nothing could be read."""
        if not self.files or all(f in self.unreadable for f in self.files):
            return 2
        return 1 if self.rejected else 0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (the journal's details and the report's summary)."""
        return {
            "batch_id": self.batch_id,
            "dry_run": self.dry_run,
            "files": {name: c.as_dict() for name, c in self.files.items()},
            "rejected": self.rejected,
            "unreadable": list(self.unreadable),
            "privileged_rows": len(self.privileged),
            "privilege_request": self.privilege_request,
            "enrolment_links": self.enrolment_links,
        }


def header_problem(file: ImportFile, header: list[str]) -> str | None:
    """Why a file's header row is not the contract's, or None."""
    expected = COLUMNS[file]
    got = [h.strip().lstrip("\ufeff") for h in header]
    if sorted(got) != sorted(expected) or len(set(got)) != len(got):
        return f"the header must name the columns {','.join(expected)}"
    return None


# --- Field rules ---------------------------------------------------------------------------


def text(row: Mapping[str, str], column: str, *, max_len: int, required: bool = True) -> str:
    """A trimmed text field without control characters."""
    value = row[column].strip()
    if required and not value:
        raise Invalid(column, "required")
    if len(value) > max_len:
        raise Invalid(column, f"at most {max_len} characters")
    if any(ord(ch) < 32 or ch in _BAD_CHARS for ch in value):
        raise Invalid(column, "control characters or bytes that are not UTF-8")
    return value


def date(row: Mapping[str, str], column: str, *, today: dt.date) -> dt.date:
    """A real calendar date ``YYYY-MM-DD`` between 1900 and a year from today."""
    value = row[column].strip()
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise Invalid(column, "a date is YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise Invalid(column, "impossible date") from None
    if day < EARLIEST or day > _a_year_after(today) - dt.timedelta(days=1):
        raise Invalid(column, "impossible date")
    return day


def _a_year_after(day: dt.date) -> dt.date:
    """The same day a year later; from February 29th, March 1st (an import run on a leap day
    crashed on every dated row before this; found by the property tests)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return dt.date(day.year + 1, 3, 1)


def optional_date(row: Mapping[str, str], column: str, *, today: dt.date) -> dt.date | None:
    """An empty field, or a date."""
    return date(row, column, today=today) if row[column].strip() else None


def past_date(row: Mapping[str, str], column: str, *, today: dt.date) -> dt.date:
    """A date that has already happened (a birth, a registration)."""
    day = date(row, column, today=today)
    if day > today:
        raise Invalid(column, "impossible date: in the future")
    return day


def nir_problem(nir: str) -> str | None:
    """Why ``nir`` is not a valid NIR, or None (15 digits, key = 97 - number mod 97)."""
    if not NIR_RE.match(nir):
        return "a NIR is 15 digits, the first 1 or 2"
    if nir_key(nir[:13]) != int(nir[13:]):
        return "the control key does not match"
    return None


def ft_id(row: Mapping[str, str], column: str = "ft_id") -> str:
    """An agency identifier: 7 digits then one upper-case letter."""
    value = row[column].strip()
    if not is_ft_id(value):
        raise Invalid(column, "an ft_id is 7 digits then one upper-case letter")
    return value


def roles(value: str) -> frozenset[Role]:
    """Space-separated role names, at least one, each known."""
    names = value.split()
    if not names:
        raise Invalid("roles", "at least one role")
    try:
        return frozenset(Role(n) for n in names)
    except ValueError:
        raise Invalid("roles", f"roles are among {' '.join(r.value for r in Role)}") from None


# --- Rows ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgRow:
    id: str
    kind: OrgKind
    name: str
    siret: str
    region: str


@dataclass(frozen=True, slots=True)
class AgentRowIn:
    login: str
    email: str
    org_id: str
    roles: frozenset[Role]
    end_date: dt.date | None
    training_valid_until: dt.date | None

    @property
    def privileged(self) -> frozenset[Role]:
        """The roles of this row that wait for a second national administrator."""
        return self.roles & PRIVILEGED_IMPORT_ROLES

    @property
    def plain(self) -> frozenset[Role]:
        """The roles the import grants at once."""
        return self.roles - PRIVILEGED_IMPORT_ROLES


@dataclass(frozen=True, slots=True)
class PersonRowIn:
    ft_id: str
    kind: str
    nir: str
    last_name: str
    first_name: str
    birth_date: dt.date
    email: str
    phone: str
    address_line: str
    postcode: str
    city: str
    registration_status: str
    registration_date: dt.date
    deregistration_date: dt.date | None
    rqth_since: dt.date | None


@dataclass(frozen=True, slots=True)
class TrainingRowIn:
    id: int
    org_id: str
    title: str
    start_date: dt.date
    end_date: dt.date


@dataclass(frozen=True, slots=True)
class RelationRowIn:
    """An enrolment (``key`` = training id) or an assignment (``key`` = adviser's login)."""

    key: str
    ft_id: str
    start_date: dt.date
    end_date: dt.date | None


def parse_org(row: Mapping[str, str], today: dt.date) -> OrgRow:
    """An organisations.csv row."""
    org_id = row["id"].strip()
    if not ORG_ID_RE.match(org_id):
        raise Invalid("id", "1 to 32 letters, digits, dots, dashes or underscores")
    try:
        kind = OrgKind(row["kind"].strip())
    except ValueError:
        raise Invalid("kind", f"one of {' '.join(k.value for k in OrgKind)}") from None
    siret = row["siret"].strip()
    if not is_valid_siret(siret):
        raise Invalid("siret", "a SIRET is 14 digits passing the Luhn check")
    return OrgRow(
        org_id,
        kind,
        text(row, "name", max_len=200),
        siret,
        text(row, "region", max_len=64, required=False),
    )


def parse_agent(row: Mapping[str, str], today: dt.date) -> AgentRowIn:
    """An agents.csv row (its organisation is checked by the service)."""
    login = row["login"].strip()
    if not LOGIN_RE.match(login):
        raise Invalid("login", "3 to 64 lower-case letters, digits, dots, dashes or underscores")
    email = row["email"].strip()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise Invalid("email", "an e-mail address receives the enrolment link")
    org_id = row["org_id"].strip()
    if not ORG_ID_RE.match(org_id):
        raise Invalid("org_id", "not an organisation id")
    return AgentRowIn(
        login,
        email,
        org_id,
        roles(row["roles"]),
        optional_date(row, "end_date", today=today),
        optional_date(row, "training_valid_until", today=today),
    )


def agent_role_problem(agent: AgentRowIn, org_kind: OrgKind) -> str | None:
    """Why these roles cannot be held in an organisation of this kind, or None."""
    extra = agent.roles - ROLES_BY_KIND[org_kind]
    if extra:
        return f"{' '.join(sorted(extra))} not used in an organisation of kind {org_kind}"
    return None


def parse_person(row: Mapping[str, str], today: dt.date) -> PersonRowIn:
    """A persons.csv row."""
    ident = ft_id(row)
    kind = row["kind"].strip()
    if kind not in PERSON_KINDS:
        raise Invalid("kind", "job_seeker or youth")
    nir = row["nir"].strip()
    if (problem := nir_problem(nir)) is not None:
        raise Invalid("nir", problem)
    birth = past_date(row, "birth_date", today=today)
    email = row["email"].strip()
    if email and (len(email) > 254 or not EMAIL_RE.match(email)):
        raise Invalid("email", "not an e-mail address")
    phone = row["phone"].strip()
    if phone and not PHONE_RE.match(phone):
        raise Invalid("phone", "digits, spaces or dots, optionally after +")
    postcode = row["postcode"].strip()
    if postcode and not POSTCODE_RE.match(postcode):
        raise Invalid("postcode", "a French postcode is 5 characters")
    status = row["registration_status"].strip()
    if status not in REGISTRATION_STATUSES:
        raise Invalid("registration_status", " ".join(sorted(REGISTRATION_STATUSES)))
    registered = past_date(row, "registration_date", today=today)
    if registered < birth:
        raise Invalid("registration_date", "impossible date: before the birth date")
    deregistered = optional_date(row, "deregistration_date", today=today)
    if deregistered is not None and (deregistered < registered or deregistered > today):
        raise Invalid("deregistration_date", "impossible date: before registration or future")
    if status == "deregistered" and deregistered is None:
        raise Invalid("deregistration_date", "required when the status is deregistered")
    rqth = optional_date(row, "rqth_since", today=today)
    if rqth is not None and (rqth < birth or rqth > today):
        raise Invalid("rqth_since", "impossible date: before birth or in the future")
    return PersonRowIn(
        ident,
        kind,
        nir,
        text(row, "last_name", max_len=100),
        text(row, "first_name", max_len=100),
        birth,
        email,
        phone,
        text(row, "address_line", max_len=200, required=False),
        postcode,
        text(row, "city", max_len=100, required=False),
        status,
        registered,
        deregistered,
        rqth,
    )


def parse_training(row: Mapping[str, str], today: dt.date) -> TrainingRowIn:
    """A trainings.csv row (its training body is checked by the service)."""
    ident = row["id"].strip()
    if not TRAINING_ID_RE.match(ident):
        raise Invalid("id", "a training id is a positive whole number")
    org_id = row["org_id"].strip()
    if not ORG_ID_RE.match(org_id):
        raise Invalid("org_id", "not an organisation id")
    start = date(row, "start_date", today=today)
    end = date(row, "end_date", today=today)
    if end < start:
        raise Invalid("end_date", "impossible date: before the start date")
    return TrainingRowIn(int(ident), org_id, text(row, "title", max_len=200), start, end)


def _relation(
    row: Mapping[str, str], key: str, today: dt.date, *, end_required: bool
) -> RelationRowIn:
    person = ft_id(row)
    start = date(row, "start_date", today=today)
    end = (
        date(row, "end_date", today=today)
        if end_required
        else optional_date(row, "end_date", today=today)
    )
    if end is not None and end < start:
        raise Invalid("end_date", "impossible date: before the start date")
    return RelationRowIn(key, person, start, end)


def parse_enrolment(row: Mapping[str, str], today: dt.date) -> RelationRowIn:
    """An enrolments.csv row (the training and the person are checked by the service)."""
    training = row["training_id"].strip()
    if not TRAINING_ID_RE.match(training):
        raise Invalid("training_id", "a training id is a positive whole number")
    return _relation(row, training, today, end_required=True)


def parse_assignment(row: Mapping[str, str], today: dt.date) -> RelationRowIn:
    """An assignments.csv row (the adviser and the person are checked by the service)."""
    login = row["advisor_login"].strip()
    if not LOGIN_RE.match(login):
        raise Invalid("advisor_login", "not a login")
    return _relation(row, login, today, end_required=False)


def relation_key(file: ImportFile, row: Mapping[str, str]) -> tuple[str, str] | None:
    """The natural key of an enrolment or assignment row when it is readable, else None:
    a relation whose row was refused is still *listed*, and is not ended for lack of it."""
    first = "training_id" if file is ImportFile.ENROLMENTS else "advisor_login"
    key, person = row.get(first, "").strip(), row.get("ft_id", "").strip()
    if not person or not is_ft_id(person) or not key:
        return None
    return key, person
