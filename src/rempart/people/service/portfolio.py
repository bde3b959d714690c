"""Advisers' portfolios in the Missions Locales, Cap emploi and agency apps.

- A manager of the structure (its account manager) hands follow-ups over from one adviser to a
  colleague of the same structure: the first's assignment ends yesterday, the second's starts
  today, so scope follows at once (``scope.relation_of`` reads the dates on every request).
- An adviser closes one of their own follow-ups (it ends yesterday).
- Taking on a *new* person needs that person's consent: the adviser, who knows the ft_id and the
  birth date (the exact lookup), asks for a confirmation; a one-time code goes to the person by
  an official message at the address on file, and the person gives it to the adviser, who
  enters it. The other way in is the agency's own assignment, by import.

Every change is journaled with the people it concerns (so each sees it on "who consulted my
file"); a change touching ``bulk_threshold`` people or more raises an alert at once (Dec 2025:
a hand-over is also how a rogue manager would route a structure's whole file to one account).

The confirmation flow is generic (``model.PersonConfirmation``: a purpose, a person, an agent,
a keyed digest of a six-digit code, a short validity, a few attempts): another action that
needs the person's consent adds a purpose, not a flow.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from rempart.guard.alerts import Alert, Severity
from rempart.guard.ports import AlertSink
from rempart.journal.entries import entry_for
from rempart.journal.ports import JournalWriter
from rempart.kernel.actors import Agent, Role
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import Conflict, Forbidden, InvalidRequest, NotFound, Throttled
from rempart.kernel.identifiers import parse_ft_id
from rempart.kernel.ports import Clock, Directory
from rempart.kernel.tags import Decision, Tag
from rempart.people.model import ConfirmationPurpose, PersonConfirmation
from rempart.people.ports import FollowUps, PersonConfirmations, PersonNotifier, PersonRecords
from rempart.people.scope import FOLLOW_UP_ORG_KINDS

CODE_DIGITS = 6
_WRONG = "this code is wrong, used or expired: ask for a new one"


@dataclass(frozen=True, slots=True)
class PortfolioDeps:
    """What the portfolio use cases are given (wired by ``people.wiring``)."""

    follow_ups: FollowUps
    persons: PersonRecords
    directory: Directory
    confirmations: PersonConfirmations
    notifier: PersonNotifier
    journal: JournalWriter
    alerts: AlertSink
    clock: Clock
    secret: bytes
    bulk_threshold: int = 20
    code_ttl: dt.timedelta = dt.timedelta(minutes=30)
    max_attempts: int = 5
    codes_per_hour: int = 10


def _digest(deps: PortfolioDeps, confirmation_id: str, code: str) -> str:
    key = deps.secret + b"|person-confirmation"
    return hmac.new(key, f"{confirmation_id}|{code}".encode(), hashlib.sha256).hexdigest()


def _adviser(agent: Agent) -> bool:
    return agent.active and agent.has(Role.ADVISOR) and agent.org_kind in FOLLOW_UP_ORG_KINDS


def _journal(
    deps: PortfolioDeps,
    ctx: RequestContext,
    tag: Tag,
    decision: Decision,
    persons: list[str],
    details: dict[str, object],
    reason: str = "",
) -> None:
    deps.journal.append(
        [entry_for(ctx, tag, decision, persons=persons, reason=reason, details=details)]
    )


def _bulk_alert(deps: PortfolioDeps, ctx: RequestContext, count: int, what: str) -> None:
    if count < deps.bulk_threshold:
        return
    deps.alerts.raise_alert(
        Alert(
            at=ctx.now,
            rule="portfolio_bulk_change",
            severity=Severity.HIGH,
            explanation=f"{ctx.agent.login} {what} {count} follow-ups at once "
            f"(alert from {deps.bulk_threshold}).",
            agent_login=ctx.agent.login,
            org_id=ctx.org.id,
            session_id=ctx.session_id,
            action_taken="none",
            evidence={"count": count, "threshold": deps.bulk_threshold},
        )
    )


def _colleague(deps: PortfolioDeps, ctx: RequestContext, login: str) -> Agent:
    """An adviser of the caller's own structure; anyone else is answered as absent."""
    agent = deps.directory.agent_by_login(login) if 0 < len(login) <= 64 else None
    if agent is None or agent.org_id != ctx.org.id or not _adviser(agent):
        raise NotFound()
    return agent


