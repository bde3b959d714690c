"""Governance in memory: the twins of every governance port, with the SQL adapters' semantics.

The SQL adapters share one database: an approval creates a row that the people store reads,
an erasure clears what sign-in checks. The twins share ``MemoryGovernanceTables`` the same
way: the accounts and organisations governance reads and writes, the factors it erases, and
its own requests, links, suspensions and reviews. Unit tests build the people and sign-in
twins they need over the same tables, so that what one port writes the others see.

Every compare-and-set of the SQL adapters (deciding a request, using a link, deciding an
item, closing a campaign) is one critical section here: of two callers only one wins.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

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
from rempart.kernel.actors import APP_OF_ORG_KIND, PRIVILEGED_ROLES, Agent, App, Organisation, Role


@dataclass
class AccountRow:
    """One account as the portal stores it: the agent, its governance facts, its factors."""

    id: int
    login: str
    email: str
    org_id: str
    roles: frozenset[Role]
    active: bool = True
    created_at: dt.datetime | None = None
    end_date: dt.date | None = None
    training_valid_until: dt.date | None = None
    probation_until: dt.datetime | None = None
    created_by: int | None = None
    approved_by: int | None = None
    disabled_reason: str = ""
    enrolment_pending: bool = False
    last_used_at: dt.datetime | None = None
    password_hash: str = ""
    totp_secret: str = ""
    totp_last_step: int = 0
    locked: bool = False
    failed_logins: int = 0


@dataclass
class MemoryGovernanceTables:
    """The tables the governance twins (and the people and sign-in twins of unit tests) share.

    ``security_keys`` and ``recovery_codes`` are keyed by agent id and hold whatever the
    sign-in twin stores there; governance only ever empties them (``erase_factors``).
    """

    organisations: dict[str, Organisation] = field(default_factory=dict)
    accounts: dict[int, AccountRow] = field(default_factory=dict)
    security_keys: dict[int, list[object]] = field(default_factory=dict)
    recovery_codes: dict[int, list[object]] = field(default_factory=dict)
    requests: dict[str, AccountRequest] = field(default_factory=dict)
    tokens: dict[int, EnrolmentToken] = field(default_factory=dict)
    suspensions: list[tuple[int, OrgSuspension]] = field(default_factory=list)
    campaigns: dict[int, ReviewCampaign] = field(default_factory=dict)
    items: dict[int, ReviewItem] = field(default_factory=dict)
    batches: dict[str, PrivilegeBatch] = field(default_factory=dict)
    batch_items: dict[str, list[PrivilegeItem]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def next_id(self) -> int:
        """A fresh id (one sequence for every table: ids are only ever compared for equality)."""
        return next(self._ids)

    @contextmanager
    def locked(self) -> Iterator[MemoryGovernanceTables]:
        """Hold the tables for one read or one compare-and-set."""
        with self.lock:
            yield self

    # --- Seeding (what the people capability's seed and fixtures store) -----------------

    def add_organisation(self, org: Organisation) -> Organisation:
        """Store an organisation."""
        with self.lock:
            self.organisations[org.id] = org
        return org

    def add_account(self, login: str, org_id: str, roles: Iterable[Role], **extra: object) -> int:
        """Store an account of a stored organisation, as the seed would; return its id."""
        with self.lock:
            if org_id not in self.organisations:
                raise LookupError(f"no organisation {org_id}")
            if any(a.login == login for a in self.accounts.values()):
                raise ValueError(f"login {login} is taken")
            row = AccountRow(
                id=self.next_id(),
                login=login,
                email=str(extra.pop("email", f"{login}@example.fr")),
                org_id=org_id,
                roles=frozenset(roles),
            )
            for name, value in extra.items():
                if not hasattr(row, name):
                    raise TypeError(f"accounts have no column {name}")
                setattr(row, name, value)
            self.accounts[row.id] = row
            return row.id

    # --- Reading, for every twin ---------------------------------------------------------

    def agent(self, row: AccountRow) -> Agent:
        """The domain agent of a stored account."""
        return Agent(
            id=row.id,
            login=row.login,
            email=row.email,
            org_id=row.org_id,
            org_kind=self.organisations[row.org_id].kind,
            roles=row.roles,
            active=row.active,
            created_at=row.created_at,
            end_date=row.end_date,
            training_valid_until=row.training_valid_until,
            probation_until=row.probation_until,
        )

    def org_suspended(self, org_id: str) -> bool:
        """True while a suspension of the organisation is in force."""
        return any(s.org_id == org_id and s.lifted_at is None for _, s in self.suspensions)

    def standing_of(self, row: AccountRow) -> AccountStanding:
        """The governance facts of a stored account."""
        return AccountStanding(
            agent_id=row.id,
            created_by=row.created_by,
            approved_by=row.approved_by,
            probation_until=row.probation_until,
            disabled_reason=row.disabled_reason,
            enrolment_pending=row.enrolment_pending,
            org_suspended=self.org_suspended(row.org_id),
            last_used_at=row.last_used_at,
        )

    def by_login(self) -> list[AccountRow]:
        """Every account whose organisation is stored (an inner join, as in SQL), by login."""
        return sorted(
            (a for a in self.accounts.values() if a.org_id in self.organisations),
            key=lambda a: a.login,
        )


class MemoryAccountStore:
    """Implements ``AccountStandings``, ``AccountRecords`` and ``AccountListings`` in memory."""

    def __init__(self, tables: MemoryGovernanceTables) -> None:
        self.tables = tables

    def standing(self, agent_id: int) -> AccountStanding:
        """Governance facts about one account (an unknown id gets a blank standing)."""
        with self.tables.locked() as t:
            row = t.accounts.get(agent_id)
            return AccountStanding(agent_id=agent_id) if row is None else t.standing_of(row)

    def created_by_since(self, agent_id: int, since: dt.datetime) -> list[int]:
        """Accounts ``agent_id`` requested, created since ``since``, by id."""
        with self.tables.locked() as t:
            return sorted(
                a.id
                for a in t.accounts.values()
                if a.created_by == agent_id and a.created_at is not None and a.created_at >= since
            )

    def agents_of_org(self, org_id: str) -> list[Agent]:
        """Every account of one organisation, by login."""
        with self.tables.locked() as t:
            return [t.agent(a) for a in t.by_login() if a.org_id == org_id]

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
        with self.tables.locked() as t:
            # The agents table's constraints: a unique login, a stored organisation.
            if any(a.login == login for a in t.accounts.values()):
                raise ValueError(f"login {login} is taken")
            if org_id not in t.organisations:
                raise LookupError(f"no organisation {org_id}")
            row = AccountRow(
                id=t.next_id(),
                login=login,
                email=email,
                org_id=org_id,
                roles=roles,
                active=True,
                created_at=at,
                training_valid_until=training_valid_until,
                created_by=created_by,
                approved_by=approved_by,
                enrolment_pending=True,
            )
            t.accounts[row.id] = row
            return row.id

    def set_roles(self, agent_id: int, roles: frozenset[Role]) -> None:
        """Replace the account's roles."""
        with self.tables.locked() as t:
            if (row := t.accounts.get(agent_id)) is not None:
                row.roles = frozenset(roles)

    def set_active(self, agent_id: int, active: bool, reason: str) -> bool:
        """Switch an account on or off (recording why); False when ``active`` did not change."""
        with self.tables.locked() as t:
            row = t.accounts.get(agent_id)
            if row is None:
                return False
            was = row.active
            # As in SQL, the reason is rewritten even when the switch was already there.
            row.active = active
            row.disabled_reason = "" if active else reason
            return was != active

    def set_training_valid_until(self, agent_id: int, day: dt.date) -> None:
        """Record a renewed security-training attestation."""
        with self.tables.locked() as t:
            if (row := t.accounts.get(agent_id)) is not None:
                row.training_valid_until = day

    def set_end_date(self, agent_id: int, day: dt.date | None) -> None:
        """Set (or clear) the day the account stops: a leaver."""
        with self.tables.locked() as t:
            if (row := t.accounts.get(agent_id)) is not None:
                row.end_date = day

    def erase_factors(self, agent_id: int) -> None:
        """Forget password, TOTP secret, security keys and recovery codes; enrol again."""
        with self.tables.locked() as t:
            if (row := t.accounts.get(agent_id)) is not None:
                row.password_hash = row.totp_secret = ""
                row.totp_last_step = 0
                row.enrolment_pending = True
            t.security_keys.pop(agent_id, None)
            t.recovery_codes.pop(agent_id, None)

    def _with_standing(self, rows: Iterable[AccountRow]) -> list[tuple[Agent, AccountStanding]]:
        t = self.tables
        return [(t.agent(a), t.standing_of(a)) for a in rows]

    def idle_agents(self, cutoff: dt.datetime) -> list[tuple[Agent, AccountStanding]]:
        """Accounts whose last use (or creation, if never used) is before ``cutoff``."""
        with self.tables.locked() as t:
            return self._with_standing(
                a
                for a in t.by_login()
                if (since := a.last_used_at or a.created_at) is not None and since < cutoff
            )

    def leavers(self, today: dt.date) -> list[Agent]:
        """Active accounts whose end date is today or past."""
        with self.tables.locked() as t:
            return [
                t.agent(a)
                for a in t.by_login()
                if a.active and a.end_date is not None and a.end_date <= today
            ]

    def privileged_accounts(self) -> list[tuple[Agent, AccountStanding]]:
        """Accounts holding a privileged or never-grantable role."""
        watched = PRIVILEGED_ROLES | NEVER_GRANTABLE
        with self.tables.locked() as t:
            return self._with_standing(a for a in t.by_login() if a.roles & watched)

    def org_ids_using(self, app: App) -> list[str]:
        """The organisations whose agents work in ``app``."""
        with self.tables.locked() as t:
            return sorted(o.id for o in t.organisations.values() if APP_OF_ORG_KIND[o.kind] is app)


