"""``SqlPortalStore``: the portal's people, organisations, agents and relations in SQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, delete, func, insert, or_, select, update

from rempart.db.raw import RawSql, day, day_or_none, instant
from rempart.db.rows import agent_from_row, utc
from rempart.db.schema.core import (
    AgentRow,
    AppSwitchRow,
    AssignmentRow,
    AttendanceRow,
    EnrolmentRow,
    FollowUpNoteRow,
    OrganisationRow,
    PersonRow,
    TrainingRow,
    TrainingSessionRow,
)
from rempart.db.schema.intake import PersonConfirmationRow
from rempart.db.uow import Database, as_database
from rempart.kernel.actors import Agent, App, Organisation, OrgKind, Role
from rempart.people.canaries import CanaryIdentity
from rempart.people.model import (
    AccessStanding,
    Assignment,
    AttendanceMark,
    ConfirmationPurpose,
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


def person_from_row(row: PersonRow) -> Person:
    """Domain person from its row."""
    return Person(
        id=row.id,
        ft_id=row.ft_id,
        kind=PersonKind(row.kind),
        nir=row.nir,
        last_name=row.last_name,
        first_name=row.first_name,
        birth_date=row.birth_date,
        email=row.email,
        phone=row.phone,
        address=PostalAddress(row.address_line, row.postcode, row.city),
        registration_status=RegistrationStatus(row.registration_status),
        registration_date=row.registration_date,
        deregistration_date=row.deregistration_date,
        last_activity_date=row.last_activity_date,
        rqth_since=row.rqth_since,
        is_canary=row.is_canary,
    )


def _training(row: TrainingRow) -> Training:
    return Training(row.id, row.org_id, row.title, row.start_date, row.end_date)


def _enrolment(row: EnrolmentRow) -> Enrolment:
    return Enrolment(
        row.id,
        row.training_id,
        row.person_id,
        row.org_id,
        row.start_date,
        row.end_date,
        bool(row.confirmed or row.imported),
    )


# The statements every record read runs, written by hand (see ``rempart.db.raw``).
_PERSON_BY_FT_ID = (
    "SELECT id, ft_id, kind, nir, last_name, first_name, birth_date, email, phone, address_line,"
    " postcode, city, registration_status, registration_date, deregistration_date,"
    " last_activity_date, rqth_since, is_canary FROM persons WHERE ft_id = ?"
)
_RELATIONS = (
    "SELECT 'e', id, training_id, person_id, org_id, start_date, end_date,"
    " CASE WHEN confirmed OR imported THEN 1 ELSE 0 END FROM enrolments"
    " WHERE person_id = ? AND org_id = ?"
    " UNION ALL "
    "SELECT 'a', id, agent_id, person_id, org_id, start_date, end_date, 1 FROM assignments"
    " WHERE person_id = ? AND agent_id = ?"
)
_ENROLMENTS_OF_PERSON = (
    "SELECT e.id, e.training_id, e.start_date, e.end_date, t.title, t.start_date, t.end_date"
    " FROM enrolments e JOIN trainings t ON t.id = e.training_id"
    " WHERE e.person_id = ? AND e.org_id = ? ORDER BY e.id"
)
_NOTES_OF = (
    "SELECT id, author_login, written_at, text FROM follow_up_notes"
    " WHERE person_id = ? AND org_id = ? ORDER BY written_at DESC, id DESC"
)
_ACCESS_STANDING = (
    "SELECT a.enrolment_pending,"
    " EXISTS (SELECT 1 FROM org_suspensions s WHERE s.org_id = ? AND s.lifted_at IS NULL),"
    " EXISTS (SELECT 1 FROM app_switches w WHERE w.app = ? AND w.org_id IN (?, ?)"
    " AND w.enabled = FALSE)"
    " FROM agents a WHERE a.id = ?"
)


def _person_from_tuple(r: tuple[Any, ...]) -> Person:
    return Person(
        id=r[0],
        ft_id=r[1],
        kind=PersonKind(r[2]),
        nir=r[3],
        last_name=r[4],
        first_name=r[5],
        birth_date=day(r[6]),
        email=r[7],
        phone=r[8],
        address=PostalAddress(r[9], r[10], r[11]),
        registration_status=RegistrationStatus(r[12]),
        registration_date=day(r[13]),
        deregistration_date=day_or_none(r[14]),
        last_activity_date=day(r[15]),
        rqth_since=day_or_none(r[16]),
        is_canary=bool(r[17]),
    )


class SqlPortalStore:
    """Implements ``PortalStore`` on any SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)
        self.raw = RawSql(self.db)

    def agent_by_id(self, agent_id: int) -> Agent | None:
        """The agent with this id."""
        return self._agent_where(AgentRow.id == agent_id)

    def agent_by_login(self, login: str) -> Agent | None:
        """The agent with this login."""
        return self._agent_where(AgentRow.login == login)

    def _agent_where(self, cond: ColumnElement[bool]) -> Agent | None:
        stmt = (
            select(AgentRow.__table__, OrganisationRow.kind.label("org_kind"))
            .join(OrganisationRow, OrganisationRow.id == AgentRow.org_id)
            .where(cond)
        )
        with self.db.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        fields = {k: v for k, v in row._mapping.items() if k != "org_kind"}
        return agent_from_row(AgentRow(**fields), row.org_kind)

    def organisation(self, org_id: str) -> Organisation | None:
        """The organisation with this id."""
        with self.db.connect() as conn:
            row = conn.execute(
                select(OrganisationRow.__table__).where(OrganisationRow.id == org_id)
            ).first()
        if row is None:
            return None
        return Organisation(row.id, OrgKind(row.kind), row.name, row.siret, row.region)

    def person_by_ft_id(self, ft_id: str) -> Person | None:
        """The person with this ft_id (hand-written SQL: every record read runs it)."""
        row = self.raw.one(_PERSON_BY_FT_ID, (ft_id,))
        return None if row is None else _person_from_tuple(row)

    def relations(self, person_id: int, agent: Agent) -> Relations:
        """The enrolments in the agent's organisation and the assignments to the agent, in one
        statement (every record read runs it)."""
        rows = self.raw.all(_RELATIONS, (person_id, agent.org_id, person_id, agent.id))
        enrolments, assignments = [], []
        for kind, id_, ref, pid, org_id, start, end, confirmed in rows:
            if kind == "e":
                enrolments.append(
                    Enrolment(id_, ref, pid, org_id, day(start), day(end), bool(confirmed))
                )
            else:
                assignments.append(Assignment(id_, ref, pid, org_id, day(start), day_or_none(end)))
        return Relations(enrolments=tuple(enrolments), assignments=tuple(assignments))

    def portfolio(
        self, agent: Agent, today: dt.date, grace_from: dt.date, offset: int, limit: int
    ) -> list[tuple[str, str, str]]:
        """People tied to the agent by a relation the scope policy accepts, by name."""
        p = PersonRow
        conds = []
        if agent.has(Role.ADVISOR) and agent.org_kind in FOLLOW_UP_ORG_KINDS:
            conds.append(
                p.id.in_(
                    select(AssignmentRow.person_id).where(
                        AssignmentRow.agent_id == agent.id,
                        AssignmentRow.org_id == agent.org_id,
                        AssignmentRow.start_date <= today,
                        or_(AssignmentRow.end_date.is_(None), AssignmentRow.end_date >= today),
                    )
                )
            )
        if agent.org_kind is OrgKind.TRAINING_BODY and agent.has(Role.TRAINING_MANAGER):
            conds.append(
                p.id.in_(
                    select(EnrolmentRow.person_id).where(
                        EnrolmentRow.org_id == agent.org_id,
                        EnrolmentRow.start_date <= today,
                        EnrolmentRow.end_date >= grace_from,
                    )
                )
            )
        if not conds:
            return []
        stmt = (
            select(p.ft_id, p.last_name, p.first_name)
            .where(or_(*conds), p.is_canary.is_(False))
            .order_by(p.last_name, p.first_name, p.ft_id)
            .offset(offset)
            .limit(limit)
        )
        with self.db.connect() as conn:
            return [(r.ft_id, r.last_name, r.first_name) for r in conn.execute(stmt)]

    def trainings_of(self, org_id: str) -> list[Training]:
        """The trainings of one training body, newest first."""
        stmt = (
            select(TrainingRow.__table__)
            .where(TrainingRow.org_id == org_id)
            .order_by(TrainingRow.start_date.desc(), TrainingRow.id)
        )
        with self.db.connect() as conn:
            return [_training(TrainingRow(**r._mapping)) for r in conn.execute(stmt)]

    def training(self, training_id: int) -> Training | None:
        """One training."""
        with self.db.connect() as conn:
            r = conn.execute(
                select(TrainingRow.__table__).where(TrainingRow.id == training_id)
            ).first()
        return None if r is None else _training(TrainingRow(**r._mapping))

    def sessions_of(self, training_id: int) -> list[TrainingSession]:
        """The sessions of a training, in date order."""
        stmt = (
            select(TrainingSessionRow.__table__)
            .where(TrainingSessionRow.training_id == training_id)
            .order_by(TrainingSessionRow.day, TrainingSessionRow.id)
        )
        with self.db.connect() as conn:
            return [
                TrainingSession(r.id, r.training_id, r.day, r.label) for r in conn.execute(stmt)
            ]

    def session(self, session_id: int) -> TrainingSession | None:
        """One training session."""
        with self.db.connect() as conn:
            r = conn.execute(
                select(TrainingSessionRow.__table__).where(TrainingSessionRow.id == session_id)
            ).first()
        return None if r is None else TrainingSession(r.id, r.training_id, r.day, r.label)

    def enrolments_of_training(self, training_id: int) -> list[tuple[Enrolment, Person]]:
        """The enrolled people of a training, by name."""
        e, p = EnrolmentRow.__table__, PersonRow.__table__
        stmt = (
            select(*[c.label(f"e_{c.name}") for c in e.c], *[c.label(f"p_{c.name}") for c in p.c])
            .join(p, p.c.id == e.c.person_id)
            .where(e.c.training_id == training_id)
            .order_by(p.c.last_name, p.c.first_name, p.c.ft_id)
        )
        out: list[tuple[Enrolment, Person]] = []
        with self.db.connect() as conn:
            for r in conn.execute(stmt):
                m = r._mapping
                er = EnrolmentRow(**{c.name: m[f"e_{c.name}"] for c in e.c})
                pr = PersonRow(**{c.name: m[f"p_{c.name}"] for c in p.c})
                out.append((_enrolment(er), person_from_row(pr)))
        return out

    def enrolments_of_person(self, person_id: int, org_id: str) -> list[tuple[Enrolment, Training]]:
        """A person's enrolments in one organisation's trainings, with their trainings."""
        out = []
        for e_id, t_id, start, end, title, t_start, t_end in self.raw.all(
            _ENROLMENTS_OF_PERSON, (person_id, org_id)
        ):
            enrolment = Enrolment(e_id, t_id, person_id, org_id, day(start), day(end))
            out.append((enrolment, Training(t_id, org_id, title, day(t_start), day(t_end))))
        return out

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
        with self.db.begin() as conn:
            existing = conn.execute(
                select(EnrolmentRow.__table__).where(
                    EnrolmentRow.training_id == training.id, EnrolmentRow.person_id == person.id
                )
            ).first()
            if existing is not None:
                return _enrolment(EnrolmentRow(**existing._mapping))
            res = conn.execute(
                insert(EnrolmentRow).values(
                    training_id=training.id,
                    person_id=person.id,
                    org_id=training.org_id,
                    start_date=start,
                    end_date=end,
                    confirmed=confirmed,
                )
            )
            new_id = res.inserted_primary_key[0] if res.inserted_primary_key else 0
        return Enrolment(
            int(new_id), training.id, person.id, training.org_id, start, end, confirmed
        )

    def confirmation_of(self, enrolment_id: int) -> EnrolmentConfirmation | None:
        """The pending confirmation of an enrolment."""
        e = EnrolmentRow
        with self.db.connect() as conn:
            row = conn.execute(
                select(
                    e.confirmed,
                    e.imported,
                    e.confirm_code_hash,
                    e.confirm_expires_at,
                    e.confirm_attempts,
                ).where(e.id == enrolment_id)
            ).first()
        if row is None:
            return None
        return EnrolmentConfirmation(
            bool(row.confirmed or row.imported),
            row.confirm_code_hash or "",
            utc(row.confirm_expires_at),
            int(row.confirm_attempts or 0),
        )

    def set_confirmation(self, enrolment_id: int, state: EnrolmentConfirmation) -> None:
        """Record a confirmation's new state."""
        with self.db.begin() as conn:
            conn.execute(
                update(EnrolmentRow)
                .where(EnrolmentRow.id == enrolment_id)
                .values(
                    confirmed=state.confirmed,
                    confirm_code_hash=state.code_hash,
                    confirm_expires_at=state.expires_at,
                    confirm_attempts=state.attempts,
                )
            )

    def attendance_of(self, session_id: int) -> dict[int, AttendanceMark]:
        """Marks recorded for a session, by person id."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(AttendanceRow.person_id, AttendanceRow.mark).where(
                    AttendanceRow.session_id == session_id
                )
            ).all()
        return {r.person_id: AttendanceMark(r.mark) for r in rows}

    def record_attendance(
        self, session_id: int, marks: dict[int, AttendanceMark], by_login: str, at: dt.datetime
    ) -> None:
        """Replace the marks of these people for this session."""
        if not marks:
            return
        with self.db.begin() as conn:
            conn.execute(
                delete(AttendanceRow).where(
                    and_(
                        AttendanceRow.session_id == session_id,
                        AttendanceRow.person_id.in_(list(marks)),
                    )
                )
            )
            conn.execute(
                insert(AttendanceRow),
                [
                    {
                        "session_id": session_id,
                        "person_id": pid,
                        "mark": str(mark),
                        "recorded_by": by_login,
                        "recorded_at": at,
                    }
                    for pid, mark in marks.items()
                ],
            )

    def notes_of(self, person_id: int, org_id: str) -> list[FollowUpNote]:
        """Follow-up notes written by one organisation about a person, newest first."""
        out = []
        for n_id, author, written_at, text in self.raw.all(_NOTES_OF, (person_id, org_id)):
            out.append(FollowUpNote(n_id, person_id, org_id, author, instant(written_at), text))
        return out

    def add_note(
        self, person_id: int, org_id: str, author: str, at: dt.datetime, text: str
    ) -> FollowUpNote:
        """Write a follow-up note."""
        with self.db.begin() as conn:
            res = conn.execute(
                insert(FollowUpNoteRow).values(
                    person_id=person_id,
                    org_id=org_id,
                    author_login=author,
                    written_at=at,
                    text=text,
                )
            )
            new_id = int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0
        return FollowUpNote(new_id, person_id, org_id, author, at, text)

    def access_standing(self, agent_id: int, org_id: str, app: App) -> AccessStanding:
        """``AccessStandings``: the gate's three facts in one indexed read."""
        row = self.raw.one(_ACCESS_STANDING, (org_id, str(app), ALL_ORGS, org_id, agent_id))
        if row is None:  # an account removed under a live session: nothing to reach
            return AccessStanding(org_suspended=True)
        pending, suspended, off = row
        return AccessStanding(
            org_suspended=bool(suspended), enrolment_pending=bool(pending), app_enabled=not off
        )

    def app_enabled(self, app: App, org_id: str) -> bool:
        """False when the app is switched off for everyone or for this organisation."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(AppSwitchRow.enabled).where(
                    AppSwitchRow.app == str(app), AppSwitchRow.org_id.in_([ALL_ORGS, org_id])
                )
            ).all()
        return all(r.enabled for r in rows)

    def set_app_enabled(self, app: App, org_id: str | None, enabled: bool) -> None:
        """Switch an app on or off, for everyone (``org_id`` None) or one organisation."""
        key = org_id or ALL_ORGS
        with self.db.begin() as conn:
            conn.execute(
                delete(AppSwitchRow).where(AppSwitchRow.app == str(app), AppSwitchRow.org_id == key)
            )
            conn.execute(
                insert(AppSwitchRow).values(
                    app=str(app), org_id=key, enabled=enabled, changed_at=dt.datetime.now(dt.UTC)
                )
            )


def _canary_values(identity: CanaryIdentity) -> dict[str, object]:
    return {
        "ft_id": identity.ft_id,
        "kind": str(PersonKind.JOB_SEEKER),
        "nir": identity.nir,
        "last_name": identity.last_name,
        "first_name": identity.first_name,
        "birth_date": identity.birth_date,
        "email": identity.email,
        "phone": identity.phone,
        "address_line": identity.address_line,
        "postcode": identity.postcode,
        "city": identity.city,
        "registration_status": str(RegistrationStatus.REGISTERED),
        "registration_date": identity.registration_date,
        "deregistration_date": None,
        "last_activity_date": identity.registration_date,
        "rqth_since": None,
        "is_canary": True,
    }


class SqlCanaryStore:
    """Implements ``CanaryRecords``: canaries are rows of ``persons`` marked ``is_canary``."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def ft_id_taken(self, ft_id: str) -> bool:
        """True when a person already has this ft_id."""
        with self.db.connect() as conn:
            found = conn.execute(select(PersonRow.id).where(PersonRow.ft_id == ft_id)).first()
        return found is not None

    def plant_canary(self, identity: CanaryIdentity) -> int:
        """Store one canary."""
        with self.db.begin() as conn:
            return int(
                conn.execute(
                    insert(PersonRow).values(**_canary_values(identity)).returning(PersonRow.id)
                ).scalar_one()
            )

    def canary_ids(self) -> list[int]:
        """Every canary, by id."""
        with self.db.connect() as conn:
            return [
                int(i)
                for i in conn.execute(
                    select(PersonRow.id).where(PersonRow.is_canary.is_(True)).order_by(PersonRow.id)
                ).scalars()
            ]

    def rekey_canary(self, canary_id: int, identity: CanaryIdentity) -> None:
        """A whole new identity for one canary."""
        with self.db.begin() as conn:
            conn.execute(
                update(PersonRow)
                .where(PersonRow.id == canary_id, PersonRow.is_canary.is_(True))
                .values(**_canary_values(identity))
            )


