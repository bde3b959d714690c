"""Privilege never by import alone, and the first national administrators.

An import grants the plain roles of its rows at once; the privileged ones (account manager,
security officer, DPO, administrator) of one import form *one* four-eyes request listing
them, which takes effect when a national administrator other than the one who ran the import
approves it (with a fresh second factor). Each step is journaled and alerted.

``bootstrap_admins`` creates the first two national administrators of a production database,
each with a one-time enrolment link, and is refused as soon as one exists: after that, national
roles are granted only through four eyes among national administrators (``accounts``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from rempart.governance import model as g
from rempart.governance.service import enrolment
from rempart.governance.service.deps import GovernanceDeps
from rempart.governance.service.events import alert, record
from rempart.guard.alerts import Severity
from rempart.kernel.actors import Agent, OrgKind, Role
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import Conflict, Forbidden, InvalidRequest, NotFound
from rempart.kernel.tags import Decision, Tag
from rempart.signin.service.sessions import require_fresh


def _roles(roles: frozenset[Role]) -> list[str]:
    return sorted(str(r) for r in roles)


def open_import_request(
    gov: GovernanceDeps,
    *,
    import_batch: int,
    ran_by: str,
    ran_by_id: int | None,
    items: Sequence[g.PrivilegeItem],
) -> str | None:
    """One four-eyes request for the privileged rows of an import (None: nothing new).

    Roles already held, or already waiting in a pending request, are left out, so that running
    the same import twice asks for nothing the second time."""
    now = gov.clock.now()
    waiting = gov.batches.pending_roles([i.agent_id for i in items], now)
    fresh = [
        g.PrivilegeItem(
            i.agent_id, i.login, i.org_id, i.roles - waiting.get(i.agent_id, frozenset())
        )
        for i in items
    ]
    fresh = [i for i in fresh if i.roles]
    if not fresh:
        return None
    batch = g.PrivilegeBatch(
        id=secrets.token_hex(16),
        import_batch=import_batch,
        requested_by=ran_by,
        requested_by_id=ran_by_id,
        created_at=now,
        expires_at=now + max(gov.rules.request_ttl, dt.timedelta(days=7)),
    )
    with gov.transactions.unit_of_work():
        gov.batches.add_batch(batch, fresh)
        facts: dict[str, object] = {
            "privilege_request": batch.id,
            "import_batch": import_batch,
            "ran_by": ran_by,
            "rows": [
                {"login": i.login, "org_id": i.org_id, "roles": _roles(i.roles)} for i in fresh
            ],
        }
        record(gov, None, Tag.ACCOUNT_PRIVILEGES_REQUESTED, Decision.ALLOW, details=facts, at=now)
        alert(
            gov,
            None,
            g.GovernanceAlert.IMPORT_PRIVILEGES_REQUESTED,
            Severity.HIGH,
            f"An import run by {ran_by} asks for privileged roles for {len(fresh)} account(s); "
            "they take effect only when a second national administrator approves.",
            evidence=facts,
            at=now,
        )
    return batch.id


def batch_json(gov: GovernanceDeps, batch: g.PrivilegeBatch, now: dt.datetime) -> dict[str, Any]:
    """The API shape of an import's privilege request (an expired pending one shows so)."""
    status = g.RequestStatus.EXPIRED if batch.is_expired(now) else batch.status
    return {
        "request_id": batch.id,
        "status": str(status),
        "import_batch": batch.import_batch,
        "requested_by": batch.requested_by,
        "created_at": batch.created_at.isoformat(),
        "expires_at": batch.expires_at.isoformat(),
        "decided_by": batch.decided_by_login or None,
        "decided_at": batch.decided_at.isoformat() if batch.decided_at else None,
        "items": [
            {"login": i.login, "org_id": i.org_id, "roles": _roles(i.roles)}
            for i in gov.batches.items_of(batch.id)
        ],
    }


def _national(ctx: RequestContext) -> None:
    if not (g.is_agency_admin(ctx.agent) or ctx.agent.has(Role.SECURITY_OFFICER)):
        raise Forbidden("only national administrators and the security team see import requests")


