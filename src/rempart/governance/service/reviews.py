"""Access reviews: each organisation's accounts and roles are re-certified, quarterly by default.

A campaign lists every active account of an organisation and each of its roles. A reviewer
(an account manager of that organisation, or an agency administrator) keeps or removes each
item — never their own. Reviewers are reminded by mail; at the deadline every undecided item
follows the campaign's default decision, *remove* unless said otherwise: access nobody vouches
for goes away. Every decision is journaled; removals apply at once and raise alerts.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rempart.governance.model import (
    ACCOUNT_ITEM,
    REFUSAL_MESSAGES,
    DisabledReason,
    GovernanceAlert,
    ReviewCampaign,
    ReviewDecision,
    ReviewItem,
    is_agency_admin,
    may_manage,
    review_refusal,
)
from rempart.governance.service import offboarding
from rempart.governance.service.deps import GovernanceDeps
from rempart.governance.service.events import SYSTEM, alert, record
from rempart.guard.alerts import Severity
from rempart.kernel.actors import PRIVILEGED_ROLES, Agent, App, Role
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.errors import Conflict, Forbidden, InvalidRequest, NotFound
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import EndReason
from rempart.signin.service.sessions import end_sessions, require_fresh

log = logging.getLogger("rempart.reviews")

DEADLINE = f"{SYSTEM}:deadline"
AUDITORS = frozenset({Role.SECURITY_OFFICER, Role.DPO})
_PAST = {ReviewDecision.KEEP: "kept", ReviewDecision.REMOVE: "removed"}


def campaign_json(campaign: ReviewCampaign) -> dict[str, Any]:
    """The API shape of a campaign."""
    return {
        "id": campaign.id,
        "org_id": campaign.org_id,
        "opened_by": campaign.opened_by,
        "opened_at": campaign.opened_at.isoformat(),
        "deadline": campaign.deadline.isoformat(),
        "default_decision": str(campaign.default_decision),
        "status": "open" if campaign.is_open else "closed",
        "closed_at": campaign.closed_at.isoformat() if campaign.closed_at else None,
    }


def item_json(item: ReviewItem) -> dict[str, Any]:
    """The API shape of a review item."""
    return {
        "id": item.id,
        "login": item.login,
        "role": None if item.role == ACCOUNT_ITEM else item.role,
        "scope": "account" if item.role == ACCOUNT_ITEM else "role",
        "decision": str(item.decision) if item.decision else None,
        "decided_by": item.decided_by or None,
        "decided_at": item.decided_at.isoformat() if item.decided_at else None,
        "by_default": item.by_default,
    }


def _items_of(gov: GovernanceDeps, org_id: str) -> list[tuple[int, str, str]]:
    items: list[tuple[int, str, str]] = []
    for agent in gov.listings.agents_of_org(org_id):
        if agent.active:
            items.append((agent.id, agent.login, ACCOUNT_ITEM))
            items.extend((agent.id, agent.login, str(role)) for role in sorted(agent.roles))
    return items


def _reviewers(gov: GovernanceDeps, org_id: str) -> list[Agent]:
    """Who is asked to review: the organisation's managers, else the agency administrators."""
    managers = [
        a for a in gov.listings.agents_of_org(org_id) if a.active and a.has(Role.ACCOUNT_MANAGER)
    ]
    if managers:
        return managers
    return [
        a
        for org in gov.listings.org_ids_using(App.AGENCY)
        for a in gov.listings.agents_of_org(org)
        if a.active and is_agency_admin(a)
    ]


def _mail_reviewers(gov: GovernanceDeps, campaign: ReviewCampaign, subject: str, text: str) -> int:
    sent = 0
    for reviewer in _reviewers(gov, campaign.org_id):
        body = (
            f"Hello {reviewer.login},\n\n{text}\n\n"
            f"Review campaign #{campaign.id} for organisation {campaign.org_id}; "
            f"deadline {campaign.deadline.isoformat()}.\n"
            f"Undecided items will be {_PAST[campaign.default_decision]} at the deadline.\n"
            f"{gov.rules.public_url.rstrip('/')}/api/v1/reviews/{campaign.id}\n"
        )
        try:
            gov.mailer.send(reviewer.email, subject, body)
            sent += 1
        except Exception:  # one unreachable reviewer must not stop the others
            log.warning("review mail to %s failed", reviewer.login, exc_info=True)
    return sent


