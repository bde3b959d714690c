"""Security events: one shape for every sign-in decision, through the journal port."""

from __future__ import annotations

from rempart.journal.model import JournalEntry
from rempart.kernel.actors import Agent
from rempart.kernel.context import ClientInfo
from rempart.kernel.tags import Decision, Tag
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
