"""Governance gate: is this account, its organisation and its app allowed to work at all?"""

from __future__ import annotations

from rempart.domain.context import RequestContext
from rempart.domain.errors import AccessSuspended
from rempart.domain.ports import PortalStore


def ensure_may_access_data(store: PortalStore, ctx: RequestContext) -> None:
    """Raise AccessSuspended unless the account, its training and its app are all in force."""
    agent = ctx.agent
    if not agent.active or (agent.end_date is not None and agent.end_date < ctx.today):
        raise AccessSuspended("this account is suspended")
    if agent.training_valid_until is not None and agent.training_valid_until < ctx.today:
        raise AccessSuspended(
            "security training expired: your organisation must record a renewed attestation"
        )
    if not store.app_enabled(ctx.org.app, ctx.org.id):
        raise AccessSuspended(f"the {ctx.org.app} application is suspended for your organisation")
