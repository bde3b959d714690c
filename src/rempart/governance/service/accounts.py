"""Four eyes on accounts: request, approve, deny, cancel; and what managers do to accounts.

An account manager only *requests* an account or a role change; a second authorised person
approves it (domain/governance.py has the rules). Requesting and approving both need a fresh
second-factor proof, every step is journaled, and every privileged change raises an alert.
The created account starts pending enrolment: it reads nothing until its holder has set a
password and a second factor through the one-time link mailed to them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, NoReturn

from rempart.governance import model as g
from rempart.governance.service import enrolment, offboarding
from rempart.governance.service.deps import GovernanceDeps
from rempart.governance.service.events import alert, record
from rempart.guard.alerts import Severity
from rempart.kernel.actors import Agent, Role
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import (
    AccessSuspended,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    Throttled,
)
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import EndReason
from rempart.signin.service import admin as signin_admin
from rempart.signin.service import federation, proofs
from rempart.signin.service.sessions import end_sessions, require_fresh

# Refusals that look like an attempt on the four-eyes rule itself, not a slip of the hand.
_HIGH = frozenset(
    {
        g.Refusal.OTHER_ORGANISATION,
        g.Refusal.NEVER_GRANTABLE_ROLE,
        g.Refusal.SELF_TARGET,
        g.Refusal.SELF_APPROVAL,
        g.Refusal.NEEDS_AGENCY_ADMIN,
        g.Refusal.APPROVER_CREATED_BY_REQUESTER,
        g.Refusal.APPROVER_APPROVED_BY_REQUESTER,
        g.Refusal.REQUESTER_CREATED_BY_APPROVER,
        g.Refusal.REQUESTER_APPROVED_BY_APPROVER,
        g.Refusal.APPROVER_LINKED_TO_REQUESTER,
    }
)
_INPUT = frozenset({g.Refusal.ROLE_NOT_USED_HERE, g.Refusal.NOTHING_TO_CHANGE})


def _refuse(
    gov: GovernanceDeps,
    ctx: RequestContext,
    tag: Tag,
    refusal: g.Refusal,
    details: dict[str, object],
) -> NoReturn:
    """Journal and alert a refused privileged action, then raise the matching error."""
    record(gov, ctx, tag, Decision.DENY, reason=str(refusal), details=details)
    message = g.REFUSAL_MESSAGES[refusal]
    if refusal in _INPUT:
        raise InvalidRequest(message)
    rule = (
        g.GovernanceAlert.APPROVAL_REFUSED
        if tag is Tag.ACCOUNT_APPROVAL_REFUSED
        else g.GovernanceAlert.REQUEST_REFUSED
    )
    alert(
        gov,
        ctx,
        rule,
        Severity.HIGH if refusal in _HIGH else Severity.MEDIUM,
        f"{ctx.agent.login} was refused a privileged action: {message}.",
        evidence={"refusal": str(refusal), **details},
        action_taken="refused",
    )
    if refusal is g.Refusal.NOT_IN_GOOD_STANDING:
        raise AccessSuspended(message)
    raise Forbidden(message)


def _in_good_standing(gov: GovernanceDeps, agent: Agent) -> g.AccountStanding:
    standing = gov.standings.standing(agent.id)
    if not agent.active or standing.enrolment_pending or standing.org_suspended:
        raise AccessSuspended(g.REFUSAL_MESSAGES[g.Refusal.NOT_IN_GOOD_STANDING])
    return standing


def _parse_roles(roles: list[str]) -> frozenset[Role]:
    try:
        return frozenset(Role(r) for r in roles)
    except ValueError:
        raise InvalidRequest(f"roles are among: {', '.join(r.value for r in Role)}") from None


def _roles_list(roles: frozenset[Role]) -> list[str]:
    return sorted(str(r) for r in roles)


def request_json(request: g.AccountRequest, now: dt.datetime) -> dict[str, Any]:
    """The API shape of a request (an expired pending one shows as expired)."""
    status = g.RequestStatus.EXPIRED if request.is_expired(now) else request.status
    return {
        "request_id": request.id,
        "kind": str(request.kind),
        "status": str(status),
        "org_id": request.org_id,
        "login": request.login,
        "email": request.email,
        "grant": _roles_list(request.grant),
        "revoke": _roles_list(request.revoke),
        "requested_by": request.requested_by_login,
        "created_at": request.created_at.isoformat(),
        "expires_at": request.expires_at.isoformat(),
        "decided_by": request.decided_by_login or None,
        "decided_at": request.decided_at.isoformat() if request.decided_at else None,
        "reason": request.reason,
    }


def _throttle(gov: GovernanceDeps, ctx: RequestContext) -> None:
    """Refuse (and alert) a burst of requests, or one over the weekly cap."""
    since = ctx.now - dt.timedelta(days=7)
    times = gov.requests.request_times(ctx.agent.id, since)
    throttle = g.request_throttle(times, ctx.now, gov.rules)
    if throttle is None:
        return
    details: dict[str, object] = {
        "limit": throttle.limit,
        "observed": throttle.observed,
        "threshold": throttle.threshold,
        "window": (
            f"{int(gov.rules.burst_window.total_seconds() // 60)} minutes"
            if throttle.limit == "burst"
            else "7 days"
        ),
    }
    record(gov, ctx, Tag.ACCOUNT_REQUEST_THROTTLED, Decision.THROTTLE, details=details)
    rule = (
        g.GovernanceAlert.REQUEST_BURST
        if throttle.limit == "burst"
        else g.GovernanceAlert.WEEKLY_CAP
    )
    alert(
        gov,
        ctx,
        rule,
        Severity.HIGH,
        f"{ctx.agent.login} made {throttle.observed} account requests within "
        f"{details['window']} (limit {throttle.threshold}); further requests are refused.",
        evidence=details,
        action_taken="throttled",
    )
    raise Throttled("too many account requests: wait before the next one", throttle.retry_after)


def _new_request(
    gov: GovernanceDeps,
    ctx: RequestContext,
    kind: g.RequestKind,
    *,
    org_id: str,
    login: str,
    email: str,
    grant: frozenset[Role],
    revoke: frozenset[Role],
    target: Agent | None,
) -> dict[str, Any]:
    _in_good_standing(gov, ctx.agent)
    require_fresh(ctx)
    _throttle(gov, ctx)
    request = g.AccountRequest(
        id=secrets.token_hex(16),
        kind=kind,
        org_id=org_id,
        requested_by=ctx.agent.id,
        requested_by_login=ctx.agent.login,
        login=login,
        email=email,
        grant=grant,
        revoke=revoke,
        created_at=ctx.now,
        expires_at=ctx.now + gov.rules.request_ttl,
        target_agent_id=target.id if target is not None else None,
    )
    gov.requests.add_request(request)
    facts: dict[str, object] = {
        "request_id": request.id,
        "kind": str(kind),
        "login": login,
        "org_id": org_id,
        "grant": _roles_list(grant),
        "revoke": _roles_list(revoke),
    }
    record(gov, ctx, Tag.ACCOUNT_REQUEST_CREATED, Decision.ALLOW, details=facts)
    creating = kind is g.RequestKind.CREATE_ACCOUNT
    alert(
        gov,
        ctx,
        g.GovernanceAlert.ACCOUNT_REQUESTED
        if creating
        else g.GovernanceAlert.ROLES_CHANGE_REQUESTED,
        Severity.HIGH if request.privileged else Severity.MEDIUM,
        (
            f"{ctx.agent.login} requested a new account {login} in {org_id} "
            f"with roles {', '.join(_roles_list(grant))}; it waits for a second person's approval."
            if creating
            else f"{ctx.agent.login} requested a role change for {login} in {org_id}; "
            "it waits for a second person's approval."
        ),
        evidence=facts,
    )
    return {
        "request_id": request.id,
        "status": str(g.RequestStatus.PENDING),
        "expires_at": request.expires_at.isoformat(),
    }


def request_account(
    gov: GovernanceDeps,
    ctx: RequestContext,
    login: str,
    email: str,
    roles: list[str],
    org_id: str | None = None,
) -> dict[str, Any]:
    """An account manager requests a new account in their organisation (pending approval)."""
    org = ctx.org
    grant = _parse_roles(roles)
    if org_id is not None and org_id != ctx.org.id:
        if not g.is_agency_admin(ctx.agent):
            # Only an agency administrator works across organisations; for anyone else an
            # unknown and a foreign organisation get the very same refusal, journaled and
            # alerted alike, before the organisation is even looked up (pentest finding 6).
            asked: dict[str, object] = {
                "login": login,
                "org_id": org_id[:32],
                "grant": _roles_list(grant),
            }
            _refuse(gov, ctx, Tag.ACCOUNT_REQUEST_REFUSED, g.Refusal.OTHER_ORGANISATION, asked)
        found = gov.directory.organisation(org_id)
        if found is None:
            raise NotFound()
        org = found
    facts: dict[str, object] = {"login": login, "org_id": org.id, "grant": _roles_list(grant)}
    refusal = g.request_refusal(ctx.agent, org.id, org.kind, grant)
    if refusal is not None:
        _refuse(gov, ctx, Tag.ACCOUNT_REQUEST_REFUSED, refusal, facts)
    for problem in (g.login_problem(login), g.email_problem(email)):
        if problem:
            raise InvalidRequest(problem)
    if gov.requests.login_taken(login):
        raise Conflict("this login is already in use or requested")
    return _new_request(
        gov,
        ctx,
        g.RequestKind.CREATE_ACCOUNT,
        org_id=org.id,
        login=login,
        email=email,
        grant=grant,
        revoke=frozenset(),
        target=None,
    )


def _target(gov: GovernanceDeps, ctx: RequestContext, login: str, tag: Tag) -> Agent:
    """The account ``login`` if the caller manages its organisation; else 404, journaled."""
    target = gov.directory.agent_by_login(login) if 0 < len(login) <= 64 else None
    if target is None:
        raise NotFound()
    if not g.may_manage(ctx.agent, target.org_id):
        # Another organisation's account: answered as absent, but an attempt worth seeing.
        record(
            gov,
            ctx,
            tag,
            Decision.NOT_FOUND,
            reason=str(g.Refusal.OTHER_ORGANISATION),
            details={"login": login},
        )
        raise NotFound()
    return target


def request_role_change(
    gov: GovernanceDeps,
    ctx: RequestContext,
    login: str,
    grant: list[str],
    revoke: list[str],
) -> dict[str, Any]:
    """An account manager requests roles granted to or removed from an existing account."""
    if not (ctx.agent.has(Role.ACCOUNT_MANAGER) or g.is_agency_admin(ctx.agent)):
        _refuse(
            gov, ctx, Tag.ACCOUNT_REQUEST_REFUSED, g.Refusal.NOT_ACCOUNT_MANAGER, {"login": login}
        )
    target = _target(gov, ctx, login, Tag.ACCOUNT_REQUEST_REFUSED)
    to_grant, to_revoke = _parse_roles(grant), _parse_roles(revoke)
    facts: dict[str, object] = {
        "login": login,
        "org_id": target.org_id,
        "grant": _roles_list(to_grant),
        "revoke": _roles_list(to_revoke),
    }
    refusal = g.request_refusal(
        ctx.agent, target.org_id, target.org_kind, to_grant, to_revoke, target
    )
    if refusal is not None:
        _refuse(gov, ctx, Tag.ACCOUNT_REQUEST_REFUSED, refusal, facts)
    return _new_request(
        gov,
        ctx,
        g.RequestKind.CHANGE_ROLES,
        org_id=target.org_id,
        login=target.login,
        email=target.email,
        grant=to_grant - target.roles,
        revoke=to_revoke & target.roles,
        target=target,
    )


def _visible_request(gov: GovernanceDeps, ctx: RequestContext, request_id: str) -> g.AccountRequest:
    request = gov.requests.request(request_id) if 0 < len(request_id) <= 32 else None
    if request is None or not g.may_see_request(ctx.agent, request):
        raise NotFound()
    return request


def list_requests(
    gov: GovernanceDeps, ctx: RequestContext, status: str | None = "pending_approval"
) -> list[dict[str, Any]]:
    """Requests the caller may see: their organisation's (managers), or all (agency side)."""
    agent = ctx.agent
    everywhere = g.is_agency_admin(agent) or agent.has(Role.SECURITY_OFFICER)
    if not (everywhere or agent.has(Role.ACCOUNT_MANAGER)):
        raise Forbidden("only account managers, administrators and security officers see requests")
    try:
        wanted = g.RequestStatus(status) if status else None
    except ValueError:
        raise InvalidRequest("unknown request status") from None
    org_id = None if everywhere else agent.org_id
    # Expired ones are still stored as pending until the job passes: filter on the fly.
    stored = g.RequestStatus.PENDING if wanted is g.RequestStatus.EXPIRED else wanted
    found = gov.requests.requests(org_id=org_id, status=stored)
    standing = gov.standings.standing(agent.id)
    out = []
    for request in found:
        item = request_json(request, ctx.now)
        if wanted is not None and item["status"] != str(wanted):
            continue
        item["may_approve"] = (
            item["status"] == str(g.RequestStatus.PENDING)
            and g.approval_refusal(
                request,
                agent,
                standing,
                ctx.now,
                gov.rules,
                gov.standings.standing(request.requested_by),
                linked_to(gov, request.requested_by, ctx.now),
            )
            is None
        )
        out.append(item)
    return out


