"""Ports: what the use cases need from the outside world, named for their role.

Each port is one seam of the use cases: the standing the data gate reads on every request,
the account records the approvals write, the four-eyes requests, the enrolment links, the
organisation kill switch, the access reviews, and the listings the lifecycle jobs walk. The
SQL adapters implement several of them per class; the memory twins implement each of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from rempart.governance.model import (
    AccountRequest,
    AccountStanding,
    EnrolmentToken,
    OrgSuspension,
    PrivilegeBatch,
    PrivilegeItem,
    RequestStatus,
    ReviewCampaign,
    ReviewDecision,
    ReviewItem,
)
from rempart.kernel.actors import Agent, App, Role


class AccountStandings(Protocol):
    """Governance facts about one account that ``Agent`` does not carry (read per request)."""

    def standing(self, agent_id: int) -> AccountStanding:
        """Governance facts about one account (an unknown id gets a blank standing)."""
        ...

    def created_by_since(self, agent_id: int, since: dt.datetime) -> list[int]:
        """Accounts whose creation ``agent_id`` requested, created at or after ``since`` (the
        four-eyes rule follows these links), by id."""
        ...


class AccountRecords(Protocol):
    """Writing accounts: creation by an approved request, roles, on/off, dates, factors."""

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
        """Store a new account that must enrol before anything else; return its id."""
        ...

    def set_roles(self, agent_id: int, roles: frozenset[Role]) -> None:
        """Replace the account's roles."""
        ...

    def set_active(self, agent_id: int, active: bool, reason: str) -> bool:
        """Switch an account on or off (recording why); False when it already was."""
        ...

    def set_training_valid_until(self, agent_id: int, day: dt.date) -> None:
        """Record a renewed security-training attestation."""
        ...

    def set_end_date(self, agent_id: int, day: dt.date | None) -> None:
        """Set (or clear) the day the account stops: a leaver."""
        ...

    def erase_factors(self, agent_id: int) -> None:
        """Forget password, TOTP secret, security keys and recovery codes; enrol again."""
        ...


class AccountListings(Protocol):
    """The listings reviews, the inventory and the lifecycle jobs walk through."""

    def agents_of_org(self, org_id: str) -> list[Agent]:
        """Every account of one organisation, by login."""
        ...

    def idle_agents(self, cutoff: dt.datetime) -> list[tuple[Agent, AccountStanding]]:
        """Accounts whose last use (or creation, if never used) is before ``cutoff``."""
        ...

    def leavers(self, today: dt.date) -> list[Agent]:
        """Active accounts whose end date is today or past."""
        ...

    def privileged_accounts(self) -> list[tuple[Agent, AccountStanding]]:
        """Accounts holding a privileged or never-grantable role, by login."""
        ...

    def org_ids_using(self, app: App) -> list[str]:
        """The organisations whose agents work in ``app``."""
        ...


class AccountRequests(Protocol):
    """Four-eyes requests to create an account or change its roles, decided once."""

    def add_request(self, request: AccountRequest) -> None:
        """Store a new request."""
        ...

    def request(self, request_id: str) -> AccountRequest | None:
        """One request by id."""
        ...

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
        ...

    def request_times(self, requested_by: int, since: dt.datetime) -> list[dt.datetime]:
        """When this agent made requests since ``since`` (for bursts and the weekly cap)."""
        ...

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
        ...

    def expired_requests(self, now: dt.datetime) -> list[AccountRequest]:
        """Pending requests whose validity has passed."""
        ...

    def login_taken(self, login: str) -> bool:
        """True when an account or a pending request already uses ``login``."""
        ...


class EnrolmentTokens(Protocol):
    """One-time enrolment links, stored as the hash of the token mailed to the person."""

    def add_enrolment_token(
        self, agent_id: int, token_hash: str, at: dt.datetime, expires_at: dt.datetime
    ) -> int:
        """Store a new link for the agent, revoking the agent's earlier ones; return its id."""
        ...

    def enrolment_token(self, token_hash: str) -> EnrolmentToken | None:
        """The link whose token hashes to ``token_hash``."""
        ...

    def set_pending_totp(self, token_id: int, secret: str) -> None:
        """Keep the TOTP secret shown to the person until they prove they hold it."""
        ...

    def count_enrolment_failure(self, token_id: int) -> int:
        """One more failed attempt on the link; return the new count."""
        ...

    def revoke_enrolment_tokens(self, agent_id: int, at: dt.datetime) -> int:
        """Revoke every unused link of the agent; return how many."""
        ...

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
        """Use the link once and set the credentials; False when it was already used."""
        ...


class OrgSuspensions(Protocol):
    """The organisation kill switch, with its history."""

    def org_suspension(self, org_id: str) -> OrgSuspension | None:
        """The organisation's suspension in force, if any."""
        ...

    def suspend_org(self, org_id: str, by: str, at: dt.datetime, reason: str) -> bool:
        """Suspend the organisation; False when it already was."""
        ...

    def lift_org(self, org_id: str, by: str, at: dt.datetime) -> bool:
        """Lift the organisation's suspension; False when none was in force."""
        ...


class ReviewCampaigns(Protocol):
    """Access-review campaigns: opened per organisation, reminded, closed once."""

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
        ...

    def campaign(self, campaign_id: int) -> ReviewCampaign | None:
        """One campaign."""
        ...

    def campaigns(self, org_id: str | None = None) -> list[ReviewCampaign]:
        """Campaigns, newest first, of one organisation or all."""
        ...

    def open_campaigns(self) -> list[ReviewCampaign]:
        """Campaigns not yet closed."""
        ...

    def orgs_due_for_review(self, opened_before: dt.datetime) -> list[str]:
        """Organisations with active accounts and no campaign opened since ``opened_before``."""
        ...

    def close_campaign(self, campaign_id: int, at: dt.datetime) -> bool:
        """Close an open campaign; False when it was already closed."""
        ...

    def mark_reminded(self, campaign_id: int, at: dt.datetime) -> None:
        """Remember when the reviewers were last reminded."""
        ...


class ReviewItems(Protocol):
    """The items of a campaign (an account, or one of its roles), each decided once."""

    def items_of(self, campaign_id: int) -> list[ReviewItem]:
        """A campaign's items, by login then role (the account item first)."""
        ...

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
        ...


class PrivilegeBatches(Protocol):
    """The privileged rows of imports, one four-eyes request per import, decided once."""

    def add_batch(self, batch: PrivilegeBatch, items: Sequence[PrivilegeItem]) -> None:
        """Store a new batch and its items."""
        ...

    def batch(self, batch_id: str) -> PrivilegeBatch | None:
        """One batch by id."""
        ...

    def batches(
        self, status: RequestStatus | None = None, limit: int = 100
    ) -> list[PrivilegeBatch]:
        """Batches, newest first."""
        ...

    def items_of(self, batch_id: str) -> list[PrivilegeItem]:
        """A batch's items, by login."""
        ...

    def pending_roles(
        self, agent_ids: Sequence[int], now: dt.datetime
    ) -> dict[int, frozenset[Role]]:
        """The roles already waiting for approval, per account, in unexpired pending batches."""
        ...

    def decide_batch(
        self,
        batch_id: str,
        status: RequestStatus,
        *,
        by_id: int | None,
        by_login: str,
        at: dt.datetime,
    ) -> bool:
        """Move a pending batch to ``status``; False when it was no longer pending."""
        ...
