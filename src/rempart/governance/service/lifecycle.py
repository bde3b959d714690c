"""Account lifecycle jobs: expire requests, disable the unused and the leavers, run reviews.

Accounts unused for 90 days are disabled and after 180 days their factors are erased (CNIL,
Dec 2025 lessons: dormant accounts are what attackers reuse); an end date disables an account
on that very day. ``rempart jobs run`` runs these once; ``serve`` runs them periodically.
Every job is idempotent, so several replicas running them at once do no harm.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from rempart.governance.model import (
    DisabledReason,
    GovernanceAlert,
    LifecycleAction,
    inactivity_actions,
    leaves_today,
)
from rempart.governance.service import accounts, reviews
from rempart.governance.service.events import alert, record
from rempart.guard.alerts import Severity
from rempart.kernel.actors import Agent
from rempart.kernel.context import ClientInfo
from rempart.kernel.tags import Decision, Tag
from rempart.people.service.deps import GovernanceDeps
from rempart.signin.model import EndReason
from rempart.signin.service.sessions import end_sessions

_NO_CLIENT = ClientInfo(address="")


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


def _disable(
    gov: GovernanceDeps, agent: Agent, reason: DisabledReason, now: dt.datetime, **facts: object
) -> bool:
    if not gov.store.set_active(agent.id, False, str(reason)):
        return False
    ended = end_sessions(
        gov.auth, _NO_CLIENT, EndReason.ACCOUNT_DISABLED, actor=None, agent_id=agent.id
    )
    accounts.cancel_requests_of(gov, None, agent.id, f"account disabled ({reason})")
    gov.store.revoke_enrolment_tokens(agent.id, now)
    record(
        gov,
        None,
        Tag.LIFECYCLE_AGENT_DISABLED,
        Decision.REVOKE,
        subject=agent,
        reason=str(reason),
        details={"sessions_ended": ended, **facts},
        at=now,
    )
    return True


def disable_leaver(gov: GovernanceDeps, agent: Agent, now: dt.datetime) -> bool:
    """Disable an account whose end date has come."""
    return leaves_today(agent, now.date()) and _disable(
        gov,
        agent,
        DisabledReason.END_DATE,
        now,
        end_date=agent.end_date.isoformat() if agent.end_date else None,
    )


def run_jobs(gov: GovernanceDeps, now: dt.datetime | None = None) -> JobReport:
    """Run every governance job once."""
    now = now or gov.portal.clock.now()
    report = JobReport(at=now.isoformat())
    report.requests_expired = accounts.expire_requests(gov, now)
    rules = gov.rules
    for agent, standing in gov.store.idle_agents(now - rules.inactivity_disable):
        actions = inactivity_actions(agent, standing, now, rules)
        last = standing.last_used_at or agent.created_at
        idle_days = (now - last).days if last else None
        if LifecycleAction.DISABLE in actions and _disable(
            gov, agent, DisabledReason.INACTIVE, now, idle_days=idle_days
        ):
            report.disabled_inactive.append(agent.login)
        if LifecycleAction.ERASE_FACTORS in actions and not standing.enrolment_pending:
            accounts.erase_all_factors(gov, agent, now)
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
            report.factors_erased.append(agent.login)
    for agent in gov.store.leavers(now.date()):
        if disable_leaver(gov, agent, now):
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