def hand_over(
    deps: PortfolioDeps,
    ctx: RequestContext,
    from_login: str,
    to_login: str,
    ft_ids: list[str] | None = None,
) -> dict[str, Any]:
    """A structure's manager hands follow-ups (these, or all) from an adviser to a colleague."""
    if not (ctx.agent.has(Role.ACCOUNT_MANAGER) and ctx.org.kind in FOLLOW_UP_ORG_KINDS):
        raise Forbidden("only a follow-up structure's manager hands follow-ups over")
    source, target = _colleague(deps, ctx, from_login), _colleague(deps, ctx, to_login)
    if source.id == target.id:
        raise InvalidRequest("a follow-up is handed over to another adviser")
    today = ctx.today
    running = {ft: a for a, ft in deps.follow_ups.running_assignments(source.id, today)}
    wanted = sorted(running) if ft_ids is None else sorted({parse_ft_id(f) for f in ft_ids})
    if not wanted or any(f not in running for f in wanted):
        raise NotFound()  # one the adviser does not follow: nothing is handed over
    theirs = {ft for _, ft in deps.follow_ups.running_assignments(target.id, today)}
    for ft in wanted:
        assignment = running[ft]
        deps.follow_ups.end_assignment(assignment.id, today - dt.timedelta(days=1))
        if ft not in theirs:
            deps.follow_ups.start_assignment(target.id, assignment.person_id, ctx.org.id, today)
    facts: dict[str, object] = {"from": source.login, "to": target.login, "count": len(wanted)}
    _journal(deps, ctx, Tag.PORTAL_FOLLOW_UP_HANDED_OVER, Decision.ALLOW, wanted, facts)
    _bulk_alert(deps, ctx, len(wanted), f"handed from {source.login} to {target.login}")
    return {"handed_over": len(wanted), "from": source.login, "to": target.login}


def close(deps: PortfolioDeps, ctx: RequestContext, ft_id: str) -> dict[str, Any]:
    """An adviser closes one of their own follow-ups: it ends today (yesterday its last day)."""
    ft_id = parse_ft_id(ft_id)
    if not _adviser(ctx.agent):
        raise Forbidden("only advisers close follow-ups")
    running = {ft: a for a, ft in deps.follow_ups.running_assignments(ctx.agent.id, ctx.today)}
    if ft_id not in running:
        raise NotFound()
    deps.follow_ups.end_assignment(running[ft_id].id, ctx.today - dt.timedelta(days=1))
    _journal(deps, ctx, Tag.PORTAL_FOLLOW_UP_CLOSED, Decision.ALLOW, [ft_id], {})
    return {"ft_id": ft_id, "closed": True}