def get_request(gov: GovernanceDeps, ctx: RequestContext, request_id: str) -> dict[str, Any]:
    """One request, for those who may see it."""
    return request_json(_visible_request(gov, ctx, request_id), ctx.now)


def _expire(gov: GovernanceDeps, request: g.AccountRequest, at: dt.datetime) -> bool:
    if not gov.requests.decide_request(
        request.id, g.RequestStatus.EXPIRED, by_id=None, by_login="", at=at, reason="expired"
    ):
        return False
    record(
        gov,
        None,
        Tag.ACCOUNT_REQUEST_EXPIRED,
        Decision.DENY,
        reason="expired",
        details={"request_id": request.id, "login": request.login, "org_id": request.org_id},
        at=at,
    )
    return True


def expire_requests(gov: GovernanceDeps, now: dt.datetime) -> int:
    """Expire every pending request past its validity; return how many (a scheduled job)."""
    expired = 0
    for request in gov.requests.expired_requests(now):
        with gov.transactions.unit_of_work():
            expired += _expire(gov, request, now)
    return expired


def linked_to(gov: GovernanceDeps, agent_id: int, now: dt.datetime) -> frozenset[int]:
    """The accounts tied to ``agent_id`` by who created whom, transitively: through the
    accounts created within the probation window (the direct links count at any age, and the
    direct approval links are the rule's own checks).

    Creation is followed, approval only directly: the approver of a request is by construction
    tied to its requester through the account it approved, and one busy administrator
    approves accounts that have nothing to do with each other. What the rule must cut is one
    person's creatures approving for each other or for their creator (Dec 2025).
    """
    since = now - gov.rules.probation

    def recent(account_id: int) -> bool:
        agent = gov.directory.agent_by_id(account_id)
        return agent is not None and agent.created_at is not None and agent.created_at >= since

    def creators_and_creatures(account_id: int) -> list[int]:
        direct = account_id == agent_id
        links = list(gov.standings.created_by_since(account_id, since))
        if direct or recent(account_id):
            creator = gov.standings.standing(account_id).created_by
            # The bootstrap is no account: the first two administrators are not each other's
            # creatures for having been created by the same installation.
            links += [creator] if creator not in (None, g.BOOTSTRAP_ACTOR) else []
        return links

    return g.linked_accounts(agent_id, creators_and_creatures)


