"""Accounts (account managers): four-eyes requests, and what managers do to accounts.

``POST /api/v1/accounts`` and ``POST /api/v1/accounts/requests/{id}/approve`` follow
shared/API.md exactly; the rest (list, deny, cancel, role changes, training attestations,
end dates, unlock, factor reset, enrolment links, federated identities) surrounds them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from rempart.governance.service import accounts, enrolment
from rempart.governance.service.deps import GovernanceDeps
from rempart.kernel.errors import Unauthenticated
from rempart.web.deps import Ctx, client_info, container

router = APIRouter(prefix="/api/v1", tags=["accounts"])

Login = Annotated[str, Field(min_length=1, max_length=64)]
RoleName = Annotated[str, Field(min_length=1, max_length=32)]
RequestId = Annotated[str, Field(min_length=1, max_length=32)]


def governance(request: Request) -> GovernanceDeps:
    """The governance use cases' dependencies (built by ``bootstrap``)."""
    gov = container(request).governance
    if gov is None:  # pragma: no cover - bootstrap always builds it
        raise Unauthenticated("governance is not configured")
    return gov


Gov = Annotated[GovernanceDeps, Depends(governance)]


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: Login
    email: str = Field(min_length=3, max_length=254)
    roles: list[RoleName] = Field(min_length=1, max_length=6)
    org_id: str | None = Field(default=None, max_length=32, description="agency admins only")


class RequestAccepted(BaseModel):
    request_id: str
    status: Literal["pending_approval"]
    expires_at: dt.datetime


class RequestOut(BaseModel):
    request_id: str
    kind: str
    status: str
    org_id: str
    login: str
    email: str
    grant: list[str]
    revoke: list[str]
    requested_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    reason: str
    may_approve: bool | None = None


class RequestsOut(BaseModel):
    items: list[RequestOut]


class Approved(BaseModel):
    status: Literal["approved"]
    request_id: str
    login: str
    enrolment_link_sent: bool | None = None
    roles: list[str] | None = None


class Decided(BaseModel):
    status: str
    request_id: str


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


@router.post("/accounts", status_code=202, response_model=RequestAccepted)
def request_account(ctx: Ctx, gov: Gov, body: AccountIn) -> Any:
    """Request a new account in the caller's organisation; usable only after another
    authorised person approves it and its holder enrols a second factor."""
    return accounts.request_account(gov, ctx, body.login, body.email, body.roles, body.org_id)


@router.get("/accounts")
def list_accounts(
    ctx: Ctx, gov: Gov, org_id: Annotated[str | None, Query(max_length=32)] = None
) -> dict[str, Any]:
    """The accounts of the caller's organisation (an agency administrator names one)."""
    return {"items": accounts.list_accounts(gov, ctx, org_id)}


@router.get("/accounts/requests", response_model=RequestsOut)
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


@router.get("/accounts/requests/{request_id}", response_model=RequestOut)
def get_request(ctx: Ctx, gov: Gov, request_id: str) -> Any:
    """One request."""
    return accounts.get_request(gov, ctx, request_id)


@router.post(
    "/accounts/requests/{request_id}/approve",
    response_model=Approved,
    response_model_exclude_none=True,
)
def approve(ctx: Ctx, gov: Gov, request_id: str) -> Any:
    """Approve a request (never one's own: 403 forbidden); it takes effect now."""
    return accounts.approve(gov, ctx, request_id)


@router.post("/accounts/requests/{request_id}/deny", response_model=Decided)
def deny(ctx: Ctx, gov: Gov, request_id: str, body: DenyIn | None = None) -> Any:
    """Turn a request down."""
    return accounts.deny(gov, ctx, request_id, body.reason if body else "")


@router.post("/accounts/requests/{request_id}/cancel", response_model=Decided)
def cancel(ctx: Ctx, gov: Gov, request_id: str) -> Any:
    """Withdraw one's own pending request."""
    return accounts.cancel(gov, ctx, request_id)


@router.post("/accounts/{login}/roles", status_code=202, response_model=RequestAccepted)
def request_roles(ctx: Ctx, gov: Gov, login: str, body: RolesIn) -> Any:
    """Request roles granted to, or removed from, an account (pending approval)."""
    return accounts.request_role_change(gov, ctx, login, body.grant, body.revoke)


@router.post("/accounts/{login}/training")
def record_training(ctx: Ctx, gov: Gov, login: str, body: TrainingIn) -> dict[str, Any]:
    """Record a renewed security-training attestation: data access resumes."""
    return accounts.record_training(gov, ctx, login, body.valid_until)


@router.post("/accounts/{login}/end-date")
def set_end_date(ctx: Ctx, gov: Gov, login: str, body: EndDateIn) -> dict[str, Any]:
    """Declare a leaver: the account is disabled on its end date."""
    return accounts.set_end_date(gov, ctx, login, body.end_date)


@router.post("/accounts/{login}/unlock")
def unlock(ctx: Ctx, gov: Gov, login: str) -> dict[str, Any]:
    """Unlock an account locked after failed sign-ins."""
    return accounts.unlock(gov, ctx, login)


@router.post("/accounts/{login}/reset-factors")
def reset_factors(ctx: Ctx, gov: Gov, login: str) -> dict[str, Any]:
    """Erase an account's factors and mail it a new enrolment link."""
    return accounts.reset_factors(gov, ctx, login)


@router.post("/accounts/{login}/enrolment-link")
def resend_enrolment_link(ctx: Ctx, gov: Gov, login: str) -> dict[str, Any]:
    """Send a new enrolment link to an account that has not enrolled yet."""
    return accounts.resend_enrolment_link(gov, ctx, login)


@router.post("/accounts/{login}/identities", status_code=201)
def link_identity(ctx: Ctx, gov: Gov, login: str, body: IdentityIn) -> dict[str, Any]:
    """Link a federated identity to an account that went through the four-eyes flow."""
    return accounts.link_federated_identity(gov, ctx, login, body.issuer, body.subject)


@router.post("/enrolment/begin", tags=["enrolment"])
def enrolment_begin(gov: Gov, body: EnrolBeginIn) -> dict[str, Any]:
    """Open a one-time enrolment link: the account it is for, and a TOTP secret to add."""
    return enrolment.begin(gov, body.token)


@router.post("/enrolment/complete", tags=["enrolment"])
def enrolment_complete(gov: Gov, request: Request, body: EnrolCompleteIn) -> dict[str, Any]:
    """Set a password and prove the TOTP code: the account is enrolled (on probation)."""
    return enrolment.complete(gov, body.token, body.password, body.code, client_info(request))
