"""Kill switches on memory twins: one account, one organisation, one organisation's app."""

from __future__ import annotations

import pytest

from rempart.governance.service import accounts, suspensions
from rempart.kernel.actors import App
from rempart.kernel.errors import Conflict, Forbidden, NotFound, StepUpRequired
from tests.unit.governance.conftest import AGENCY, DUPONT, ML, Unit


def test_suspending_an_account_stops_it_ends_sessions_and_cancels_its_requests(unit: Unit) -> None:
    """ASVS V8.3.2: a change of access applies at once, whatever sessions are open."""
    accounts.request_account(unit.gov, unit.ctx("am.ml"), "new.adv", "n@ml.example", ["advisor"])
    session = unit.signed_in("am.ml")
    ctx = unit.ctx("ag.admin", fresh=False)  # switching off needs no step-up
    done = suspensions.suspend_account(unit.gov, ctx, "am.ml", "phished")
    assert done == {
        "login": "am.ml",
        "suspended": True,
        "sessions_ended": 1,
        "requests_cancelled": 1,
    }
    assert (unit.row("am.ml").active, unit.row("am.ml").disabled_reason) == (False, "suspended")
    assert unit.sessions.sessions[session.key].ended_at is not None
    assert unit.alert_rules()[-1] == "account_suspended"
    with pytest.raises(StepUpRequired):  # lifting re-opens a door
        suspensions.lift_account(unit.gov, ctx, "am.ml")
    assert suspensions.lift_account(unit.gov, unit.ctx("ag.admin"), "am.ml")["suspended"] is False
    assert unit.row("am.ml").active
    with pytest.raises(Conflict):
        suspensions.lift_account(unit.gov, unit.ctx("ag.admin"), "am.ml")


def test_only_an_administrators_suspension_is_lifted_here(unit: Unit) -> None:
    unit.gov.accounts.set_active(unit.agents["ml.adv1"], False, "inactive")
    with pytest.raises(Conflict):
        suspensions.lift_account(unit.gov, unit.ctx("ag.admin"), "ml.adv1")


def test_the_kill_switches_are_for_administrators_and_not_for_themselves(unit: Unit) -> None:
    with pytest.raises(Forbidden):
        suspensions.suspend_account(unit.gov, unit.ctx("am.ml"), "ml.adv1")
    with pytest.raises(Forbidden):
        suspensions.suspend_account(unit.gov, unit.ctx("ag.admin"), "ag.admin")
    with pytest.raises(NotFound):
        suspensions.suspend_account(unit.gov, unit.ctx("ag.admin"), "nobody")
    with pytest.raises(Forbidden):
        suspensions.suspend_org(unit.gov, unit.ctx("ag.admin"), unit.orgs[AGENCY])
    with pytest.raises(NotFound):
        suspensions.suspend_org(unit.gov, unit.ctx("ag.admin"), "NOPE-0001")
    with pytest.raises(Forbidden):
        suspensions.switch_app(unit.gov, unit.ctx("ag.sec"), App.YOUTH_FOLLOW_UP, None, False)


def test_suspending_an_organisation_stops_every_account_of_it(unit: Unit) -> None:
    accounts.request_account(unit.gov, unit.ctx("am.ml"), "new.adv", "n@ml.example", ["advisor"])
    sessions = [unit.signed_in("ml.adv1"), unit.signed_in("am2.ml"), unit.signed_in("tm.dupont")]
    done = suspensions.suspend_org(
        unit.gov, unit.ctx("ag.admin", fresh=False), unit.orgs[ML], "CERT"
    )
    assert done == {"org_id": unit.orgs[ML], "suspended": True, "sessions_ended": 2}
    assert unit.gov.standings.standing(unit.agents["ml.adv1"]).org_suspended
    assert [unit.sessions.sessions[s.key].ended_at is not None for s in sessions] == [
        True,
        True,
        False,
    ]
    assert unit.gov.requests.requests(status=None)[0].status == "cancelled"
    again = suspensions.suspend_org(unit.gov, unit.ctx("ag.admin"), unit.orgs[ML])
    assert again["suspended"] is True
    assert unit.alerts.items[-1].evidence["already_suspended"] is True
    with pytest.raises(StepUpRequired):
        suspensions.lift_org(unit.gov, unit.ctx("ag.admin", fresh=False), unit.orgs[ML])
    assert suspensions.lift_org(unit.gov, unit.ctx("ag.admin"), unit.orgs[ML])["suspended"] is False
    assert not unit.gov.standings.standing(unit.agents["ml.adv1"]).org_suspended
    with pytest.raises(Conflict):
        suspensions.lift_org(unit.gov, unit.ctx("ag.admin"), unit.orgs[ML])


def test_switching_one_organisations_app_off_ends_only_its_sessions(unit: Unit) -> None:
    """July 2025: one training body, not every partner app."""
    dupont, martin = unit.signed_in("tm.dupont"), unit.signed_in("tm.martin")
    done = suspensions.switch_app(
        unit.gov, unit.ctx("ag.admin"), App.TRAINING_FOLLOW_UP, unit.orgs[DUPONT], False
    )
    assert done["sessions_ended"] == 1
    assert not unit.people.app_enabled(App.TRAINING_FOLLOW_UP, unit.orgs[DUPONT])
    assert unit.people.app_enabled(App.TRAINING_FOLLOW_UP, unit.orgs["Formations Martin"])
    assert unit.sessions.sessions[dupont.key].ended_at is not None
    assert unit.sessions.sessions[martin.key].ended_at is None
    assert unit.alerts.items[-1].severity == "high"
    everywhere = suspensions.switch_app(
        unit.gov, unit.ctx("ag.admin"), App.TRAINING_FOLLOW_UP, None, False
    )
    assert everywhere["sessions_ended"] == 1  # Martin's, this time
    resumed = suspensions.switch_app(
        unit.gov, unit.ctx("ag.admin"), App.TRAINING_FOLLOW_UP, unit.orgs[DUPONT], True
    )
    assert (resumed["enabled"], resumed["sessions_ended"]) == (True, 0)
    assert unit.alert_rules()[-1] == "app_resumed"