def approve(gov: GovernanceDeps, ctx: RequestContext, request_id: str) -> dict[str, Any]:
    """A second authorised person approves a request; it takes effect now."""
    request = _visible_request(gov, ctx, request_id)
    facts: dict[str, object] = {
        "request_id": request.id,
        "requested_by": request.requested_by_login,
        "login": request.login,
        "org_id": request.org_id,
        "grant": _roles_list(request.grant),
        "revoke": _roles_list(request.revoke),
    }
    standing = gov.standings.standing(ctx.agent.id)
    provenance = gov.standings.standing(request.requested_by)
    refusal = g.approval_refusal(
        request,
        ctx.agent,
        standing,
        ctx.now,
        gov.rules,
        provenance,
        linked_to(gov, request.requested_by, ctx.now),
    )
    if refusal is not None:
        _refuse(gov, ctx, Tag.ACCOUNT_APPROVAL_REFUSED, refusal, facts)
    if not ctx.agent.active or standing.enrolment_pending or standing.org_suspended:
        _refuse(gov, ctx, Tag.ACCOUNT_APPROVAL_REFUSED, g.Refusal.NOT_IN_GOOD_STANDING, facts)
    require_fresh(ctx)
    if request.is_expired(ctx.now):
        _expire(gov, request, ctx.now)
        raise Conflict("this request has expired: ask for a new one")
    if request.status is not g.RequestStatus.PENDING:
        raise Conflict(f"this request is already {request.status}")
    requester = gov.directory.agent_by_id(request.requested_by)
    if requester is None or not requester.active:
        # The requester was suspended or left since: their pending requests die with them.
        gov.requests.decide_request(
            request.id,
            g.RequestStatus.DENIED,
            by_id=ctx.agent.id,
            by_login=ctx.agent.login,
            at=ctx.now,
            reason="requester no longer active",
        )
        record(gov, ctx, Tag.ACCOUNT_REQUEST_DENIED, Decision.DENY, details=facts)
        raise Conflict("the requester's account is no longer active")
    if request.kind is g.RequestKind.CREATE_ACCOUNT:
        return _approve_creation(gov, ctx, request, facts)
    return _approve_role_change(gov, ctx, request, facts)


