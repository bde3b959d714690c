"""Four eyes on privilege: who may request, approve, review and switch off what. Pure rules.

Dec 2025: a Missions Locales account manager's account was compromised and created two
accounts, which then read 1.6 million youth records. So, here:

- an account manager only *requests* an account or a role change, in their own organisation,
  for roles a partner organisation uses; ``admin``, ``security_officer`` and ``dpo`` are never
  granted this way, and ``account_manager`` only with an agency administrator's approval;
- a request takes effect once a *different* authorised person approves it: another account
  manager of the same organisation, or an agency administrator — never the requester, never an
  account the requester created or approved (a rogue manager's own creatures), never the
  account that created or approved the requester (a rogue manager approving for its own
  creature), never an account too young or still on probation to be trusted with it;
- requests expire, bursts are throttled and a weekly cap bounds what one manager can do.

Every function here is pure: the services load the facts and apply the verdicts.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from rempart.kernel.actors import Agent, OrgKind, Role

NEVER_GRANTABLE = frozenset({Role.ADMIN, Role.SECURITY_OFFICER, Role.DPO})

# Roles a partner organisation of each kind uses. Anything else is provisioned by the
# national team, never through a request.
ROLES_BY_ORG_KIND: dict[OrgKind, frozenset[Role]] = {
    OrgKind.TRAINING_BODY: frozenset({Role.TRAINING_MANAGER, Role.ACCOUNT_MANAGER}),
    OrgKind.MISSION_LOCALE: frozenset({Role.ADVISOR, Role.ACCOUNT_MANAGER}),
    OrgKind.CAP_EMPLOI: frozenset({Role.ADVISOR, Role.ACCOUNT_MANAGER}),
    OrgKind.AGENCY: frozenset({Role.ADVISOR, Role.ACCOUNT_MANAGER}),
}

# The national roles live in the agency only, and are granted only by four eyes among its
# administrators: one national administrator requests, another approves (never by a partner's
# account manager, never by import alone, never by the bootstrap once one administrator exists).
NATIONAL_ROLES_BY_ORG_KIND: dict[OrgKind, frozenset[Role]] = {
    OrgKind.AGENCY: NEVER_GRANTABLE,
}

ACCOUNT_ITEM = "*"
# ``created_by`` of the first two national administrators (``rempart admin bootstrap``): the
# root of trust, created out of band by the installer. They approve from day one (neither the
# age rule nor probation holds them back), or nothing could ever be approved.
BOOTSTRAP_ACTOR = 0  # a review item about the whole account rather than one of its roles


LOGIN_RE = re.compile(r"\A[a-z0-9][a-z0-9._-]{2,63}\Z")
# Deliberately plain: one @, no spaces, a dot in the domain. The link mailed to it is the proof.
EMAIL_RE = re.compile(r"\A[^@\s]{1,64}@[^@\s]+\.[^@\s]+\Z")


class GovernanceAlert(StrEnum):
    """Alert rules raised to the security team for privileged changes (real time)."""

    ACCOUNT_REQUESTED = "account_requested"
    ROLES_CHANGE_REQUESTED = "roles_change_requested"
    ACCOUNT_CREATED = "account_created"
    ROLES_CHANGED = "roles_changed"
    REQUEST_REFUSED = "privilege_request_refused"
    APPROVAL_REFUSED = "four_eyes_refused"
    REQUEST_BURST = "account_request_burst"
    WEEKLY_CAP = "account_request_weekly_cap"
    ACCOUNT_UNLOCKED = "account_unlocked"
    FACTORS_RESET = "account_factors_reset"
    FACTOR_ENROLLED = "account_factor_enrolled"
    ENROLMENT_ABUSED = "enrolment_link_abused"
    IDENTITY_LINKED = "federated_identity_linked"
    IDENTITY_REFUSED = "federated_identity_refused"
    ACCOUNT_SUSPENDED = "account_suspended"
    ACCOUNT_LIFTED = "account_suspension_lifted"
    ORG_SUSPENDED = "organisation_suspended"
    ORG_LIFTED = "organisation_suspension_lifted"
    APP_SUSPENDED = "app_suspended"
    APP_RESUMED = "app_resumed"
    ACCOUNTS_DISABLED = "accounts_disabled"
    REVIEW_REMOVED = "review_removed_access"
    TRAINING_ATTESTED = "training_attestation_changed"
    END_DATE_SET = "end_date_changed"
    ADMINS_BOOTSTRAPPED = "national_admins_bootstrapped"
    IMPORT_PRIVILEGES_REQUESTED = "import_privileges_requested"
    IMPORT_PRIVILEGES_GRANTED = "import_privileges_granted"


class RequestKind(StrEnum):
    CREATE_ACCOUNT = "create_account"
    CHANGE_ROLES = "change_roles"


class RequestStatus(StrEnum):
    PENDING = "pending_approval"
    APPROVED = "approved"
    DENIED = "denied"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class DisabledReason(StrEnum):
    """Why an account is off; only ``SUSPENDED`` is lifted by the kill switch's lift."""

    SUSPENDED = "suspended"  # an administrator's kill switch
    INACTIVE = "inactive"  # unused for too long
    END_DATE = "end_date"  # a leaver
    REVIEW = "review"  # removed in an access review


