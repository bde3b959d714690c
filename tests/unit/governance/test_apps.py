"""The app switch on memory twins: administrators only, journaled before it applies."""

from __future__ import annotations

import pytest

from rempart.governance.service import apps
from rempart.kernel.actors import App
from rempart.kernel.errors import Forbidden, NotFound
from rempart.kernel.tags import Tag
from tests.unit.governance.conftest import DUPONT, Unit


def test_an_administrator_switches_one_app_for_one_organisation(unit: Unit) -> None:
    """ASVS V8.2.1: a function-level check in the trusted layer; V16.3.3 journaled."""
    org = unit.orgs[DUPONT]
    done = apps.set_app_enabled(unit.gov, unit.ctx("ag.admin"), App.TRAINING_FOLLOW_UP, org, False)
    assert done == {"app": "training_follow_up", "org_id": org, "enabled": False}
    assert not unit.people.app_enabled(App.TRAINING_FOLLOW_UP, org)
    assert unit.entries(Tag.ADMIN_APP_SUSPENDED)[0].details == {
        "app": "training_follow_up",
        "org_id": org,
    }
    apps.set_app_enabled(unit.gov, unit.ctx("ag.admin"), App.TRAINING_FOLLOW_UP, org, True)
    assert unit.people.app_enabled(App.TRAINING_FOLLOW_UP, org)
    assert unit.entries(Tag.ADMIN_APP_RESUMED)[0].details["org_id"] == org


def test_others_may_not_and_unknown_organisations_are_not_found(unit: Unit) -> None:
    with pytest.raises(Forbidden):
        apps.set_app_enabled(unit.gov, unit.ctx("ag.sec"), App.AGENCY, None, False)
    with pytest.raises(NotFound):
        apps.set_app_enabled(unit.gov, unit.ctx("ag.admin"), App.AGENCY, "NOPE-0001", False)
    apps.set_app_enabled(unit.gov, unit.ctx("ag.admin"), App.CAP_EMPLOI, None, False)
    assert unit.entries(Tag.ADMIN_APP_SUSPENDED)[0].details["org_id"] == "*"
    assert not unit.people.app_enabled(App.CAP_EMPLOI, "ANY-0001")