class SqlFollowUps:
    """Implements ``FollowUps`` on ``assignments``."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def running_assignments(self, agent_id: int, today: dt.date) -> list[tuple[Assignment, str]]:
        """The agent's assignments running today, with each person's ft_id."""
        a = AssignmentRow
        stmt = (
            select(a.__table__, PersonRow.ft_id.label("person_ft_id"))
            .join(PersonRow, PersonRow.id == a.person_id)
            .where(
                a.agent_id == agent_id,
                a.start_date <= today,
                or_(a.end_date.is_(None), a.end_date >= today),
            )
            .order_by(a.id)
        )
        with self.db.connect() as conn:
            return [
                (
                    Assignment(r.id, r.agent_id, r.person_id, r.org_id, r.start_date, r.end_date),
                    r.person_ft_id,
                )
                for r in conn.execute(stmt)
            ]

    def start_assignment(self, agent_id: int, person_id: int, org_id: str, start: dt.date) -> int:
        """A new open assignment."""
        with self.db.begin() as conn:
            return int(
                conn.execute(
                    insert(AssignmentRow)
                    .values(
                        agent_id=agent_id,
                        person_id=person_id,
                        org_id=org_id,
                        start_date=start,
                        end_date=None,
                        imported=False,
                    )
                    .returning(AssignmentRow.id)
                ).scalar_one()
            )

    def end_assignment(self, assignment_id: int, last_day: dt.date) -> None:
        """Set the assignment's last day."""
        with self.db.begin() as conn:
            conn.execute(
                update(AssignmentRow)
                .where(AssignmentRow.id == assignment_id)
                .values(end_date=last_day)
            )


