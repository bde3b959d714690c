"""The guard pipeline on every data request: detectors, then exposure budgets, then a decision.

Governance and scope run before it (services/governance.py, domain/scope.py); the guard decides
inside the request, so the next response is already the contained one. Each non-trivial decision
is explained (rule, observed values, thresholds, baseline) in the journal, in an alert, and in
the error's detail, without another person's data.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

from rempart.guard import detectors
from rempart.guard.alerts import Alert, Severity
from rempart.guard.decisions import Action, Finding, Rule, Verdict, combine
from rempart.guard.policy import GuardPolicy
from rempart.guard.ports import AlertSink, Containment, GuardState, ProfileStore
from rempart.guard.profiles import (
    AgentProfile,
    Budget,
    OrgProfile,
    PeerProfile,
    agent_budget,
    app_day_budget,
    is_usual_time,
    org_day_budget,
)
from rempart.guard.state import Window
from rempart.guard.stats import GuardStats
from rempart.journal.entries import entry_for
from rempart.journal.ports import JournalWriter
from rempart.kernel import errors
from rempart.kernel.context import RequestContext, address_line
from rempart.kernel.exposure import Exposure, GuardRequest
from rempart.kernel.tags import Decision, Tag

log = logging.getLogger("rempart.guard")
_V = TypeVar("_V")

HOUR, DAY, WEEK, MONTH = 3600, 86400, 7 * 86400, 30 * 86400
SCOPE_TTL = 6 * HOUR
PACE_SHOWN_MAX = 200  # the people of the last answer the pace remembers (a page, a roster)


# One record at a time: what velocity is measured on (lists and exports have their own limits).
_CONSULTS = frozenset({Exposure.READ, Exposure.LOOKUP})
_AGENTS_KEPT = 4096  # agents whose last request the guard remembers (dropped together)


class _Kept(dict[str, _V]):
    """What the guard remembers of each agent's last request, to spare the next one work (a
    memo, never the state itself): bounded, and emptied at once rather than aged."""

    def keep(self, login: str, value: _V) -> _V:
        if len(self) >= _AGENTS_KEPT and login not in self:
            self.clear()
        self[login] = value
        return value


# The rule each admission window enforces, in the order ``Guard._windows`` builds them.
_WINDOW_RULES = (
    Rule.BUDGET_AGENT_HOUR,
    Rule.BUDGET_AGENT_DAY,
    Rule.BUDGET_AGENT_WEEK,
    Rule.BUDGET_AGENT_MONTH,
    Rule.BUDGET_ORG_DAY,
    Rule.BUDGET_APP_DAY,
    Rule.VELOCITY,
    Rule.SWEEP,
)


class _PaceState(NamedTuple):
    """The agent's run, as the previous data request left it (``pace:<login>``)."""

    last: float | None
    run: int
    kind: str
    shown: frozenset[str]


class _BudgetInputs(NamedTuple):
    """What an agent's budget is computed from, besides the (fixed) policy. The profiles are
    compared by identity: the baselines job swaps in new objects, it never edits them."""

    profile: AgentProfile | None
    peers: PeerProfile | None
    today: dt.date
    off_hours: bool
    probation: dt.date | None
    scope_size: int

    def same(self, other: _BudgetInputs) -> bool:
        return self.profile is other.profile and self.peers is other.peers and self[2:] == other[2:]