class ReviewDecision(StrEnum):
    KEEP = "keep"
    REMOVE = "remove"


class Refusal(StrEnum):
    """Why a request, an approval or a review decision is refused (journaled, alerted)."""

    NOT_ACCOUNT_MANAGER = "not_account_manager"
    OTHER_ORGANISATION = "other_organisation"
    NEVER_GRANTABLE_ROLE = "never_grantable_role"
    ROLE_NOT_USED_HERE = "role_not_used_in_this_organisation"
    SELF_TARGET = "own_account"
    NOTHING_TO_CHANGE = "nothing_to_change"
    SELF_APPROVAL = "self_approval"
    APPROVER_NOT_AUTHORISED = "approver_not_authorised"
    NEEDS_AGENCY_ADMIN = "account_manager_role_needs_agency_admin"
    APPROVER_CREATED_BY_REQUESTER = "approver_created_by_requester"
    APPROVER_APPROVED_BY_REQUESTER = "approver_approved_by_requester"
    REQUESTER_CREATED_BY_APPROVER = "requester_created_by_approver"
    REQUESTER_APPROVED_BY_APPROVER = "requester_approved_by_approver"
    APPROVER_LINKED_TO_REQUESTER = "approver_linked_to_requester"
    APPROVER_TOO_YOUNG = "approver_account_too_young"
    APPROVER_ON_PROBATION = "approver_on_probation"
    NOT_IN_GOOD_STANDING = "not_in_good_standing"


REFUSAL_MESSAGES: dict[Refusal, str] = {
    Refusal.NOT_ACCOUNT_MANAGER: "only account managers and agency administrators do this",
    Refusal.OTHER_ORGANISATION: "account managers act only in their own organisation",
    Refusal.NEVER_GRANTABLE_ROLE: (
        "admin, security_officer and dpo are granted only in the agency, by four eyes among "
        "national administrators"
    ),
    Refusal.ROLE_NOT_USED_HERE: "this role is not used in this kind of organisation",
    Refusal.SELF_TARGET: "no one requests, approves or reviews changes to their own account",
    Refusal.NOTHING_TO_CHANGE: "the request changes nothing",
    Refusal.SELF_APPROVAL: "a request is approved by someone other than its requester",
    Refusal.APPROVER_NOT_AUTHORISED: (
        "approval needs another account manager of the organisation or an agency administrator"
    ),
    Refusal.NEEDS_AGENCY_ADMIN: (
        "the account_manager role is granted only with an agency administrator's approval"
    ),
    Refusal.APPROVER_CREATED_BY_REQUESTER: "an account created by the requester cannot approve",
    Refusal.APPROVER_APPROVED_BY_REQUESTER: "an account approved by the requester cannot approve",
    Refusal.REQUESTER_CREATED_BY_APPROVER: (
        "the account that requested the requester's account cannot approve its requests"
    ),
    Refusal.REQUESTER_APPROVED_BY_APPROVER: (
        "the account that approved the requester's account cannot approve its requests"
    ),
    Refusal.APPROVER_LINKED_TO_REQUESTER: (
        "an account linked to the requester through accounts created or approved recently "
        "cannot approve its requests"
    ),
    Refusal.APPROVER_TOO_YOUNG: "this account is too recent to approve requests",
    Refusal.APPROVER_ON_PROBATION: "an account on probation cannot approve requests",
    Refusal.NOT_IN_GOOD_STANDING: "this account or its organisation is suspended",
}


