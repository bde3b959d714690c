"""What administrators and account managers do to other accounts' sign-in.

Each needs a recent second-factor proof: ending another account's sessions disables a
colleague, unlocking and linking a federated identity open a door (the security console's
one-click containment is the guard's own path, quick on purpose). The role hierarchy holds:
an account manager never acts on the national roles' accounts (admin, security officer, DPO).
"""

from __future__ import annotations

from rempart.kernel.actors import Agent, Role
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import Forbidden, NotFound
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import EndReason
from rempart.signin.service import federation
from rempart.signin.service.deps import AuthDeps
from rempart.signin.service.events import emit
from rempart.signin.service.login import login_key
from rempart.signin.service.sessions import end_sessions, require_fresh

ANY_ORG = frozenset({Role.ADMIN, Role.SECURITY_OFFICER})
# Accounts only the national side acts on: an account manager, even the agency's, does not.
NATIONAL = frozenset({Role.ADMIN, Role.SECURITY_OFFICER, Role.DPO})


def _target(deps: AuthDeps, ctx: RequestContext, login: str, *, managers: bool) -> Agent:
    """The account ``login``, if the caller may act on it; out of reach looks like absent."""
    may_any = bool(ctx.agent.roles & ANY_ORG)
    may_own = managers and ctx.agent.has(Role.ACCOUNT_MANAGER)
    if not (may_any or may_own):
        raise Forbidden("your role may not manage other accounts' sign-in")
    target = deps.directory.agent_by_login(login) if 0 < len(login) <= 64 else None
    if target is None or (not may_any and target.org_id != ctx.agent.org_id):
        raise NotFound()
    if not may_any and target.roles & NATIONAL:
        raise Forbidden("an account manager does not act on the national roles' accounts")
    return target


def revoke_account_sessions(deps: AuthDeps, ctx: RequestContext, login: str) -> int:
    """End every session of one account (ASVS V7.4.5), after a fresh second-factor proof."""
    target = _target(deps, ctx, login, managers=True)
    if target.id != ctx.agent.id:
        require_fresh(ctx)
    return end_sessions(deps, ctx.client, EndReason.ADMIN, actor=ctx.agent, agent_id=target.id)


def revoke_org_sessions(deps: AuthDeps, ctx: RequestContext, org_id: str) -> int:
    """End every session of an organisation (a compromised partner, July 2025)."""
    if not ctx.agent.roles & ANY_ORG:
        raise Forbidden("only administrators and security officers revoke an organisation")
    if deps.directory.organisation(org_id) is None:
        raise NotFound()
    require_fresh(ctx)
    return end_sessions(deps, ctx.client, EndReason.ADMIN, actor=ctx.agent, org_id=org_id)


def unlock(deps: AuthDeps, ctx: RequestContext, login: str) -> None:
    """Lift a lock (an account manager of the same organisation, or an administrator)."""
    require_fresh(ctx)
    if ctx.agent.has(Role.SECURITY_OFFICER) and not (
        ctx.agent.has(Role.ADMIN) or ctx.agent.has(Role.ACCOUNT_MANAGER)
    ):
        raise Forbidden("security officers lock, account managers unlock")
    target = _target(deps, ctx, login, managers=True)
    if target.id == ctx.agent.id:
        raise Forbidden("an account cannot unlock itself")
    creds = deps.credentials.credentials_by_id(target.id)
    if creds is None or not creds.locked:
        return
    deps.locks.unlock(target.id)
    deps.attempts.clear(login_key(target.login))
    emit(
        deps,
        Tag.AUTH_ACCOUNT_UNLOCKED,
        Decision.ALLOW,
        ctx.client,
        agent=target,
        reason="unlocked by an account manager",
        details={"by": ctx.agent.login},
    )


def _admin_target(deps: AuthDeps, ctx: RequestContext, login: str) -> Agent:
    require_fresh(ctx)
    if not ctx.agent.has(Role.ADMIN):
        raise Forbidden("only administrators link federated identities")
    return _target(deps, ctx, login, managers=False)


def link_identity(
    deps: AuthDeps, ctx: RequestContext, login: str, issuer: str, subject: str
) -> None:
    """Link a provider identity to an existing account: the only way federation signs anyone in."""
    target = _admin_target(deps, ctx, login)
    federation.link(deps, target.id, issuer, subject, deps.clock.now())
    emit(
        deps,
        Tag.AUTH_IDENTITY_LINKED,
        Decision.ALLOW,
        ctx.client,
        agent=target,
        details={"issuer": issuer, "subject": subject, "by": ctx.agent.login},
    )


def unlink_identity(
    deps: AuthDeps, ctx: RequestContext, login: str, issuer: str, subject: str
) -> None:
    """Remove a link."""
    target = _admin_target(deps, ctx, login)
    if not deps.identities.unlink_identity(target.id, issuer, subject):
        raise NotFound()
    emit(
        deps,
        Tag.AUTH_IDENTITY_UNLINKED,
        Decision.ALLOW,
        ctx.client,
        agent=target,
        details={"issuer": issuer, "subject": subject, "by": ctx.agent.login},
    )
