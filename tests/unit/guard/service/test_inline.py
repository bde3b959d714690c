"""The guard pipeline on memory twins (state, profiles, alerts, containment, journal): each
detector, budgets, containment, explanations.

ASVS 5.0: V2.4.1 (anti-automation: rate and volume limits per user), V8.1.x/V8.2.2 (bounded
data access), V16.3.x (security events logged with the decision's reasons).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pytest

from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.guard.adapters.memory_containment import MemoryContainment
from rempart.guard.adapters.memory_profiles import MemoryProfileStore
from rempart.guard.adapters.memory_state import MemoryGuardState
from rempart.guard.decisions import Action, Rule
from rempart.guard.policy import GuardPolicy, parse_policy
from rempart.guard.profiles import AgentProfile
from rempart.guard.service.inline import Exposure, Guard, GuardRequest, raise_for_verdict
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel import errors
from rempart.kernel.actors import Organisation, OrgKind, Role
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.errors import PolicyError
from rempart.kernel.identifiers import ft_id_from_number
from tests.factories import make_agent

MONDAY_10 = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)


@dataclass
class Rig:
    guard: Guard
    containment: MemoryContainment
    alerts: MemoryAlertStore
    journal: MemoryJournal
    profiles: MemoryProfileStore
    ctx: RequestContext

    def at(self, when: dt.datetime, **client: str) -> RequestContext:
        c = replace(self.ctx.client, **client) if client else self.ctx.client
        return replace(self.ctx, now=when, client=c)

    def read(self, n: int, when: dt.datetime = MONDAY_10, **kw: bool) -> Action:
        ft_id = ft_id_from_number(n)
        found = kw.pop("found", True)
        req = GuardRequest(Exposure.READ, (ft_id,), (ft_id,) if found else (), found=found, **kw)
        return self.guard.check(self.at(when), req).action


@pytest.fixture
def rig() -> Rig:
    agent = make_agent(OrgKind.MISSION_LOCALE, {Role.ADVISOR}, login="ml.adv")
    org = Organisation(agent.org_id, OrgKind.MISSION_LOCALE, "ML Nord", "00000000000000")
    ctx = RequestContext(
        agent=agent,
        org=org,
        session_id="s1",
        client=ClientInfo("192.0.2.1", "Firefox", network="AS3215", country="FR"),
        now=MONDAY_10,
    )
    profiles = MemoryProfileStore()
    profiles.set_agent(
        AgentProfile(
            login="ml.adv",
            daily_distinct=(20, 25, 30, 22, 28, 35, 24),
            hourly_peak=(8, 10, 12, 9, 11, 10, 10),
            usual_hours=frozenset((0, h) for h in range(7, 18)),
            networks=frozenset({"AS3215"}),
            countries=frozenset({"FR"}),
        )
    )
    containment, alerts, journal = MemoryContainment(), MemoryAlertStore(), MemoryJournal()
    guard = Guard(MemoryGuardState(), profiles, containment, alerts, journal, GuardPolicy())
    return Rig(guard, containment, alerts, journal, profiles, ctx)


def test_ordinary_reads_are_allowed_and_leave_no_alert(rig: Rig) -> None:
    assert [rig.read(i * 1000) for i in range(1, 10)] == [Action.ALLOW] * 9
    assert rig.alerts.items == []
    assert rig.journal.entries == []


def test_canary_locks_at_once_but_still_looks_like_a_404(rig: Rig) -> None:
    action = rig.read(4242, found=False, canary=True)
    assert action is Action.LOCK
    assert rig.containment.locked == ["ml.adv"]
    assert rig.containment.revoked == ["s1"]
    alert = rig.alerts.items[-1]
    assert alert.rule == Rule.CANARY
    assert alert.action_taken == "lock_account"
    verdict = rig.guard.check(
        rig.ctx, GuardRequest(Exposure.READ, ("0004242A",), (), found=False, canary=True)
    )
    with pytest.raises(errors.NotFound):
        raise_for_verdict(verdict)


def test_hourly_budget_throttles_with_retry_after_and_explains(rig: Rig) -> None:
    # Budget: max(floor 30, ceil(q95(hourly peaks) * 1.5)) = 30 people an hour.
    results = [rig.read(i * 1000) for i in range(1, 31)]
    assert results == [Action.ALLOW] * 30
    assert rig.read(31_000) is Action.THROTTLE
    assert rig.read(5_000) is Action.ALLOW  # someone already exposed costs nothing
    alert = rig.alerts.items[-1]
    assert alert.rule == Rule.BUDGET_AGENT_HOUR
    assert alert.evidence["threshold"] == 30
    assert alert.evidence["observed"] == 30
    assert "baseline" in alert.evidence
    verdict = rig.guard.check(rig.ctx, GuardRequest(Exposure.READ, ("0032000A",), ("0032000A",)))
    with pytest.raises(errors.BudgetExhausted) as exc:
        raise_for_verdict(verdict)
    assert 0 < exc.value.retry_after <= 3600
    assert "guard:budget:agent_hour" in exc.value.detail


def test_scraper_hammering_an_exhausted_budget_loses_its_session(rig: Rig) -> None:
    for i in range(1, 31):
        rig.read(i * 1000)
    actions = [rig.read(100_000 + 7 * i) for i in range(25)]
    assert actions[0] is Action.THROTTLE
    assert Action.REVOKE in actions[:21]
    assert set(rig.containment.revoked) == {"s1"}
    assert rig.alerts.items[-1].rule == Rule.BUDGET_BURST


def test_not_found_answers_throttle_then_lock(rig: Rig) -> None:
    numbers = [9_000_000 - 97 * i for i in range(25)]  # scattered, so not "sequential"
    actions = [rig.read(n, found=False) for n in numbers]
    assert actions[6] is Action.ALLOW
    assert actions[7] is Action.THROTTLE
    assert actions.index(Action.LOCK) == 19
    assert set(rig.containment.locked) == {"ml.adv"}


def test_sequential_identifiers_revoke_the_session(rig: Rig) -> None:
    actions = [rig.read(5_000_000 + i, found=False) for i in range(4)]
    assert actions[-1] is Action.REVOKE
    assert rig.alerts.items[-1].rule == Rule.SEQUENTIAL


def test_new_network_asks_for_a_step_up_then_accepts_it(rig: Rig) -> None:
    req = GuardRequest(Exposure.READ, ("0001000A",), ("0001000A",))
    other = rig.at(MONDAY_10, network="AS5410")
    verdict = rig.guard.check(other, req)
    assert verdict.action is Action.STEP_UP
    with pytest.raises(errors.StepUpRequired):
        raise_for_verdict(verdict)
    fresh = replace(other, fresh_until=MONDAY_10 + dt.timedelta(minutes=5))
    assert rig.guard.check(fresh, req).action is Action.ALLOW  # just signed in there
    later = replace(other, now=MONDAY_10 + dt.timedelta(hours=1))
    assert rig.guard.check(later, req).action is Action.STEP_UP  # sign-in proof is not kept
    stepped = replace(later, fresh_until=later.now + dt.timedelta(minutes=5), reproved=True)
    assert rig.guard.check(stepped, req).action is Action.ALLOW
    next_day = replace(other, now=MONDAY_10 + dt.timedelta(days=1))
    assert rig.guard.check(next_day, req).action is Action.ALLOW  # learned after the step-up


def test_impossible_travel_revokes(rig: Rig) -> None:
    req = GuardRequest(Exposure.READ, ("0001000A",), ("0001000A",))
    assert rig.guard.check(rig.ctx, req).action is Action.ALLOW
    abroad = rig.at(MONDAY_10 + dt.timedelta(minutes=20), network="AS4134", country="CN")
    assert rig.guard.check(abroad, req).action is Action.REVOKE


def test_off_hours_step_up_and_smaller_budget_after_it(rig: Rig) -> None:
    sunday_night = dt.datetime(2026, 11, 22, 23, 0, tzinfo=dt.UTC)
    assert rig.read(1000, when=sunday_night) is Action.STEP_UP
    signed_in = replace(rig.at(sunday_night), fresh_until=sunday_night + dt.timedelta(minutes=5))
    ft = ft_id_from_number(1000)
    relayed = rig.guard.check(signed_in, GuardRequest(Exposure.READ, (ft,), (ft,)))
    assert relayed.action is Action.STEP_UP  # a sign-in code alone does not open the night
    fresh = replace(
        rig.at(sunday_night), fresh_until=sunday_night + dt.timedelta(hours=1), reproved=True
    )
    actions = [
        rig.guard.check(
            fresh, GuardRequest(Exposure.READ, (ft_id_from_number(n),), (ft_id_from_number(n),))
        ).action
        for n in range(2000, 2000 + 40 * 1000, 1000)
    ]
    # Off hours the day budget is a quarter: ceil(max(60, q95 * 1.5)) * 0.25 = 15.
    assert actions.count(Action.ALLOW) == 15
    assert actions[15] is Action.THROTTLE


def test_velocity_far_above_the_agents_peak_revokes(rig: Rig) -> None:
    # A busy agent (budget 150 an hour) still does not open 41 records within 5 minutes.
    busy = AgentProfile(
        login="ml.adv",
        daily_distinct=(200,) * 10,
        hourly_peak=(100,) * 10,
        usual_hours=frozenset((0, h) for h in range(7, 18)),
        networks=frozenset({"AS3215"}),
        countries=frozenset({"FR"}),
    )
    rig.profiles.set_agent(busy)
    t = MONDAY_10
    actions = [rig.read(n * 1000, when=t + dt.timedelta(seconds=5 * n)) for n in range(1, 42)]
    assert actions[:40] == [Action.ALLOW] * 40
    assert actions[40] is Action.REVOKE
    assert rig.alerts.items[-1].rule == Rule.VELOCITY
    assert rig.alerts.items[-1].evidence["threshold"] == 40
    # Names on a page (portfolio, roster) are bounded by budgets, not by velocity.
    page = tuple(ft_id_from_number(n) for n in range(500, 560))
    later = rig.at(t + dt.timedelta(hours=2))
    assert rig.guard.check(later, GuardRequest(Exposure.LIST, page, page)).action is Action.ALLOW


def test_export_needs_a_fresh_second_factor(rig: Rig) -> None:
    rows = tuple(ft_id_from_number(n) for n in range(1, 20))
    verdict = rig.guard.check(rig.ctx, GuardRequest(Exposure.EXPORT, rows, rows))
    assert verdict.action is Action.STEP_UP
    assert verdict.main is not None
    assert verdict.main.rule is Rule.EXPORT_FRESH
    fresh = replace(rig.ctx, fresh_until=MONDAY_10 + dt.timedelta(minutes=5))
    assert rig.guard.check(fresh, GuardRequest(Exposure.EXPORT, rows, rows)).action is Action.ALLOW


def test_export_over_the_row_ceiling_is_denied(rig: Rig) -> None:
    rows = tuple(ft_id_from_number(n) for n in range(1, 600))
    fresh = replace(rig.ctx, fresh_until=MONDAY_10 + dt.timedelta(minutes=5))
    verdict = rig.guard.check(fresh, GuardRequest(Exposure.EXPORT, rows, rows))
    assert verdict.action is Action.DENY
    with pytest.raises(errors.Forbidden):
        raise_for_verdict(verdict)


def test_unreachable_state_fails_closed(rig: Rig) -> None:
    class Down(MemoryGuardState):
        def count_event(self, key: str, seconds: int, now: float) -> int:
            raise ConnectionError("redis down")

        def push_recent(self, key: str, value: int, keep: int) -> tuple[int, ...]:
            raise ConnectionError("redis down")

        def get(self, key: str, now: float) -> str | None:
            raise ConnectionError("redis down")

    rig.guard.state = Down()
    with pytest.raises(errors.ServiceUnavailable):
        rig.read(1000)


def test_every_alert_names_rule_observed_values_and_thresholds(rig: Rig) -> None:
    for i in range(1, 60):
        rig.read(i * 1000)
    rig.read(4242, found=False, canary=True)
    assert rig.alerts.items
    for alert in rig.alerts.items:
        assert alert.rule.startswith("guard:")
        assert alert.explanation.endswith(".")
        if alert.rule != Rule.CANARY:
            assert "observed" in alert.evidence
            assert "threshold" in alert.evidence
    for entry in rig.journal.entries:
        assert entry.reason.startswith("guard:")
        assert "explanation" in entry.details


def test_policy_file_overrides_and_names_bad_lines() -> None:
    policy = parse_policy(
        "[budgets]\nagent_day_floor = 10\n\n[detectors]\nnot_found_throttle = 3\n"
    )
    assert policy.budgets.agent_day_floor == 10
    assert policy.detectors.not_found_throttle == 3
    with pytest.raises(PolicyError, match=r"line 3: unknown key budgets\.nope"):
        parse_policy("[budgets]\nagent_day_floor = 10\nnope = 1\n")
    with pytest.raises(PolicyError, match=r"line 2: budgets\.agent_day_floor must not be negative"):
        parse_policy("[budgets]\nagent_day_floor = -1\n")
    with pytest.raises(PolicyError, match=r"line 2: budgets\.agent_day_floor"):
        parse_policy("[budgets]\nagent_day_floor = 900\nagent_day_ceiling = 800\n")
    with pytest.raises(PolicyError, match="unknown section"):
        parse_policy("[budget]\nx = 1\n")


def test_a_new_account_on_probation_gets_the_small_budget(rig: Rig) -> None:
    """The December 2025 accounts: freshly created, they would have read 20 people at most."""
    agent = replace(rig.ctx.agent, probation_until=MONDAY_10 + dt.timedelta(days=14))
    ctx = replace(rig.ctx, agent=agent)
    actions = [
        rig.guard.check(
            ctx, GuardRequest(Exposure.READ, (ft_id_from_number(n),), (ft_id_from_number(n),))
        ).action
        for n in range(1000, 1000 + 15 * 1000, 1000)
    ]
    assert actions[:10] == [Action.ALLOW] * 10  # probation_hour = 10
    assert actions[10] is Action.THROTTLE
    assert rig.alerts.items[-1].evidence["baseline"]["probation_until"] == "2026-11-30"  # type: ignore[index]
