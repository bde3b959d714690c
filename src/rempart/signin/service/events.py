"""Security events: one shape for every sign-in decision, through the journal port."""

from __future__ import annotations

from rempart.guard.alerts import Alert, Severity
from rempart.journal.model import JournalEntry
from rempart.kernel.actors import Agent
from rempart.kernel.context import ClientInfo
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import SigninAlert
from rempart.signin.service.deps import AuthDeps


def emit(
    deps: AuthDeps,
    tag: Tag,
    decision: Decision,
    client: ClientInfo,
    *,
    agent: Agent | None = None,
    session_id: str = "",
    reason: str = "",
    details: dict[str, object] | None = None,
) -> None:
    """Record one event with time, account, organisation, address, network and user agent.

    Never carries a secret: no password, code, token or cookie goes in ``details``; an
    unknown login is not recorded either, since users sometimes type a password there.
    """
    deps.journal.append(
        [
            JournalEntry(
                at=deps.clock.now(),
                tag=tag,
                decision=decision,
                agent_login=agent.login if agent else "",
                org_id=agent.org_id if agent else "",
                session_id=session_id,
                client_address=client.address,
                network=client.network,
                user_agent=client.user_agent,
                reason=reason,
                details=dict(details or {}),
            )
        ]
    )


def alert(
    deps: AuthDeps,
    rule: SigninAlert,
    severity: Severity,
    explanation: str,
    client: ClientInfo,
    *,
    agent: Agent,
    session_id: str = "",
    evidence: dict[str, object] | None = None,
    action_taken: str = "none",
) -> int:
    """Raise an alert to the security team (never a secret in ``evidence``); return its id."""
    return deps.alerts.raise_alert(
        Alert(
            at=deps.clock.now(),
            rule=str(rule),
            severity=severity,
            explanation=explanation,
            action_taken=action_taken,
            agent_login=agent.login,
            org_id=agent.org_id,
            session_id=session_id,
            evidence={"address": client.address, "network": client.network, **(evidence or {})},
        )
    )