def _decide_approved(
    gov: GovernanceDeps,
    ctx: RequestContext,
    request: g.AccountRequest,
    created_agent_id: int | None = None,
) -> None:
    if not gov.requests.decide_request(
        request.id,
        g.RequestStatus.APPROVED,
        by_id=ctx.agent.id,
        by_login=ctx.agent.login,
        at=ctx.now,
        created_agent_id=created_agent_id,
    ):
        raise Conflict("this request was decided meanwhile")


def _approve_creation(
    gov: GovernanceDeps, ctx: RequestContext, request: g.AccountRequest, facts: dict[str, object]
) -> dict[str, Any]:
    if gov.directory.agent_by_login(request.login) is not None:
        raise Conflict("this login was taken meanwhile")
    # Decide first: of two concurrent approvals only one gets past this line.
    _decide_approved(gov, ctx, request)
    agent_id = gov.accounts.create_agent(
        request.login,
        request.email,
        request.org_id,
        request.grant,
        created_by=request.requested_by,
        approved_by=ctx.agent.id,
        at=ctx.now,
        # The newcomer must show a security-training attestation within the grace period.
        training_valid_until=(ctx.now + gov.rules.training_grace).date(),
    )
    created = gov.directory.agent_by_id(agent_id)
    assert created is not None
    facts = {**facts, "approved_by": ctx.agent.login}
    record(gov, ctx, Tag.ACCOUNT_REQUEST_APPROVED, Decision.ALLOW, subject=created, details=facts)
    record(gov, ctx, Tag.ACCOUNT_AGENT_CREATED, Decision.ALLOW, subject=created, details=facts)
    alert(
        gov,
        ctx,
        g.GovernanceAlert.ACCOUNT_CREATED,
        Severity.HIGH if request.privileged else Severity.MEDIUM,
        f"Account {request.login} was created in {request.org_id} with roles "
        f"{', '.join(_roles_list(request.grant))}: requested by {request.requested_by_login}, "
        f"approved by {ctx.agent.login}; it reads nothing until it enrols a second factor.",
        evidence=facts,
        action_taken="account_created_pending_enrolment",
    )
    sent = enrolment.send_link(gov, ctx, created)
    return {
        "status": str(g.RequestStatus.APPROVED),
        "request_id": request.id,
        "login": request.login,
        "enrolment_link_sent": sent,
    }


