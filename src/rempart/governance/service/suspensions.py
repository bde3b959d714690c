"""Kill switches for administrators: one account, one organisation, one organisation's app.

July 2025: to stop one compromised training body, every partner app was closed. Here an
administrator switches off exactly what is compromised, at once: the data gate reads the
state on every request, and the live sessions in that scope are revoked, so that a stolen
session does not come back to life when the switch is lifted. Switching off needs no step-up
(speed matters in an incident); lifting an account's or an organisation's suspension, which
re-opens a door, does (the app switch keeps its original contract). All journaled, alerted.
"""

from __future__ import annotations

from typing import Any

from rempart.governance.model import DisabledReason, GovernanceAlert, RequestStatus
from rempart.governance.service import apps, offboarding
from rempart.governance.service.deps import GovernanceDeps
from rempart.governance.service.events import alert, record
from rempart.guard.alerts import Severity
from rempart.kernel.actors import Agent, App, Role
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import Conflict, Forbidden, NotFound
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import EndReason
from rempart.signin.service.sessions import end_sessions, require_fresh


def _admin(ctx: RequestContext) -> None:
    if not ctx.agent.has(Role.ADMIN):
        raise Forbidden("only an administrator uses the kill switches")


def _account(gov: GovernanceDeps, ctx: RequestContext, login: str) -> Agent:
    _admin(ctx)
    target = gov.directory.agent_by_login(login) if 0 < len(login) <= 64 else None
    if target is None:
        raise NotFound()
    if target.id == ctx.agent.id:
        raise Forbidden("an administrator does not switch off their own account")
    return target


def suspend_account(
    gov: GovernanceDeps, ctx: RequestContext, login: str, reason: str = ""
) -> dict[str, Any]:
    """Suspend one account now: data access stops, sessions end, its pending requests die."""
    target = _account(gov, ctx, login)
    gov.accounts.set_active(target.id, False, str(DisabledReason.SUSPENDED))
    ended = end_sessions(gov.auth, ctx.client, EndReason.ADMIN, actor=ctx.agent, agent_id=target.id)
    cancelled = offboarding.cancel_requests_of(gov, ctx, target.id, "requester suspended")
    facts: dict[str, object] = {"sessions_ended": ended, "requests_cancelled": cancelled}
    record(
        gov,
        ctx,
        Tag.ADMIN_ACCOUNT_SUSPENDED,
        Decision.REVOKE,
        subject=target,
        reason=reason[:200],
        details=facts,
    )
    alert(
        gov,
        ctx,
        GovernanceAlert.ACCOUNT_SUSPENDED,
        Severity.HIGH,
        f"{ctx.agent.login} suspended account {target.login}: {ended} session(s) ended, "
        f"{cancelled} pending request(s) cancelled.",
        evidence={"account": target.login, "account_org_id": target.org_id, **facts},
        action_taken="account_suspended",
    )
    return {"login": target.login, "suspended": True, **facts}


def lift_account(gov: GovernanceDeps, ctx: RequestContext, login: str) -> dict[str, Any]:
    """Lift an administrator's suspension of one account (other reasons are not lifted here)."""
    target = _account(gov, ctx, login)
    require_fresh(ctx)
    standing = gov.standings.standing(target.id)
    if target.active or standing.disabled_reason != DisabledReason.SUSPENDED:
        raise Conflict("this account is not suspended by an administrator")
    gov.accounts.set_active(target.id, True, "")
    record(gov, ctx, Tag.ADMIN_ACCOUNT_LIFTED, Decision.ALLOW, subject=target)
    alert(
        gov,
        ctx,
        GovernanceAlert.ACCOUNT_LIFTED,
        Severity.MEDIUM,
        f"{ctx.agent.login} lifted the suspension of account {target.login}.",
        evidence={"account": target.login, "account_org_id": target.org_id},
        action_taken="account_resumed",
    )
    return {"login": target.login, "suspended": False}


