"""Switching one partner app off (or back on) without closing the whole portal."""

from __future__ import annotations

from rempart.domain.context import RequestContext
from rempart.domain.errors import Forbidden, NotFound
from rempart.domain.journal import Decision, Tag
from rempart.domain.model import App, Role
from rempart.services.deps import PortalDeps
from rempart.services.journaling import entry_for


def set_app_enabled(
    deps: PortalDeps, ctx: RequestContext, app: App, org_id: str | None, enabled: bool
) -> dict[str, object]:
    """An admin suspends or resumes one app, for everyone or one organisation (July 2025 lesson)."""
    if not ctx.agent.has(Role.ADMIN):
        raise Forbidden("only an administrator switches apps")
    if org_id is not None and deps.store.organisation(org_id) is None:
        raise NotFound()
    deps.journal.append(
        [
            entry_for(
                ctx,
                Tag.ADMIN_APP_RESUMED if enabled else Tag.ADMIN_APP_SUSPENDED,
                Decision.ALLOW,
                details={"app": str(app), "org_id": org_id or "*"},
            )
        ]
    )
    deps.store.set_app_enabled(app, org_id, enabled)
    return {"app": str(app), "org_id": org_id, "enabled": enabled}
