"""The training follow-up app: a training body's trainings, sessions, attendance, enrolments."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import replace
from typing import Any

from rempart.journal.entries import entry_for
from rempart.kernel.actors import OrgKind, Role
from rempart.kernel.categories import DataCategory
from rempart.kernel.clock import months_before
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import Forbidden, InvalidRequest, NotFound
from rempart.kernel.exposure import Exposure, GuardRequest
from rempart.kernel.identifiers import parse_ft_id
from rempart.kernel.tags import Decision, Tag
from rempart.people import scope
from rempart.people.model import AttendanceMark, EnrolmentConfirmation, Person, Training
from rempart.people.service.consult import scope_size_of
from rempart.people.service.deps import TrainingDeps
from rempart.people.service.gate import ensure_may_access_data, guard_check


def _ensure_training_manager(deps: TrainingDeps, ctx: RequestContext) -> None:
    if not (ctx.org.kind is OrgKind.TRAINING_BODY and ctx.agent.has(Role.TRAINING_MANAGER)):
        raise Forbidden("only a training body's training managers use the training follow-up app")
    ensure_may_access_data(deps, ctx)


def _own_training(deps: TrainingDeps, ctx: RequestContext, training_id: int) -> Training:
    training = deps.store.training(training_id)
    if training is None or training.org_id != ctx.org.id:
        raise NotFound()
    return training


def _roster(deps: TrainingDeps, ctx: RequestContext, training: Training) -> list[Any]:
    """The enrolments a roster may show: the records' grace rule applies to rosters too (a
    training that ended long ago no longer lists its trainees' names)."""
    grace_from = months_before(ctx.today, deps.rules.enrolment_grace_months)
    return [
        (e, p)
        for e, p in deps.store.enrolments_of_training(training.id)
        if e.end_date >= grace_from and not p.is_canary
    ]


def list_trainings(deps: TrainingDeps, ctx: RequestContext) -> list[dict[str, Any]]:
    """The caller's training body's trainings."""
    _ensure_training_manager(deps, ctx)
    return [
        {
            "id": t.id,
            "title": t.title,
            "start_date": t.start_date.isoformat(),
            "end_date": t.end_date.isoformat(),
        }
        for t in deps.store.trainings_of(ctx.org.id)
    ]


def training_detail(deps: TrainingDeps, ctx: RequestContext, training_id: int) -> dict[str, Any]:
    """One of the caller's trainings with its sessions and its enrolled people (names only)."""
    _ensure_training_manager(deps, ctx)
    training = _own_training(deps, ctx, training_id)
    enrolled = _roster(deps, ctx, training)
    names = tuple(p.ft_id for _, p in enrolled)
    guard_check(
        deps,
        ctx,
        GuardRequest(
            Exposure.LIST, asked=names, exposed=names, scope_size=scope_size_of(deps, ctx)
        ),
    )
    deps.journal.append(
        [
            entry_for(
                ctx,
                Tag.PORTAL_SESSION_ROSTER,
                Decision.ALLOW,
                persons=[p.ft_id for _, p in enrolled],
                categories=[DataCategory.IDENTITY, DataCategory.TRAINING] if enrolled else [],
                purpose="training_follow_up",
                details={"training_id": training.id},
            )
        ]
    )
    return {
        "id": training.id,
        "title": training.title,
        "start_date": training.start_date.isoformat(),
        "end_date": training.end_date.isoformat(),
        "sessions": [
            {"id": s.id, "day": s.day.isoformat(), "label": s.label}
            for s in deps.store.sessions_of(training.id)
        ],
        "enrolled": [
            {
                "ft_id": p.ft_id,
                "last_name": p.last_name,
                "first_name": p.first_name,
                "start_date": e.start_date.isoformat(),
                "end_date": e.end_date.isoformat(),
            }
            for e, p in enrolled
        ],
    }


