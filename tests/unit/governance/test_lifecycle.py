"""Lifecycle jobs on memory twins: inactivity disables then erases, leavers stop on their day."""

from __future__ import annotations

import datetime as dt

from rempart.governance.service import accounts, lifecycle
from rempart.kernel.actors import Role
from rempart.kernel.tags import Tag
from tests.factories import NOW
from tests.unit.governance.conftest import ML, Unit

DAY = dt.timedelta(days=1)


def test_unused_accounts_are_disabled_at_90_days_and_erased_at_180(unit: Unit) -> None:
    """CNIL / ASVS V6.4.x: dormant accounts lose access, then their factors."""
    unit.agent("idle.91", ML, Role.ADVISOR, last_used_at=NOW - 91 * DAY, password_hash="h")
    unit.agent("idle.181", ML, Role.ADVISOR, last_used_at=NOW - 181 * DAY, totp_secret="S")
    unit.agent("busy", ML, Role.ADVISOR, last_used_at=NOW - DAY, password_hash="h")
    for login in ("am.ml", "am2.ml", "ml.adv1", "am.dupont", "tm.dupont", "tm.martin"):
        unit.row(login).last_used_at = NOW - DAY
    for login in ("ag.admin", "ag.admin2", "ag.sec", "ag.dpo"):
        unit.row(login).last_used_at = NOW - DAY
    session = unit.signed_in("idle.91")
    unit.tables.security_keys[unit.agents["idle.181"]] = ["key"]
    report = lifecycle.run_jobs(unit.gov)
    assert report.disabled_inactive == ["idle.181", "idle.91"]
    assert report.factors_erased == ["idle.181"]
    assert (unit.row("idle.91").active, unit.row("idle.91").disabled_reason) == (False, "inactive")
    assert unit.row("idle.91").password_hash == "h"  # not yet
    assert unit.sessions.sessions[session.key].ended_at is not None
    erased = unit.row("idle.181")
    assert (erased.totp_secret, erased.enrolment_pending) == ("", True)
    assert erased.id not in unit.tables.security_keys
    assert unit.row("busy").active
    assert unit.alert_rules() == ["accounts_disabled"]
    assert {Tag.LIFECYCLE_AGENT_DISABLED, Tag.LIFECYCLE_FACTORS_ERASED} <= set(unit.tags())
    again = lifecycle.run_jobs(unit.gov)  # idempotent
    assert (again.disabled_inactive, again.factors_erased) == ([], [])


def test_each_job_step_runs_in_its_own_unit_of_work(unit: Unit) -> None:
    for login in list(unit.agents):
        unit.row(login).last_used_at = NOW - DAY
    unit.agent("idle.a", ML, Role.ADVISOR, last_used_at=NOW - 200 * DAY)
    unit.agent("idle.b", ML, Role.ADVISOR, last_used_at=NOW - 100 * DAY)
    unit.agent("leaver", ML, Role.ADVISOR, end_date=NOW.date(), last_used_at=NOW)
    before = unit.transactions.opened
    report = lifecycle.run_jobs(unit.gov)
    # idle.a: disabled, erased; idle.b: disabled; the leaver; one campaign per organisation.
    assert report.leavers_disabled == ["leaver"]
    assert report.campaigns_opened == len(unit.orgs)
    assert unit.transactions.opened - before == 3 + 1 + report.campaigns_opened


def test_the_disabling_of_an_account_cancels_its_pending_requests_and_links(unit: Unit) -> None:
    request_id = accounts.request_account(
        unit.gov, unit.ctx("am.ml"), "new.adv", "n@ml.example", ["advisor"]
    )["request_id"]
    unit.gov.tokens.add_enrolment_token(unit.agents["am.ml"], "1" * 64, NOW, NOW + DAY)
    unit.row("am.ml").last_used_at = NOW - 100 * DAY
    assert "am.ml" in lifecycle.run_jobs(unit.gov).disabled_inactive
    request = unit.gov.requests.request(request_id)
    assert request is not None
    assert request.status == "cancelled"
    assert request.reason == "account disabled (inactive)"
    link = unit.gov.tokens.enrolment_token("1" * 64)
    assert link is not None
    assert link.revoked_at is not None


def test_an_account_pending_enrolment_keeps_nothing_to_erase(unit: Unit) -> None:
    unit.agent("pending", ML, Role.ADVISOR, enrolment_pending=True, created_at=NOW - 200 * DAY)
    report = lifecycle.run_jobs(unit.gov)
    assert "pending" in report.disabled_inactive
    assert "pending" not in report.factors_erased


def test_leavers_are_disabled_on_their_end_date_not_before(unit: Unit) -> None:
    unit.agent("tomorrow", ML, Role.ADVISOR, end_date=NOW.date() + DAY, last_used_at=NOW)
    unit.agent("today", ML, Role.ADVISOR, end_date=NOW.date(), last_used_at=NOW)
    report = lifecycle.run_jobs(unit.gov)
    assert report.leavers_disabled == ["today"]
    assert unit.row("today").disabled_reason == "end_date"
    assert unit.row("tomorrow").active
    later = lifecycle.run_jobs(unit.gov, NOW + DAY)
    assert later.leavers_disabled == ["tomorrow"]
    assert later.as_dict()["at"] == (NOW + DAY).isoformat()
