"""Governance in SQL: accounts, four-eyes requests, enrolment links, suspensions and reviews.

One class per table family, each implementing one or more of ``governance.ports``; all of
them take the portal ``Database`` and so share its unit of work when one is open.

State changes that must happen once (deciding a request, using a link, deciding a review item)
are compare-and-set updates: with several replicas, or a double click, only one caller wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Engine, and_, delete, func, insert, or_, select, update

from rempart.db.rows import agent_from_row, utc
from rempart.db.schema.core import AgentRow, OrganisationRow
from rempart.db.schema.governance import (
    AccountRequestRow,
    EnrolmentTokenRow,
    OrgSuspensionRow,
    PrivilegeBatchItemRow,
    PrivilegeBatchRow,
    ReviewCampaignRow,
    ReviewItemRow,
)
from rempart.db.schema.signin import RecoveryCodeRow, WebauthnCredentialRow
from rempart.db.uow import Database, as_database
from rempart.governance.model import (
    NEVER_GRANTABLE,
    AccountRequest,
    AccountStanding,
    EnrolmentToken,
    OrgSuspension,
    PrivilegeBatch,
    PrivilegeItem,
    RequestKind,
    RequestStatus,
    ReviewCampaign,
    ReviewDecision,
    ReviewItem,
)
from rempart.kernel.actors import APP_OF_ORG_KIND, PRIVILEGED_ROLES, Agent, App, Role


def _at(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _roles(text: str) -> frozenset[Role]:
    return frozenset(Role(r) for r in text.split() if r)


def _roles_text(roles: frozenset[Role]) -> str:
    return " ".join(sorted(str(r) for r in roles))


_AGENT_COLUMNS = [*AgentRow.__table__.c, OrganisationRow.kind.label("org_kind")]


def _agent(row: object) -> Agent:
    return agent_from_row(row, row.org_kind)  # type: ignore[attr-defined]


def _standing(row: object, org_suspended: bool) -> AccountStanding:
    r = row._mapping  # type: ignore[attr-defined]
    return AccountStanding(
        agent_id=r["id"],
        created_by=r["created_by"],
        approved_by=r["approved_by"],
        probation_until=utc(r["probation_until"]),
        disabled_reason=r["disabled_reason"] or "",
        enrolment_pending=bool(r["enrolment_pending"]),
        org_suspended=org_suspended,
        last_used_at=utc(r["last_used_at"]),
    )


def _request(row: object) -> AccountRequest:
    r = row._mapping  # type: ignore[attr-defined]
    return AccountRequest(
        id=r["id"],
        kind=RequestKind(r["kind"]),
        org_id=r["org_id"],
        requested_by=r["requested_by"],
        requested_by_login=r["requested_by_login"],
        login=r["login"],
        email=r["email"],
        grant=_roles(r["grant_roles"]),
        revoke=_roles(r["revoke_roles"]),
        created_at=_at(r["created_at"]),
        expires_at=_at(r["expires_at"]),
        status=RequestStatus(r["status"]),
        target_agent_id=r["target_agent_id"],
        decided_by=r["decided_by"],
        decided_by_login=r["decided_by_login"],
        decided_at=utc(r["decided_at"]),
        reason=r["reason"],
        created_agent_id=r["created_agent_id"],
    )


def _campaign(row: object) -> ReviewCampaign:
    r = row._mapping  # type: ignore[attr-defined]
    return ReviewCampaign(
        id=r["id"],
        org_id=r["org_id"],
        opened_by=r["opened_by"],
        opened_at=_at(r["opened_at"]),
        deadline=_at(r["deadline"]),
        default_decision=ReviewDecision(r["default_decision"]),
        closed_at=utc(r["closed_at"]),
        last_reminder_at=utc(r["last_reminder_at"]),
    )


def _token(row: object) -> EnrolmentToken:
    r = row._mapping  # type: ignore[attr-defined]
    return EnrolmentToken(
        id=r["id"],
        agent_id=r["agent_id"],
        token_hash=r["token_hash"],
        created_at=_at(r["created_at"]),
        expires_at=_at(r["expires_at"]),
        used_at=utc(r["used_at"]),
        revoked_at=utc(r["revoked_at"]),
        failed_attempts=r["failed_attempts"],
        pending_totp_secret=r["pending_totp_secret"],
    )


_SUSPENDED_ORG = (
    select(OrgSuspensionRow.id)
    .where(OrgSuspensionRow.org_id == AgentRow.org_id, OrgSuspensionRow.lifted_at.is_(None))
    .exists()
)


class SqlAccountStore:
    """Implements ``AccountStandings``, ``AccountRecords`` and ``AccountListings``."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def standing(self, agent_id: int) -> AccountStanding:
        """Governance facts about one account (an unknown id gets a blank standing)."""
        stmt = select(AgentRow.__table__, _SUSPENDED_ORG.label("org_suspended")).where(
            AgentRow.id == agent_id
        )
        with self.db.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return AccountStanding(agent_id=agent_id)
        return _standing(row, bool(row.org_suspended))

    def created_by_since(self, agent_id: int, since: dt.datetime) -> list[int]:
        """Accounts ``agent_id`` requested, created since ``since``, by id."""
        stmt = (
            select(AgentRow.id)
            .where(AgentRow.created_by == agent_id, AgentRow.created_at >= since)
            .order_by(AgentRow.id)
        )
        with self.db.connect() as conn:
            return [int(i) for i in conn.execute(stmt).scalars()]

    def _agents(self, *conds: object) -> list[Agent]:
        stmt = (
            select(*_AGENT_COLUMNS)
            .join(OrganisationRow, OrganisationRow.id == AgentRow.org_id)
            .where(*conds)  # type: ignore[arg-type]
            .order_by(AgentRow.login)
        )
        with self.db.connect() as conn:
            return [_agent(r) for r in conn.execute(stmt)]

    def _agents_with_standing(self, *conds: object) -> list[tuple[Agent, AccountStanding]]:
        stmt = (
            select(*_AGENT_COLUMNS, _SUSPENDED_ORG.label("org_suspended"))
            .join(OrganisationRow, OrganisationRow.id == AgentRow.org_id)
            .where(*conds)  # type: ignore[arg-type]
            .order_by(AgentRow.login)
        )
        out = []
        with self.db.connect() as conn:
            for r in conn.execute(stmt):
                out.append((_agent(r), _standing(r, bool(r.org_suspended))))
        return out

    def agents_of_org(self, org_id: str) -> list[Agent]:
        """Every account of one organisation, by login."""
        return self._agents(AgentRow.org_id == org_id)

    def create_agent(
        self,
        login: str,
        email: str,
        org_id: str,
        roles: frozenset[Role],
        *,
        created_by: int,
        approved_by: int,
        at: dt.datetime,
        training_valid_until: dt.date | None,
    ) -> int:
        """Store a new account with no credentials, pending enrolment; return its id."""
        with self.db.begin() as conn:
            res = conn.execute(
                insert(AgentRow).values(
                    login=login,
                    email=email,
                    org_id=org_id,
                    roles=_roles_text(roles),
                    active=True,
                    created_at=at,
                    training_valid_until=training_valid_until,
                    password_hash="",
                    totp_secret="",
                    created_by=created_by,
                    approved_by=approved_by,
                    enrolment_pending=True,
                    disabled_reason="",
                )
            )
            return int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0

    def set_roles(self, agent_id: int, roles: frozenset[Role]) -> None:
        """Replace the account's roles."""
        with self.db.begin() as conn:
            conn.execute(
                update(AgentRow).where(AgentRow.id == agent_id).values(roles=_roles_text(roles))
            )

    def set_active(self, agent_id: int, active: bool, reason: str) -> bool:
        """Switch an account on or off (recording why); False when ``active`` did not change."""
        with self.db.begin() as conn:
            was = conn.execute(select(AgentRow.active).where(AgentRow.id == agent_id)).scalar()
            conn.execute(
                update(AgentRow)
                .where(AgentRow.id == agent_id)
                .values(active=active, disabled_reason="" if active else reason)
            )
        return was is not None and bool(was) != active

    def set_training_valid_until(self, agent_id: int, day: dt.date) -> None:
        """Record a renewed security-training attestation."""
        with self.db.begin() as conn:
            conn.execute(
                update(AgentRow).where(AgentRow.id == agent_id).values(training_valid_until=day)
            )

    def set_end_date(self, agent_id: int, day: dt.date | None) -> None:
        """Set (or clear) the day the account stops: a leaver."""
        with self.db.begin() as conn:
            conn.execute(update(AgentRow).where(AgentRow.id == agent_id).values(end_date=day))

    def erase_factors(self, agent_id: int) -> None:
        """Forget password, TOTP secret, security keys and recovery codes in one transaction;
        the account must enrol again before any data."""
        with self.db.begin() as conn:
            conn.execute(
                update(AgentRow)
                .where(AgentRow.id == agent_id)
                .values(password_hash="", totp_secret="", totp_last_step=0, enrolment_pending=True)
            )
            conn.execute(
                delete(WebauthnCredentialRow).where(WebauthnCredentialRow.agent_id == agent_id)
            )
            conn.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.agent_id == agent_id))

    def idle_agents(self, cutoff: dt.datetime) -> list[tuple[Agent, AccountStanding]]:
        """Accounts whose last use (or creation, if never used) is before ``cutoff``."""
        return self._agents_with_standing(
            func.coalesce(AgentRow.last_used_at, AgentRow.created_at) < cutoff
        )

    def leavers(self, today: dt.date) -> list[Agent]:
        """Active accounts whose end date is today or past."""
        return self._agents(AgentRow.active.is_(True), AgentRow.end_date <= today)

    def privileged_accounts(self) -> list[tuple[Agent, AccountStanding]]:
        """Accounts holding a privileged or never-grantable role."""
        watched = sorted(str(r) for r in PRIVILEGED_ROLES | NEVER_GRANTABLE)
        # Roles are space-separated words; pad both sides so a LIKE matches whole words only.
        padded = " " + AgentRow.roles + " "
        return self._agents_with_standing(or_(*(padded.like(f"% {r} %") for r in watched)))

    def org_ids_using(self, app: App) -> list[str]:
        """The organisations whose agents work in ``app``."""
        kinds = [str(kind) for kind, used in APP_OF_ORG_KIND.items() if used is app]
        with self.db.connect() as conn:
            rows = conn.execute(
                select(OrganisationRow.id)
                .where(OrganisationRow.kind.in_(kinds))
                .order_by(OrganisationRow.id)
            ).all()
        return [r.id for r in rows]


