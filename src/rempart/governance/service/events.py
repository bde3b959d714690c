"""Journal entries and alerts for governance: one shape, whether a person or a job acted.

Every step of the account lifecycle is journaled (ASVS V16.3.3); every privileged change is
also raised as an alert to the security team the moment it happens, not in a weekly report.
"""

from __future__ import annotations

import datetime as dt

from rempart.governance.model import GovernanceAlert
from rempart.governance.service.deps import GovernanceDeps
from rempart.guard.alerts import Alert, Severity
from rempart.journal.entries import entry_for
from rempart.journal.model import JournalEntry
from rempart.kernel.actors import Agent
from rempart.kernel.context import RequestContext
from rempart.kernel.tags import Decision, Tag

SYSTEM = "system"  # the actor recorded when a scheduled job acts


def record(
    gov: GovernanceDeps,
    ctx: RequestContext | None,
    tag: Tag,
    decision: Decision,
    *,
    subject: Agent | None = None,
    reason: str = "",
    details: dict[str, object] | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Journal one governance step; ``subject`` is the account it concerns, if any."""
    facts: dict[str, object] = dict(details or {})
    if subject is not None:
        facts.setdefault("account", subject.login)
        facts.setdefault("account_org_id", subject.org_id)
    if ctx is not None:
        entry = entry_for(ctx, tag, decision, reason=reason, details=facts)
    else:
        entry = JournalEntry(
            at=at or gov.clock.now(),
            tag=tag,
            decision=decision,
            agent_login=SYSTEM,
            org_id=subject.org_id if subject is not None else "",
            reason=reason,
            details=facts,
        )
    gov.journal.append([entry])


def alert(
    gov: GovernanceDeps,
    ctx: RequestContext | None,
    rule: GovernanceAlert,
    severity: Severity,
    explanation: str,
    *,
    evidence: dict[str, object] | None = None,
    action_taken: str = "none",
    org_id: str = "",
    at: dt.datetime | None = None,
) -> int:
    """Raise an alert to the security team; return its id."""
    return gov.alerts.raise_alert(
        Alert(
            at=ctx.now if ctx is not None else (at or gov.clock.now()),
            rule=str(rule),
            severity=severity,
            explanation=explanation,
            action_taken=action_taken,
            agent_login=ctx.agent.login if ctx is not None else SYSTEM,
            org_id=ctx.org.id if ctx is not None else org_id,
            session_id=ctx.session_id if ctx is not None else "",
            evidence=evidence or {},
        )
    )
