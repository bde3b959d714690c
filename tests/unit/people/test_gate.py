"""The data gate: each reason an account may not reach people's data, read on every request.

ASVS 5.0 V8.3.2 (a change to what authorization rests on applies at once: suspension, kill
switch, factor reset, end of account, expired training), V8.3.1 (enforced in the service layer,
from the trusted store), V8.2.1 (no data function without the account in force).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from rempart.kernel.actors import App
from rempart.kernel.errors import AccessSuspended
from rempart.kernel.exposure import Exposure, GuardRequest
from rempart.people.adapters.memory import MemoryExposureGuard, MemoryPeople
from rempart.people.service.gate import ensure_may_access_data, guard_check
from tests.factories import TODAY, MemoryWorld
from tests.unit.people.conftest import ContextFor, UseCaseDeps


def test_an_account_in_force_passes(deps: UseCaseDeps, ctx_for: ContextFor) -> None:
    ensure_may_access_data(deps, ctx_for("tm.dupont"))


def test_an_inactive_account_is_suspended(deps: UseCaseDeps, ctx_for: ContextFor) -> None:
    with pytest.raises(AccessSuspended, match="this account is suspended"):
        ensure_may_access_data(deps, ctx_for("tm.dupont", active=False))


def test_an_account_past_its_end_date_is_suspended(deps: UseCaseDeps, ctx_for: ContextFor) -> None:
    """The end date is inclusive: the last day still works, the day after does not."""
    ensure_may_access_data(deps, ctx_for("tm.dupont", end_date=TODAY))
    with pytest.raises(AccessSuspended, match="this account is suspended"):
        ensure_may_access_data(deps, ctx_for("tm.dupont", end_date=TODAY - dt.timedelta(days=1)))


def test_a_suspended_organisation_stops_its_agents_at_once(
    deps: UseCaseDeps, store: MemoryPeople, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    ctx = ctx_for("tm.dupont")
    store.suspend_organisation(world.orgs["Formations Dupont"])
    with pytest.raises(AccessSuspended, match="organisation's access is suspended"):
        ensure_may_access_data(deps, ctx)
    ensure_may_access_data(deps, ctx_for("tm.martin"))
    store.lift_suspension(world.orgs["Formations Dupont"])
    ensure_may_access_data(deps, ctx)


def test_an_account_with_a_factor_still_to_enrol_reads_nothing(
    deps: UseCaseDeps, store: MemoryPeople, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    store.set_enrolment_pending(world.agents["ml.adv1"], True)
    with pytest.raises(AccessSuspended, match="enrol a second factor"):
        ensure_may_access_data(deps, ctx_for("ml.adv1"))


def test_an_expired_security_training_suspends_the_account(
    deps: UseCaseDeps, ctx_for: ContextFor
) -> None:
    ensure_may_access_data(deps, ctx_for("cap.adv", training_valid_until=TODAY))
    with pytest.raises(AccessSuspended, match="security training expired"):
        ensure_may_access_data(
            deps, ctx_for("cap.adv", training_valid_until=TODAY - dt.timedelta(days=1))
        )


@pytest.mark.parametrize("for_everyone", [True, False])
def test_a_kill_switch_stops_the_app_for_everyone_or_one_organisation(
    deps: UseCaseDeps,
    store: MemoryPeople,
    world: MemoryWorld,
    ctx_for: ContextFor,
    for_everyone: bool,
) -> None:
    org = None if for_everyone else world.orgs["Formations Dupont"]
    store.set_app_enabled(App.TRAINING_FOLLOW_UP, org, False)
    with pytest.raises(AccessSuspended, match="training_follow_up application is suspended"):
        ensure_may_access_data(deps, ctx_for("tm.dupont"))
    ensure_may_access_data(deps, ctx_for("ml.adv1"))  # another app


def test_a_removed_account_under_a_live_session_reaches_nothing(
    deps: UseCaseDeps, ctx_for: ContextFor
) -> None:
    """The standing of an account the store no longer holds is a suspended one."""
    ctx = ctx_for("tm.dupont", id=999_999)
    with pytest.raises(AccessSuspended, match="organisation's access is suspended"):
        ensure_may_access_data(deps, ctx)


def test_the_guard_is_asked_when_one_is_wired(
    deps: UseCaseDeps, guard: MemoryExposureGuard, ctx_for: ContextFor
) -> None:
    request = GuardRequest(Exposure.READ, asked=("0001000J",), exposed=("0001000J",))
    guard_check(deps, ctx_for("tm.dupont"), request)
    assert guard.requests == [request]


def test_without_a_guard_the_scope_policy_alone_decides(
    deps: UseCaseDeps, ctx_for: ContextFor
) -> None:
    """The bench's "off" mode: no guard, nothing asked, nothing refused."""
    bare = replace(deps, guard=None)
    guard_check(bare, ctx_for("tm.dupont"), GuardRequest(Exposure.LIST, asked=(), exposed=()))
    assert deps.journal.entries == []


def test_no_attestation_date_fails_closed_after_the_grace_period(
    deps: UseCaseDeps, ctx_for: ContextFor
) -> None:
    """No training attestation on record: a new account reads in its first weeks only; an
    older one, or one whose creation is unknown, reads nothing (fail closed)."""
    from_ = dt.datetime.combine(TODAY, dt.time(9), tzinfo=dt.UTC)
    ensure_may_access_data(
        deps, ctx_for("cap.adv", training_valid_until=None, created_at=from_ - dt.timedelta(days=3))
    )
    for created in (from_ - dt.timedelta(days=31), None):
        with pytest.raises(AccessSuspended, match="no security training attestation"):
            ensure_may_access_data(
                deps, ctx_for("cap.adv", training_valid_until=None, created_at=created)
            )