@dataclass(frozen=True, slots=True)
class GovernanceRules:
    """The governance settings in force, built from ``Settings`` by ``governance.wiring``."""

    approver_min_age: dt.timedelta = dt.timedelta(days=30)
    request_ttl: dt.timedelta = dt.timedelta(hours=24)
    burst_limit: int = 3
    burst_window: dt.timedelta = dt.timedelta(minutes=10)
    weekly_cap: int = 10
    enrolment_ttl: dt.timedelta = dt.timedelta(hours=24)
    enrolment_attempts: int = 5
    probation: dt.timedelta = dt.timedelta(days=14)
    training_grace: dt.timedelta = dt.timedelta(days=30)
    training_max_validity: dt.timedelta = dt.timedelta(days=366)
    inactivity_disable: dt.timedelta = dt.timedelta(days=90)
    inactivity_erase: dt.timedelta = dt.timedelta(days=180)
    review_period: dt.timedelta = dt.timedelta(days=91)
    review_duration: dt.timedelta = dt.timedelta(days=14)
    review_remind_every: dt.timedelta = dt.timedelta(days=3)
    public_url: str = "http://localhost:8000"


@dataclass(frozen=True, slots=True)
class AccountStanding:
    """Governance facts about one account that ``Agent`` does not carry."""

    agent_id: int
    created_by: int | None = None
    approved_by: int | None = None
    probation_until: dt.datetime | None = None
    disabled_reason: str = ""
    enrolment_pending: bool = False
    org_suspended: bool = False
    last_used_at: dt.datetime | None = None

    def on_probation(self, now: dt.datetime) -> bool:
        """True while a new account is still watched with the guard's low budget."""
        return self.probation_until is not None and now < self.probation_until

    @property
    def bootstrapped(self) -> bool:
        """True for the first national administrators, created by ``rempart admin bootstrap``."""
        return self.created_by == BOOTSTRAP_ACTOR and self.approved_by == BOOTSTRAP_ACTOR

    def too_new_to_approve(
        self, agent: Agent, now: dt.datetime, rules: GovernanceRules
    ) -> Refusal | None:
        """Why this account is still too new to approve anything, or None."""
        if self.bootstrapped:
            return None
        if agent.created_at is None or now - agent.created_at < rules.approver_min_age:
            return Refusal.APPROVER_TOO_YOUNG
        if self.on_probation(now):
            return Refusal.APPROVER_ON_PROBATION
        return None

    @property
    def went_through_four_eyes(self) -> bool:
        """True for an account created by a request someone else approved."""
        return self.approved_by is not None and self.approved_by != self.created_by