def _open(
    gov: GovernanceDeps,
    ctx: RequestContext | None,
    org_id: str,
    now: dt.datetime,
    deadline: dt.datetime,
    default: ReviewDecision,
) -> ReviewCampaign:
    opened_by = ctx.agent.login if ctx is not None else SYSTEM
    with gov.transactions.unit_of_work():
        items = _items_of(gov, org_id)
        campaign_id = gov.campaigns.open_campaign(org_id, opened_by, now, deadline, default, items)
        gov.campaigns.mark_reminded(campaign_id, now)
        campaign = gov.campaigns.campaign(campaign_id)
        assert campaign is not None
        record(
            gov,
            ctx,
            Tag.REVIEW_CAMPAIGN_OPENED,
            Decision.ALLOW,
            details={
                "campaign_id": campaign_id,
                "org_id": org_id,
                "items": len(items),
                "deadline": deadline.isoformat(),
                "default_decision": str(default),
            },
            at=now,
        )
    # Mailed once the campaign is stored (and, in a job, committed): a slow mail server does
    # not hold the database, and a reviewer is never invited to a campaign that was undone.
    _mail_reviewers(
        gov,
        campaign,
        "Rempart: access review opened",
        "Please confirm or remove each account and role of your organisation "
        f"({len(items)} items).",
    )
    return campaign


def open_campaign(
    gov: GovernanceDeps,
    ctx: RequestContext,
    org_id: str | None = None,
    duration_days: int | None = None,
    default_decision: str = "remove",
) -> dict[str, Any]:
    """A reviewer opens a campaign for an organisation now (besides the quarterly ones)."""
    org = org_id or ctx.org.id
    refusal = review_refusal(ctx.agent, org)
    if refusal is not None:
        raise Forbidden(REFUSAL_MESSAGES[refusal])
    if gov.directory.organisation(org) is None:
        raise NotFound()
    try:
        default = ReviewDecision(default_decision)
    except ValueError:
        raise InvalidRequest("the default decision is keep or remove") from None
    if any(c.org_id == org for c in gov.campaigns.open_campaigns()):
        raise Conflict("a review campaign is already open for this organisation")
    duration = dt.timedelta(days=duration_days) if duration_days else gov.rules.review_duration
    return campaign_json(_open(gov, ctx, org, ctx.now, ctx.now + duration, default))


def open_due_campaigns(gov: GovernanceDeps, now: dt.datetime) -> int:
    """Open the periodic campaign of every organisation due one; return how many (a job)."""
    busy = {c.org_id for c in gov.campaigns.open_campaigns()}
    opened = 0
    for org_id in gov.campaigns.orgs_due_for_review(now - gov.rules.review_period):
        if org_id not in busy:
            _open(gov, None, org_id, now, now + gov.rules.review_duration, ReviewDecision.REMOVE)
            opened += 1
    return opened


def _may_see(ctx: RequestContext, org_id: str) -> bool:
    return may_manage(ctx.agent, org_id) or bool(ctx.agent.roles & AUDITORS)


def _visible(gov: GovernanceDeps, ctx: RequestContext, campaign_id: int) -> ReviewCampaign:
    campaign = gov.campaigns.campaign(campaign_id)
    if campaign is None or not _may_see(ctx, campaign.org_id):
        raise NotFound()
    return campaign


def list_campaigns(
    gov: GovernanceDeps, ctx: RequestContext, org_id: str | None = None
) -> list[dict[str, Any]]:
    """Campaigns the caller may see: their organisation's, or all for the agency side."""
    everywhere = is_agency_admin(ctx.agent) or bool(ctx.agent.roles & AUDITORS)
    if not (everywhere or ctx.agent.has(Role.ACCOUNT_MANAGER)):
        raise Forbidden("only reviewers and the security team see access reviews")
    wanted = org_id if everywhere else ctx.org.id
    return [campaign_json(c) for c in gov.campaigns.campaigns(wanted)]


def campaign_detail(gov: GovernanceDeps, ctx: RequestContext, campaign_id: int) -> dict[str, Any]:
    """A campaign and its items."""
    campaign = _visible(gov, ctx, campaign_id)
    return {
        **campaign_json(campaign),
        "items": [item_json(i) for i in gov.review_items.items_of(campaign.id)],
    }


