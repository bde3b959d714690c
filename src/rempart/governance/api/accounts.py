"""Accounts (account managers): four-eyes requests, and what managers do to accounts.

``POST /api/v1/accounts`` and ``POST /api/v1/accounts/requests/{id}/approve`` follow
shared/API.md exactly; the rest (list, deny, cancel, role changes, training attestations,
end dates, unlock, factor reset, enrolment links, federated identities) surrounds them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rempart.governance.model import DisabledReason, RequestKind, RequestStatus
from rempart.governance.service import accounts, enrolment
from rempart.governance.web import Gov
from rempart.kernel.actors import Role
from rempart.web.deps import Ctx, client_info
from rempart.web.openapi import problems
from rempart.web.routing import SettledRoute

router = APIRouter(prefix="/api/v1", tags=["accounts"], route_class=SettledRoute)

Login = Annotated[str, Field(min_length=1, max_length=64)]
RoleName = Annotated[str, Field(min_length=1, max_length=32)]
RequestId = Annotated[str, Field(min_length=1, max_length=32)]


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: Login
    email: str = Field(min_length=3, max_length=254)
    roles: list[RoleName] = Field(min_length=1, max_length=6)
    org_id: str | None = Field(default=None, max_length=32, description="agency admins only")


class RequestAccepted(BaseModel):
    request_id: str
    status: Literal["pending_approval"]
    expires_at: AwareDatetime


class RequestOut(BaseModel):
    request_id: str
    kind: RequestKind
    status: RequestStatus
    org_id: str
    login: str
    email: str
    grant: list[Role]
    revoke: list[Role]
    requested_by: str
    created_at: AwareDatetime
    expires_at: AwareDatetime
    decided_by: str | None
    decided_at: AwareDatetime | None
    reason: str
    may_approve: bool | None = Field(
        default=None, description="In a listing: whether the caller may approve it now"
    )


class RequestsOut(BaseModel):
    items: list[RequestOut]


class Approved(BaseModel):
    status: Literal["approved"]
    request_id: str
    login: str
    enrolment_link_sent: bool | None = Field(default=None, description="A new account only")
    roles: list[Role] | None = Field(default=None, description="A role change only: roles now")


class Decided(BaseModel):
    status: Literal["denied", "cancelled"]
    request_id: str


class AccountOut(BaseModel):
    login: str
    email: str
    org_id: str
    roles: list[Role]
    active: bool
    disabled_reason: DisabledReason | None
    enrolment_pending: bool
    probation_until: AwareDatetime | None
    training_valid_until: dt.date | None
    end_date: dt.date | None
    last_used_at: AwareDatetime | None
    created_at: AwareDatetime | None


class AccountsOut(BaseModel):
    items: list[AccountOut]


class TrainingRecorded(BaseModel):
    login: str
    training_valid_until: dt.date


class EndDateSet(BaseModel):
    login: str
    end_date: dt.date


class AccountUnlocked(BaseModel):
    login: str
    locked: bool


class LinkSent(BaseModel):
    login: str
    enrolment_link_sent: bool = Field(description="False when the mail could not be sent")


class FactorsReset(LinkSent):
    sessions_ended: int


class IdentityLinked(BaseModel):
    login: str
    issuer: str
    subject: str


class EnrolmentBegun(BaseModel):
    login: str
    organisation: str
    totp_secret: str = Field(description="Base32, to add to an authenticator app")
    otpauth_uri: str
    expires_at: AwareDatetime


class Enrolled(BaseModel):
    status: Literal["enrolled"]
    login: str
    probation_until: AwareDatetime | None
    next: Literal["register_security_key", "sign_in"]


class DenyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)


class RolesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grant: list[RoleName] = Field(default_factory=list, max_length=6)
    revoke: list[RoleName] = Field(default_factory=list, max_length=6)


class TrainingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    valid_until: dt.date


class EndDateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    end_date: dt.date


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    issuer: str = Field(min_length=1, max_length=255)
    subject: str = Field(min_length=1, max_length=255)


class EnrolBeginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=128)


class EnrolCompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=256)
    code: str = Field(min_length=1, max_length=16)


@router.post(
    "/accounts",
    status_code=202,
    response_model=RequestAccepted,
    responses=problems(400, 401, 403, 404, 409, 429),
)
def request_account(ctx: Ctx, gov: Gov, body: AccountIn) -> Any:
    """Request a new account in the caller's organisation; usable only after another
    authorised person approves it and its holder enrols a second factor."""
    return accounts.request_account(gov, ctx, body.login, body.email, body.roles, body.org_id)


@router.get("/accounts", response_model=AccountsOut, responses=problems(400, 401, 403))
def list_accounts(
    ctx: Ctx, gov: Gov, org_id: Annotated[str | None, Query(max_length=32)] = None
) -> Any:
    """The accounts of the caller's organisation (an agency administrator names one)."""
    return {"items": accounts.list_accounts(gov, ctx, org_id)}


@router.get("/accounts/requests", response_model=RequestsOut, responses=problems(400, 401, 403))
def list_requests(
    ctx: Ctx,
    gov: Gov,
    status: Annotated[
        Literal["pending_approval", "approved", "denied", "cancelled", "expired", "all"],
        Query(),
    ] = "pending_approval",
) -> Any:
    """Requests the caller may see (pending ones by default), with ``may_approve``."""
    return {"items": accounts.list_requests(gov, ctx, None if status == "all" else status)}