@dataclass(frozen=True, slots=True)
class AccountRequest:
    """A pending (or decided) request to create an account or change an account's roles."""

    id: str
    kind: RequestKind
    org_id: str
    requested_by: int
    requested_by_login: str
    login: str
    email: str
    grant: frozenset[Role]
    revoke: frozenset[Role]
    created_at: dt.datetime
    expires_at: dt.datetime
    status: RequestStatus = RequestStatus.PENDING
    target_agent_id: int | None = None
    decided_by: int | None = None
    decided_by_login: str = ""
    decided_at: dt.datetime | None = None
    reason: str = ""
    created_agent_id: int | None = None

    def is_expired(self, now: dt.datetime) -> bool:
        """True once a pending request has outlived its validity."""
        return self.status is RequestStatus.PENDING and now >= self.expires_at

    @property
    def privileged(self) -> bool:
        """True when the request grants a privileged or a national role."""
        return bool(self.grant & (NEVER_GRANTABLE | {Role.ACCOUNT_MANAGER}))

    @property
    def national(self) -> bool:
        """True when the request grants or removes a national role (admin, security, DPO)."""
        return bool((self.grant | self.revoke) & NEVER_GRANTABLE)


@dataclass(frozen=True, slots=True)
class EnrolmentToken:
    """A one-time enrolment link, stored as the hash of the token the person received."""

    id: int
    agent_id: int
    token_hash: str
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    failed_attempts: int = 0
    pending_totp_secret: str = ""

    def usable(self, now: dt.datetime, max_attempts: int) -> bool:
        """True while the link is unused, unrevoked, unexpired and not brute-forced."""
        return (
            self.used_at is None
            and self.revoked_at is None
            and now < self.expires_at
            and self.failed_attempts < max_attempts
        )


@dataclass(frozen=True, slots=True)
class OrgSuspension:
    org_id: str
    suspended_at: dt.datetime
    suspended_by: str
    reason: str
    lifted_at: dt.datetime | None = None
    lifted_by: str = ""


