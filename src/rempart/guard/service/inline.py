"""The guard pipeline on every data request: detectors, then exposure budgets, then a decision.

Governance and scope run before it (services/governance.py, domain/scope.py); the guard decides
inside the request, so the next response is already the contained one. Each non-trivial decision
is explained (rule, observed values, thresholds, baseline) in the journal, in an alert, and in
the error's detail, without another person's data.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from rempart.guard import detectors
from rempart.guard.alerts import Alert, Severity
from rempart.guard.decisions import Action, Finding, Rule, Verdict, combine
from rempart.guard.policy import GuardPolicy
from rempart.guard.ports import AlertSink, Containment, GuardState, ProfileStore
from rempart.guard.profiles import (
    AgentProfile,
    OrgProfile,
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
from rempart.kernel.context import RequestContext
from rempart.kernel.exposure import Exposure, GuardRequest
from rempart.kernel.tags import Decision, Tag

log = logging.getLogger("rempart.guard")

HOUR, DAY = 3600, 86400


# One record at a time: what velocity is measured on (lists and exports have their own limits).
_CONSULTS = frozenset({Exposure.READ, Exposure.LOOKUP})


@dataclass
class Guard:
    state: GuardState
    profiles: ProfileStore
    containment: Containment
    alerts: AlertSink
    journal: JournalWriter
    policy: GuardPolicy = field(default_factory=GuardPolicy)
    stats: GuardStats = field(default_factory=GuardStats)  # for /metrics

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
        if ctx.client.country:
            self.state.put(f"country:{login}", f"{ctx.client.country}|{now}", DAY, now)
        if ctx.reproved and ctx.client.network:
            # A network confirmed by a step-up (not the sign-in code itself, which a phishing
            # relay can pass on) is accepted for a month.
            self.state.put(f"net:{login}:{ctx.client.network}", "1", 30 * DAY, now)
        verdict = combine(findings)
        if verdict.action.blocks or not req.exposed:
            return verdict
        findings += self._budgets(ctx, req, profile, org_profile)
        return combine(findings)

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
        budget = agent_budget(
            profile, self.profiles.peers(group), p.budgets, ctx.today, off, probation
        )
        org_limit = org_day_budget(org_profile, p.budgets)
        app_limit = app_day_budget(self.profiles.app_daily(str(ctx.org.app)), p.budgets)
        windows = [
            Window(f"agent:{login}:hour", HOUR, budget.agent_hour),
            Window(f"agent:{login}:day", DAY, budget.agent_day),
            Window(f"org:{ctx.org.id}:day", DAY, org_limit),
            Window(f"app:{ctx.org.app}:day", DAY, app_limit),
        ]
        if req.kind in _CONSULTS:
            windows.append(Window(f"vel:{login}", p.detectors.velocity_window_seconds, 10**9))
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
        adm = self.state.admit(windows, req.exposed, now)
        if adm.admitted:
            return []
        rules = [
            Rule.BUDGET_AGENT_HOUR,
            Rule.BUDGET_AGENT_DAY,
            Rule.BUDGET_ORG_DAY,
            Rule.BUDGET_APP_DAY,
            Rule.VELOCITY,
        ]
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
                rules[i],
                Action.THROTTLE,
                Severity.MEDIUM,
                f"Exposure budget reached: {adm.counts[i]} distinct people in "
                f"{window.seconds // 3600} h against a limit of {window.limit}.",
                evidence,
                retry_after=adm.retry_after,
            )
        ]

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
        if action is not Action.STEP_UP or main.severity >= Severity.MEDIUM:
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
