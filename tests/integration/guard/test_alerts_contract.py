"""``MemoryAlertStore`` and ``SqlAlertStore`` store and list alerts alike: ids in order, the
feed newest first, the rule counts the metrics show (ASVS V16.3.x: security events kept for
the team that acts on them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.guard.adapters.sql_alerts import SqlAlertStore
from rempart.guard.alerts import Alert, Severity
from rempart.guard.ports import AlertSink
from tests.factories import NOW
from tests.support.portal_db import BACKENDS, portal_database


@pytest.fixture(params=BACKENDS)
def alerts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AlertSink]:
    if request.param == "memory":
        yield MemoryAlertStore()
        return
    db = portal_database(request, tmp_path)
    yield SqlAlertStore(db)
    db.engine.dispose()


def alert(rule: str, minutes: int, **evidence: object) -> Alert:
    return Alert(
        at=NOW + dt.timedelta(minutes=minutes),
        rule=rule,
        severity=Severity.HIGH,
        explanation=f"{rule} at +{minutes} min",
        action_taken="throttle",
        agent_login="ml.adv",
        org_id="ORG-1",
        session_id="s1",
        evidence=dict(evidence),
    )


def test_alerts_get_ids_in_order_and_read_back_whole(alerts: AlertSink) -> None:
    assert alerts.raise_alert(alert("guard:canary", 0, observed=3, baseline={"p": [1, 2]})) == 1
    assert alerts.raise_alert(alert("guard:velocity", 1)) == 2
    first = alerts.alerts_since(None, 10)[-1]
    assert first.id == 1
    assert first.at == NOW
    assert first.at.tzinfo is not None
    assert first.severity is Severity.HIGH
    assert first.evidence == {"observed": 3, "baseline": {"p": [1, 2]}}
    assert (first.agent_login, first.org_id, first.session_id) == ("ml.adv", "ORG-1", "s1")


def test_the_feed_is_newest_first_since_a_time_and_limited(alerts: AlertSink) -> None:
    for minutes, rule in [(0, "a"), (10, "b"), (5, "c"), (10, "d")]:
        alerts.raise_alert(alert(rule, minutes))
    assert [a.rule for a in alerts.alerts_since(None, 10)] == ["d", "b", "c", "a"]
    assert [a.rule for a in alerts.alerts_since(NOW + dt.timedelta(minutes=5), 10)] == [
        "d",
        "b",
        "c",
    ]
    assert [a.rule for a in alerts.alerts_since(None, 2)] == ["d", "b"]
    assert alerts.alerts_since(NOW + dt.timedelta(hours=1), 10) == []


def test_counts_by_rule(alerts: AlertSink) -> None:
    assert alerts.counts_by_rule() == {}
    for rule in ["a", "b", "a", "a"]:
        alerts.raise_alert(alert(rule, 0))
    assert alerts.counts_by_rule() == {"a": 3, "b": 1}