def _approve_role_change(
    gov: GovernanceDeps, ctx: RequestContext, request: g.AccountRequest, facts: dict[str, object]
) -> dict[str, Any]:
    target = (
        gov.directory.agent_by_id(request.target_agent_id)
        if request.target_agent_id is not None
        else None
    )
    if target is None:
        raise Conflict("the account of this request no longer exists")
    _decide_approved(gov, ctx, request)
    roles = (target.roles | request.grant) - request.revoke
    gov.accounts.set_roles(target.id, roles)
    facts = {**facts, "approved_by": ctx.agent.login, "roles_now": _roles_list(roles)}
    record(gov, ctx, Tag.ACCOUNT_REQUEST_APPROVED, Decision.ALLOW, subject=target, details=facts)
    if request.grant:
        record(gov, ctx, Tag.ACCOUNT_ROLE_GRANTED, Decision.ALLOW, subject=target, details=facts)
    if request.revoke:
        record(gov, ctx, Tag.ACCOUNT_ROLE_REVOKED, Decision.ALLOW, subject=target, details=facts)
    alert(
        gov,
        ctx,
        g.GovernanceAlert.ROLES_CHANGED,
        Severity.HIGH if request.privileged else Severity.MEDIUM,
        f"Roles of {target.login} changed (granted: {', '.join(_roles_list(request.grant)) or '-'};"
        f" removed: {', '.join(_roles_list(request.revoke)) or '-'}): requested by "
        f"{request.requested_by_login}, approved by {ctx.agent.login}.",
        evidence=facts,
        action_taken="roles_changed",
    )
    return {
        "status": str(g.RequestStatus.APPROVED),
        "request_id": request.id,
        "login": target.login,
        "roles": _roles_list(roles),
    }


def deny(
    gov: GovernanceDeps, ctx: RequestContext, request_id: str, reason: str = ""
) -> dict[str, Any]:
    """Another authorised person turns a request down (its requester cancels instead)."""
    request = _visible_request(gov, ctx, request_id)
    if not g.may_manage(ctx.agent, request.org_id) or ctx.agent.id == request.requested_by:
        raise Forbidden("a request is denied by another account manager or an administrator")
    if request.status is not g.RequestStatus.PENDING or request.is_expired(ctx.now):
        raise Conflict("this request is no longer pending")
    if not gov.requests.decide_request(
        request.id,
        g.RequestStatus.DENIED,
        by_id=ctx.agent.id,
        by_login=ctx.agent.login,
        at=ctx.now,
        reason=reason,
    ):
        raise Conflict("this request was decided meanwhile")
    record(
        gov,
        ctx,
        Tag.ACCOUNT_REQUEST_DENIED,
        Decision.DENY,
        reason=reason[:200],
        details={"request_id": request.id, "login": request.login, "org_id": request.org_id},
    )
    return {"status": str(g.RequestStatus.DENIED), "request_id": request.id}


def cancel(gov: GovernanceDeps, ctx: RequestContext, request_id: str) -> dict[str, Any]:
    """The requester (or an agency administrator) withdraws a pending request."""
    request = _visible_request(gov, ctx, request_id)
    if ctx.agent.id != request.requested_by and not g.is_agency_admin(ctx.agent):
        raise Forbidden("only the requester cancels a request")
    if request.status is not g.RequestStatus.PENDING or request.is_expired(ctx.now):
        raise Conflict("this request is no longer pending")
    if not gov.requests.decide_request(
        request.id,
        g.RequestStatus.CANCELLED,
        by_id=ctx.agent.id,
        by_login=ctx.agent.login,
        at=ctx.now,
        reason="cancelled",
    ):
        raise Conflict("this request was decided meanwhile")
    record(
        gov,
        ctx,
        Tag.ACCOUNT_REQUEST_CANCELLED,
        Decision.ALLOW,
        details={"request_id": request.id, "login": request.login, "org_id": request.org_id},
    )
    return {"status": str(g.RequestStatus.CANCELLED), "request_id": request.id}