def list_batches(gov: GovernanceDeps, ctx: RequestContext) -> list[dict[str, Any]]:
    """The import privilege requests, newest first (national administrators, security team)."""
    _national(ctx)
    return [batch_json(gov, b, ctx.now) for b in gov.batches.batches()]


def _visible(gov: GovernanceDeps, ctx: RequestContext, batch_id: str) -> g.PrivilegeBatch:
    _national(ctx)
    batch = gov.batches.batch(batch_id) if 0 < len(batch_id) <= 32 else None
    if batch is None:
        raise NotFound()
    return batch


def approve_batch(gov: GovernanceDeps, ctx: RequestContext, batch_id: str) -> dict[str, Any]:
    """A second national administrator approves an import's privileged rows: granted now."""
    batch = _visible(gov, ctx, batch_id)
    items = gov.batches.items_of(batch.id)
    standing = gov.standings.standing(ctx.agent.id)
    facts: dict[str, object] = {"privilege_request": batch.id, "ran_by": batch.requested_by}
    refusal = g.batch_approval_refusal(batch, items, ctx.agent, standing, ctx.now, gov.rules)
    if refusal is None and (
        not ctx.agent.active or standing.enrolment_pending or standing.org_suspended
    ):
        refusal = g.Refusal.NOT_IN_GOOD_STANDING
    if refusal is not None:
        record(
            gov,
            ctx,
            Tag.ACCOUNT_APPROVAL_REFUSED,
            Decision.DENY,
            reason=str(refusal),
            details=facts,
        )
        alert(
            gov,
            ctx,
            g.GovernanceAlert.APPROVAL_REFUSED,
            Severity.HIGH,
            f"{ctx.agent.login} was refused the approval of an import's privileged rows: "
            f"{g.REFUSAL_MESSAGES[refusal]}.",
            evidence={"refusal": str(refusal), **facts},
            action_taken="refused",
        )
        raise Forbidden(g.REFUSAL_MESSAGES[refusal])
    require_fresh(ctx)
    if batch.is_expired(ctx.now):
        gov.batches.decide_batch(
            batch.id, g.RequestStatus.EXPIRED, by_id=None, by_login="", at=ctx.now
        )
        raise Conflict("this request has expired: run the import again to ask anew")
    if not gov.batches.decide_batch(
        batch.id, g.RequestStatus.APPROVED, by_id=ctx.agent.id, by_login=ctx.agent.login, at=ctx.now
    ):
        raise Conflict(f"this request is already {batch.status}")
    granted = []
    for item in items:
        target = gov.directory.agent_by_id(item.agent_id)
        if target is None:
            continue
        roles = target.roles | item.roles
        gov.accounts.set_roles(target.id, roles)
        granted.append(
            {"login": target.login, "org_id": target.org_id, "roles": _roles(item.roles)}
        )
        record(
            gov,
            ctx,
            Tag.ACCOUNT_ROLE_GRANTED,
            Decision.ALLOW,
            subject=target,
            details={**facts, "grant": _roles(item.roles), "roles_now": _roles(roles)},
        )
    facts = {**facts, "approved_by": ctx.agent.login, "rows": granted}
    record(gov, ctx, Tag.ACCOUNT_PRIVILEGES_APPROVED, Decision.ALLOW, details=facts)
    alert(
        gov,
        ctx,
        g.GovernanceAlert.IMPORT_PRIVILEGES_GRANTED,
        Severity.HIGH,
        f"{ctx.agent.login} approved the privileged roles of {len(granted)} imported account(s) "
        f"(import run by {batch.requested_by}).",
        evidence=facts,
        action_taken="roles_granted",
    )
    return {"status": str(g.RequestStatus.APPROVED), "request_id": batch.id, "granted": granted}