@dataclass
class Guard:
    state: GuardState
    profiles: ProfileStore
    containment: Containment
    alerts: AlertSink
    journal: JournalWriter
    policy: GuardPolicy = field(default_factory=GuardPolicy)
    stats: GuardStats = field(default_factory=GuardStats)  # for /metrics
    # An agent's budget is a pure function of their profiles, the day, the hour's kind, their
    # probation and scope size: computed again only when one of those changed (a read of the
    # same adviser's next person reuses it; new baselines are new objects, hence a miss).
    _budgets_of: _Kept[tuple[_BudgetInputs, Budget]] = field(
        default_factory=_Kept, init=False, repr=False, compare=False
    )
    # The run each agent's last request left, as written to the state and as parsed.
    _paces: _Kept[tuple[str, _PaceState]] = field(
        default_factory=_Kept, init=False, repr=False, compare=False
    )
    # The lines each agent's last request left (``_alternation``), as written and as parsed.
    _lines: _Kept[tuple[str, tuple[tuple[str, str, float, float], ...]]] = field(
        default_factory=_Kept, init=False, repr=False, compare=False
    )
    # The windows of an agent's last request, and the limits they were built with.
    _windows_of: _Kept[tuple[tuple[object, ...], tuple[Window, ...]]] = field(
        default_factory=_Kept, init=False, repr=False, compare=False
    )

    def check(self, ctx: RequestContext, req: GuardRequest) -> Verdict:
        """Decide on one data request; apply containment; raise when the data must not leave."""
        started = time.perf_counter()
        try:
            verdict = self._decide(ctx, req)
        except Exception as exc:
            # redis-py raises its own ConnectionError/TimeoutError types, not the builtin ones.
            unreachable = isinstance(exc, OSError) or type(exc).__module__.startswith("redis")
            if not unreachable:
                raise
            log.exception("guard state unreachable: failing closed for data requests")
            self.stats.failed_closed()
            raise errors.ServiceUnavailable(
                "the guard cannot reach its shared state; data access is paused"
            ) from None
        self.stats.decided(
            str(verdict.action),
            [str(f.rule) for f in verdict.findings],
            time.perf_counter() - started,
            exhausted=any(f.rule.value.startswith("guard:budget:") for f in verdict.findings),
        )
        if verdict.action is not Action.ALLOW:
            self._apply(ctx, req, verdict)
        return verdict

    def admit(self, ctx: RequestContext, request: GuardRequest) -> None:
        """``ExposureGuard.admit``: decide, contain, and raise when the data must not leave."""
        raise_for_verdict(self.check(ctx, request))

    # -- decision --------------------------------------------------------------------------

    def _decide(self, ctx: RequestContext, req: GuardRequest) -> Verdict:
        p = self.policy
        now = ctx.now.timestamp()
        login = ctx.agent.login
        profile = self.profiles.agent(login)
        org_profile = self.profiles.org(ctx.org.id)
        not_found_count = 0
        if not req.found:
            not_found_count = self.state.count_event(
                f"nf:{login}", p.detectors.not_found_window_seconds, now
            )
        recent: tuple[int, ...] = ()
        # Only misses feed the sequence detector: a portfolio read in order is no enumeration.
        if not req.found and req.kind in _CONSULTS and len(req.asked) == 1:
            recent = self.state.push_recent(
                f"ids:{login}", int(req.asked[0][:7]), p.detectors.sequential_run
            )
        last = (self.state.get(f"country:{login}", now) or "|").split("|", 1)
        last_country, last_at = last[0], float(last[1]) if last[1] else None
        learned = self.state.get(f"net:{login}:{ctx.client.network}", now) is not None
        velocity_key = f"vel:{login}"
        obs = detectors.Observation(
            now=ctx.now,
            fresh=ctx.is_fresh,
            network=ctx.client.network,
            country=ctx.client.country,
            user_agent=ctx.client.user_agent,
            canary_touched=req.canary,
            bulk=req.kind is Exposure.EXPORT,
            not_found=not req.found,
            not_found_in_window=not_found_count,
            recent_numbers=recent,
            distinct_in_velocity_window=self.state.distinct(
                velocity_key, p.detectors.velocity_window_seconds, now
            ),
            new_people=len(req.exposed) if req.kind in _CONSULTS else 0,
            last_country=last_country,
            last_country_at=(
                ctx.now.fromtimestamp(last_at, tz=ctx.now.tzinfo) if last_at is not None else None
            ),
            network_learned=learned,
            reproved=ctx.reproved,
        )
        findings = detectors.evaluate(obs, profile, org_profile, p.detectors)
        # The run is read once: the second round measures it, the end of the decision moves it.
        run = self._pace_state(login, now)
        pace = self._pace(run, now, req)
        findings += self._second_round(ctx, req, now, pace)
        if ctx.client.country:
            self.state.put(f"country:{login}", f"{ctx.client.country}|{now}", DAY, now)
        if ctx.reproved and ctx.client.network:
            # A network confirmed by a step-up (not the sign-in code itself, which a phishing
            # relay can pass on) is accepted for a month.
            self.state.put(f"net:{login}:{ctx.client.network}", "1", 30 * DAY, now)
        verdict = combine(findings)
        if not verdict.action.blocks and req.exposed:
            findings += self._budgets(ctx, req, profile, org_profile)
            verdict = combine(findings)
        self._note_pace(login, now, req, run, pace, admitted=not verdict.action.blocks)
        return verdict

    # -- the second round: pace, whole scope, second user ----------------------------------

    def _second_round(
        self, ctx: RequestContext, req: GuardRequest, now: float, pace: detectors.Pace
    ) -> list[Finding]:
        d = self.policy.detectors
        login = ctx.agent.login
        people = len(req.exposed) if req.kind is not Exposure.EXPORT else 0
        findings = self._unless_reproved(
            ctx, "pace", now, 900, detectors.machine_pace(pace, False, d)
        )
        if req.kind is Exposure.READ and req.exposed:
            read = self.state.distinct(f"sweep:{login}", d.sweep_window_seconds, now)
            findings += self._unless_reproved(
                ctx,
                "sweep",
                now,
                d.sweep_window_seconds,
                detectors.scope_sweep(read, people, self._scope_size(login, req, now), False, d),
            )
        if req.exposed:
            alternations, this_one = self._alternation(ctx, now)
            findings += detectors.second_user(alternations, this_one, d)
        if req.kind is Exposure.LOOKUP:
            limit = self.policy.budgets.lookups_day
            done = self.state.count_event(f"lookups:{login}", DAY, now)
            if done > limit:
                findings.append(
                    Finding(
                        Rule.BUDGET_LOOKUP,
                        Action.THROTTLE,
                        Severity.MEDIUM,
                        f"Exact lookup refused: {done} lookups asked in the last 24 h against a "
                        f"limit of {limit} for this account. Wait until tomorrow, or if your "
                        "work needs more, ask your account manager to contact the security team.",
                        {"observed": done, "threshold": limit, "window_seconds": DAY},
                        retry_after=3600,
                    )
                )
        return findings

    def _unless_reproved(
        self, ctx: RequestContext, name: str, now: float, ttl: int, findings: list[Finding]
    ) -> list[Finding]:
        """A finding the person answers by proving the factor again after sign-in: once they
        did (in the last minutes), the same question is not asked again for ``ttl`` seconds."""
        key = f"ok:{name}:{ctx.agent.login}"
        if not findings:
            return findings
        if self.state.get(key, now) is not None:
            return []
        if ctx.reproved and ctx.is_fresh:
            self.state.put(key, "1", ttl, now)
            return []
        return findings

    def _pace_state(self, login: str, now: float) -> _PaceState:
        raw = self.state.get(f"pace:{login}", now) or ""
        kept = self._paces.get(login)
        if kept is not None and kept[0] == raw:  # the value this guard wrote last: parsed
            return kept[1]
        last, _, rest = raw.partition("|")
        run, _, rest = rest.partition("|")
        kind, _, shown = rest.partition("|")
        return _PaceState(
            float(last) if last else None,
            int(run or 0),
            kind,
            frozenset(x for x in shown.split(",") if x),
        )

    def _pace(self, state: _PaceState, now: float, req: GuardRequest) -> detectors.Pace:
        """Where this request stands in the run (an export's rows are not a reading pace)."""
        exposed = req.exposed if req.kind is not Exposure.EXPORT else ()
        gap = now - state.last if state.last is not None else float("inf")
        fast = gap < self.policy.detectors.machine_gap_seconds
        # People the previous answer of the same kind already showed cost nothing: a roster
        # shown again after a form (an enrolment, a mark) is not reading more. A full record
        # of someone a list named is new data.
        same_kind = state.kind == str(req.kind)
        people = len(set(exposed) - state.shown) if same_kind else len(exposed)
        return detectors.Pace(fast, gap, state.run if fast else 0, people)

    def _note_pace(
        self,
        login: str,
        now: float,
        req: GuardRequest,
        state: _PaceState,
        pace: detectors.Pace,
        *,
        admitted: bool,
    ) -> None:
        exposed = req.exposed if req.kind is not Exposure.EXPORT else ()
        kind, shown = state.kind, state.shown
        # The first request of a run is free; the run counts what followed it at machine speed.
        run = pace.run_people + (pace.people if admitted and pace.fast else 0)
        if admitted and exposed:
            kind = str(req.kind)
            shown = frozenset(exposed) if len(exposed) <= PACE_SHOWN_MAX else frozenset()
        value = f"{now}|{run}|{kind}|{','.join(sorted(shown))}"
        self.state.put(f"pace:{login}", value, HOUR, now)
        # The next request of this agent reads back this very value (unless another replica
        # wrote since, which a comparison of the text tells): it is not parsed again.
        self._paces.keep(login, (value, _PaceState(now, run, kind, shown)))

    def _scope_size(self, login: str, req: GuardRequest, now: float) -> int:
        """How many people the agent's scope holds (counted by the data path, kept 6 hours)."""
        cached = self.state.get(f"scope:{login}", now)
        if cached is not None:
            return int(cached)
        if req.scope_size is None:
            return 0
        size = req.scope_size()
        # Kept a few hours: a scope changes slowly, and a request that cannot count it (none
        # today) must not fall back to the floors in the afternoon.
        self.state.put(f"scope:{login}", str(size), SCOPE_TTL, now)
        return size

    def _alternation(self, ctx: RequestContext, now: float) -> tuple[int, bool]:
        """(alternations today, whether this request is one): lines A, B, A in turn, through
        two sessions, each change within the window."""
        key = f"lines:{ctx.agent.login}"
        line, session = address_line(ctx.client.address), ctx.session_id
        # (line, session, first seen, last seen) of the last three lines, newest last.
        raw = self.state.get(key, now) or ""
        kept = self._lines.get(ctx.agent.login)
        if kept is not None and kept[0] == raw:  # what this guard wrote last: parsed
            seen = list(kept[1])
        else:
            seen = [
                (a, b, float(c), float(d))
                for a, b, c, d in (item.split(",") for item in raw.split(";") if item)
            ]
        window = self.policy.detectors.concurrent_window_seconds
        this_one = False
        if seen and seen[-1][0] == line:
            seen[-1] = (line, session, seen[-1][2], now)
        else:
            if len(seen) >= 2:
                (a_line, a_session, _a_first, a_last), (_b, b_session, b_first, b_last) = seen[-2:]
                this_one = (
                    a_line == line
                    and b_session not in (a_session, session)
                    and b_first - a_last <= window
                    and now - b_last <= window
                )
            seen = [*seen[-2:], (line, session, now, now)]
        value = ";".join(f"{a},{b},{c},{d}" for a, b, c, d in seen)
        self.state.put(key, value, DAY, now)
        self._lines.keep(ctx.agent.login, (value, tuple(seen)))
        count = self.state.count_event(f"concurrent:{ctx.agent.login}", DAY, now) if this_one else 0
        return count, this_one

    def _budgets(
        self,
        ctx: RequestContext,
        req: GuardRequest,
        profile: AgentProfile | None,
        org_profile: OrgProfile | None,
    ) -> list[Finding]:
        p = self.policy
        now = ctx.now.timestamp()
        login = ctx.agent.login
        off = not is_usual_time(ctx.now, profile, org_profile, p.detectors)
        group = f"{ctx.org.kind}/{'+'.join(sorted(ctx.agent.roles))}"
        probation = ctx.agent.probation_until.date() if ctx.agent.probation_until else None
        peers = self.profiles.peers(group)
        budget = self._agent_budget(
            login,
            _BudgetInputs(
                profile, peers, ctx.today, off, probation, self._scope_size(login, req, now)
            ),
        )
        # Day one: an organisation or app without history allows each agent at work today
        # at least their own day's budget.
        per_agent = max(p.budgets.no_history_per_agent_day, budget.agent_day)
        org_limit = org_day_budget(
            org_profile,
            p.budgets,
            self._active_today(f"org:{ctx.org.id}", login, now) * per_agent
            if org_profile is None or not org_profile.daily_distinct
            else 0,
        )
        app_daily = self.profiles.app_daily(str(ctx.org.app))
        app_limit = app_day_budget(
            app_daily,
            p.budgets,
            0 if app_daily else self._active_today(f"app:{ctx.org.app}", login, now) * per_agent,
        )
        windows = self._windows(
            login, ctx.org.id, str(ctx.org.app), req.kind, budget, org_limit, app_limit
        )
        outliers = self._peer_outlier(login, peers, len(req.exposed), now)
        if req.kind is Exposure.EXPORT and len(req.exposed) > p.budgets.export_rows_ceiling:
            return [
                Finding(
                    Rule.BUDGET_EXPORT,
                    Action.DENY,
                    Severity.HIGH,
                    f"An export of {len(req.exposed)} rows exceeds the ceiling of "
                    f"{p.budgets.export_rows_ceiling}.",
                    {"observed": len(req.exposed), "threshold": p.budgets.export_rows_ceiling},
                )
            ]
        if outliers and combine(outliers).action.blocks:
            return outliers
        adm = self.state.admit(windows, req.exposed, now)
        if adm.admitted:
            return outliers
        i = adm.blocked or 0
        window = windows[i]
        evidence: dict[str, object] = {
            "observed": adm.counts[i],
            "would_add": adm.new_members,
            "threshold": window.limit,
            "window_seconds": window.seconds,
            "baseline": budget.basis,
            "off_hours": off,
        }
        refusals = self.state.count_event(f"exhausted:{login}", HOUR, now)
        if refusals >= p.budgets.burst_attempts_after_exhausted:
            evidence["refusals_last_hour"] = refusals
            evidence["burst_threshold"] = p.budgets.burst_attempts_after_exhausted
            return [
                Finding(
                    Rule.BUDGET_BURST,
                    Action.REVOKE,
                    Severity.HIGH,
                    f"{refusals} requests kept coming after the exposure budget of "
                    f"{window.limit} people was reached: session revoked.",
                    evidence,
                )
            ]
        return [
            Finding(
                _WINDOW_RULES[i],
                Action.THROTTLE,
                Severity.MEDIUM,
                budget_explanation(
                    adm.new_members, adm.counts[i], window.seconds, window.limit, adm.retry_after
                ),
                evidence,
                retry_after=adm.retry_after,
            )
        ]

    def _agent_budget(self, login: str, inputs: _BudgetInputs) -> Budget:
        kept = self._budgets_of.get(login)
        if kept is not None and kept[0].same(inputs):
            return kept[1]
        budget = agent_budget(
            inputs.profile,
            inputs.peers,
            self.policy.budgets,
            inputs.today,
            inputs.off_hours,
            inputs.probation,
            scope_size=inputs.scope_size,
        )
        return self._budgets_of.keep(login, (inputs, budget))[1]

    def _windows(
        self,
        login: str,
        org_id: str,
        app: str,
        kind: Exposure,
        budget: Budget,
        org_limit: int,
        app_limit: int,
    ) -> tuple[Window, ...]:
        """The windows a request is admitted into, in the order of ``_WINDOW_RULES``: built
        again only when a limit changed (most reads of an agent reuse the last ones)."""
        inputs = (budget, org_limit, app_limit, org_id, app, kind)
        kept = self._windows_of.get(login)
        if kept is not None and kept[0] == inputs:
            return kept[1]
        d = self.policy.detectors
        windows = [
            Window(f"agent:{login}:hour", HOUR, budget.agent_hour),
            Window(f"agent:{login}:day", DAY, budget.agent_day),
            Window(f"agent:{login}:week", WEEK, budget.agent_week),
            Window(f"agent:{login}:month", MONTH, budget.agent_month),
            Window(f"org:{org_id}:day", DAY, org_limit),
            Window(f"app:{app}:day", DAY, app_limit),
        ]
        if kind in _CONSULTS:
            windows.append(Window(f"vel:{login}", d.velocity_window_seconds, 10**9))
        if kind is Exposure.READ:
            windows.append(Window(f"sweep:{login}", d.sweep_window_seconds, 10**9))
        return self._windows_of.keep(login, (inputs, tuple(windows)))[1]

    def _active_today(self, scope: str, login: str, now: float) -> int:
        """Agents at work today in an organisation or an app (day one's budgets count them)."""
        adm = self.state.admit([Window(f"{scope}:agents", DAY, 10**9)], [login], now)
        return adm.counts[0]

    def _peer_outlier(
        self, login: str, peers: PeerProfile | None, people: int, now: float
    ) -> list[Finding]:
        d = self.policy.detectors
        key = f"peers_flagged:{login}"
        if peers is None or peers.agents < d.peer_outlier_min_agents:
            return []
        week = self.state.distinct(f"agent:{login}:week", WEEK, now) + people
        found = detectors.peer_outlier(week, peers, self.state.get(key, now) is not None, d)
        if found:
            self.state.put(key, "1", DAY, now)
        return found

    # -- effects ---------------------------------------------------------------------------

    def _apply(self, ctx: RequestContext, req: GuardRequest, verdict: Verdict) -> None:
        main = verdict.main
        assert main is not None
        action = verdict.action
        if action is Action.REVOKE:
            self.containment.revoke_session(ctx.session_id, main.rule)
        elif action is Action.LOCK:
            self.containment.revoke_session(ctx.session_id, main.rule)
            self.containment.lock_account(ctx.agent.login, main.rule)
        elif action is Action.SUSPEND_APP:
            self.containment.suspend_org_app(ctx.org.id, str(ctx.org.app), main.rule)
        tag = {
            Action.REVOKE: Tag.GUARD_SESSION_REVOKED,
            Action.LOCK: Tag.GUARD_ACCOUNT_LOCKED,
            Action.THROTTLE: Tag.GUARD_BUDGET_EXHAUSTED,
        }.get(action, Tag.GUARD_REQUEST_DENIED)
        decision = {
            Action.ALERT: Decision.ALLOW,
            Action.STEP_UP: Decision.STEP_UP,
            Action.THROTTLE: Decision.THROTTLE,
            Action.REVOKE: Decision.REVOKE,
            Action.LOCK: Decision.LOCK,
        }.get(action, Decision.DENY)
        evidence = {"rule": str(main.rule), **main.evidence}
        self.journal.append(
            [
                entry_for(
                    ctx,
                    tag,
                    decision,
                    persons=req.asked,
                    reason=str(main.rule),
                    details={
                        "action": str(action),
                        "explanation": main.explanation,
                        # What a SIEM needs to recount the detectors from the export (issue 18).
                        "severity": str(main.severity),
                        "request": str(req.kind),
                        "found": req.found,
                        **evidence,
                    },
                )
            ]
        )
        # Step-ups are routine (a new network, an early start); everything else reaches a human.
        if action is not Action.STEP_UP or main.severity.rank >= Severity.MEDIUM.rank:
            self.alerts.raise_alert(
                Alert(
                    at=ctx.now,
                    rule=str(main.rule),
                    severity=main.severity,
                    explanation=main.explanation,
                    action_taken=str(action),
                    agent_login=ctx.agent.login,
                    org_id=ctx.org.id,
                    session_id=ctx.session_id,
                    evidence=dict(main.evidence),
                )
            )