class MemoryAccountRequestStore:
    """Implements ``AccountRequests`` in memory."""

    def __init__(self, tables: MemoryGovernanceTables) -> None:
        self.tables = tables

    def add_request(self, request: AccountRequest) -> None:
        """Store a new request."""
        with self.tables.locked() as t:
            if request.id in t.requests:
                raise ValueError(f"request {request.id} exists")
            t.requests[request.id] = request

    def request(self, request_id: str) -> AccountRequest | None:
        """One request by id."""
        with self.tables.locked() as t:
            return t.requests.get(request_id)

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
        with self.tables.locked() as t:
            found = [
                r
                for r in t.requests.values()
                if (org_id is None or r.org_id == org_id)
                and (status is None or r.status is status)
                and (requested_by is None or r.requested_by == requested_by)
                and (target_agent_id is None or r.target_agent_id == target_agent_id)
            ]
        found.sort(key=lambda r: r.id)
        found.sort(key=lambda r: r.created_at, reverse=True)
        return found[: max(limit, 0)]

    def request_times(self, requested_by: int, since: dt.datetime) -> list[dt.datetime]:
        """When this agent made requests since ``since``."""
        with self.tables.locked() as t:
            return [
                r.created_at
                for r in t.requests.values()
                if r.requested_by == requested_by and r.created_at >= since
            ]

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
        with self.tables.locked() as t:
            found = t.requests.get(request_id)
            if found is None or found.status is not RequestStatus.PENDING:
                return False
            t.requests[request_id] = replace(
                found,
                status=status,
                decided_by=by_id,
                decided_by_login=by_login,
                decided_at=at,
                reason=reason[:500],
                created_agent_id=created_agent_id,
            )
            return True

    def expired_requests(self, now: dt.datetime) -> list[AccountRequest]:
        """Pending requests whose validity has passed."""
        with self.tables.locked() as t:
            return [
                r
                for r in t.requests.values()
                if r.status is RequestStatus.PENDING and r.expires_at <= now
            ]

    def login_taken(self, login: str) -> bool:
        """True when an account or a pending request already uses ``login``."""
        with self.tables.locked() as t:
            return any(a.login == login for a in t.accounts.values()) or any(
                r.login == login
                and r.kind is RequestKind.CREATE_ACCOUNT
                and r.status is RequestStatus.PENDING
                for r in t.requests.values()
            )


