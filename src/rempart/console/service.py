"""The security console's use cases: read an alert, see where an account stands, contain it.

Containment from the console is one click and needs no step-up: speed matters during an
incident, and each action only closes doors (lifting a lock or a suspension is elsewhere and
needs a fresh second factor). Every action is journaled with the officer who took it and the
alert that prompted it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from rempart.governance.model import GovernanceAlert
from rempart.governance.service.deps import GovernanceDeps
from rempart.governance.service.events import alert, record
from rempart.guard.alerts import Alert, Severity
from rempart.guard.ports import AlertSink
from rempart.kernel.actors import Role
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import Forbidden, NotFound
from rempart.kernel.tags import Decision, Tag
from rempart.people.service.deps import PortalDeps
from rempart.signin.model import AccountLock, EndReason
from rempart.signin.service.events import emit
from rempart.signin.service.sessions import end_sessions

TEAM = frozenset({Role.SECURITY_OFFICER, Role.ADMIN})
# The console opens alerts among the most recent ones; older ones are in the journal.
ALERT_WINDOW = 5000


def _team(ctx: RequestContext) -> None:
    if not ctx.agent.roles & TEAM:
        raise Forbidden("only the security team reads alerts")


def alert_by_id(alerts: AlertSink, ctx: RequestContext, alert_id: int) -> Alert:
    """One alert, for the security team."""
    _team(ctx)
    found = next((a for a in alerts.alerts_since(None, ALERT_WINDOW) if a.id == alert_id), None)
    if found is None:
        raise NotFound()
    return found


def alerts_per_rule(
    alerts: AlertSink, ctx: RequestContext, since: dt.datetime
) -> list[tuple[str, int]]:
    """How many alerts each rule raised since ``since``, most frequent first."""
    _team(ctx)
    counts = Counter(a.rule for a in alerts.alerts_since(since, ALERT_WINDOW))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def journal_volumes(
    deps: PortalDeps, ctx: RequestContext, since: dt.datetime, until: dt.datetime
) -> list[tuple[dt.date, str, int]]:
    """Journal entries per (UTC day, organisation): consultations and actions."""
    _team(ctx)
    volumes = getattr(deps.journal, "volumes", None)
    if not callable(volumes):  # a journal that cannot be queried back (write-only sink)
        return []
    rows: list[tuple[dt.date, str, int]] = volumes(since, until)
    return rows


@dataclass(frozen=True, slots=True)
class AccountState:
    """Where an account stands right now, as the console shows it beside an alert."""

    login: str
    org_id: str
    active: bool
    locked: bool
    live_sessions: int
    app: str
    app_enabled: bool


def account_state(gov: GovernanceDeps, ctx: RequestContext, login: str) -> AccountState | None:
    """The account an alert is about (None for alerts raised by the system itself)."""
    _team(ctx)
    agent = gov.directory.agent_by_login(login) if 0 < len(login) <= 64 else None
    if agent is None:
        return None
    org = gov.directory.organisation(agent.org_id)
    creds = gov.auth.credentials.credentials_by_id(agent.id)
    live = gov.auth.sessions.live_of(agent.id, ctx.now)
    return AccountState(
        login=agent.login,
        org_id=agent.org_id,
        active=agent.active,
        locked=bool(creds and creds.locked),
        live_sessions=sum(1 for s in live if s.expiry_reason(ctx.now, gov.auth.policy) is None),
        app=str(org.app) if org else "",
        app_enabled=gov.apps.app_enabled(org.app, org.id) if org else True,
    )


def lock_account(gov: GovernanceDeps, ctx: RequestContext, login: str, alert_id: int) -> int:
    """Lock the account and end its sessions; only an account manager or an admin unlocks it."""
    _team(ctx)
    agent = gov.directory.agent_by_login(login) if 0 < len(login) <= 64 else None
    if agent is None:
        raise NotFound()
    if agent.id == ctx.agent.id:
        raise Forbidden("no one locks their own account from the console")
    reason = f"locked by {ctx.agent.login} (alert {alert_id})"
    gov.auth.locks.lock(AccountLock(agent.id, ctx.now, reason))
    emit(
        gov.auth,
        Tag.AUTH_ACCOUNT_LOCKED,
        Decision.LOCK,
        ctx.client,
        agent=agent,
        session_id=ctx.session_id,
        reason="console containment",
        details={"by": ctx.agent.login, "alert_id": alert_id},
    )
    return end_sessions(
        gov.auth, ctx.client, EndReason.ACCOUNT_LOCKED, actor=ctx.agent, agent_id=agent.id
    )


def suspend_org_app(
    gov: GovernanceDeps, ctx: RequestContext, org_id: str, alert_id: int
) -> dict[str, Any]:
    """Switch the organisation's partner app off and end its sessions (July 2025: one
    training body, not every partner app)."""
    _team(ctx)
    org = gov.directory.organisation(org_id) if 0 < len(org_id) <= 32 else None
    if org is None:
        raise NotFound()
    if org.id == ctx.org.id:
        raise Forbidden("an administrator does not switch off their own organisation")
    gov.apps.set_app_enabled(org.app, org.id, False)
    ended = end_sessions(gov.auth, ctx.client, EndReason.ADMIN, actor=ctx.agent, org_id=org.id)
    facts: dict[str, object] = {
        "app": str(org.app),
        "org_id": org.id,
        "sessions_ended": ended,
        "alert_id": alert_id,
    }
    record(gov, ctx, Tag.ADMIN_APP_SUSPENDED, Decision.REVOKE, details=facts)
    alert(
        gov,
        ctx,
        GovernanceAlert.APP_SUSPENDED,
        Severity.HIGH,
        f"{ctx.agent.login} suspended the {org.app} app for organisation {org.id} from the "
        f"console (alert {alert_id}): {ended} session(s) ended.",
        evidence=facts,
        action_taken="app_suspended",
    )
    return facts
