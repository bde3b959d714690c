"""Access reviews on memory twins: who reviews what, decisions once, removals at once, deadlines."""

from __future__ import annotations

import datetime as dt

import pytest

from rempart.governance.service import reviews
from rempart.kernel.actors import Role
from rempart.kernel.errors import Conflict, Forbidden, InvalidRequest, NotFound
from rempart.kernel.tags import Decision, Tag
from tests.unit.governance.conftest import DUPONT, ML, Unit, advance


def open_ml(u: Unit, by: str = "am.ml", **kw: object) -> dict[str, object]:
    return reviews.open_campaign(u.gov, u.ctx(by), **kw)  # type: ignore[arg-type]


def item(u: Unit, campaign_id: int, login: str, role: str | None = None) -> int:
    items = reviews.campaign_detail(u.gov, u.ctx("ag.admin"), campaign_id)["items"]
    return int(next(i["id"] for i in items if i["login"] == login and i["role"] == role))


def test_a_campaign_lists_every_active_account_and_role_and_mails_the_reviewers(unit: Unit) -> None:
    unit.agent("off.adv", ML, Role.ADVISOR, active=False)
    campaign = open_ml(unit)
    assert campaign["status"] == "open"
    assert campaign["default_decision"] == "remove"
    detail = reviews.campaign_detail(unit.gov, unit.ctx("am.ml"), int(campaign["id"]))  # type: ignore[call-overload]
    assert [(i["login"], i["scope"]) for i in detail["items"]] == [
        ("am.ml", "account"),
        ("am.ml", "role"),
        ("am2.ml", "account"),
        ("am2.ml", "role"),
        ("ml.adv1", "account"),
        ("ml.adv1", "role"),
    ]
    assert sorted(m.to for m in unit.mailer.outbox) == ["am.ml@example.fr", "am2.ml@example.fr"]
    assert unit.entries(Tag.REVIEW_CAMPAIGN_OPENED)[0].details["items"] == 6
    with pytest.raises(Conflict):
        open_ml(unit, by="am2.ml")


def test_only_reviewers_of_the_organisation_open_and_see_campaigns(unit: Unit) -> None:
    """ASVS V8.2.2 / V8.4.1: another organisation's campaign is out of reach (404)."""
    with pytest.raises(Forbidden):
        reviews.open_campaign(unit.gov, unit.ctx("am.dupont"), unit.orgs[ML])
    with pytest.raises(InvalidRequest):
        open_ml(unit, default_decision="maybe")
    with pytest.raises(NotFound):
        reviews.open_campaign(unit.gov, unit.ctx("ag.admin"), "NOPE-0001")
    campaign_id = int(open_ml(unit)["id"])  # type: ignore[call-overload]
    with pytest.raises(NotFound):
        reviews.campaign_detail(unit.gov, unit.ctx("am.dupont"), campaign_id)
    assert reviews.campaign_detail(unit.gov, unit.ctx("ag.dpo"), campaign_id)["id"] == campaign_id
    assert [c["id"] for c in reviews.list_campaigns(unit.gov, unit.ctx("ag.sec"))] == [campaign_id]
    assert reviews.list_campaigns(unit.gov, unit.ctx("am.dupont")) == []
    with pytest.raises(Forbidden):
        reviews.list_campaigns(unit.gov, unit.ctx("ml.adv1"))


def test_a_decision_is_made_once_and_never_on_ones_own_account(unit: Unit) -> None:
    """ASVS V8.2.1: nobody certifies their own access."""
    campaign_id = int(open_ml(unit)["id"])  # type: ignore[call-overload]
    mine = item(unit, campaign_id, "am.ml")
    with pytest.raises(Forbidden):
        reviews.decide(unit.gov, unit.ctx("am.ml"), campaign_id, mine, "keep")
    assert unit.entries(Tag.REVIEW_ITEM_DECIDED)[-1].decision is Decision.DENY
    kept = reviews.decide(unit.gov, unit.ctx("am2.ml"), campaign_id, mine, "keep")
    assert (kept["decision"], kept["decided_by"], kept["by_default"]) == ("keep", "am2.ml", False)
    with pytest.raises(Conflict):
        reviews.decide(unit.gov, unit.ctx("am2.ml"), campaign_id, mine, "remove")
    with pytest.raises(InvalidRequest):
        reviews.decide(unit.gov, unit.ctx("am2.ml"), campaign_id, mine, "perhaps")
    with pytest.raises(NotFound):
        reviews.decide(unit.gov, unit.ctx("am2.ml"), campaign_id, 999_999, "keep")


