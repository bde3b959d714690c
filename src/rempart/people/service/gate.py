"""The data gate: may this account, its organisation and its app reach people's data at all?"""

from __future__ import annotations

import datetime as dt

from rempart.kernel.context import RequestContext
from rempart.kernel.errors import AccessSuspended
from rempart.kernel.exposure import GuardRequest
from rempart.people.service.deps import GateDeps

# A new account without an attestation yet: time to take the security training (ANSSI's
# awareness courses take a day; a month leaves room for the session dates).
TRAINING_GRACE = dt.timedelta(days=30)


def ensure_may_access_data(deps: GateDeps, ctx: RequestContext) -> None:
    """Raise AccessSuspended unless the account, its organisation, its second factor, its
    training and its app are all in force.

    Read from storage on every request (one query), so that a kill switch, a review removal or
    an expired training applies at once, whatever sessions are open (ASVS V8.3.2).
    """
    agent = ctx.agent
    if not agent.active or (agent.end_date is not None and agent.end_date < ctx.today):
        raise AccessSuspended("this account is suspended")
    standing = deps.standings.access_standing(agent.id, ctx.org.id, ctx.org.app)
    if standing.org_suspended:
        raise AccessSuspended("your organisation's access is suspended")
    if standing.enrolment_pending:
        # A new (or reset) account reads nothing before it holds a second factor: the
        # Dec 2025 accounts were usable the moment they were created.
        raise AccessSuspended("enrol a second factor with your enrolment link first")
    if agent.training_valid_until is None:
        # Fail closed: an account without an attestation date reads data only in its first
        # weeks (the time to take the training), and not at all when its creation is unknown.
        created = agent.created_at
        if created is None or ctx.now > created + TRAINING_GRACE:
            raise AccessSuspended(
                "no security training attestation on record: your organisation must record one"
            )
    elif agent.training_valid_until < ctx.today:
        raise AccessSuspended(
            "security training expired: your organisation must record a renewed attestation"
        )
    if not standing.app_enabled:
        raise AccessSuspended(f"the {ctx.org.app} application is suspended for your organisation")


def guard_check(deps: GateDeps, ctx: RequestContext, request: GuardRequest) -> None:
    """Ask the guard, when one is configured, to admit the request before any data leaves."""
    if deps.guard is not None:
        deps.guard.admit(ctx, request)
