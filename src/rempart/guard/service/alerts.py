"""Alerts for the security team: raising them, and reading the feed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rempart.guard.alerts import Alert, Severity
from rempart.kernel.actors import Role
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import Forbidden
from rempart.people.service.deps import PortalDeps

READERS = frozenset({Role.SECURITY_OFFICER, Role.ADMIN})


def raise_for(
    deps: PortalDeps,
    ctx: RequestContext,
    rule: str,
    severity: Severity,
    explanation: str,
    *,
    action_taken: str = "none",
    evidence: dict[str, object] | None = None,
) -> int:
    """Raise an alert about the agent behind ``ctx``; return its id."""
    return deps.alerts.raise_alert(
        Alert(
            at=ctx.now,
            rule=rule,
            severity=severity,
            explanation=explanation,
            action_taken=action_taken,
            agent_login=ctx.agent.login,
            org_id=ctx.org.id,
            session_id=ctx.session_id,
            evidence=evidence or {},
        )
    )


def alert_json(alert: Alert) -> dict[str, Any]:
    """The API shape of an alert (shared/API.md)."""
    return {
        "id": alert.id,
        "at": alert.at.isoformat(),
        "rule": alert.rule,
        "severity": str(alert.severity),
        "agent_login": alert.agent_login,
        "org_id": alert.org_id,
        "action_taken": alert.action_taken,
        "explanation": alert.explanation,
        "evidence": alert.evidence,
    }


def list_alerts(
    deps: PortalDeps, ctx: RequestContext, since: dt.datetime | None, limit: int = 200
) -> list[dict[str, Any]]:
    """The alert feed, newest first, for security officers and admins only."""
    if not ctx.agent.roles & READERS:
        raise Forbidden("only the security team reads alerts")
    return [alert_json(a) for a in deps.alerts.alerts_since(since, limit)]
