"""Taking access away, on memory twins: disable, erase factors, cancel requests."""

from __future__ import annotations

import datetime as dt

from rempart.governance.model import DisabledReason, RequestStatus
from rempart.governance.service import accounts, offboarding
from rempart.kernel.tags import Tag
from tests.factories import NOW
from tests.unit.governance.conftest import Unit


def test_disabling_is_done_once(unit: Unit) -> None:
    agent = unit.people.agent_by_login("ml.adv1")
    assert agent is not None
    session = unit.signed_in("ml.adv1")
    assert offboarding.disable(unit.gov, agent, DisabledReason.INACTIVE, NOW, idle_days=91)
    assert not offboarding.disable(unit.gov, agent, DisabledReason.INACTIVE, NOW)
    (entry,) = unit.entries(Tag.LIFECYCLE_AGENT_DISABLED)
    assert entry.details["sessions_ended"] == 1
    assert entry.details["idle_days"] == 91
    assert unit.sessions.sessions[session.key].end_reason == "account_disabled"


def test_a_leaver_is_disabled_only_once_their_day_has_come(unit: Unit) -> None:
    unit.row("ml.adv1").end_date = NOW.date() + dt.timedelta(days=1)
    agent = unit.people.agent_by_login("ml.adv1")
    assert agent is not None
    assert not offboarding.disable_leaver(unit.gov, agent, NOW)
    assert offboarding.disable_leaver(unit.gov, agent, NOW + dt.timedelta(days=1))
    assert unit.row("ml.adv1").disabled_reason == "end_date"


def test_cancelling_requests_touches_only_that_requesters_pending_ones(unit: Unit) -> None:
    mine = accounts.request_account(
        unit.gov, unit.ctx("am.ml"), "a.adv", "a@ml.example", ["advisor"]
    )
    other = accounts.request_account(
        unit.gov, unit.ctx("am2.ml"), "b.adv", "b@ml.example", ["advisor"]
    )
    assert (
        offboarding.cancel_requests_of(
            unit.gov, unit.ctx("ag.admin"), unit.agents["am.ml"], "suspended"
        )
        == 1
    )
    assert offboarding.cancel_requests_of(unit.gov, None, unit.agents["am.ml"], "again") == 0
    cancelled = unit.gov.requests.request(mine["request_id"])
    assert cancelled is not None
    assert (cancelled.status, cancelled.decided_by_login, cancelled.reason) == (
        RequestStatus.CANCELLED,
        "ag.admin",
        "suspended",
    )
    still = unit.gov.requests.request(other["request_id"])
    assert still is not None
    assert still.status is RequestStatus.PENDING


def test_erasing_factors_also_revokes_unused_links(unit: Unit) -> None:
    agent = unit.people.agent_by_login("ml.adv1")
    assert agent is not None
    unit.gov.tokens.add_enrolment_token(agent.id, "1" * 64, NOW, NOW + dt.timedelta(hours=1))
    unit.row("ml.adv1").password_hash = "h"
    offboarding.erase_all_factors(unit.gov, agent, NOW)
    assert unit.row("ml.adv1").password_hash == ""
    link = unit.gov.tokens.enrolment_token("1" * 64)
    assert link is not None
    assert link.revoked_at == NOW
