"""The guard pipeline on memory twins (state, profiles, alerts, containment, journal): each
detector, budgets, containment, explanations.

ASVS 5.0: V2.4.1 (anti-automation: rate and volume limits per user), V8.1.x/V8.2.2 (bounded
data access), V16.3.x (security events logged with the decision's reasons).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace

import pytest

from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.guard.adapters.memory_containment import MemoryContainment
from rempart.guard.adapters.memory_profiles import MemoryProfileStore
from rempart.guard.adapters.memory_state import MemoryGuardState
from rempart.guard.decisions import Action, Rule
from rempart.guard.policy import GuardPolicy, parse_policy
from rempart.guard.profiles import AgentProfile, PeerProfile, quantile
from rempart.guard.service.inline import (
    Exposure,
    Guard,
    GuardRequest,
    budget_explanation,
    raise_for_verdict,
)
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel import errors
from rempart.kernel.actors import Organisation, OrgKind, Role
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.errors import PolicyError
from rempart.kernel.identifiers import ft_id_from_number
from rempart.web.ui.labels import detail_fr
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

    calls: int = 0

    def read(self, n: int, when: dt.datetime | None = None, **kw: bool) -> Action:
        """One record read; without ``when``, at a person's pace (3 s apart) from 10:00."""
        ft_id = ft_id_from_number(n)
        found = kw.pop("found", True)
        req = GuardRequest(Exposure.READ, (ft_id,), (ft_id,) if found else (), found=found, **kw)
        self.calls += 1
        at = when or MONDAY_10 + dt.timedelta(seconds=3 * self.calls)
        return self.guard.check(self.at(at), req).action


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
    later = rig.at(MONDAY_10 + dt.timedelta(minutes=5))
    verdict = rig.guard.check(later, GuardRequest(Exposure.READ, ("0032000A",), ("0032000A",)))
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
            replace(ctx, now=MONDAY_10 + dt.timedelta(seconds=5 * i)),
            GuardRequest(Exposure.READ, (ft_id_from_number(n),), (ft_id_from_number(n),)),
        ).action
        for i, n in enumerate(range(1000, 1000 + 15 * 1000, 1000))
    ]
    assert actions[:10] == [Action.ALLOW] * 10  # probation_hour = 10
    assert actions[10] is Action.THROTTLE
    assert rig.alerts.items[-1].evidence["baseline"]["probation_until"] == "2026-11-30"  # type: ignore[index]


def test_new_baselines_and_a_probation_change_the_budget_at_the_very_next_read(rig: Rig) -> None:
    """The budget is remembered per agent between reads; it must not outlive its inputs: a
    rebuilt profile (new objects) or a probation set on the account applies at once."""
    assert [rig.read(i * 1000) for i in range(1, 31)] == [Action.ALLOW] * 30  # hour budget 30
    assert rig.read(31_000) is Action.THROTTLE
    # Rebuilt from the journal, the agent's busiest hours now reach 40 people: 60 an hour.
    rig.profiles.set_agent(
        AgentProfile(login="ml.adv", daily_distinct=(80,) * 7, hourly_peak=(40,) * 7)
    )
    assert rig.read(31_000) is Action.ALLOW
    probation = replace(rig.ctx.agent, probation_until=MONDAY_10 + dt.timedelta(days=14))
    ctx = replace(rig.ctx, agent=probation, now=MONDAY_10 + dt.timedelta(minutes=2))
    verdict = rig.guard.check(ctx, GuardRequest(Exposure.READ, ("0032000A",), ("0032000A",)))
    assert verdict.action is Action.THROTTLE  # 31 shown this hour, probation allows 10
    evidence = rig.alerts.items[-1].evidence
    assert evidence["threshold"] == 10
    assert evidence["baseline"]["own_hour_q"] == 40.0  # type: ignore[index]


# -- second round: pace, whole scope, second user, long windows, day one, peers -----------------


def _page(n: int, size: int = 100) -> tuple[str, ...]:
    return tuple(ft_id_from_number(500_000 + n * size + i) for i in range(size))


def _day_one(login: str, kind: OrgKind = OrgKind.TRAINING_BODY) -> tuple[Guard, RequestContext]:
    """A guard with no history at all and an agent of that kind."""
    role = Role.TRAINING_MANAGER if kind is OrgKind.TRAINING_BODY else Role.ADVISOR
    agent = make_agent(kind, {role}, login=login)
    org = Organisation(agent.org_id, kind, "Org", "00000000000000")
    ctx = RequestContext(
        agent=agent,
        org=org,
        session_id="s9",
        client=ClientInfo("192.0.2.9", "Firefox"),
        now=MONDAY_10,
    )
    guard = Guard(
        MemoryGuardState(),
        MemoryProfileStore(),
        MemoryContainment(),
        MemoryAlertStore(),
        MemoryJournal(),
        GuardPolicy(),
    )
    return guard, ctx