# --- What managers do to existing accounts ------------------------------------------------


def _managed_target(gov: GovernanceDeps, ctx: RequestContext, login: str, tag: Tag) -> Agent:
    if not (ctx.agent.has(Role.ACCOUNT_MANAGER) or g.is_agency_admin(ctx.agent)):
        raise Forbidden("only account managers and agency administrators manage accounts")
    target = _target(gov, ctx, login, tag)
    if target.id == ctx.agent.id:
        _refuse(gov, ctx, tag, g.Refusal.SELF_TARGET, {"login": login})
    if target.roles & g.NEVER_GRANTABLE and not g.is_agency_admin(ctx.agent):
        # An account manager does not reset, unlock or attest the national roles' accounts.
        _refuse(gov, ctx, tag, g.Refusal.NEVER_GRANTABLE_ROLE, {"login": login})
    return target


def account_json(agent: Agent, standing: g.AccountStanding) -> dict[str, Any]:
    """What an account manager sees of an account of their organisation."""
    return {
        "login": agent.login,
        "email": agent.email,
        "org_id": agent.org_id,
        "roles": _roles_list(agent.roles),
        "active": agent.active,
        "disabled_reason": standing.disabled_reason or None,
        "enrolment_pending": standing.enrolment_pending,
        "probation_until": standing.probation_until.isoformat()
        if standing.probation_until
        else None,
        "training_valid_until": agent.training_valid_until.isoformat()
        if agent.training_valid_until
        else None,
        "end_date": agent.end_date.isoformat() if agent.end_date else None,
        "last_used_at": standing.last_used_at.isoformat() if standing.last_used_at else None,
        "created_at": agent.created_at.isoformat() if agent.created_at else None,
    }


def list_accounts(
    gov: GovernanceDeps, ctx: RequestContext, org_id: str | None = None
) -> list[dict[str, Any]]:
    """The accounts of the caller's organisation (an agency administrator names one)."""
    org = org_id or ctx.org.id
    if not g.may_manage(ctx.agent, org):
        raise Forbidden("only the organisation's account managers list its accounts")
    return [
        account_json(agent, gov.standings.standing(agent.id))
        for agent in gov.listings.agents_of_org(org)
    ]


def record_training(
    gov: GovernanceDeps, ctx: RequestContext, login: str, valid_until: dt.date
) -> dict[str, Any]:
    """The organisation records a renewed security-training attestation for an account."""
    target = _managed_target(gov, ctx, login, Tag.ACCOUNT_TRAINING_ATTESTED)
    problem = g.training_attestation_problem(valid_until, ctx.today, gov.rules)
    if problem:
        raise InvalidRequest(problem)
    _in_good_standing(gov, ctx.agent)
    require_fresh(ctx)
    gov.accounts.set_training_valid_until(target.id, valid_until)
    facts: dict[str, object] = {
        "valid_until": valid_until.isoformat(),
        "previous": target.training_valid_until.isoformat()
        if target.training_valid_until
        else None,
    }
    record(gov, ctx, Tag.ACCOUNT_TRAINING_ATTESTED, Decision.ALLOW, subject=target, details=facts)
    # An attestation reopens data access: every change is alerted (pentest finding 7).
    alert(
        gov,
        ctx,
        g.GovernanceAlert.TRAINING_ATTESTED,
        Severity.MEDIUM if target.privileged else Severity.LOW,
        f"{ctx.agent.login} recorded a security-training attestation for {target.login}, "
        f"valid until {valid_until.isoformat()}.",
        evidence={"account": target.login, **facts},
        action_taken="training_attested",
    )
    return {"login": target.login, "training_valid_until": valid_until.isoformat()}


def set_end_date(
    gov: GovernanceDeps, ctx: RequestContext, login: str, end_date: dt.date
) -> dict[str, Any]:
    """Declare a leaver: the account is disabled on its end date (by the scheduled job)."""
    target = _managed_target(gov, ctx, login, Tag.ACCOUNT_END_DATE_SET)
    if end_date < ctx.today:
        raise InvalidRequest("an end date is today or later")
    _in_good_standing(gov, ctx.agent)
    # An end date today disables the account at once: a stale session alone must not do it.
    require_fresh(ctx)
    gov.accounts.set_end_date(target.id, end_date)
    facts: dict[str, object] = {
        "end_date": end_date.isoformat(),
        "previous": target.end_date.isoformat() if target.end_date else None,
    }
    record(gov, ctx, Tag.ACCOUNT_END_DATE_SET, Decision.ALLOW, subject=target, details=facts)
    alert(
        gov,
        ctx,
        g.GovernanceAlert.END_DATE_SET,
        Severity.HIGH if target.privileged else Severity.MEDIUM,
        f"{ctx.agent.login} set the end date of {target.login} to {end_date.isoformat()}.",
        evidence={"account": target.login, **facts},
        action_taken="end_date_set",
    )
    updated = gov.directory.agent_by_id(target.id)
    if updated is not None and end_date == ctx.today:
        offboarding.disable_leaver(gov, updated, ctx.now)
    return {"login": target.login, "end_date": end_date.isoformat()}


