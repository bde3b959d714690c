"""The alert feed, which only the security team reads.

ASVS 5.0: V8.2.1 (function-level access: only security officers and admins read alerts),
V16.3.x (security events carry who, where and why).
"""

from __future__ import annotations

import datetime as dt

import pytest

from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.guard.alerts import Alert, Severity
from rempart.guard.service import alerts
from rempart.kernel.actors import Organisation, OrgKind, Role
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.errors import Forbidden
from tests.factories import NOW, make_agent


def raise_one(sink: MemoryAlertStore, at: dt.datetime = NOW) -> int:
    return sink.raise_alert(
        Alert(
            at=at,
            rule="r",
            severity=Severity.LOW,
            explanation="x",
            action_taken="none",
            agent_login="ml.adv",
            org_id="ml-nord",
            session_id="s-1",
        )
    )


def ctx(*roles: Role, at: dt.datetime = NOW) -> RequestContext:
    agent = make_agent(OrgKind.MISSION_LOCALE, set(roles), login=f"who.{'-'.join(roles)}")
    org = Organisation(agent.org_id, OrgKind.MISSION_LOCALE, "ML Nord", "00000000000000")
    return RequestContext(agent, org, "s-42", ClientInfo("192.0.2.1"), at)


@pytest.mark.parametrize("role", [Role.SECURITY_OFFICER, Role.ADMIN])
def test_the_security_team_reads_the_feed_newest_first(role: Role) -> None:
    """V8.2.1: security officers and admins read the feed."""
    sink = MemoryAlertStore()
    for minutes in (0, 5, 10):
        raise_one(sink, NOW + dt.timedelta(minutes=minutes))
    feed = alerts.list_alerts(sink, ctx(role), None)
    assert [a["id"] for a in feed] == [3, 2, 1]
    assert feed[0]["at"] == (NOW + dt.timedelta(minutes=10)).isoformat()
    assert set(feed[0]) == {
        "id",
        "at",
        "rule",
        "severity",
        "agent_login",
        "org_id",
        "action_taken",
        "explanation",
        "evidence",
    }
    since = alerts.list_alerts(sink, ctx(role), NOW + dt.timedelta(minutes=5), limit=1)
    assert [a["id"] for a in since] == [3]


@pytest.mark.parametrize(
    "role", [Role.ADVISOR, Role.ACCOUNT_MANAGER, Role.TRAINING_MANAGER, Role.DPO]
)
def test_nobody_else_reads_the_feed(role: Role) -> None:
    """V8.2.1: an account outside the security team is refused, even with alerts present."""
    sink = MemoryAlertStore()
    raise_one(sink)
    with pytest.raises(Forbidden):
        alerts.list_alerts(sink, ctx(role), None)