def deny_batch(gov: GovernanceDeps, ctx: RequestContext, batch_id: str) -> dict[str, Any]:
    """A national administrator turns an import's privileged rows down: nothing is granted."""
    batch = _visible(gov, ctx, batch_id)
    if not g.is_agency_admin(ctx.agent):
        raise Forbidden("only national administrators decide import requests")
    if not gov.batches.decide_batch(
        batch.id, g.RequestStatus.DENIED, by_id=ctx.agent.id, by_login=ctx.agent.login, at=ctx.now
    ):
        raise Conflict("this request is no longer pending")
    record(
        gov,
        ctx,
        Tag.ACCOUNT_PRIVILEGES_DENIED,
        Decision.DENY,
        details={"privilege_request": batch.id, "ran_by": batch.requested_by},
    )
    return {"status": str(g.RequestStatus.DENIED), "request_id": batch.id}


# --- The first national administrators ----------------------------------------------------


class BootstrapRefused(Exception):
    """The database already has a national administrator, or the input is not usable."""


def bootstrap_admins(
    gov: GovernanceDeps, org_id: str, admins: Sequence[tuple[str, str]], *, ran_by: str
) -> list[tuple[str, bool]]:
    """Create the first two national administrators of ``org_id`` (an agency), each pending
    enrolment with a one-time link mailed to them; return ``(login, link sent)``.

    Refused (and journaled) once any national administrator exists: from then on national
    roles need a second administrator's approval."""
    now = gov.clock.now()
    existing = [a for a, _ in gov.listings.privileged_accounts() if g.is_agency_admin(a)]
    if existing:
        record(
            gov,
            None,
            Tag.ADMIN_BOOTSTRAP_REFUSED,
            Decision.DENY,
            reason="a national administrator already exists",
            details={"ran_by": ran_by, "existing": len(existing)},
            at=now,
        )
        alert(
            gov,
            None,
            g.GovernanceAlert.REQUEST_REFUSED,
            Severity.HIGH,
            f"`rempart admin bootstrap` was run by {ran_by} on a database that already has "
            "national administrators; refused.",
            evidence={"ran_by": ran_by, "existing": len(existing)},
            action_taken="refused",
            at=now,
        )
        raise BootstrapRefused(
            "a national administrator already exists: national roles are now granted only "
            "through four eyes among national administrators"
        )
    org = gov.directory.organisation(org_id)
    if org is None or org.kind is not OrgKind.AGENCY:
        raise BootstrapRefused(f"{org_id!r} is not an agency organisation of this database")
    if len(admins) != 2 or admins[0][0] == admins[1][0]:
        raise BootstrapRefused("exactly two administrators, with different logins")
    for login, email in admins:
        for problem in (g.login_problem(login), g.email_problem(email)):
            if problem:
                raise BootstrapRefused(f"{login}: {problem}")
        if gov.directory.agent_by_login(login) is not None:
            raise BootstrapRefused(f"{login}: this login is already in use")
    created: list[Agent] = []
    with gov.transactions.unit_of_work():
        ids = []
        for login, email in admins:
            ids.append(
                gov.accounts.create_agent(
                    login,
                    email,
                    org_id,
                    frozenset({Role.ADMIN}),
                    created_by=g.BOOTSTRAP_ACTOR,
                    approved_by=g.BOOTSTRAP_ACTOR,
                    at=now,
                    training_valid_until=(now + gov.rules.training_grace).date(),
                )
            )
        for agent_id in ids:
            agent = gov.directory.agent_by_id(agent_id)
            if agent is None:
                raise InvalidRequest("the administrator just created cannot be read back")
            created.append(agent)
        facts: dict[str, object] = {
            "ran_by": ran_by,
            "org_id": org_id,
            "admins": [a.login for a in created],
        }
        for agent in created:
            record(
                gov,
                None,
                Tag.ADMIN_BOOTSTRAP_CREATED,
                Decision.ALLOW,
                subject=agent,
                details=facts,
                at=now,
            )
        alert(
            gov,
            None,
            g.GovernanceAlert.ADMINS_BOOTSTRAPPED,
            Severity.HIGH,
            f"The first two national administrators ({', '.join(a.login for a in created)}) were "
            f"created by {ran_by}; each must enrol through a one-time link.",
            evidence=facts,
            org_id=org_id,
            at=now,
        )
    return [(agent.login, enrolment.send_link(gov, None, agent)) for agent in created]