class MemoryEnrolmentTokenStore:
    """Implements ``EnrolmentTokens`` in memory."""

    def __init__(self, tables: MemoryGovernanceTables) -> None:
        self.tables = tables

    def _revoke_unused(self, agent_id: int, at: dt.datetime) -> int:
        t = self.tables
        unused = [
            k
            for k, v in t.tokens.items()
            if v.agent_id == agent_id and v.used_at is None and v.revoked_at is None
        ]
        for key in unused:
            t.tokens[key] = replace(t.tokens[key], revoked_at=at)
        return len(unused)

    def add_enrolment_token(
        self, agent_id: int, token_hash: str, at: dt.datetime, expires_at: dt.datetime
    ) -> int:
        """Store a new link for the agent, revoking the agent's earlier ones; return its id."""
        with self.tables.locked() as t:
            if any(v.token_hash == token_hash for v in t.tokens.values()):
                raise ValueError("this token hash is stored already")
            self._revoke_unused(agent_id, at)
            token = EnrolmentToken(
                id=t.next_id(),
                agent_id=agent_id,
                token_hash=token_hash,
                created_at=at,
                expires_at=expires_at,
            )
            t.tokens[token.id] = token
            return token.id

    def enrolment_token(self, token_hash: str) -> EnrolmentToken | None:
        """The link whose token hashes to ``token_hash``."""
        with self.tables.locked() as t:
            return next((v for v in t.tokens.values() if v.token_hash == token_hash), None)

    def set_pending_totp(self, token_id: int, secret: str) -> None:
        """Keep the TOTP secret shown to the person until they prove they hold it."""
        with self.tables.locked() as t:
            if (found := t.tokens.get(token_id)) is not None:
                t.tokens[token_id] = replace(found, pending_totp_secret=secret)

    def count_enrolment_failure(self, token_id: int) -> int:
        """One more failed attempt on the link; return the new count."""
        with self.tables.locked() as t:
            found = t.tokens.get(token_id)
            if found is None:
                raise LookupError(f"no enrolment link {token_id}")
            t.tokens[token_id] = replace(found, failed_attempts=found.failed_attempts + 1)
            return found.failed_attempts + 1

    def revoke_enrolment_tokens(self, agent_id: int, at: dt.datetime) -> int:
        """Revoke every unused link of the agent; return how many."""
        with self.tables.locked():
            return self._revoke_unused(agent_id, at)

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
        """Use the link once and set the credentials, together."""
        with self.tables.locked() as t:
            found = t.tokens.get(token_id)
            if (
                found is None
                or found.agent_id != agent_id
                or found.used_at is not None
                or found.revoked_at is not None
            ):
                return False
            t.tokens[token_id] = replace(found, used_at=at, pending_totp_secret="")
            if (row := t.accounts.get(agent_id)) is not None:
                row.password_hash = password_hash
                row.totp_secret = totp_secret
                row.totp_last_step = totp_step
                row.enrolment_pending = False
                row.probation_until = probation_until
            return True