def test_national_roles_are_reviewed_by_agency_administrators_only(unit: Unit) -> None:
    campaign_id = int(
        reviews.open_campaign(unit.gov, unit.ctx("ag.admin"), unit.orgs["Agence Paris 2e"])["id"]
    )  # type: ignore[call-overload]
    dpo = item(unit, campaign_id, "ag.dpo", "dpo")
    with pytest.raises(Forbidden):
        reviews.decide(
            unit.gov, unit.ctx("ag.admin"), campaign_id, item(unit, campaign_id, "ag.admin"), "keep"
        )
    assert (
        reviews.decide(unit.gov, unit.ctx("ag.admin"), campaign_id, dpo, "keep")["decision"]
        == "keep"
    )


def test_removing_an_account_disables_it_at_once(unit: Unit) -> None:
    campaign_id = int(open_ml(unit)["id"])  # type: ignore[call-overload]
    session = unit.signed_in("ml.adv1")
    reviews.decide(
        unit.gov, unit.ctx("am.ml"), campaign_id, item(unit, campaign_id, "ml.adv1"), "remove"
    )
    row = unit.row("ml.adv1")
    assert (row.active, row.disabled_reason) == (False, "review")
    assert unit.sessions.sessions[session.key].ended_at is not None
    assert unit.alert_rules()[-1] == "review_removed_access"
    assert unit.alerts.items[-1].severity == "medium"


def test_removing_a_role_takes_only_that_role(unit: Unit) -> None:
    campaign_id = int(open_ml(unit)["id"])  # type: ignore[call-overload]
    reviews.decide(
        unit.gov,
        unit.ctx("am.ml"),
        campaign_id,
        item(unit, campaign_id, "ml.adv1", "advisor"),
        "remove",
    )
    row = unit.row("ml.adv1")
    assert row.active
    assert row.roles == frozenset()
    assert unit.entries(Tag.ACCOUNT_ROLE_REVOKED)[-1].details["role"] == "advisor"


def test_at_the_deadline_undecided_items_follow_the_default_and_the_campaign_closes(
    unit: Unit,
) -> None:
    campaign_id = int(open_ml(unit, duration_days=5)["id"])  # type: ignore[call-overload]
    for login in ("am.ml", "am2.ml"):
        for role in (None, "account_manager"):
            reviewer = "am2.ml" if login == "am.ml" else "am.ml"
            reviews.decide(
                unit.gov,
                unit.ctx(reviewer),
                campaign_id,
                item(unit, campaign_id, login, role),
                "keep",
            )
    advance(unit, dt.timedelta(days=3))
    assert reviews.send_reminders(unit.gov, unit.clock.now()) == 2
    assert reviews.send_reminders(unit.gov, unit.clock.now()) == 0  # reminded already
    advance(unit, dt.timedelta(days=2))
    opened = unit.transactions.opened
    assert reviews.close_due_campaigns(unit.gov, unit.clock.now()) == 1
    assert unit.transactions.opened == opened + 1  # the closing is one unit of work
    assert not unit.row("ml.adv1").active  # nobody vouched for it
    report = reviews.report(unit.gov, unit.ctx("ag.dpo"), campaign_id)
    assert report["campaign"]["status"] == "closed"
    assert report["totals"] == {
        "items": 6,
        "accounts": 3,
        "kept": 4,
        "removed": 2,
        "kept_by_default": 0,
        "removed_by_default": 2,
        "undecided": 0,
    }
    assert report["reviewers"] == ["am.ml", "am2.ml"]
    assert unit.alert_rules()[-1] == "review_removed_access"
    with pytest.raises(Conflict):
        reviews.decide(
            unit.gov, unit.ctx("am.ml"), campaign_id, item(unit, campaign_id, "ml.adv1"), "keep"
        )
    assert reviews.close_due_campaigns(unit.gov, unit.clock.now()) == 0


def test_periodic_campaigns_open_by_themselves_once_per_period(unit: Unit) -> None:
    now = unit.clock.now()
    opened = reviews.open_due_campaigns(unit.gov, now)
    assert opened == len(unit.orgs)  # every organisation with active accounts
    assert reviews.open_due_campaigns(unit.gov, now) == 0
    dupont = [
        c
        for c in reviews.list_campaigns(unit.gov, unit.ctx("ag.admin"))
        if c["org_id"] == unit.orgs[DUPONT]
    ]
    assert [c["opened_by"] for c in dupont] == ["system"]
    # An organisation without a manager of its own is reviewed by the agency administrators.
    martin = unit.orgs["Formations Martin"]
    assert any(m.to == "ag.admin@example.fr" and martin in m.body for m in unit.mailer.outbox)
