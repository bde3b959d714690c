"""Raising alerts about the agent behind a request, and the feed only the security team reads.

ASVS 5.0: V8.2.1 (function-level access: only security officers and admins read alerts),
V16.3.x (security events carry who, where and why).
"""

from __future__ import annotations

import datetime as dt

import pytest

from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.guard.alerts import Severity
from rempart.guard.service import alerts
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.actors import Organisation, OrgKind, Role
from rempart.kernel.clock import ManualClock
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.errors import Forbidden
from rempart.people.scope import ScopeRules
from rempart.people.service.deps import PortalDeps
from tests.factories import NOW, make_agent
from tests.unit.twins import MemoryPortalStore, Unused


def deps() -> PortalDeps:
    return PortalDeps(
        store=MemoryPortalStore(),
        journal=MemoryJournal(),
        clock=ManualClock(NOW),
        rules=ScopeRules(),
        alerts=MemoryAlertStore(),
        standings=Unused("standings"),  # type: ignore[arg-type]
    )


def ctx(*roles: Role, at: dt.datetime = NOW) -> RequestContext:
    agent = make_agent(OrgKind.MISSION_LOCALE, set(roles), login=f"who.{'-'.join(roles)}")
    org = Organisation(agent.org_id, OrgKind.MISSION_LOCALE, "ML Nord", "00000000000000")
    return RequestContext(agent, org, "s-42", ClientInfo("192.0.2.1"), at)


def test_an_alert_names_the_agent_the_organisation_and_the_session() -> None:
    d = deps()
    c = ctx(Role.ADVISOR)
    alert_id = alerts.raise_for(
        d, c, "citizen_flag", Severity.MEDIUM, "A person flagged a read.", evidence={"seq": 3}
    )
    assert alert_id == 1
    (stored,) = d.alerts.alerts_since(None, 10)
    assert (stored.agent_login, stored.org_id, stored.session_id) == (
        c.agent.login,
        c.org.id,
        "s-42",
    )
    assert (stored.rule, stored.severity, stored.action_taken) == (
        "citizen_flag",
        Severity.MEDIUM,
        "none",
    )
    assert stored.evidence == {"seq": 3}
    assert stored.at == NOW


@pytest.mark.parametrize("role", [Role.SECURITY_OFFICER, Role.ADMIN])
def test_the_security_team_reads_the_feed_newest_first(role: Role) -> None:
    """V8.2.1: security officers and admins read the feed."""
    d = deps()
    for minutes in (0, 5, 10):
        alerts.raise_for(
            d, ctx(Role.ADVISOR, at=NOW + dt.timedelta(minutes=minutes)), "r", Severity.LOW, "x"
        )
    feed = alerts.list_alerts(d, ctx(role), None)
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
    since = alerts.list_alerts(d, ctx(role), NOW + dt.timedelta(minutes=5), limit=1)
    assert [a["id"] for a in since] == [3]


@pytest.mark.parametrize(
    "role", [Role.ADVISOR, Role.ACCOUNT_MANAGER, Role.TRAINING_MANAGER, Role.DPO]
)
def test_nobody_else_reads_the_feed(role: Role) -> None:
    """V8.2.1: an account outside the security team is refused, even with alerts present."""
    d = deps()
    alerts.raise_for(d, ctx(Role.ADVISOR), "r", Severity.LOW, "x")
    with pytest.raises(Forbidden):
        alerts.list_alerts(d, ctx(role), None)