@dataclass(frozen=True, slots=True)
class ReviewCampaign:
    id: int
    org_id: str
    opened_by: str
    opened_at: dt.datetime
    deadline: dt.datetime
    default_decision: ReviewDecision = ReviewDecision.REMOVE
    closed_at: dt.datetime | None = None
    last_reminder_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        """True until the deadline job (or a reviewer finishing early) closes it."""
        return self.closed_at is None


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One account (``role`` = ``ACCOUNT_ITEM``) or one of its roles, to keep or remove."""

    id: int
    campaign_id: int
    agent_id: int
    login: str
    role: str
    decision: ReviewDecision | None = None
    decided_by: str = ""
    decided_at: dt.datetime | None = None
    by_default: bool = False


@dataclass(frozen=True, slots=True)
class Throttle:
    """A refused request: which limit, and how long until it frees up."""

    limit: str  # "burst" or "weekly_cap"
    retry_after: int
    observed: int
    threshold: int


def is_agency_admin(agent: Agent) -> bool:
    """An administrator of the agency itself (the national side), not of a partner."""
    return agent.org_kind is OrgKind.AGENCY and agent.has(Role.ADMIN)


def may_manage(agent: Agent, org_id: str) -> bool:
    """True for an account manager of ``org_id`` or an agency administrator."""
    return is_agency_admin(agent) or (agent.has(Role.ACCOUNT_MANAGER) and agent.org_id == org_id)


def grantable_roles(requester: Agent, org_kind: OrgKind) -> frozenset[Role]:
    """The roles ``requester`` may ask for in an organisation of this kind."""
    if not (requester.has(Role.ACCOUNT_MANAGER) or is_agency_admin(requester)):
        return frozenset()
    national = NATIONAL_ROLES_BY_ORG_KIND.get(org_kind, frozenset())
    return (ROLES_BY_ORG_KIND[org_kind] - NEVER_GRANTABLE) | (
        national if is_agency_admin(requester) else frozenset()
    )


def _first(checks: Iterable[tuple[bool, Refusal]]) -> Refusal | None:
    """The refusal of the first failed check, in the order the rules are written."""
    return next((refusal for failed, refusal in checks if failed), None)


def request_refusal(
    requester: Agent,
    org_id: str,
    org_kind: OrgKind,
    grant: Iterable[Role],
    revoke: Iterable[Role] = (),
    target: Agent | None = None,
) -> Refusal | None:
    """Why ``requester`` may not ask for this change in organisation ``org_id``, or None."""
    grant, revoke = frozenset(grant), frozenset(revoke)
    changes = (
        bool(grant - target.roles or revoke & target.roles) if target is not None else bool(grant)
    )
    return _first(
        [
            (
                not (requester.has(Role.ACCOUNT_MANAGER) or is_agency_admin(requester)),
                Refusal.NOT_ACCOUNT_MANAGER,
            ),
            (not may_manage(requester, org_id), Refusal.OTHER_ORGANISATION),
            (target is not None and target.id == requester.id, Refusal.SELF_TARGET),
            (
                # Accounts holding national roles are managed by agency administrators only.
                target is not None
                and bool(target.roles & NEVER_GRANTABLE)
                and not is_agency_admin(requester),
                Refusal.NEVER_GRANTABLE_ROLE,
            ),
            (
                bool((grant | revoke) & NEVER_GRANTABLE)
                and not (is_agency_admin(requester) and org_kind is OrgKind.AGENCY),
                Refusal.NEVER_GRANTABLE_ROLE,
            ),
            (
                bool(
                    (grant | revoke)
                    - ROLES_BY_ORG_KIND[org_kind]
                    - NATIONAL_ROLES_BY_ORG_KIND.get(org_kind, frozenset())
                ),
                Refusal.ROLE_NOT_USED_HERE,
            ),
            (not changes, Refusal.NOTHING_TO_CHANGE),
        ]
    )


def linked_accounts(
    start: int, neighbours: Callable[[int], Iterable[int]], limit: int = 500
) -> frozenset[int]:
    """Every account reachable from ``start`` through provenance links, ``start`` excluded;
    ``neighbours`` gives one account's links (the services pass who created whom, within the
    probation window beyond the direct links).

    Dec 2025, and the penetration test of 2026: after one approval, a rogue manager's
    creatures create and approve for one another and for their creator, so that one person
    creates accounts alone. Followed transitively, the chain is cut wherever it runs.
    """
    seen = {start}
    frontier = [start]
    while frontier and len(seen) < limit:
        for other in neighbours(frontier.pop()):
            if other not in seen:
                seen.add(other)
                frontier.append(other)
    return frozenset(seen - {start})


def approval_refusal(
    request: AccountRequest,
    approver: Agent,
    approver_standing: AccountStanding,
    now: dt.datetime,
    rules: GovernanceRules,
    requester_standing: AccountStanding | None = None,
    linked: frozenset[int] = frozenset(),
) -> Refusal | None:
    """Why ``approver`` may not approve ``request``, or None when the approval stands.

    Provenance counts both ways: an account the requester brought in never approves for
    them, and neither does the account that brought the requester in (without
    ``requester_standing`` that second check cannot be made); nor any account in ``linked``
    (``linked_accounts`` of the requester: the same links, followed transitively).
    """
    too_new = approver_standing.too_new_to_approve(approver, now, rules)
    requester = requester_standing or AccountStanding(agent_id=request.requested_by)
    return _first(
        [
            (approver.id == request.requested_by, Refusal.SELF_APPROVAL),
            (request.target_agent_id == approver.id, Refusal.SELF_TARGET),
            (not may_manage(approver, request.org_id), Refusal.APPROVER_NOT_AUTHORISED),
            (request.privileged and not is_agency_admin(approver), Refusal.NEEDS_AGENCY_ADMIN),
            (request.national and not is_agency_admin(approver), Refusal.NEEDS_AGENCY_ADMIN),
            (
                approver_standing.created_by == request.requested_by,
                Refusal.APPROVER_CREATED_BY_REQUESTER,
            ),
            (
                approver_standing.approved_by == request.requested_by,
                Refusal.APPROVER_APPROVED_BY_REQUESTER,
            ),
            (requester.created_by == approver.id, Refusal.REQUESTER_CREATED_BY_APPROVER),
            (requester.approved_by == approver.id, Refusal.REQUESTER_APPROVED_BY_APPROVER),
            (approver.id in linked, Refusal.APPROVER_LINKED_TO_REQUESTER),
            (too_new is Refusal.APPROVER_TOO_YOUNG, Refusal.APPROVER_TOO_YOUNG),
            (too_new is Refusal.APPROVER_ON_PROBATION, Refusal.APPROVER_ON_PROBATION),
        ]
    )


def first_key_refusal(
    approver: Agent,
    target: Agent,
    approver_standing: AccountStanding,
    target_standing: AccountStanding,
) -> Refusal | None:
    """Why ``approver`` may not let ``target`` (privileged) register its first passkey, or None.

    A second person vouches that the one registering it is the account's holder: a security
    officer, an agency administrator, or another account manager of the organisation for an
    account holding no national role; never the account itself nor one linked to it.
    """
    authorised = (
        approver.has(Role.SECURITY_OFFICER)
        or is_agency_admin(approver)
        or (may_manage(approver, target.org_id) and not target.roles & NEVER_GRANTABLE)
    )
    return _first(
        [
            (approver.id == target.id, Refusal.SELF_APPROVAL),
            (not authorised, Refusal.APPROVER_NOT_AUTHORISED),
            (approver_standing.created_by == target.id, Refusal.APPROVER_CREATED_BY_REQUESTER),
            (approver_standing.approved_by == target.id, Refusal.APPROVER_APPROVED_BY_REQUESTER),
            (target_standing.created_by == approver.id, Refusal.REQUESTER_CREATED_BY_APPROVER),
            (target_standing.approved_by == approver.id, Refusal.REQUESTER_APPROVED_BY_APPROVER),
        ]
    )


@dataclass(frozen=True, slots=True)
class PrivilegeItem:
    """One privileged row of an import: these roles for this account, once approved."""

    agent_id: int
    login: str
    org_id: str
    roles: frozenset[Role]
    applied: bool = False


@dataclass(frozen=True, slots=True)
class PrivilegeBatch:
    """The privileged rows of one import, as one four-eyes request of a national administrator.

    ``requested_by_id`` is the national administrator who ran the import when known (then
    they cannot approve it); ``requested_by`` names whoever ran it."""

    id: str
    import_batch: int
    requested_by: str
    requested_by_id: int | None
    created_at: dt.datetime
    expires_at: dt.datetime
    status: RequestStatus = RequestStatus.PENDING
    decided_by: int | None = None
    decided_by_login: str = ""
    decided_at: dt.datetime | None = None

    def is_expired(self, now: dt.datetime) -> bool:
        """True once a pending batch has outlived its validity."""
        return self.status is RequestStatus.PENDING and now >= self.expires_at


def batch_approval_refusal(
    batch: PrivilegeBatch,
    items: Sequence[PrivilegeItem],
    approver: Agent,
    approver_standing: AccountStanding,
    now: dt.datetime,
    rules: GovernanceRules,
) -> Refusal | None:
    """Why ``approver`` may not approve the privileged rows of an import, or None.

    Only a national administrator approves, never the one who ran the import, never for their
    own account, and not while too young or on probation (the same rules as any request)."""
    too_new = approver_standing.too_new_to_approve(approver, now, rules)
    return _first(
        [
            (not is_agency_admin(approver), Refusal.NEEDS_AGENCY_ADMIN),
            (batch.requested_by_id == approver.id, Refusal.SELF_APPROVAL),
            (any(i.agent_id == approver.id for i in items), Refusal.SELF_TARGET),
            (too_new is Refusal.APPROVER_TOO_YOUNG, Refusal.APPROVER_TOO_YOUNG),
            (too_new is Refusal.APPROVER_ON_PROBATION, Refusal.APPROVER_ON_PROBATION),
        ]
    )


def may_see_request(agent: Agent, request: AccountRequest) -> bool:
    """Requesters, the organisation's managers, agency admins and the security team see it."""
    return (
        agent.id == request.requested_by
        or may_manage(agent, request.org_id)
        or agent.has(Role.SECURITY_OFFICER)
    )