def _remove(
    gov: GovernanceDeps,
    ctx: RequestContext | None,
    campaign: ReviewCampaign,
    item: ReviewItem,
    now: dt.datetime,
) -> bool:
    """Apply a removal; True when it took something away."""
    agent = gov.directory.agent_by_id(item.agent_id)
    if agent is None:
        return False
    facts: dict[str, object] = {"campaign_id": campaign.id, "item_id": item.id}
    if item.role == ACCOUNT_ITEM:
        if not gov.accounts.set_active(agent.id, False, str(DisabledReason.REVIEW)):
            return False
        client = ctx.client if ctx is not None else ClientInfo(address="")
        end_sessions(
            gov.auth,
            client,
            EndReason.ACCOUNT_DISABLED,
            actor=ctx.agent if ctx is not None else None,
            agent_id=agent.id,
        )
        offboarding.cancel_requests_of(gov, ctx, agent.id, "account removed in review")
        tag = Tag.LIFECYCLE_AGENT_DISABLED
    else:
        role = Role(item.role)
        if role not in agent.roles:
            return False
        gov.accounts.set_roles(agent.id, agent.roles - {role})
        facts["role"] = item.role
        tag = Tag.ACCOUNT_ROLE_REVOKED
    record(
        gov,
        ctx,
        tag,
        Decision.REVOKE,
        subject=agent,
        reason=str(DisabledReason.REVIEW),
        details=facts,
        at=now,
    )
    return True


def decide(
    gov: GovernanceDeps,
    ctx: RequestContext,
    campaign_id: int,
    item_id: int,
    decision: str,
) -> dict[str, Any]:
    """A reviewer keeps or removes one item; a removal applies at once."""
    campaign = _visible(gov, ctx, campaign_id)
    try:
        verdict = ReviewDecision(decision)
    except ValueError:
        raise InvalidRequest("a decision is keep or remove") from None
    item = next((i for i in gov.review_items.items_of(campaign.id) if i.id == item_id), None)
    if item is None:
        raise NotFound()
    refusal = review_refusal(ctx.agent, campaign.org_id, gov.directory.agent_by_id(item.agent_id))
    if refusal is not None:
        record(
            gov,
            ctx,
            Tag.REVIEW_ITEM_DECIDED,
            Decision.DENY,
            reason=str(refusal),
            details={"campaign_id": campaign.id, "item_id": item.id, "login": item.login},
        )
        raise Forbidden(REFUSAL_MESSAGES[refusal])
    if not campaign.is_open:
        raise Conflict("this campaign is closed")
    if verdict is ReviewDecision.REMOVE:
        # A removal applies at once: a stale session alone must not disable colleagues.
        require_fresh(ctx)
    if not gov.review_items.decide_item(item.id, verdict, ctx.agent.login, ctx.now):
        raise Conflict("this item is already decided")
    record(
        gov,
        ctx,
        Tag.REVIEW_ITEM_DECIDED,
        Decision.ALLOW,
        details={
            "campaign_id": campaign.id,
            "item_id": item.id,
            "login": item.login,
            "role": item.role,
            "decision": str(verdict),
        },
    )
    if verdict is ReviewDecision.REMOVE and _remove(gov, ctx, campaign, item, ctx.now):
        privileged = item.role == ACCOUNT_ITEM or Role(item.role) in PRIVILEGED_ROLES
        alert(
            gov,
            ctx,
            GovernanceAlert.REVIEW_REMOVED,
            Severity.MEDIUM if privileged else Severity.LOW,
            f"{ctx.agent.login} removed "
            + ("the account" if item.role == ACCOUNT_ITEM else f"the role {item.role} of")
            + f" {item.login} in access review #{campaign.id}.",
            evidence={"campaign_id": campaign.id, "login": item.login, "role": item.role},
            action_taken="access_removed",
        )
    updated = next(i for i in gov.review_items.items_of(campaign.id) if i.id == item.id)
    return item_json(updated)