def window_words(seconds: int) -> str:
    """A window in words: "1 h", "24 h", "7 days"."""
    if seconds >= 2 * DAY:
        return f"{seconds // DAY} days"
    if seconds >= HOUR:
        return f"{seconds // HOUR} h"
    return f"{max(1, seconds // 60)} min"


def budget_explanation(would_add: int, count: int, seconds: int, limit: int, wait: int) -> str:
    """A refusal that says what was asked, the limit, and what to do (the pages translate it)."""
    return (
        f"Exposure budget reached: this request would show {would_add} more people; "
        f"{count} distinct people were shown in the last {window_words(seconds)} against a "
        f"limit of {limit} for this account. Wait {wait} s (Retry-After), or if your work needs "
        "more, ask your account manager to contact the security team."
    )


def raise_for_verdict(verdict: Verdict, *, hide_canary: bool = True) -> None:
    """Turn a blocking verdict into the API's error (a canary hit still looks like a 404)."""
    if not verdict.action.blocks:
        return
    main = verdict.main
    assert main is not None
    detail = f"{main.rule}: {main.explanation}"
    if main.rule is Rule.CANARY and hide_canary:
        raise errors.NotFound()
    match verdict.action:
        case Action.STEP_UP:
            raise errors.StepUpRequired(detail)
        case Action.THROTTLE:
            if main.rule.value.startswith("guard:budget:"):
                raise errors.BudgetExhausted(detail, verdict.retry_after)
            raise errors.Throttled(detail, verdict.retry_after or 60)
        case Action.DENY:
            raise errors.Forbidden(detail)
        case Action.REVOKE | Action.LOCK:
            raise errors.SessionRevoked(detail)
        case _:
            raise errors.AccessSuspended(detail)