def request_throttle(
    recent: Sequence[dt.datetime], now: dt.datetime, rules: GovernanceRules
) -> Throttle | None:
    """Whether one more request by a manager who made ``recent`` ones is over a limit."""
    week = dt.timedelta(days=7)
    in_week = sorted(t for t in recent if now - week < t <= now)
    in_burst = [t for t in in_week if now - rules.burst_window < t]
    if len(in_burst) >= rules.burst_limit:
        # Free again once the oldest request of the window leaves it.
        oldest = in_burst[-rules.burst_limit]
        wait = (oldest + rules.burst_window - now).total_seconds()
        return Throttle("burst", max(1, math.ceil(wait)), len(in_burst), rules.burst_limit)
    if len(in_week) >= rules.weekly_cap:
        oldest = in_week[-rules.weekly_cap]
        wait = (oldest + week - now).total_seconds()
        return Throttle("weekly_cap", max(1, math.ceil(wait)), len(in_week), rules.weekly_cap)
    return None


def review_refusal(reviewer: Agent, org_id: str, item_agent: Agent | None = None) -> Refusal | None:
    """Why ``reviewer`` may not review accounts of ``org_id`` (or this item's account), or None.

    The national roles (admin, security officer, DPO) are reviewed by agency administrators only.
    """
    return _first(
        [
            (not may_manage(reviewer, org_id), Refusal.APPROVER_NOT_AUTHORISED),
            (item_agent is not None and item_agent.id == reviewer.id, Refusal.SELF_TARGET),
            (
                item_agent is not None
                and bool(item_agent.roles & NEVER_GRANTABLE)
                and not is_agency_admin(reviewer),
                Refusal.NEVER_GRANTABLE_ROLE,
            ),
        ]
    )


