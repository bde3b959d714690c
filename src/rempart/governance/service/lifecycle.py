"""Account lifecycle jobs: expire requests, disable the unused and the leavers, run reviews.

Accounts unused for 90 days are disabled and after 180 days their factors are erased (CNIL,
Dec 2025 lessons: dormant accounts are what attackers reuse); an end date disables an account
on that very day. ``rempart jobs run`` runs these once; ``serve`` runs them periodically.
Every job is idempotent, so several replicas running them at once do no harm. Each step (one
account disabled, one account's factors erased, one request expired, one campaign opened or
closed) is one unit of work: a failure undoes that step only, never half of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from rempart.governance.model import (
    DisabledReason,
    GovernanceAlert,
    LifecycleAction,
    inactivity_actions,
)
from rempart.governance.service import accounts, offboarding, reviews
from rempart.governance.service.deps import GovernanceDeps
from rempart.governance.service.events import alert, record
from rempart.guard.alerts import Severity
from rempart.kernel.actors import Agent
from rempart.kernel.tags import Decision, Tag


@dataclass
class JobReport:
    """What one run of the jobs did."""

    at: str = ""
    requests_expired: int = 0
    disabled_inactive: list[str] = field(default_factory=list)
    factors_erased: list[str] = field(default_factory=list)
    leavers_disabled: list[str] = field(default_factory=list)
    campaigns_opened: int = 0
    reminders_sent: int = 0
    campaigns_closed: int = 0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


def _erase_idle_factors(
    gov: GovernanceDeps, agent: Agent, now: dt.datetime, idle_days: int | None
) -> None:
    offboarding.erase_all_factors(gov, agent, now)
    record(
        gov,
        None,
        Tag.LIFECYCLE_FACTORS_ERASED,
        Decision.REVOKE,
        subject=agent,
        reason="inactive",
        details={"idle_days": idle_days},
        at=now,
    )


def run_jobs(gov: GovernanceDeps, now: dt.datetime | None = None) -> JobReport:
    """Run every governance job once, each step in its own unit of work."""
    now = now or gov.clock.now()
    report = JobReport(at=now.isoformat())
    report.requests_expired = accounts.expire_requests(gov, now)
    rules = gov.rules
    tx = gov.transactions
    for agent, standing in gov.listings.idle_agents(now - rules.inactivity_disable):
        actions = inactivity_actions(agent, standing, now, rules)
        last = standing.last_used_at or agent.created_at
        idle_days = (now - last).days if last else None
        if LifecycleAction.DISABLE in actions:
            with tx.unit_of_work():
                if offboarding.disable(
                    gov, agent, DisabledReason.INACTIVE, now, idle_days=idle_days
                ):
                    report.disabled_inactive.append(agent.login)
        if LifecycleAction.ERASE_FACTORS in actions and not standing.enrolment_pending:
            with tx.unit_of_work():
                _erase_idle_factors(gov, agent, now, idle_days)
            report.factors_erased.append(agent.login)
    for agent in gov.listings.leavers(now.date()):
        with tx.unit_of_work():
            if offboarding.disable_leaver(gov, agent, now):
                report.leavers_disabled.append(agent.login)
    report.campaigns_closed = reviews.close_due_campaigns(gov, now)
    report.campaigns_opened = reviews.open_due_campaigns(gov, now)
    report.reminders_sent = reviews.send_reminders(gov, now)
    disabled = report.disabled_inactive + report.leavers_disabled
    if disabled or report.factors_erased:
        alert(
            gov,
            None,
            GovernanceAlert.ACCOUNTS_DISABLED,
            Severity.INFO,
            f"Lifecycle jobs disabled {len(disabled)} account(s) and erased the factors of "
            f"{len(report.factors_erased)}.",
            evidence={
                "inactive": report.disabled_inactive[:100],
                "leavers": report.leavers_disabled[:100],
                "factors_erased": report.factors_erased[:100],
                "inactivity_disable_days": rules.inactivity_disable.days,
                "inactivity_erase_days": rules.inactivity_erase.days,
            },
            action_taken="accounts_disabled",
            at=now,
        )
    return report
