"""Findings of the guard and the one decision they add up to."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from rempart.guard.alerts import Severity


class Action(StrEnum):
    """What the guard does, weakest first (a request gets the strongest of its findings)."""

    ALLOW = "allow"
    ALERT = "alert"
    STEP_UP = "step_up"
    THROTTLE = "throttle"
    DENY = "deny"
    REVOKE = "revoke_session"
    LOCK = "lock_account"
    SUSPEND_APP = "suspend_org_app"

    @property
    def rank(self) -> int:
        """Strength of the action."""
        return _RANK[self]

    @property
    def blocks(self) -> bool:
        """True when the data must not leave."""
        return self.rank >= _RANK[Action.STEP_UP]


_RANK = {a: i for i, a in enumerate(Action)}


class Rule(StrEnum):
    """Rule ids, shaped ``source:subject:action`` like the journal's tags."""

    CANARY = "guard:canary:touched"
    NOT_FOUND_RATE = "guard:enumeration:not_found_rate"
    SEQUENTIAL = "guard:enumeration:sequential"
    NEW_NETWORK = "guard:network:new"
    NEW_COUNTRY = "guard:network:new_country"
    IMPOSSIBLE_TRAVEL = "guard:travel:impossible"
    OFF_HOURS = "guard:hours:off"
    VELOCITY = "guard:velocity:burst"
    BUDGET_AGENT_HOUR = "guard:budget:agent_hour"
    BUDGET_AGENT_DAY = "guard:budget:agent_day"
    BUDGET_ORG_DAY = "guard:budget:org_day"
    BUDGET_APP_DAY = "guard:budget:app_day"
    BUDGET_EXPORT = "guard:budget:export_rows"
    EXPORT_FRESH = "guard:export:step_up"
    BUDGET_BURST = "guard:budget:burst"
    BUDGET_AGENT_WEEK = "guard:budget:agent_week"
    BUDGET_AGENT_MONTH = "guard:budget:agent_month"
    PACE = "guard:pace:machine"
    SWEEP = "guard:scope:sweep"
    CONCURRENT = "guard:session:concurrent"
    PEER_OUTLIER = "guard:peers:outlier"
    BUDGET_LOOKUP = "guard:budget:lookup_day"


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    action: Action
    severity: Severity
    explanation: str  # one sentence, no other person's data
    evidence: dict[str, object] = field(default_factory=dict)
    retry_after: int = 0


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    findings: tuple[Finding, ...] = ()

    @property
    def main(self) -> Finding | None:
        """The finding that set the action."""
        for f in self.findings:
            if f.action is self.action:
                return f
        return None

    @property
    def retry_after(self) -> int:
        """Longest wait asked by a throttling finding."""
        return max((f.retry_after for f in self.findings), default=0)


def combine(findings: list[Finding]) -> Verdict:
    """The strongest action among the findings (allow when there are none)."""
    if not findings:
        return Verdict(Action.ALLOW)
    ordered = sorted(findings, key=lambda f: f.action.rank, reverse=True)
    return Verdict(ordered[0].action, tuple(ordered))
