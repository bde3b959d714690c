"""Consulting people: a record read, the exact lookup, the portfolio.

Every decision is journaled, and the journal append returns only once the entry is durable:
no data leaves whose consultation is not recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rempart.journal.entries import entry_for
from rempart.journal.model import JournalEntry
from rempart.kernel.categories import DataCategory
from rempart.kernel.clock import months_before
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import Forbidden, InvalidRequest, NotFound
from rempart.kernel.exposure import Exposure, GuardRequest
from rempart.kernel.identifiers import parse_ft_id
from rempart.kernel.tags import Decision, Tag
from rempart.people import scope
from rempart.people.model import Person
from rempart.people.service.deps import ConsultDeps, RecordReadDeps
from rempart.people.service.gate import ensure_may_access_data, guard_check

# A relations query for this id finds nothing; it keeps unknown and out-of-scope people
# on the same code path, so that their timing stays comparable.
_NOBODY = -1


@dataclass(frozen=True, slots=True)
class PortfolioPage:
    items: list[dict[str, str]]
    next_page: int | None


@dataclass(frozen=True, slots=True)
class Consultation:
    """A record read decided: the record (None: "not found") and the journal entry that must be
    durable before anything is answered."""

    record: dict[str, Any] | None
    entry: JournalEntry

    def answer(self) -> dict[str, Any]:
        """The record, once the entry is journaled; NotFound for unknown and out of scope."""
        if self.record is None:
            raise NotFound()
        return self.record


def consult_person(
    deps: ConsultDeps, ctx: RequestContext, ft_id: str, purpose: str | None
) -> dict[str, Any]:
    """A person's record, limited to what the caller's relation, role and purpose allow."""
    consultation = decide_read(deps, ctx, ft_id, purpose)
    deps.journal.append([consultation.entry])
    return consultation.answer()


async def consult_person_async(
    deps: RecordReadDeps, ctx: RequestContext, ft_id: str, purpose: str | None
) -> dict[str, Any]:
    """``consult_person`` for a caller on the event loop: the same decision and the same
    durable entry before the answer; the wait for the commit holds no thread, and no portal
    lock either (what the decision wrote, a session's touch or a guard's alert, is committed
    before the wait)."""
    consultation = decide_read(deps, ctx, ft_id, purpose)
    deps.transactions.settle()
    await deps.journal.append_async([consultation.entry])
    return consultation.answer()


def decide_read(
    deps: ConsultDeps, ctx: RequestContext, ft_id: str, purpose: str | None
) -> Consultation:
    """Everything a record read decides, before its entry is journaled: the data gate, the
    scope policy, the guard (which journals and raises its own refusals)."""
    ft_id = parse_ft_id(ft_id)
    declared = scope.resolve_purpose(ctx.agent, purpose)
    ensure_may_access_data(deps, ctx)
    person = deps.store.person_by_ft_id(ft_id)
    relations = deps.store.relations(person.id if person else _NOBODY, ctx.agent)
    decision = None
    if person is not None:
        try:
            decision = scope.decide(ctx.agent, relations, ctx.today, declared, deps.rules)
        except NotFound:
            decision = None
    found = person is not None and decision is not None
    guard_check(
        deps,
        ctx,
        GuardRequest(
            Exposure.READ,
            asked=(ft_id,),
            exposed=(ft_id,) if found else (),
            found=found,
            canary=person is not None and person.is_canary,
            scope_size=scope_size_of(deps, ctx),
        ),
    )
    if person is None or decision is None:
        return Consultation(
            None,
            entry_for(
                ctx,
                Tag.PORTAL_PERSON_READ,
                Decision.NOT_FOUND,
                persons=[ft_id],
                purpose=declared,
                reason="no relation" if person else "unknown",
            ),
        )
    extras = _extras(deps, ctx, person, decision.categories)
    record = scope.render_record(person, decision.categories, extras)
    record["purpose"] = str(declared)
    return Consultation(
        record,
        entry_for(
            ctx,
            Tag.PORTAL_PERSON_READ,
            Decision.ALLOW,
            persons=[ft_id],
            categories=decision.categories,
            purpose=declared,
            reason=decision.relation,
        ),
    )


def _extras(
    deps: ConsultDeps, ctx: RequestContext, person: Person, categories: frozenset[DataCategory]
) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if DataCategory.TRAINING in categories:
        extras["trainings"] = [
            {
                "training_id": t.id,
                "title": t.title,
                "start_date": e.start_date.isoformat(),
                "end_date": e.end_date.isoformat(),
            }
            for e, t in deps.store.enrolments_of_person(person.id, ctx.org.id)
        ]
    if DataCategory.FOLLOW_UP_NOTES in categories:
        extras["follow_up_notes"] = [
            {"written_at": n.written_at.isoformat(), "author": n.author_login, "text": n.text}
            for n in deps.store.notes_of(person.id, ctx.org.id)
        ]
    return extras


def scope_size_of(deps: ConsultDeps, ctx: RequestContext) -> Callable[[], int]:
    """The caller's scope size, counted when the guard asks for it (it keeps it an hour)."""

    def count() -> int:
        if not scope.reaches_people(ctx.agent):
            return 0
        grace_from = months_before(ctx.today, deps.rules.enrolment_grace_months)
        today = ctx.today
        if scope.has_org_wide_access(ctx.agent):
            # A training manager's rosters also list the trainees of trainings about to start.
            today += ROSTER_HORIZON
        return len(deps.store.portfolio(ctx.agent, today, grace_from, 0, SCOPE_COUNT_MAX))

    return count