def session_attendance(deps: TrainingDeps, ctx: RequestContext, session_id: int) -> dict[str, Any]:
    """The roster of one session with the marks recorded so far."""
    _ensure_training_manager(deps, ctx)
    session = deps.store.session(session_id)
    if session is None:
        raise NotFound()
    training = _own_training(deps, ctx, session.training_id)
    enrolled = _roster(deps, ctx, training)
    names = tuple(p.ft_id for _, p in enrolled)
    guard_check(
        deps,
        ctx,
        GuardRequest(
            Exposure.LIST, asked=names, exposed=names, scope_size=scope_size_of(deps, ctx)
        ),
    )
    marks = deps.store.attendance_of(session.id)
    deps.journal.append(
        [
            entry_for(
                ctx,
                Tag.PORTAL_SESSION_ROSTER,
                Decision.ALLOW,
                persons=[p.ft_id for _, p in enrolled],
                categories=[DataCategory.IDENTITY, DataCategory.TRAINING] if enrolled else [],
                purpose="training_follow_up",
                details={"session_id": session.id},
            )
        ]
    )
    return {
        "session": {"id": session.id, "day": session.day.isoformat(), "label": session.label},
        "training": {"id": training.id, "title": training.title},
        "attendance": [
            {
                "ft_id": p.ft_id,
                "last_name": p.last_name,
                "first_name": p.first_name,
                "mark": str(marks[p.id]) if p.id in marks else None,
            }
            for _, p in enrolled
        ],
    }


def record_attendance(
    deps: TrainingDeps, ctx: RequestContext, session_id: int, marks: dict[str, str]
) -> dict[str, Any]:
    """Record marks for a session; every person named must be enrolled in its training."""
    _ensure_training_manager(deps, ctx)
    session = deps.store.session(session_id)
    if session is None:
        raise NotFound()
    training = _own_training(deps, ctx, session.training_id)
    if len(marks) > 500:
        raise InvalidRequest("at most 500 marks at once")
    by_ft_id = {p.ft_id: p.id for _, p in deps.store.enrolments_of_training(training.id)}
    parsed: dict[int, AttendanceMark] = {}
    for ft_id, mark in marks.items():
        parse_ft_id(ft_id)
        try:
            value = AttendanceMark(mark)
        except ValueError:
            raise InvalidRequest("mark must be present, absent or excused") from None
        if ft_id not in by_ft_id:
            raise NotFound()
        parsed[by_ft_id[ft_id]] = value
    deps.journal.append(
        [
            entry_for(
                ctx,
                Tag.PORTAL_ATTENDANCE_WRITE,
                Decision.ALLOW,
                persons=sorted(marks),
                categories=[DataCategory.TRAINING],
                purpose="training_follow_up",
                details={"session_id": session.id},
            )
        ]
    )
    deps.store.record_attendance(session.id, parsed, ctx.agent.login, ctx.now)
    return {"session_id": session.id, "recorded": len(parsed)}


def enrol_person(
    deps: TrainingDeps, ctx: RequestContext, training_id: int, ft_id: str, birth_date: dt.date
) -> dict[str, Any]:
    """Enrol a person who gave the caller both their ft_id and birth date."""
    _ensure_training_manager(deps, ctx)
    training = _own_training(deps, ctx, training_id)
    ft_id = parse_ft_id(ft_id)
    if training.end_date < ctx.today:
        raise InvalidRequest("this training has ended")
    person = deps.store.person_by_ft_id(ft_id)
    found = person is not None and person.birth_date == birth_date and not person.is_canary
    guard_check(
        deps,
        ctx,
        GuardRequest(
            Exposure.LOOKUP,
            asked=(ft_id,),
            exposed=(ft_id,) if found else (),
            found=found,
            canary=person is not None and person.is_canary,
        ),
    )
    if person is None or not found:
        deps.journal.append(
            [
                entry_for(
                    ctx,
                    Tag.PORTAL_ENROLMENT_CREATE,
                    Decision.NOT_FOUND,
                    persons=[ft_id],
                    purpose="enrolment",
                )
            ]
        )
        raise NotFound()
    start = max(training.start_date, ctx.today)
    deps.journal.append(
        [
            entry_for(
                ctx,
                Tag.PORTAL_ENROLMENT_CREATE,
                Decision.ALLOW,
                persons=[ft_id],
                categories=[DataCategory.IDENTITY, DataCategory.TRAINING],
                purpose="enrolment",
                details={"training_id": training.id, "confirmed": False},
            )
        ]
    )
    # Found from a (ft_id, birth date) pair, which leaks put in circulation: the relation opens
    # no contact data until the person confirms it or the agency's prescription arrives.
    enrolment = deps.store.enrol(training, person, start, training.end_date, confirmed=False)
    if not enrolment.confirmed:
        _send_confirmation_code(deps, ctx, training, person, enrolment.id)
    return {
        "training_id": training.id,
        "ft_id": person.ft_id,
        "last_name": person.last_name,
        "first_name": person.first_name,
        "start_date": enrolment.start_date.isoformat(),
        "end_date": enrolment.end_date.isoformat(),
        "confirmed": enrolment.confirmed,
    }