def unlock(gov: GovernanceDeps, ctx: RequestContext, login: str) -> dict[str, Any]:
    """Unlock an account locked after failures (sign-in's rule), and alert the security team."""
    target = _managed_target(gov, ctx, login, Tag.ACCOUNT_AGENT_UNLOCKED)
    creds = gov.auth.credentials.credentials_by_id(target.id)
    was_locked = creds is not None and creds.locked
    signin_admin.unlock(gov.auth, ctx, login)
    if was_locked:
        record(gov, ctx, Tag.ACCOUNT_AGENT_UNLOCKED, Decision.ALLOW, subject=target)
        alert(
            gov,
            ctx,
            g.GovernanceAlert.ACCOUNT_UNLOCKED,
            Severity.MEDIUM,
            f"{ctx.agent.login} unlocked account {target.login}.",
            evidence={"account": target.login, "account_org_id": target.org_id},
            action_taken="account_unlocked",
        )
    return {"login": target.login, "locked": False}


def reset_factors(gov: GovernanceDeps, ctx: RequestContext, login: str) -> dict[str, Any]:
    """Erase an account's password and second factors and mail it a new enrolment link.

    The manager never chooses nor learns the new credentials (ASVS V6.4.6): the link goes to
    the address on record, and the account reads nothing until it has enrolled again.
    """
    target = _managed_target(gov, ctx, login, Tag.ACCOUNT_FACTORS_RESET)
    _in_good_standing(gov, ctx.agent)
    require_fresh(ctx)
    offboarding.erase_all_factors(gov, target, ctx.now)
    ended = end_sessions(gov.auth, ctx.client, EndReason.ADMIN, actor=ctx.agent, agent_id=target.id)
    record(
        gov,
        ctx,
        Tag.ACCOUNT_FACTORS_RESET,
        Decision.ALLOW,
        subject=target,
        details={"sessions_ended": ended},
    )
    alert(
        gov,
        ctx,
        g.GovernanceAlert.FACTORS_RESET,
        Severity.HIGH if target.privileged else Severity.MEDIUM,
        f"{ctx.agent.login} reset the sign-in factors of {target.login}; "
        "a new enrolment link went to the address on record.",
        evidence={"account": target.login, "sessions_ended": ended},
        action_taken="factors_erased_sessions_revoked",
    )
    sent = enrolment.send_link(gov, ctx, target)
    return {"login": target.login, "enrolment_link_sent": sent, "sessions_ended": ended}


def approve_first_key(gov: GovernanceDeps, ctx: RequestContext, login: str) -> dict[str, Any]:
    """A second person lets a privileged account register its first passkey (for a day)."""
    target = gov.directory.agent_by_login(login) if 0 < len(login) <= 64 else None
    if target is None:
        raise NotFound()
    facts: dict[str, object] = {"login": login, "account_org_id": target.org_id}
    if not (
        ctx.agent.has(Role.SECURITY_OFFICER)
        or g.is_agency_admin(ctx.agent)
        or g.may_manage(ctx.agent, target.org_id)
    ):
        raise NotFound()  # another organisation's account: as absent
    refusal = g.first_key_refusal(
        ctx.agent,
        target,
        gov.standings.standing(ctx.agent.id),
        gov.standings.standing(target.id),
    )
    if refusal is None and ctx.agent.id in linked_to(gov, target.id, ctx.now):
        refusal = g.Refusal.APPROVER_LINKED_TO_REQUESTER
    if refusal is not None:
        _refuse(gov, ctx, Tag.ACCOUNT_APPROVAL_REFUSED, refusal, facts)
    _in_good_standing(gov, ctx.agent)
    require_fresh(ctx)
    if not target.privileged:
        raise Conflict("only a privileged account's first passkey needs an approval")
    if gov.auth.webauthn_keys.webauthn_credentials(target.id):
        raise Conflict("this account already has a passkey")
    until = proofs.approve_first_key(gov.auth, ctx, target)
    return {"login": target.login, "approved_until": until.isoformat()}


def resend_enrolment_link(gov: GovernanceDeps, ctx: RequestContext, login: str) -> dict[str, Any]:
    """Send a fresh link (revoking the previous one) to an account still pending enrolment."""
    target = _managed_target(gov, ctx, login, Tag.ACCOUNT_ENROLMENT_SENT)
    if not gov.standings.standing(target.id).enrolment_pending:
        raise Conflict("this account has already enrolled")
    _in_good_standing(gov, ctx.agent)
    return {"login": target.login, "enrolment_link_sent": enrolment.send_link(gov, ctx, target)}


