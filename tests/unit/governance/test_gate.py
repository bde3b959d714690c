"""The data gate on memory twins: account, organisation, second factor, training, app in force."""

from __future__ import annotations

import datetime as dt

import pytest

from rempart.governance.service.gate import ensure_may_access_data
from rempart.kernel.actors import App
from rempart.kernel.errors import AccessSuspended
from tests.unit.governance.conftest import ML, Unit, portal_deps


def test_an_account_in_good_standing_passes(unit: Unit) -> None:
    ensure_may_access_data(portal_deps(unit), unit.ctx("ml.adv1"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"active": False}, "this account is suspended"),
        ({"end_date": dt.date(2026, 11, 15)}, "this account is suspended"),
        ({"enrolment_pending": True}, "enrol a second factor"),
        ({"training_valid_until": dt.date(2026, 11, 15)}, "security training expired"),
    ],
)
def test_each_lapse_stops_data_access(unit: Unit, change: dict[str, object], message: str) -> None:
    """ASVS V8.3.2: read on every request, so a change applies to sessions already open."""
    row = unit.row("ml.adv1")
    for name, value in change.items():
        setattr(row, name, value)
    with pytest.raises(AccessSuspended, match=message):
        ensure_may_access_data(portal_deps(unit), unit.ctx("ml.adv1"))


def test_an_organisation_suspended_or_an_app_switched_off_stops_it(unit: Unit) -> None:
    ctx = unit.ctx("ml.adv1")
    unit.gov.org_suspensions.suspend_org(unit.orgs[ML], "ag.admin", ctx.now, "CERT")
    with pytest.raises(AccessSuspended, match="organisation"):
        ensure_may_access_data(portal_deps(unit), ctx)
    unit.gov.org_suspensions.lift_org(unit.orgs[ML], "ag.admin", ctx.now)
    ensure_may_access_data(portal_deps(unit), ctx)
    unit.people.set_app_enabled(App.YOUTH_FOLLOW_UP, unit.orgs[ML], False)
    with pytest.raises(AccessSuspended, match="youth_follow_up"):
        ensure_may_access_data(portal_deps(unit), ctx)