class MemoryOrgSuspensionStore:
    """Implements ``OrgSuspensions`` in memory."""

    def __init__(self, tables: MemoryGovernanceTables) -> None:
        self.tables = tables

    def org_suspension(self, org_id: str) -> OrgSuspension | None:
        """The organisation's suspension in force, if any (the latest one)."""
        with self.tables.locked() as t:
            return next(
                (
                    s
                    for _, s in reversed(t.suspensions)
                    if s.org_id == org_id and s.lifted_at is None
                ),
                None,
            )

    def suspend_org(self, org_id: str, by: str, at: dt.datetime, reason: str) -> bool:
        """Suspend the organisation; False when it already was."""
        with self.tables.locked() as t:
            if t.org_suspended(org_id):
                return False
            t.suspensions.append(
                (
                    t.next_id(),
                    OrgSuspension(org_id=org_id, suspended_at=at, suspended_by=by, reason=reason),
                )
            )
            return True

    def lift_org(self, org_id: str, by: str, at: dt.datetime) -> bool:
        """Lift the organisation's suspension; False when none was in force."""
        with self.tables.locked() as t:
            lifted = 0
            for i, (key, s) in enumerate(t.suspensions):
                if s.org_id == org_id and s.lifted_at is None:
                    t.suspensions[i] = (key, replace(s, lifted_at=at, lifted_by=by))
                    lifted += 1
            return lifted > 0