# --- Federated identities ----------------------------------------------------------------


def link_refusal(gov: GovernanceDeps, agent: Agent) -> str | None:
    """Why a federated identity may not be linked to ``agent``, or None.

    Dec 2025: the rogue accounts were created *through* the federation. An identity only
    links to an account that went through the four-eyes flow, is active and has enrolled.
    """
    standing = gov.standings.standing(agent.id)
    if not standing.went_through_four_eyes:
        return "this account was not created through an approved request"
    if not agent.active or standing.org_suspended:
        return "this account is suspended"
    if standing.enrolment_pending:
        return "this account has not enrolled its second factor yet"
    return None


def link_federated_identity(
    gov: GovernanceDeps, ctx: RequestContext, login: str, issuer: str, subject: str
) -> dict[str, Any]:
    """Link a provider identity to an approved account; refuse any other account."""
    if not g.is_agency_admin(ctx.agent):
        raise Forbidden("only agency administrators link federated identities")
    target = gov.directory.agent_by_login(login) if 0 < len(login) <= 64 else None
    if target is None:
        raise NotFound()
    facts: dict[str, object] = {"issuer": issuer, "subject": subject}
    problem = link_refusal(gov, target)
    if problem is not None:
        record(
            gov,
            ctx,
            Tag.ACCOUNT_IDENTITY_REFUSED,
            Decision.DENY,
            subject=target,
            reason=problem,
            details=facts,
        )
        alert(
            gov,
            ctx,
            g.GovernanceAlert.IDENTITY_REFUSED,
            Severity.HIGH,
            f"Linking a federated identity to {target.login} was refused: {problem}.",
            evidence={"account": target.login, **facts},
            action_taken="refused",
        )
        raise Forbidden(problem)
    require_fresh(ctx)
    federation.link(gov.auth, target.id, issuer, subject, ctx.now)
    record(gov, ctx, Tag.ACCOUNT_IDENTITY_LINKED, Decision.ALLOW, subject=target, details=facts)
    alert(
        gov,
        ctx,
        g.GovernanceAlert.IDENTITY_LINKED,
        Severity.MEDIUM,
        f"{ctx.agent.login} linked a federated identity from {issuer} to {target.login}.",
        evidence={"account": target.login, **facts},
    )
    return {"login": target.login, "issuer": issuer, "subject": subject}


# --- Inventory ---------------------------------------------------------------------------

INVENTORY_READERS = frozenset({Role.SECURITY_OFFICER, Role.ADMIN})


def _factors(gov: GovernanceDeps, agent: Agent) -> tuple[list[str], int]:
    auth = gov.auth
    creds = auth.credentials.credentials_by_id(agent.id)
    keys = len(auth.webauthn_keys.webauthn_credentials(agent.id))
    factors = []
    if creds is not None and creds.password_hash:
        factors.append("password")
    if creds is not None and creds.totp_secret:
        factors.append("totp")
    if keys:
        factors.append("webauthn")
    if auth.recovery_codes.recovery_codes_left(agent.id):
        factors.append("recovery_code")
    if auth.identities.identities_of(agent.id):
        factors.append("federated")
    return factors, keys


def privileged_inventory(gov: GovernanceDeps, ctx: RequestContext) -> list[dict[str, Any]]:
    """Every privileged account: roles, last use, factors, who created and approved it, and
    the requests still open by or about it (for the security team)."""
    if not ctx.agent.roles & INVENTORY_READERS:
        raise Forbidden("only the security team and administrators read the inventory")
    logins: dict[int, str | None] = {}

    def login_of(agent_id: int | None) -> str | None:
        if agent_id is None:
            return None
        if agent_id not in logins:
            found = gov.directory.agent_by_id(agent_id)
            logins[agent_id] = found.login if found else None
        return logins[agent_id]

    pending = g.RequestStatus.PENDING
    out = []
    for agent, standing in gov.listings.privileged_accounts():
        factors, keys = _factors(gov, agent)
        made = gov.requests.requests(requested_by=agent.id, status=pending)
        about = gov.requests.requests(target_agent_id=agent.id, status=pending)
        out.append(
            {
                **account_json(agent, standing),
                "org_kind": str(agent.org_kind),
                "privileged_roles": _roles_list(
                    agent.roles & (g.NEVER_GRANTABLE | {Role.ACCOUNT_MANAGER})
                ),
                "factors": factors,
                "security_keys": keys,
                "created_by": login_of(standing.created_by),
                "approved_by": login_of(standing.approved_by),
                "four_eyes": standing.went_through_four_eyes,
                "open_requests": {
                    "made": [r.id for r in made if not r.is_expired(ctx.now)],
                    "about": [r.id for r in about if not r.is_expired(ctx.now)],
                },
            }
        )
    return out