class LifecycleAction(StrEnum):
    DISABLE = "disable"
    ERASE_FACTORS = "erase_factors"


def last_activity(agent: Agent, standing: AccountStanding) -> dt.datetime | None:
    """When the account was last used, or created if never used."""
    return standing.last_used_at or agent.created_at


def inactivity_actions(
    agent: Agent, standing: AccountStanding, now: dt.datetime, rules: GovernanceRules
) -> frozenset[LifecycleAction]:
    """What the inactivity rules do to this account now (disable at 90 days, erase at 180)."""
    since = last_activity(agent, standing)
    if since is None:
        return frozenset()
    idle = now - since
    actions: set[LifecycleAction] = set()
    if idle >= rules.inactivity_disable and agent.active:
        actions.add(LifecycleAction.DISABLE)
    if idle >= rules.inactivity_erase:
        actions.add(LifecycleAction.ERASE_FACTORS)
    return frozenset(actions)


def leaves_today(agent: Agent, today: dt.date) -> bool:
    """A leaver's end date disables the account on that very day."""
    return agent.active and agent.end_date is not None and agent.end_date <= today


def training_attestation_problem(
    valid_until: dt.date, today: dt.date, rules: GovernanceRules
) -> str | None:
    """Why a training attestation date is not acceptable, or None."""
    if valid_until <= today:
        return "a renewed attestation is valid after today"
    if valid_until > today + rules.training_max_validity:
        return "an attestation is valid for at most one year"
    return None


def login_problem(login: str) -> str | None:
    """Why ``login`` is not an acceptable new login, or None."""
    if not LOGIN_RE.match(login):
        return "a login is 3 to 64 lower-case letters, digits, dots, dashes or underscores"
    return None


def email_problem(email: str) -> str | None:
    """Why ``email`` cannot receive an enrolment link, or None."""
    if len(email) > 254 or not EMAIL_RE.match(email):
        return "an e-mail address is needed to send the enrolment link"
    return None