def _close(gov: GovernanceDeps, campaign: ReviewCampaign, now: dt.datetime) -> dict[str, int]:
    """Apply the default decision to every undecided item, then close the campaign."""
    applied = removed = 0
    removals: list[str] = []
    for item in gov.review_items.items_of(campaign.id):
        if item.decision is not None:
            continue
        if not gov.review_items.decide_item(
            item.id, campaign.default_decision, DEADLINE, now, by_default=True
        ):
            continue
        applied += 1
        record(
            gov,
            None,
            Tag.REVIEW_ITEM_DECIDED,
            Decision.ALLOW,
            reason="deadline default",
            details={
                "campaign_id": campaign.id,
                "item_id": item.id,
                "login": item.login,
                "role": item.role,
                "decision": str(campaign.default_decision),
            },
            at=now,
        )
        if campaign.default_decision is ReviewDecision.REMOVE and _remove(
            gov, None, campaign, item, now
        ):
            removed += 1
            removals.append(
                item.login if item.role == ACCOUNT_ITEM else f"{item.login}:{item.role}"
            )
    if not gov.campaigns.close_campaign(campaign.id, now):
        return {"defaulted": applied, "removed": removed}
    counts = {"defaulted": applied, "removed": removed}
    record(
        gov,
        None,
        Tag.REVIEW_CAMPAIGN_CLOSED,
        Decision.ALLOW,
        details={"campaign_id": campaign.id, "org_id": campaign.org_id, **counts},
        at=now,
    )
    if removed:
        alert(
            gov,
            None,
            GovernanceAlert.REVIEW_REMOVED,
            Severity.MEDIUM,
            f"Access review #{campaign.id} of {campaign.org_id} reached its deadline: "
            f"{removed} undecided access(es) removed by default.",
            evidence={"campaign_id": campaign.id, "removed_accesses": removals[:50], **counts},
            action_taken="access_removed",
            org_id=campaign.org_id,
            at=now,
        )
    return counts


def close_due_campaigns(gov: GovernanceDeps, now: dt.datetime) -> int:
    """Close every campaign past its deadline; return how many (a scheduled job)."""
    due = [c for c in gov.campaigns.open_campaigns() if c.deadline <= now]
    for campaign in due:
        with gov.transactions.unit_of_work():
            _close(gov, campaign, now)
    return len(due)


def send_reminders(gov: GovernanceDeps, now: dt.datetime) -> int:
    """Remind reviewers of open campaigns with undecided items; return mails sent (a job)."""
    sent = 0
    for campaign in gov.campaigns.open_campaigns():
        if campaign.deadline <= now:
            continue
        last = campaign.last_reminder_at or campaign.opened_at
        if now - last < gov.rules.review_remind_every:
            continue
        undecided = sum(1 for i in gov.review_items.items_of(campaign.id) if i.decision is None)
        if not undecided:
            continue
        mails = _mail_reviewers(
            gov,
            campaign,
            "Rempart: access review reminder",
            f"{undecided} item(s) are still undecided.",
        )
        with gov.transactions.unit_of_work():
            gov.campaigns.mark_reminded(campaign.id, now)
            record(
                gov,
                None,
                Tag.REVIEW_CAMPAIGN_REMINDED,
                Decision.ALLOW,
                details={"campaign_id": campaign.id, "undecided": undecided, "mails": mails},
                at=now,
            )
        sent += mails
    return sent


def report(gov: GovernanceDeps, ctx: RequestContext, campaign_id: int) -> dict[str, Any]:
    """What a campaign decided, item by item, with totals: the auditor's record."""
    campaign = _visible(gov, ctx, campaign_id)
    items = gov.review_items.items_of(campaign.id)

    def count(decision: ReviewDecision | None, by_default: bool | None = None) -> int:
        return sum(
            1
            for i in items
            if i.decision is decision and (by_default is None or i.by_default is by_default)
        )

    return {
        "campaign": campaign_json(campaign),
        "totals": {
            "items": len(items),
            "accounts": sum(1 for i in items if i.role == ACCOUNT_ITEM),
            "kept": count(ReviewDecision.KEEP),
            "removed": count(ReviewDecision.REMOVE),
            "kept_by_default": count(ReviewDecision.KEEP, True),
            "removed_by_default": count(ReviewDecision.REMOVE, True),
            "undecided": count(None),
        },
        "reviewers": sorted({i.decided_by for i in items if i.decided_by and not i.by_default}),
        "items": [item_json(i) for i in items],
    }