def _org(gov: GovernanceDeps, ctx: RequestContext, org_id: str) -> str:
    _admin(ctx)
    if gov.directory.organisation(org_id) is None:
        raise NotFound()
    if org_id == ctx.org.id:
        raise Forbidden("an administrator does not switch off their own organisation")
    return org_id


def suspend_org(
    gov: GovernanceDeps, ctx: RequestContext, org_id: str, reason: str = ""
) -> dict[str, Any]:
    """Suspend one organisation now: every account of it stops, sessions end, requests die."""
    _org(gov, ctx, org_id)
    changed = gov.org_suspensions.suspend_org(org_id, ctx.agent.login, ctx.now, reason[:500])
    ended = end_sessions(gov.auth, ctx.client, EndReason.ADMIN, actor=ctx.agent, org_id=org_id)
    cancelled = 0
    for request in gov.requests.requests(org_id=org_id, status=RequestStatus.PENDING):
        if gov.requests.decide_request(
            request.id,
            RequestStatus.CANCELLED,
            by_id=ctx.agent.id,
            by_login=ctx.agent.login,
            at=ctx.now,
            reason="organisation suspended",
        ):
            cancelled += 1
    facts: dict[str, object] = {
        "org_id": org_id,
        "sessions_ended": ended,
        "requests_cancelled": cancelled,
        "already_suspended": not changed,
    }
    record(gov, ctx, Tag.ADMIN_ORG_SUSPENDED, Decision.REVOKE, reason=reason[:200], details=facts)
    alert(
        gov,
        ctx,
        GovernanceAlert.ORG_SUSPENDED,
        Severity.HIGH,
        f"{ctx.agent.login} suspended organisation {org_id}: {ended} session(s) ended, "
        f"{cancelled} pending request(s) cancelled.",
        evidence=facts,
        action_taken="organisation_suspended",
    )
    return {"org_id": org_id, "suspended": True, "sessions_ended": ended}


def lift_org(gov: GovernanceDeps, ctx: RequestContext, org_id: str) -> dict[str, Any]:
    """Lift an organisation's suspension."""
    _org(gov, ctx, org_id)
    require_fresh(ctx)
    if not gov.org_suspensions.lift_org(org_id, ctx.agent.login, ctx.now):
        raise Conflict("this organisation is not suspended")
    record(gov, ctx, Tag.ADMIN_ORG_LIFTED, Decision.ALLOW, details={"org_id": org_id})
    alert(
        gov,
        ctx,
        GovernanceAlert.ORG_LIFTED,
        Severity.MEDIUM,
        f"{ctx.agent.login} lifted the suspension of organisation {org_id}.",
        evidence={"org_id": org_id},
        action_taken="organisation_resumed",
    )
    return {"org_id": org_id, "suspended": False}


def switch_app(
    gov: GovernanceDeps, ctx: RequestContext, app: App, org_id: str | None, enabled: bool
) -> dict[str, Any]:
    """Switch one app off (or on) for one organisation or everyone; revoke sessions it served."""
    _admin(ctx)
    result = apps.set_app_enabled(gov, ctx, app, org_id, enabled)
    ended = 0
    if not enabled:
        orgs = [org_id] if org_id is not None else gov.listings.org_ids_using(app)
        for org in orgs:
            found = gov.directory.organisation(org)
            if found is not None and found.app is app:
                ended += end_sessions(
                    gov.auth, ctx.client, EndReason.ADMIN, actor=ctx.agent, org_id=org
                )
    facts: dict[str, object] = {"app": str(app), "org_id": org_id or "*", "sessions_ended": ended}
    scope = f"organisation {org_id}" if org_id else "every organisation"
    alert(
        gov,
        ctx,
        GovernanceAlert.APP_RESUMED if enabled else GovernanceAlert.APP_SUSPENDED,
        Severity.MEDIUM if enabled else Severity.HIGH,
        f"{ctx.agent.login} {'resumed' if enabled else 'suspended'} the {app} app for {scope}"
        + ("." if enabled else f": {ended} session(s) ended."),
        evidence=facts,
        action_taken="app_resumed" if enabled else "app_suspended",
    )
    return {**result, "sessions_ended": ended}
