"""Alerts for the security team: the feed, and its API shape."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rempart.guard.alerts import Alert
from rempart.guard.ports import AlertSink
from rempart.kernel.actors import Role
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import Forbidden

READERS = frozenset({Role.SECURITY_OFFICER, Role.ADMIN})


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
    sink: AlertSink, ctx: RequestContext, since: dt.datetime | None, limit: int = 200
) -> list[dict[str, Any]]:
    """The alert feed, newest first, for security officers and admins only."""
    if not ctx.agent.roles & READERS:
        raise Forbidden("only the security team reads alerts")
    return [alert_json(a) for a in sink.alerts_since(since, limit)]