class SqlAccountRequestStore:
    """Implements ``AccountRequests``: four-eyes requests, decided by compare-and-set."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def add_request(self, request: AccountRequest) -> None:
        """Store a new request."""
        with self.db.begin() as conn:
            conn.execute(
                insert(AccountRequestRow).values(
                    id=request.id,
                    kind=str(request.kind),
                    org_id=request.org_id,
                    requested_by=request.requested_by,
                    requested_by_login=request.requested_by_login,
                    target_agent_id=request.target_agent_id,
                    login=request.login,
                    email=request.email,
                    grant_roles=_roles_text(request.grant),
                    revoke_roles=_roles_text(request.revoke),
                    status=str(request.status),
                    created_at=request.created_at,
                    expires_at=request.expires_at,
                    reason=request.reason,
                )
            )

    def request(self, request_id: str) -> AccountRequest | None:
        """One request by id."""
        with self.db.connect() as conn:
            row = conn.execute(
                select(AccountRequestRow.__table__).where(AccountRequestRow.id == request_id)
            ).first()
        return None if row is None else _request(row)

    def requests(
        self,
        *,
        org_id: str | None = None,
        status: RequestStatus | None = None,
        requested_by: int | None = None,
        target_agent_id: int | None = None,
        limit: int = 200,
    ) -> list[AccountRequest]:
        """Requests, newest first."""
        r = AccountRequestRow
        conds = []
        if org_id is not None:
            conds.append(r.org_id == org_id)
        if status is not None:
            conds.append(r.status == str(status))
        if requested_by is not None:
            conds.append(r.requested_by == requested_by)
        if target_agent_id is not None:
            conds.append(r.target_agent_id == target_agent_id)
        stmt = select(r.__table__).where(*conds).order_by(r.created_at.desc(), r.id).limit(limit)
        with self.db.connect() as conn:
            return [_request(row) for row in conn.execute(stmt)]

    def request_times(self, requested_by: int, since: dt.datetime) -> list[dt.datetime]:
        """When this agent made requests since ``since``."""
        r = AccountRequestRow
        with self.db.connect() as conn:
            rows = conn.execute(
                select(r.created_at).where(r.requested_by == requested_by, r.created_at >= since)
            ).all()
        return [_at(row.created_at) for row in rows]

    def decide_request(
        self,
        request_id: str,
        status: RequestStatus,
        *,
        by_id: int | None,
        by_login: str,
        at: dt.datetime,
        reason: str = "",
        created_agent_id: int | None = None,
    ) -> bool:
        """Move a pending request to ``status``; False when it was no longer pending."""
        r = AccountRequestRow
        with self.db.begin() as conn:
            res = conn.execute(
                update(r)
                .where(r.id == request_id, r.status == str(RequestStatus.PENDING))
                .values(
                    status=str(status),
                    decided_by=by_id,
                    decided_by_login=by_login,
                    decided_at=at,
                    reason=reason[:500],
                    created_agent_id=created_agent_id,
                )
            )
        return res.rowcount == 1

    def expired_requests(self, now: dt.datetime) -> list[AccountRequest]:
        """Pending requests whose validity has passed."""
        r = AccountRequestRow
        stmt = select(r.__table__).where(
            r.status == str(RequestStatus.PENDING), r.expires_at <= now
        )
        with self.db.connect() as conn:
            return [_request(row) for row in conn.execute(stmt)]

    def login_taken(self, login: str) -> bool:
        """True when an account or a pending request already uses ``login``."""
        with self.db.connect() as conn:
            agent = conn.execute(select(AgentRow.id).where(AgentRow.login == login)).first()
            pending = conn.execute(
                select(AccountRequestRow.id).where(
                    AccountRequestRow.login == login,
                    AccountRequestRow.kind == str(RequestKind.CREATE_ACCOUNT),
                    AccountRequestRow.status == str(RequestStatus.PENDING),
                )
            ).first()
        return agent is not None or pending is not None


class SqlEnrolmentTokenStore:
    """Implements ``EnrolmentTokens``: one-time links, used by compare-and-set."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def add_enrolment_token(
        self, agent_id: int, token_hash: str, at: dt.datetime, expires_at: dt.datetime
    ) -> int:
        """Store a new link for the agent, revoking the agent's earlier ones; return its id."""
        t = EnrolmentTokenRow
        with self.db.begin() as conn:
            conn.execute(
                update(t)
                .where(t.agent_id == agent_id, t.used_at.is_(None), t.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            res = conn.execute(
                insert(t).values(
                    agent_id=agent_id,
                    token_hash=token_hash,
                    created_at=at,
                    expires_at=expires_at,
                    failed_attempts=0,
                    pending_totp_secret="",
                )
            )
            return int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0

    def enrolment_token(self, token_hash: str) -> EnrolmentToken | None:
        """The link whose token hashes to ``token_hash``."""
        t = EnrolmentTokenRow
        with self.db.connect() as conn:
            row = conn.execute(select(t.__table__).where(t.token_hash == token_hash)).first()
        return None if row is None else _token(row)

    def set_pending_totp(self, token_id: int, secret: str) -> None:
        """Keep the TOTP secret shown to the person until they prove they hold it."""
        t = EnrolmentTokenRow
        with self.db.begin() as conn:
            conn.execute(update(t).where(t.id == token_id).values(pending_totp_secret=secret))

    def count_enrolment_failure(self, token_id: int) -> int:
        """One more failed attempt on the link; return the new count."""
        t = EnrolmentTokenRow
        with self.db.begin() as conn:
            conn.execute(
                update(t).where(t.id == token_id).values(failed_attempts=t.failed_attempts + 1)
            )
            return int(conn.execute(select(t.failed_attempts).where(t.id == token_id)).scalar_one())

    def revoke_enrolment_tokens(self, agent_id: int, at: dt.datetime) -> int:
        """Revoke every unused link of the agent; return how many."""
        t = EnrolmentTokenRow
        with self.db.begin() as conn:
            res = conn.execute(
                update(t)
                .where(t.agent_id == agent_id, t.used_at.is_(None), t.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return int(res.rowcount)

    def complete_enrolment(
        self,
        token_id: int,
        agent_id: int,
        *,
        at: dt.datetime,
        password_hash: str,
        totp_secret: str,
        totp_step: int,
        probation_until: dt.datetime | None,
    ) -> bool:
        """Use the link once and set the credentials, in one transaction."""
        t = EnrolmentTokenRow
        with self.db.begin() as conn:
            used = conn.execute(
                update(t)
                .where(
                    t.id == token_id,
                    t.agent_id == agent_id,
                    t.used_at.is_(None),
                    t.revoked_at.is_(None),
                )
                .values(used_at=at, pending_totp_secret="")
            )
            if used.rowcount != 1:
                return False
            conn.execute(
                update(AgentRow)
                .where(AgentRow.id == agent_id)
                .values(
                    password_hash=password_hash,
                    totp_secret=totp_secret,
                    totp_last_step=totp_step,
                    enrolment_pending=False,
                    probation_until=probation_until,
                )
            )
        return True


class SqlOrgSuspensionStore:
    """Implements ``OrgSuspensions``: the organisation kill switch and its history."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def org_suspension(self, org_id: str) -> OrgSuspension | None:
        """The organisation's suspension in force, if any."""
        s = OrgSuspensionRow
        with self.db.connect() as conn:
            row = conn.execute(
                select(s.__table__)
                .where(s.org_id == org_id, s.lifted_at.is_(None))
                .order_by(s.id.desc())
            ).first()
        if row is None:
            return None
        return OrgSuspension(
            org_id=row.org_id,
            suspended_at=_at(row.suspended_at),
            suspended_by=row.suspended_by,
            reason=row.reason,
        )

    def suspend_org(self, org_id: str, by: str, at: dt.datetime, reason: str) -> bool:
        """Suspend the organisation; False when it already was."""
        if self.org_suspension(org_id) is not None:
            return False
        with self.db.begin() as conn:
            conn.execute(
                insert(OrgSuspensionRow).values(
                    org_id=org_id, reason=reason, suspended_by=by, suspended_at=at, lifted_by=""
                )
            )
        return True

    def lift_org(self, org_id: str, by: str, at: dt.datetime) -> bool:
        """Lift the organisation's suspension; False when none was in force."""
        s = OrgSuspensionRow
        with self.db.begin() as conn:
            res = conn.execute(
                update(s)
                .where(s.org_id == org_id, s.lifted_at.is_(None))
                .values(lifted_at=at, lifted_by=by)
            )
        return res.rowcount > 0


class SqlReviewStore:
    """Implements ``ReviewCampaigns`` and ``ReviewItems``."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def open_campaign(
        self,
        org_id: str,
        opened_by: str,
        at: dt.datetime,
        deadline: dt.datetime,
        default_decision: ReviewDecision,
        items: Sequence[tuple[int, str, str]],
    ) -> int:
        """Open a campaign over (agent id, login, role) items; return its id."""
        with self.db.begin() as conn:
            res = conn.execute(
                insert(ReviewCampaignRow).values(
                    org_id=org_id,
                    opened_by=opened_by,
                    opened_at=at,
                    deadline=deadline,
                    default_decision=str(default_decision),
                )
            )
            campaign_id = int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0
            if items:
                conn.execute(
                    insert(ReviewItemRow),
                    [
                        {
                            "campaign_id": campaign_id,
                            "agent_id": agent_id,
                            "login": login,
                            "role": role,
                            "decided_by": "",
                            "by_default": False,
                        }
                        for agent_id, login, role in items
                    ],
                )
        return campaign_id

    def campaign(self, campaign_id: int) -> ReviewCampaign | None:
        """One campaign."""
        c = ReviewCampaignRow
        with self.db.connect() as conn:
            row = conn.execute(select(c.__table__).where(c.id == campaign_id)).first()
        return None if row is None else _campaign(row)

    def campaigns(self, org_id: str | None = None) -> list[ReviewCampaign]:
        """Campaigns, newest first, of one organisation or all."""
        c = ReviewCampaignRow
        stmt = select(c.__table__).order_by(c.opened_at.desc(), c.id.desc())
        if org_id is not None:
            stmt = stmt.where(c.org_id == org_id)
        with self.db.connect() as conn:
            return [_campaign(r) for r in conn.execute(stmt)]

    def open_campaigns(self) -> list[ReviewCampaign]:
        """Campaigns not yet closed."""
        c = ReviewCampaignRow
        with self.db.connect() as conn:
            rows = conn.execute(select(c.__table__).where(c.closed_at.is_(None))).all()
        return [_campaign(r) for r in rows]

    def orgs_due_for_review(self, opened_before: dt.datetime) -> list[str]:
        """Organisations with active accounts and no campaign opened since ``opened_before``."""
        c = ReviewCampaignRow
        recent = (
            select(c.id)
            .where(c.org_id == OrganisationRow.id, c.opened_at >= opened_before)
            .exists()
        )
        has_accounts = (
            select(AgentRow.id)
            .where(AgentRow.org_id == OrganisationRow.id, AgentRow.active.is_(True))
            .exists()
        )
        stmt = select(OrganisationRow.id).where(has_accounts, ~recent).order_by(OrganisationRow.id)
        with self.db.connect() as conn:
            return [r.id for r in conn.execute(stmt)]

    def items_of(self, campaign_id: int) -> list[ReviewItem]:
        """A campaign's items, by login then role (the account item first)."""
        i = ReviewItemRow
        with self.db.connect() as conn:
            rows = conn.execute(
                select(i.__table__).where(i.campaign_id == campaign_id).order_by(i.login, i.role)
            ).all()
        return [
            ReviewItem(
                id=r.id,
                campaign_id=r.campaign_id,
                agent_id=r.agent_id,
                login=r.login,
                role=r.role,
                decision=ReviewDecision(r.decision) if r.decision else None,
                decided_by=r.decided_by,
                decided_at=utc(r.decided_at),
                by_default=r.by_default,
            )
            for r in rows
        ]

    def decide_item(
        self,
        item_id: int,
        decision: ReviewDecision,
        by: str,
        at: dt.datetime,
        *,
        by_default: bool = False,
    ) -> bool:
        """Record a decision on an undecided item; False when already decided."""
        i = ReviewItemRow
        with self.db.begin() as conn:
            res = conn.execute(
                update(i)
                .where(and_(i.id == item_id, i.decision.is_(None)))
                .values(decision=str(decision), decided_by=by, decided_at=at, by_default=by_default)
            )
        return res.rowcount == 1

    def close_campaign(self, campaign_id: int, at: dt.datetime) -> bool:
        """Close an open campaign; False when it was already closed."""
        c = ReviewCampaignRow
        with self.db.begin() as conn:
            res = conn.execute(
                update(c).where(c.id == campaign_id, c.closed_at.is_(None)).values(closed_at=at)
            )
        return res.rowcount == 1

    def mark_reminded(self, campaign_id: int, at: dt.datetime) -> None:
        """Remember when the reviewers were last reminded."""
        c = ReviewCampaignRow
        with self.db.begin() as conn:
            conn.execute(update(c).where(c.id == campaign_id).values(last_reminder_at=at))


def _batch(row: object) -> PrivilegeBatch:
    r = row._mapping  # type: ignore[attr-defined]
    return PrivilegeBatch(
        id=r["id"],
        import_batch=r["import_batch"],
        requested_by=r["requested_by"],
        requested_by_id=r["requested_by_id"],
        created_at=_at(r["created_at"]),
        expires_at=_at(r["expires_at"]),
        status=RequestStatus(r["status"]),
        decided_by=r["decided_by"],
        decided_by_login=r["decided_by_login"],
        decided_at=utc(r["decided_at"]),
    )


class SqlPrivilegeBatchStore:
    """Implements ``PrivilegeBatches``: an import's privileged rows, decided by compare-and-set."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def add_batch(self, batch: PrivilegeBatch, items: Sequence[PrivilegeItem]) -> None:
        """Store a new batch and its items."""
        with self.db.begin() as conn:
            conn.execute(
                insert(PrivilegeBatchRow).values(
                    id=batch.id,
                    import_batch=batch.import_batch,
                    requested_by=batch.requested_by,
                    requested_by_id=batch.requested_by_id,
                    status=str(batch.status),
                    created_at=batch.created_at,
                    expires_at=batch.expires_at,
                    decided_by_login="",
                )
            )
            if items:
                conn.execute(
                    insert(PrivilegeBatchItemRow),
                    [
                        {
                            "batch_id": batch.id,
                            "agent_id": i.agent_id,
                            "login": i.login,
                            "org_id": i.org_id,
                            "roles": _roles_text(i.roles),
                            "applied": False,
                        }
                        for i in items
                    ],
                )

    def batch(self, batch_id: str) -> PrivilegeBatch | None:
        """One batch by id."""
        with self.db.connect() as conn:
            row = conn.execute(
                select(PrivilegeBatchRow.__table__).where(PrivilegeBatchRow.id == batch_id)
            ).first()
        return None if row is None else _batch(row)

    def batches(
        self, status: RequestStatus | None = None, limit: int = 100
    ) -> list[PrivilegeBatch]:
        """Batches, newest first."""
        r = PrivilegeBatchRow
        stmt = select(r.__table__)
        if status is not None:
            stmt = stmt.where(r.status == str(status))
        stmt = stmt.order_by(r.created_at.desc(), r.id).limit(limit)
        with self.db.connect() as conn:
            return [_batch(row) for row in conn.execute(stmt)]

    def items_of(self, batch_id: str) -> list[PrivilegeItem]:
        """A batch's items, by login."""
        i = PrivilegeBatchItemRow
        with self.db.connect() as conn:
            rows = conn.execute(select(i.__table__).where(i.batch_id == batch_id).order_by(i.login))
            return [
                PrivilegeItem(r.agent_id, r.login, r.org_id, _roles(r.roles), bool(r.applied))
                for r in rows
            ]

    def pending_roles(
        self, agent_ids: Sequence[int], now: dt.datetime
    ) -> dict[int, frozenset[Role]]:
        """Roles already waiting, per account, in unexpired pending batches."""
        if not agent_ids:
            return {}
        i, b = PrivilegeBatchItemRow, PrivilegeBatchRow
        out: dict[int, frozenset[Role]] = {}
        with self.db.connect() as conn:
            for start in range(0, len(agent_ids), 500):
                rows = conn.execute(
                    select(i.agent_id, i.roles)
                    .join(b, b.id == i.batch_id)
                    .where(
                        i.agent_id.in_(agent_ids[start : start + 500]),
                        b.status == str(RequestStatus.PENDING),
                        b.expires_at > now,
                    )
                )
                for agent_id, roles in rows:
                    out[agent_id] = out.get(agent_id, frozenset()) | _roles(roles)
        return out

    def decide_batch(
        self,
        batch_id: str,
        status: RequestStatus,
        *,
        by_id: int | None,
        by_login: str,
        at: dt.datetime,
    ) -> bool:
        """Compare-and-set from pending; applied items are marked with an approval."""
        b = PrivilegeBatchRow
        with self.db.begin() as conn:
            done = conn.execute(
                update(b)
                .where(b.id == batch_id, b.status == str(RequestStatus.PENDING))
                .values(
                    status=str(status), decided_by=by_id, decided_by_login=by_login, decided_at=at
                )
            ).rowcount
            if done and status is RequestStatus.APPROVED:
                conn.execute(
                    update(PrivilegeBatchItemRow)
                    .where(PrivilegeBatchItemRow.batch_id == batch_id)
                    .values(applied=True)
                )
        return bool(done)