@router.get(
    "/accounts/requests/{request_id}",
    response_model=RequestOut,
    responses=problems(401, 403, 404),
)
def get_request(ctx: Ctx, gov: Gov, request_id: str) -> Any:
    """One request."""
    return accounts.get_request(gov, ctx, request_id)


@router.post(
    "/accounts/requests/{request_id}/approve",
    response_model=Approved,
    response_model_exclude_none=True,
    responses=problems(401, 403, 404, 409),
)
def approve(ctx: Ctx, gov: Gov, request_id: str) -> Any:
    """Approve a request (never one's own: 403 forbidden); it takes effect now."""
    return accounts.approve(gov, ctx, request_id)


@router.post(
    "/accounts/requests/{request_id}/deny",
    response_model=Decided,
    responses=problems(400, 401, 403, 404, 409),
)
def deny(ctx: Ctx, gov: Gov, request_id: str, body: DenyIn | None = None) -> Any:
    """Turn a request down."""
    return accounts.deny(gov, ctx, request_id, body.reason if body else "")


@router.post(
    "/accounts/requests/{request_id}/cancel",
    response_model=Decided,
    responses=problems(401, 403, 404, 409),
)
def cancel(ctx: Ctx, gov: Gov, request_id: str) -> Any:
    """Withdraw one's own pending request."""
    return accounts.cancel(gov, ctx, request_id)


@router.post(
    "/accounts/{login}/roles",
    status_code=202,
    response_model=RequestAccepted,
    responses=problems(400, 401, 403, 404, 409, 429),
)
def request_roles(ctx: Ctx, gov: Gov, login: str, body: RolesIn) -> Any:
    """Request roles granted to, or removed from, an account (pending approval)."""
    return accounts.request_role_change(gov, ctx, login, body.grant, body.revoke)


@router.post(
    "/accounts/{login}/training",
    response_model=TrainingRecorded,
    responses=problems(400, 401, 403, 404, 409),
)
def record_training(ctx: Ctx, gov: Gov, login: str, body: TrainingIn) -> Any:
    """Record a renewed security-training attestation: data access resumes."""
    return accounts.record_training(gov, ctx, login, body.valid_until)


@router.post(
    "/accounts/{login}/end-date",
    response_model=EndDateSet,
    responses=problems(400, 401, 403, 404, 409),
)
def set_end_date(ctx: Ctx, gov: Gov, login: str, body: EndDateIn) -> Any:
    """Declare a leaver: the account is disabled on its end date."""
    return accounts.set_end_date(gov, ctx, login, body.end_date)


@router.post(
    "/accounts/{login}/unlock",
    response_model=AccountUnlocked,
    responses=problems(401, 403, 404, 409),
)
def unlock(ctx: Ctx, gov: Gov, login: str) -> Any:
    """Unlock an account locked after failed sign-ins."""
    return accounts.unlock(gov, ctx, login)


@router.post(
    "/accounts/{login}/reset-factors",
    response_model=FactorsReset,
    responses=problems(401, 403, 404, 409),
)
def reset_factors(ctx: Ctx, gov: Gov, login: str) -> Any:
    """Erase an account's factors and mail it a new enrolment link."""
    return accounts.reset_factors(gov, ctx, login)


class FirstKeyApproved(BaseModel):
    login: str
    approved_until: AwareDatetime


@router.post(
    "/accounts/{login}/first-passkey/approve",
    response_model=FirstKeyApproved,
    responses=problems(400, 401, 403, 404, 409),
)
def approve_first_key(ctx: Ctx, gov: Gov, login: str) -> Any:
    """Let a privileged account register its first passkey (a second person's approval)."""
    return accounts.approve_first_key(gov, ctx, login)


@router.post(
    "/accounts/{login}/enrolment-link",
    response_model=LinkSent,
    responses=problems(401, 403, 404, 409),
)
def resend_enrolment_link(ctx: Ctx, gov: Gov, login: str) -> Any:
    """Send a new enrolment link to an account that has not enrolled yet."""
    return accounts.resend_enrolment_link(gov, ctx, login)


@router.post(
    "/accounts/{login}/identities",
    status_code=201,
    response_model=IdentityLinked,
    responses=problems(400, 401, 403, 404, 409),
)
def link_identity(ctx: Ctx, gov: Gov, login: str, body: IdentityIn) -> Any:
    """Link a federated identity to an account that went through the four-eyes flow."""
    return accounts.link_federated_identity(gov, ctx, login, body.issuer, body.subject)


@router.post(
    "/enrolment/begin",
    tags=["enrolment"],
    response_model=EnrolmentBegun,
    responses=problems(400, 401),
)
def enrolment_begin(gov: Gov, body: EnrolBeginIn) -> Any:
    """Open a one-time enrolment link: the account it is for, and a TOTP secret to add."""
    return enrolment.begin(gov, body.token)


@router.post(
    "/enrolment/complete",
    tags=["enrolment"],
    response_model=Enrolled,
    responses=problems(400, 401, 403),
)
def enrolment_complete(gov: Gov, request: Request, body: EnrolCompleteIn) -> Any:
    """Set a password and prove the TOTP code: the account is enrolled (on probation)."""
    return enrolment.complete(gov, body.token, body.password, body.code, client_info(request))