def test_machine_pace_is_stepped_up_within_a_handful_of_people() -> None:
    """A script inside the session (0.5 s apart): the first page is free, a second page at once
    and more than 8 records in the run ask for a person (ASVS V2.4.1)."""
    t = MONDAY_10
    guard, ctx = _day_one("tm.script")

    def page(n: int, at: dt.datetime) -> Action:
        req = GuardRequest(Exposure.LIST, _page(n), _page(n), scope_size=lambda: 700)
        return guard.check(replace(ctx, now=at), req).action

    assert page(0, t) is Action.ALLOW
    second = guard.check(
        replace(ctx, now=t + dt.timedelta(seconds=0.5)),
        GuardRequest(Exposure.LIST, _page(1), _page(1), scope_size=lambda: 700),
    )
    assert second.action is Action.STEP_UP
    assert second.main is not None
    assert second.main.rule is Rule.PACE

    def read(n: int, at: dt.datetime) -> Action:
        ft_id = ft_id_from_number(n)
        req = GuardRequest(Exposure.READ, (ft_id,), (ft_id,), scope_size=lambda: 700)
        return guard.check(replace(ctx, now=at), req).action

    served = [read(n, t + dt.timedelta(seconds=1 + 0.5 * i)) for i, n in enumerate(range(10, 30))]
    assert served[:8] == [Action.ALLOW] * 8
    assert set(served[8:]) == {Action.STEP_UP}
    alert = next(a for a in guard.alerts.alerts_since(None, 100) if a.rule == Rule.PACE)
    assert alert.evidence["threshold"] == GuardPolicy().detectors.machine_people


def test_human_pace_is_never_asked(rig: Rig) -> None:
    """Records a few seconds apart, pages a few seconds apart: nothing."""
    assert {rig.read(n) for n in range(100, 125)} == {Action.ALLOW}
    assert not [a for a in rig.alerts.items if a.rule == Rule.PACE]


def test_after_a_step_up_the_same_pace_is_not_asked_again(rig: Rig) -> None:
    """The person proved the factor again after sign-in: the run goes on for a while."""
    t = MONDAY_10
    actions = [rig.read(n, when=t + dt.timedelta(seconds=0.5 * n)) for n in range(1, 12)]
    assert Action.STEP_UP in actions
    now = t + dt.timedelta(seconds=7)
    proven = replace(rig.at(now), fresh_until=now + dt.timedelta(minutes=5), reproved=True)
    ft_id = ft_id_from_number(77)
    assert rig.guard.check(proven, GuardRequest(Exposure.READ, (ft_id,), (ft_id,))).action is (
        Action.ALLOW
    )


