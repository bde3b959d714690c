"""Building journal entries from a request: one place that knows what an entry holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from rempart.journal.model import JournalEntry
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.tags import Decision, Tag


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


def citizen_entry(
    at: dt.datetime,
    tag: Tag,
    decision: Decision,
    client: ClientInfo,
    *,
    ft_id: str = "",
    session_id: str = "",
    reason: str = "",
    details: dict[str, object] | None = None,
) -> JournalEntry:
    """A journal entry for what a person did on their own file (no agent, no organisation)."""
    return JournalEntry(
        at=at,
        tag=tag,
        decision=decision,
        session_id=session_id,
        client_address=client.address,
        network=client.network,
        user_agent=client.user_agent,
        persons=(ft_id,) if ft_id else (),
        purpose="data_subject_access",
        reason=reason,
        details=details or {},
    )