class SqlPersonConfirmationStore:
    """Implements ``PersonConfirmations`` on ``person_confirmations``."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def add_confirmation(self, confirmation: PersonConfirmation) -> None:
        """Store a new code's digest."""
        c = confirmation
        with self.db.begin() as conn:
            conn.execute(
                insert(PersonConfirmationRow).values(
                    id=c.id,
                    purpose=str(c.purpose),
                    person_id=c.person_id,
                    agent_id=c.agent_id,
                    org_id=c.org_id,
                    code_hash=c.code_hash,
                    created_at=c.created_at,
                    expires_at=c.expires_at,
                    attempts=0,
                )
            )

    def confirmation(self, confirmation_id: str) -> PersonConfirmation | None:
        """One confirmation by id."""
        with self.db.connect() as conn:
            r = conn.execute(
                select(PersonConfirmationRow.__table__).where(
                    PersonConfirmationRow.id == confirmation_id
                )
            ).first()
        if r is None:
            return None
        return PersonConfirmation(
            id=r.id,
            purpose=ConfirmationPurpose(r.purpose),
            person_id=r.person_id,
            agent_id=r.agent_id,
            org_id=r.org_id,
            code_hash=r.code_hash,
            created_at=instant(r.created_at),
            expires_at=instant(r.expires_at),
            attempts=r.attempts,
            consumed_at=instant(r.consumed_at) if r.consumed_at else None,
        )

    def count_confirmation_failure(self, confirmation_id: str) -> int:
        """One more wrong code."""
        c = PersonConfirmationRow
        with self.db.begin() as conn:
            conn.execute(update(c).where(c.id == confirmation_id).values(attempts=c.attempts + 1))
            return int(conn.execute(select(c.attempts).where(c.id == confirmation_id)).scalar_one())

    def consume_confirmation(self, confirmation_id: str, at: dt.datetime) -> bool:
        """Use the code once (compare-and-set)."""
        c = PersonConfirmationRow
        with self.db.begin() as conn:
            done = conn.execute(
                update(c)
                .where(c.id == confirmation_id, c.consumed_at.is_(None))
                .values(consumed_at=at)
            ).rowcount
        return bool(done)

    def confirmations_since(self, agent_id: int, since: dt.datetime) -> int:
        """Codes the agent had sent since ``since``."""
        c = PersonConfirmationRow
        with self.db.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).where(c.agent_id == agent_id, c.created_at >= since)
                ).scalar_one()
            )
