"""Ports: what the use cases need from the outside world, named for their role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from rempart.governance.model import (
    AccountRequest,
    AccountStanding,
    EnrolmentToken,
    OrgSuspension,
    RequestStatus,
    ReviewCampaign,
    ReviewDecision,
    ReviewItem,
)
from rempart.kernel.actors import Agent, App, Role


class GovernanceStore(Protocol):
    """Account provenance and state, four-eyes requests, enrolment links, reviews, suspensions."""

    # Accounts
    def standing(self, agent_id: int) -> AccountStanding:
        """Governance facts about one account (an unknown id gets a blank standing)."""
        ...

    def agents_of_org(self, org_id: str) -> list[Agent]: ...
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

    def set_roles(self, agent_id: int, roles: frozenset[Role]) -> None: ...
    def set_active(self, agent_id: int, active: bool, reason: str) -> bool:
        """Switch an account on or off; False when it already was."""
        ...

    def set_training_valid_until(self, agent_id: int, day: dt.date) -> None: ...
    def set_end_date(self, agent_id: int, day: dt.date | None) -> None: ...
    def erase_factors(self, agent_id: int) -> None:
        """Forget password, TOTP secret, security keys and recovery codes; enrol again."""
        ...

    def login_taken(self, login: str) -> bool:
        """True when an account or a pending request already uses ``login``."""
        ...

    def idle_agents(self, cutoff: dt.datetime) -> list[tuple[Agent, AccountStanding]]:
        """Accounts whose last use (or creation, if never used) is before ``cutoff``."""
        ...

    def leavers(self, today: dt.date) -> list[Agent]:
        """Active accounts whose end date is today or past."""
        ...

    def privileged_accounts(self) -> list[tuple[Agent, AccountStanding]]: ...

    # Four-eyes requests
    def add_request(self, request: AccountRequest) -> None: ...
    def request(self, request_id: str) -> AccountRequest | None: ...
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

    def expired_requests(self, now: dt.datetime) -> list[AccountRequest]: ...

    # Enrolment links
    def add_enrolment_token(
        self, agent_id: int, token_hash: str, at: dt.datetime, expires_at: dt.datetime
    ) -> int:
        """Store a new link for the agent, revoking the agent's earlier ones; return its id."""
        ...

    def enrolment_token(self, token_hash: str) -> EnrolmentToken | None: ...
    def set_pending_totp(self, token_id: int, secret: str) -> None: ...
    def count_enrolment_failure(self, token_id: int) -> int:
        """One more failed attempt on the link; return the new count."""
        ...

    def revoke_enrolment_tokens(self, agent_id: int, at: dt.datetime) -> int: ...
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

    # Organisation kill switch
    def org_suspension(self, org_id: str) -> OrgSuspension | None: ...
    def suspend_org(self, org_id: str, by: str, at: dt.datetime, reason: str) -> bool: ...
    def lift_org(self, org_id: str, by: str, at: dt.datetime) -> bool: ...
    def org_ids_using(self, app: App) -> list[str]:
        """The organisations whose agents work in ``app``."""
        ...

    # Access reviews
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

    def campaign(self, campaign_id: int) -> ReviewCampaign | None: ...
    def campaigns(self, org_id: str | None = None) -> list[ReviewCampaign]: ...
    def open_campaigns(self) -> list[ReviewCampaign]: ...
    def orgs_due_for_review(self, opened_before: dt.datetime) -> list[str]:
        """Organisations with accounts and no campaign opened since ``opened_before``."""
        ...

    def review_items(self, campaign_id: int) -> list[ReviewItem]: ...
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

    def close_campaign(self, campaign_id: int, at: dt.datetime) -> bool: ...
    def mark_reminded(self, campaign_id: int, at: dt.datetime) -> None: ...