CONFIRMATION_TTL = dt.timedelta(days=14)  # the person gives the code at their next visit
CONFIRMATION_ATTEMPTS = 5


def _code_digest(enrolment_id: int, code: str) -> str:
    return hashlib.sha256(
        f"enrolment-confirmation\x00{enrolment_id}\x00{code}".encode()
    ).hexdigest()


def _send_confirmation_code(
    deps: TrainingDeps, ctx: RequestContext, training: Training, person: Person, enrolment_id: int
) -> None:
    """A one-time code to the person's address on file: only the person can give it back."""
    if deps.notices is None:
        return
    code = f"{secrets.randbelow(10**8):08d}"
    deps.store.set_confirmation(
        enrolment_id,
        EnrolmentConfirmation(False, _code_digest(enrolment_id, code), ctx.now + CONFIRMATION_TTL),
    )
    body = (
        f"Bonjour,\n\nL'organisme de formation {ctx.org.name} vous a inscrit(e) à la formation "
        f"« {training.title} ». Si vous êtes bien inscrit(e), donnez-lui ce code : {code}.\n"
        "Sans ce code, il n'aura pas accès à vos coordonnées. Si vous ne connaissez pas cet "
        "organisme, ne donnez pas ce code.\n"
    )
    deps.notices.send_code(person.ft_id, "Confirmez votre inscription", body, code)


def confirm_enrolment(
    deps: TrainingDeps, ctx: RequestContext, training_id: int, ft_id: str, code: str
) -> dict[str, Any]:
    """The person gave the training body the code sent to them: the relation is confirmed."""
    _ensure_training_manager(deps, ctx)
    training = _own_training(deps, ctx, training_id)
    ft_id = parse_ft_id(ft_id)
    found = [(e, p) for e, p in deps.store.enrolments_of_training(training.id) if p.ft_id == ft_id]
    if not found:
        raise NotFound()
    enrolment, _person = found[0]
    state = deps.store.confirmation_of(enrolment.id)
    if state is None:
        raise NotFound()
    if state.confirmed:
        return {"training_id": training.id, "ft_id": ft_id, "confirmed": True}
    usable = (
        state.code_hash
        and state.expires_at is not None
        and ctx.now <= state.expires_at
        and state.attempts < CONFIRMATION_ATTEMPTS
    )
    good = usable and hmac.compare_digest(
        _code_digest(enrolment.id, code.strip()).encode(), state.code_hash.encode()
    )
    deps.store.set_confirmation(
        enrolment.id,
        EnrolmentConfirmation(True) if good else replace(state, attempts=state.attempts + 1),
    )
    deps.journal.append(
        [
            entry_for(
                ctx,
                Tag.PORTAL_ENROLMENT_CONFIRMED,
                Decision.ALLOW if good else Decision.DENY,
                persons=[ft_id],
                purpose="enrolment",
                details={"training_id": training.id, "attempts": state.attempts + 1},
            )
        ]
    )
    if not good:
        raise InvalidRequest("wrong, expired or exhausted confirmation code")
    return {"training_id": training.id, "ft_id": ft_id, "confirmed": True}


def add_follow_up_note(
    deps: TrainingDeps, ctx: RequestContext, ft_id: str, text: str
) -> dict[str, Any]:
    """An assigned adviser writes a follow-up note about a person they follow."""
    ft_id = parse_ft_id(ft_id)
    purpose = scope.resolve_purpose(ctx.agent, None)
    ensure_may_access_data(deps, ctx)
    text = text.strip()
    if not 1 <= len(text) <= 4000:
        raise InvalidRequest("a note holds 1 to 4000 characters")
    person = deps.store.person_by_ft_id(ft_id)
    relations = deps.store.relations(person.id if person else -1, ctx.agent)
    if person is None:
        raise NotFound()
    decision = scope.decide(ctx.agent, relations, ctx.today, purpose, deps.rules)
    if DataCategory.FOLLOW_UP_NOTES not in decision.categories:
        raise NotFound()
    deps.journal.append(
        [
            entry_for(
                ctx,
                Tag.PORTAL_NOTE_WRITE,
                Decision.ALLOW,
                persons=[ft_id],
                categories=[DataCategory.FOLLOW_UP_NOTES],
                purpose=purpose,
            )
        ]
    )
    note = deps.store.add_note(person.id, ctx.org.id, ctx.agent.login, ctx.now, text)
    return {
        "written_at": note.written_at.isoformat(),
        "author": note.author_login,
        "text": note.text,
    }
