"""Building journal entries from a request: one place that knows what an entry holds."""

from __future__ import annotations

from collections.abc import Iterable

from rempart.domain.context import RequestContext
from rempart.domain.journal import Decision, JournalEntry, Tag


def entry_for(
    ctx: RequestContext,
    tag: Tag,
    decision: Decision,
    *,
    persons: Iterable[str] = (),
    categories: Iterable[str] = (),
    purpose: str = "",
    reason: str = "",
    details: dict[str, object] | None = None,
) -> JournalEntry:
    """A journal entry for a decision taken on behalf of ``ctx``'s agent."""
    return JournalEntry(
        at=ctx.now,
        tag=tag,
        decision=decision,
        agent_login=ctx.agent.login,
        org_id=ctx.org.id,
        session_id=ctx.session_id,
        client_address=ctx.client.address,
        network=ctx.client.network,
        user_agent=ctx.client.user_agent,
        persons=tuple(persons),
        categories=tuple(sorted(categories)),
        purpose=purpose,
        reason=reason,
        details=details or {},
        agent_roles=tuple(sorted(str(r) for r in ctx.agent.roles)),
    )