class MemoryReviewStore:
    """Implements ``ReviewCampaigns`` and ``ReviewItems`` in memory."""

    def __init__(self, tables: MemoryGovernanceTables) -> None:
        self.tables = tables

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
        if len({(agent_id, role) for agent_id, _, role in items}) != len(items):
            raise ValueError("an account or role is reviewed once per campaign")
        with self.tables.locked() as t:
            campaign = ReviewCampaign(
                id=t.next_id(),
                org_id=org_id,
                opened_by=opened_by,
                opened_at=at,
                deadline=deadline,
                default_decision=default_decision,
            )
            t.campaigns[campaign.id] = campaign
            for agent_id, login, role in items:
                item = ReviewItem(
                    id=t.next_id(),
                    campaign_id=campaign.id,
                    agent_id=agent_id,
                    login=login,
                    role=role,
                )
                t.items[item.id] = item
            return campaign.id

    def campaign(self, campaign_id: int) -> ReviewCampaign | None:
        """One campaign."""
        with self.tables.locked() as t:
            return t.campaigns.get(campaign_id)

    def campaigns(self, org_id: str | None = None) -> list[ReviewCampaign]:
        """Campaigns, newest first, of one organisation or all."""
        with self.tables.locked() as t:
            found = [c for c in t.campaigns.values() if org_id is None or c.org_id == org_id]
        return sorted(found, key=lambda c: (c.opened_at, c.id), reverse=True)

    def open_campaigns(self) -> list[ReviewCampaign]:
        """Campaigns not yet closed."""
        with self.tables.locked() as t:
            return [c for c in t.campaigns.values() if c.closed_at is None]

    def orgs_due_for_review(self, opened_before: dt.datetime) -> list[str]:
        """Organisations with active accounts and no campaign opened since ``opened_before``."""
        with self.tables.locked() as t:
            staffed = {a.org_id for a in t.accounts.values() if a.active}
            recent = {c.org_id for c in t.campaigns.values() if c.opened_at >= opened_before}
            return sorted(o for o in t.organisations if o in staffed and o not in recent)

    def items_of(self, campaign_id: int) -> list[ReviewItem]:
        """A campaign's items, by login then role (the account item first)."""
        with self.tables.locked() as t:
            found = [i for i in t.items.values() if i.campaign_id == campaign_id]
        return sorted(found, key=lambda i: (i.login, i.role))

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
        with self.tables.locked() as t:
            found = t.items.get(item_id)
            if found is None or found.decision is not None:
                return False
            t.items[item_id] = replace(
                found, decision=decision, decided_by=by, decided_at=at, by_default=by_default
            )
            return True

    def close_campaign(self, campaign_id: int, at: dt.datetime) -> bool:
        """Close an open campaign; False when it was already closed."""
        with self.tables.locked() as t:
            found = t.campaigns.get(campaign_id)
            if found is None or found.closed_at is not None:
                return False
            t.campaigns[campaign_id] = replace(found, closed_at=at)
            return True

    def mark_reminded(self, campaign_id: int, at: dt.datetime) -> None:
        """Remember when the reviewers were last reminded."""
        with self.tables.locked() as t:
            if (found := t.campaigns.get(campaign_id)) is not None:
                t.campaigns[campaign_id] = replace(found, last_reminder_at=at)


class MemoryPrivilegeBatchStore:
    """The twin of ``SqlPrivilegeBatchStore``."""

    def __init__(self, tables: MemoryGovernanceTables) -> None:
        self.t = tables

    def add_batch(self, batch: PrivilegeBatch, items: Sequence[PrivilegeItem]) -> None:
        """Store a new batch and its items."""
        with self.t.locked() as t:
            t.batches[batch.id] = batch
            t.batch_items[batch.id] = sorted(items, key=lambda i: i.login)

    def batch(self, batch_id: str) -> PrivilegeBatch | None:
        """One batch by id."""
        with self.t.locked() as t:
            return t.batches.get(batch_id)

    def batches(
        self, status: RequestStatus | None = None, limit: int = 100
    ) -> list[PrivilegeBatch]:
        """Batches, newest first."""
        with self.t.locked() as t:
            found = [b for b in t.batches.values() if status is None or b.status is status]
        return sorted(found, key=lambda b: (-b.created_at.timestamp(), b.id))[:limit]

    def items_of(self, batch_id: str) -> list[PrivilegeItem]:
        """A batch's items, by login."""
        with self.t.locked() as t:
            return list(t.batch_items.get(batch_id, []))

    def pending_roles(
        self, agent_ids: Sequence[int], now: dt.datetime
    ) -> dict[int, frozenset[Role]]:
        """Roles already waiting, per account, in unexpired pending batches."""
        wanted = set(agent_ids)
        out: dict[int, frozenset[Role]] = {}
        with self.t.locked() as t:
            for batch in t.batches.values():
                if batch.status is not RequestStatus.PENDING or batch.expires_at <= now:
                    continue
                for item in t.batch_items.get(batch.id, []):
                    if item.agent_id in wanted:
                        out[item.agent_id] = out.get(item.agent_id, frozenset()) | item.roles
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
        """Compare-and-set from pending."""
        with self.t.locked() as t:
            batch = t.batches.get(batch_id)
            if batch is None or batch.status is not RequestStatus.PENDING:
                return False
            t.batches[batch_id] = replace(
                batch, status=status, decided_by=by_id, decided_by_login=by_login, decided_at=at
            )
            if status is RequestStatus.APPROVED:
                t.batch_items[batch_id] = [
                    replace(i, applied=True) for i in t.batch_items[batch_id]
                ]
            return True