ROSTER_HORIZON = dt.timedelta(days=365)
SCOPE_COUNT_MAX = 1_000_000


def lookup_person(
    deps: ConsultDeps, ctx: RequestContext, ft_id: str, birth_date: dt.date
) -> list[dict[str, str]]:
    """The only lookup outside scope: exact ft_id *and* birth date, minimal fields."""
    ft_id = parse_ft_id(ft_id)
    if not scope.enrols_people(ctx.agent):
        # A leaked (ft_id, birth date) pair answers names to nobody who does not enrol people.
        raise Forbidden("only roles that enrol people use the exact lookup")
    ensure_may_access_data(deps, ctx)
    person = deps.store.person_by_ft_id(ft_id)
    found = person is not None and person.birth_date == birth_date and not person.is_canary
    canary = person is not None and person.is_canary
    try:
        guard_check(
            deps,
            ctx,
            GuardRequest(
                Exposure.LOOKUP,
                asked=(ft_id,),
                exposed=(ft_id,) if found else (),
                found=found,
                canary=canary,
            ),
        )
    except NotFound:
        # The guard hides a canary hit as a 404; here an ordinary miss is an empty list, so a
        # canary answers exactly that (the guard has contained and alerted already).
        if not canary:
            raise
    items = [scope.render_lookup(person)] if found and person is not None else []
    deps.journal.append(
        [
            entry_for(
                ctx,
                Tag.PORTAL_PERSON_LOOKUP,
                Decision.ALLOW if found else Decision.NOT_FOUND,
                persons=[ft_id],
                categories=[DataCategory.IDENTITY] if found else [],
                purpose="enrolment",
            )
        ]
    )
    return items


def portfolio_page(deps: ConsultDeps, ctx: RequestContext, page: int, size: int) -> PortfolioPage:
    """One page of the people the caller works with, by name."""
    if page < 1 or not 1 <= size <= 100:
        raise InvalidRequest("page starts at 1 and size is between 1 and 100")
    if not scope.reaches_people(ctx.agent):
        raise Forbidden("this role has no portfolio")
    ensure_may_access_data(deps, ctx)
    grace_from = months_before(ctx.today, deps.rules.enrolment_grace_months)
    rows = deps.store.portfolio(ctx.agent, ctx.today, grace_from, (page - 1) * size, size + 1)
    has_more = len(rows) > size
    rows = rows[:size]
    ft_ids = tuple(r[0] for r in rows)
    guard_check(
        deps,
        ctx,
        GuardRequest(
            Exposure.LIST, asked=ft_ids, exposed=ft_ids, scope_size=scope_size_of(deps, ctx)
        ),
    )
    deps.journal.append(
        [
            entry_for(
                ctx,
                Tag.PORTAL_PORTFOLIO_LIST,
                Decision.ALLOW,
                persons=[r[0] for r in rows],
                categories=[DataCategory.IDENTITY] if rows else [],
                details={"page": page, "size": size},
            )
        ]
    )
    return PortfolioPage(
        items=[{"ft_id": f, "last_name": ln, "first_name": fn} for f, ln, fn in rows],
        next_page=page + 1 if has_more else None,
    )


EXPORT_MAX_ROWS = 100_000  # a hard stop for the query itself; the guard's ceiling is far lower


def export_portfolio(deps: ConsultDeps, ctx: RequestContext) -> list[dict[str, str]]:
    """The caller's own people as rows (the monthly roster export), names and identifiers only."""
    if not scope.reaches_people(ctx.agent):
        raise Forbidden("this role has no portfolio")
    ensure_may_access_data(deps, ctx)
    grace_from = months_before(ctx.today, deps.rules.enrolment_grace_months)
    rows = deps.store.portfolio(ctx.agent, ctx.today, grace_from, 0, EXPORT_MAX_ROWS)
    ft_ids = tuple(r[0] for r in rows)
    guard_check(
        deps,
        ctx,
        GuardRequest(Exposure.EXPORT, asked=ft_ids, exposed=ft_ids, scope_size=lambda: len(rows)),
    )
    deps.journal.append(
        [
            entry_for(
                ctx,
                Tag.PORTAL_ROSTER_EXPORT,
                Decision.ALLOW,
                persons=ft_ids,
                categories=[DataCategory.IDENTITY] if rows else [],
                details={"rows": len(rows)},
            )
        ]
    )
    return [{"ft_id": f, "last_name": ln, "first_name": fn} for f, ln, fn in rows]