def request_take_on(
    deps: PortfolioDeps, ctx: RequestContext, ft_id: str, birth_date: dt.date
) -> dict[str, Any]:
    """Ask a person's consent to follow them: a one-time code goes to them, not to the adviser.

    The same answer (202) whether or not the person exists or the birth date matches, and a
    confirmation that matched nobody fails like a wrong code: the request is no lookup of its
    own (the exact lookup is budgeted by the guard).
    """
    ft_id = parse_ft_id(ft_id)
    if not _adviser(ctx.agent):
        raise Forbidden("only advisers take on follow-ups")
    since = ctx.now - dt.timedelta(hours=1)
    if deps.confirmations.confirmations_since(ctx.agent.id, since) >= deps.codes_per_hour:
        raise Throttled("too many confirmations asked: wait before the next one", 600)
    person = deps.persons.person_by_ft_id(ft_id)
    matches = (
        person is not None
        and not person.is_canary
        and person.birth_date == birth_date
        and bool(person.email)
    )
    if matches and person is not None:
        running = {ft for _, ft in deps.follow_ups.running_assignments(ctx.agent.id, ctx.today)}
        if ft_id in running:
            raise Conflict("you already follow this person")
    confirmation_id = secrets.token_urlsafe(24)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    if matches and person is not None:
        deps.confirmations.add_confirmation(
            PersonConfirmation(
                id=confirmation_id,
                purpose=ConfirmationPurpose.TAKE_ON,
                person_id=person.id,
                agent_id=ctx.agent.id,
                org_id=ctx.org.id,
                code_hash=_digest(deps, confirmation_id, code),
                created_at=ctx.now,
                expires_at=ctx.now + deps.code_ttl,
            )
        )
    _journal(
        deps,
        ctx,
        Tag.PORTAL_FOLLOW_UP_CONFIRMATION_SENT,
        Decision.ALLOW if matches else Decision.NOT_FOUND,
        [ft_id],
        {"purpose": str(ConfirmationPurpose.TAKE_ON)},
        reason="" if matches else "details do not match",
    )
    if matches:
        minutes = int(deps.code_ttl.total_seconds() // 60)
        deps.notifier.send_code(
            ft_id,
            "Votre accord pour un suivi",
            f"Bonjour,\n\nUn conseiller de {ctx.org.name} propose de vous accompagner. Si vous "
            f"êtes d'accord, donnez-lui ce code : {code}\n\nIl est valable {minutes} minutes et "
            "ne sert qu'une fois. Si vous n'avez rien demandé, ne le communiquez à personne : "
            "sans ce code, personne ne commence de suivi à votre nom.\n",
            code,
        )
    return {"confirmation_id": confirmation_id, "expires_at": ctx.now + deps.code_ttl}


def confirm_take_on(
    deps: PortfolioDeps, ctx: RequestContext, confirmation_id: str, code: str
) -> dict[str, Any]:
    """The adviser enters the code the person gave them: the follow-up starts today."""
    if not _adviser(ctx.agent):
        raise Forbidden("only advisers take on follow-ups")
    found = deps.confirmations.confirmation(confirmation_id) if len(confirmation_id) <= 64 else None
    if found is None or found.agent_id != ctx.agent.id:
        # Details that matched nobody leave no confirmation: the same answer as a wrong code.
        raise InvalidRequest(_WRONG)
    code = code.strip()
    ok = (
        found.usable(ctx.now, deps.max_attempts)
        and len(code) == CODE_DIGITS
        and hmac.compare_digest(_digest(deps, found.id, code), found.code_hash)
    )
    if not ok:
        failures = deps.confirmations.count_confirmation_failure(found.id)
        _journal(
            deps,
            ctx,
            Tag.PORTAL_FOLLOW_UP_CONFIRMATION_FAILED,
            Decision.DENY,
            [],
            {"failures": failures},
            reason="wrong, used or expired code",
        )
        if failures == deps.max_attempts:
            deps.alerts.raise_alert(
                Alert(
                    at=ctx.now,
                    rule="follow_up_code_guessing",
                    severity=Severity.MEDIUM,
                    explanation=f"{ctx.agent.login} entered {failures} wrong confirmation codes "
                    "for one take-on; the code is void.",
                    agent_login=ctx.agent.login,
                    org_id=ctx.org.id,
                    session_id=ctx.session_id,
                    action_taken="code_voided",
                    evidence={"failures": failures, "limit": deps.max_attempts},
                )
            )
        raise InvalidRequest(_WRONG)
    if not deps.confirmations.consume_confirmation(found.id, ctx.now):
        raise InvalidRequest(_WRONG)
    deps.follow_ups.start_assignment(ctx.agent.id, found.person_id, ctx.org.id, ctx.today)
    person = _ft_id_of(deps, ctx, found.person_id)
    _journal(
        deps,
        ctx,
        Tag.PORTAL_FOLLOW_UP_TAKEN_ON,
        Decision.ALLOW,
        [person],
        {"confirmed_by": "person_code"},
    )
    return {"ft_id": person, "taken_on": True}


def _ft_id_of(deps: PortfolioDeps, ctx: RequestContext, person_id: int) -> str:
    for assignment, ft in deps.follow_ups.running_assignments(ctx.agent.id, ctx.today):
        if assignment.person_id == person_id:
            return ft
    raise NotFound()
