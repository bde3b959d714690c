"""Switching one partner app off (or back on) without closing the whole portal."""

from __future__ import annotations

from rempart.governance.service.deps import GovernanceDeps
from rempart.journal.entries import entry_for
from rempart.kernel.actors import App, Role
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import Forbidden, NotFound
from rempart.kernel.tags import Decision, Tag


def set_app_enabled(
    gov: GovernanceDeps, ctx: RequestContext, app: App, org_id: str | None, enabled: bool
) -> dict[str, object]:
    """An admin suspends or resumes one app, for everyone or one organisation (July 2025 lesson)."""
    if not ctx.agent.has(Role.ADMIN):
        raise Forbidden("only an administrator switches apps")
    if org_id is not None and gov.directory.organisation(org_id) is None:
        raise NotFound()
    gov.journal.append(
        [
            entry_for(
                ctx,
                Tag.ADMIN_APP_RESUMED if enabled else Tag.ADMIN_APP_SUSPENDED,
                Decision.ALLOW,
                details={"app": str(app), "org_id": org_id or "*"},
            )
        ]
    )
    gov.apps.set_app_enabled(app, org_id, enabled)
    return {"app": str(app), "org_id": org_id, "enabled": enabled}