def test_reading_most_of_ones_scope_at_any_pace_alerts_with_figures(rig: Rig) -> None:
    """An adviser's 154 people read one every 8 s: stopped at half the scope, alert with the
    figures for the security team, step-up for the session."""
    scope = 154
    guard, ctx = _day_one("cap.adv", OrgKind.CAP_EMPLOI)
    actions = [
        guard.check(
            replace(ctx, now=MONDAY_10 + dt.timedelta(seconds=8 * i)),
            GuardRequest(
                Exposure.READ,
                (ft_id_from_number(1000 + i),),
                (ft_id_from_number(1000 + i),),
                scope_size=lambda: scope,
            ),
        ).action
        for i in range(scope)
    ]
    threshold = max(GuardPolicy().detectors.sweep_min_people, scope // 2)
    assert actions[: threshold - 1] == [Action.ALLOW] * (threshold - 1)
    assert set(actions[threshold - 1 :]) == {Action.STEP_UP}
    alerts = guard.alerts.alerts_since(None, 100)
    alert = next(a for a in alerts if a.rule == Rule.SWEEP)
    assert alert.severity.rank >= alert.severity.HIGH.rank
    assert alert.evidence["scope_size"] == scope
    assert alert.evidence["observed"] == threshold
    assert f"{threshold} of the {scope} people" in alert.explanation


def test_a_second_user_taking_turns_is_alerted_then_locked(rig: Rig) -> None:
    """The victim at the office and the thief (who holds the factor) elsewhere, taking turns:
    alert and step-up at the first alternation, lock at the third."""
    office = rig.ctx
    thief = replace(
        rig.ctx, session_id="s2", client=replace(rig.ctx.client, address="176.128.9.77")
    )
    actions = []
    for i in range(8):
        who = office if i % 2 == 0 else thief
        ft_id = ft_id_from_number(3000 + i)
        at = replace(who, now=MONDAY_10 + dt.timedelta(minutes=5 * i))
        actions.append(rig.guard.check(at, GuardRequest(Exposure.READ, (ft_id,), (ft_id,))).action)
    assert actions[:2] == [Action.ALLOW, Action.ALLOW]
    assert actions[2] is Action.STEP_UP  # office, then thief, then office again
    assert Action.LOCK in actions
    assert set(rig.containment.locked) == {"ml.adv"}
    rules = [a.rule for a in rig.alerts.items]
    assert rules.count(Rule.CONCURRENT) >= 2


def test_one_session_moving_between_lines_is_not_a_second_user(rig: Rig) -> None:
    """The same session, rebound by step-ups (office Wi-Fi, then the phone's line): nothing."""
    other = replace(rig.ctx.client, address="176.128.9.77")
    for i in range(6):
        client = rig.ctx.client if i % 2 == 0 else other
        ft_id = ft_id_from_number(4000 + i)
        at = replace(rig.ctx, client=client, now=MONDAY_10 + dt.timedelta(minutes=3 * i))
        rig.guard.check(at, GuardRequest(Exposure.READ, (ft_id,), (ft_id,)))
    assert not [a for a in rig.alerts.items if a.rule == Rule.CONCURRENT]


def test_seven_day_budget_bounds_a_low_and_slow_thief(rig: Rig) -> None:
    """Under every daily limit each day, over the agent's own week: throttled on the week."""
    rig.profiles.set_agent(
        replace(
            rig.profiles.agent("ml.adv"),  # type: ignore[arg-type]
            weekly_distinct=(80, 90, 100, 100, 110),
            monthly_distinct=200,
        )
    )
    b = GuardPolicy().budgets
    limit = max(b.agent_week_floor, math.ceil(quantile((80, 90, 100, 100, 110), 0.95) * 1.5))
    served, refused = 0, None
    for day in range(7):
        for i in range(40):  # 40 a day: under the day budget (60)
            at = MONDAY_10 + dt.timedelta(days=day, minutes=6 * i)
            ft_id = ft_id_from_number(10_000 + day * 100 + i)
            v = rig.guard.check(rig.at(at), GuardRequest(Exposure.READ, (ft_id,), (ft_id,)))
            if v.action is Action.ALLOW:
                served += 1
            elif refused is None:
                refused = v
    assert served == limit
    assert refused is not None
    assert refused.main is not None
    assert refused.main.rule is Rule.BUDGET_AGENT_WEEK


def test_day_one_a_training_manager_pages_through_900_trainees() -> None:
    """No history, no peers: the budget comes from the scope; 9 pages at a person's pace pass,
    and a refusal says what was asked, the limit and what to do."""
    agent = make_agent(OrgKind.TRAINING_BODY, {Role.TRAINING_MANAGER}, login="tm.new")
    org = Organisation(agent.org_id, OrgKind.TRAINING_BODY, "OF", "00000000000000")
    ctx = RequestContext(
        agent=agent,
        org=org,
        session_id="s9",
        client=ClientInfo("192.0.2.9", "Firefox"),
        now=MONDAY_10,
    )
    guard = Guard(
        MemoryGuardState(),
        MemoryProfileStore(),
        MemoryContainment(),
        MemoryAlertStore(),
        MemoryJournal(),
        GuardPolicy(),
    )
    for page in range(9):
        at = replace(ctx, now=MONDAY_10 + dt.timedelta(seconds=5 * page))
        req = GuardRequest(Exposure.LIST, _page(page), _page(page), scope_size=lambda: 900)
        assert guard.check(at, req).action is Action.ALLOW, page
    budget = 900 * GuardPolicy().budgets.scope_margin
    extra = tuple(ft_id_from_number(900_000 + i) for i in range(int(budget) - 900 + 1))
    at = replace(ctx, now=MONDAY_10 + dt.timedelta(minutes=2))
    verdict = guard.check(at, GuardRequest(Exposure.LIST, extra, extra, scope_size=lambda: 900))
    assert verdict.action is Action.THROTTLE
    with pytest.raises(errors.BudgetExhausted) as exc:
        raise_for_verdict(verdict)
    detail = exc.value.detail
    assert f"would show {len(extra)} more people" in detail
    assert f"limit of {int(budget)}" in detail
    assert "ask your account manager" in detail


def test_far_above_the_peers_week_is_alerted_once_a_day(rig: Rig) -> None:
    """An agent with no history of their own, persistently above the peer group's weeks."""
    rig.profiles.replace(
        replace(
            rig.profiles._b,
            agents={},
            peers={
                "mission_locale/advisor": PeerProfile(
                    daily_distinct=(20,) * 50,
                    hourly_peak=(10,) * 50,
                    weekly_distinct=(10,) * 10,
                    monthly_distinct=(90,) * 10,
                    agents=10,
                )
            },
        )
    )
    actions = [rig.read(20_000 + i) for i in range(50)]
    flagged = [i for i, a in enumerate(actions) if a is Action.STEP_UP]
    assert flagged, actions
    assert len([a for a in rig.alerts.items if a.rule == Rule.PEER_OUTLIER]) == 1
    assert flagged[0] == 20  # 2 x 10 allowed, the next one asked


def test_exact_lookups_are_budgeted_per_day() -> None:
    """A list of leaked pairs tried one after another: the 31st lookup of the day is refused,
    with what was asked, the limit and what to do."""
    guard, ctx = _day_one("tm.desk")
    limit = GuardPolicy().budgets.lookups_day
    actions = []
    for i in range(limit + 2):
        ft_id = ft_id_from_number(60_000 + 37 * i)
        at = replace(ctx, now=MONDAY_10 + dt.timedelta(minutes=3 * i))
        actions.append(guard.check(at, GuardRequest(Exposure.LOOKUP, (ft_id,), (ft_id,))).action)
    assert actions[:limit] == [Action.ALLOW] * limit
    assert actions[limit] is Action.THROTTLE
    alert = next(a for a in guard.alerts.alerts_since(None, 100) if a.rule == Rule.BUDGET_LOOKUP)
    assert f"limit of {limit}" in alert.explanation


def test_a_budget_refusal_reads_in_french_on_the_pages() -> None:
    """What was asked, the limit and what to do, in French for the page (the API keeps the
    English detail)."""
    english = budget_explanation(100, 30, 3600, 30, 2400)
    french = detail_fr(f"guard:budget:agent_hour: {english}")
    assert "afficherait 100 personnes de plus" in french
    assert "30 personnes différentes ont déjà été affichées sur la dernière heure" in french
    assert "limite de 30" in french
    assert "Patientez 40 minutes" in french
    assert "responsable gestion de compte" in french
    week = detail_fr(budget_explanation(1, 165, 7 * 86400, 165, 86400))
    assert "sur les 7 derniers jours" in week


def test_records_of_people_a_page_listed_still_count_at_machine_pace() -> None:
    """A page of names, then their full records at machine speed: the records are new data;
    the same roster shown again is not."""
    guard, ctx = _day_one("tm.fast")
    page = _page(0)
    t = MONDAY_10
    list_req = GuardRequest(Exposure.LIST, page, page, scope_size=lambda: 700)
    assert guard.check(replace(ctx, now=t), list_req).action is Action.ALLOW
    again = guard.check(replace(ctx, now=t + dt.timedelta(seconds=1)), list_req)
    assert again.action is Action.ALLOW  # the same roster again (a form's redirect)
    actions = [
        guard.check(
            replace(ctx, now=t + dt.timedelta(seconds=1.5 + 0.5 * i)),
            GuardRequest(Exposure.READ, (f,), (f,), scope_size=lambda: 700),
        ).action
        for i, f in enumerate(page[:20])
    ]
    assert actions[:8] == [Action.ALLOW] * 8
    assert set(actions[8:]) == {Action.STEP_UP}


def test_two_replicas_on_one_state_decide_as_one_guard() -> None:
    """Each guard keeps the run and the lines it wrote last, parsed (``Guard._paces``,
    ``Guard._lines``); a replica must still see what another one wrote since. Reads at machine
    pace and two sessions taking turns, served by two guards in turn on one shared state, get
    exactly the verdicts one guard gives them."""
    one, ctx = _day_one("tm.turns")
    shared, _ = _day_one("tm.turns")
    second = replace(shared, profiles=shared.profiles)  # another replica, the same state
    thief = replace(ctx, session_id="s10", client=replace(ctx.client, address="176.128.9.77"))

    def verdicts(guards: list[Guard]) -> list[tuple[Action, tuple[Rule, ...]]]:
        out = []
        for i in range(48):
            who = ctx if (i // 12) % 2 == 0 else thief  # twelve reads each, in turn
            ft_id = ft_id_from_number(5000 + i)
            at = replace(who, now=MONDAY_10 + dt.timedelta(seconds=0.5 * i + 90 * (i // 12)))
            req = GuardRequest(Exposure.READ, (ft_id,), (ft_id,), scope_size=lambda: 700)
            v = guards[i % len(guards)].check(at, req)
            out.append((v.action, tuple(f.rule for f in v.findings)))
        return out

    alone = verdicts([one])
    assert any(Rule.PACE in rules for _, rules in alone)  # the run was measured
    assert any(Rule.CONCURRENT in rules for _, rules in alone)  # and the turns
    assert verdicts([shared, second]) == alone
