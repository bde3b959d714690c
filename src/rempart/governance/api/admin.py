"""Administrators and the security team: privileged-account inventory, kill switches, jobs."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rempart.governance.api.accounts import AccountOut
from rempart.governance.service import accounts, lifecycle, suspensions
from rempart.governance.web import Gov
from rempart.kernel.actors import OrgKind, Role
from rempart.kernel.errors import Forbidden
from rempart.web.deps import Ctx
from rempart.web.openapi import problems
from rempart.web.routing import SettledRoute

router = APIRouter(prefix="/api/v1/admin", tags=["administration"], route_class=SettledRoute)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)


class OpenRequests(BaseModel):
    made: list[str] = Field(description="Pending requests this account made")
    about: list[str] = Field(description="Pending requests about this account")


class PrivilegedAccount(AccountOut):
    org_kind: OrgKind
    privileged_roles: list[Role]
    factors: list[Literal["password", "totp", "webauthn", "recovery_code", "federated"]]
    security_keys: int
    created_by: str | None
    approved_by: str | None
    four_eyes: bool = Field(description="Created or last changed through a four-eyes approval")
    open_requests: OpenRequests


class PrivilegedAccounts(BaseModel):
    items: list[PrivilegedAccount]


class AccountSuspended(BaseModel):
    login: str
    suspended: Literal[True]
    sessions_ended: int
    requests_cancelled: int


class AccountLifted(BaseModel):
    login: str
    suspended: Literal[False]


class OrgSuspended(BaseModel):
    org_id: str
    suspended: Literal[True]
    sessions_ended: int


class OrgLifted(BaseModel):
    org_id: str
    suspended: Literal[False]


class JobReport(BaseModel):
    at: AwareDatetime
    requests_expired: int
    disabled_inactive: list[str]
    factors_erased: list[str]
    leavers_disabled: list[str]
    campaigns_opened: int
    reminders_sent: int
    campaigns_closed: int


@router.get("/privileged-accounts", response_model=PrivilegedAccounts, responses=problems(401, 403))
def privileged_accounts(ctx: Ctx, gov: Gov) -> Any:
    """Privileged accounts: roles, last use, factor types, who created and approved them,
    open requests (security officers and administrators)."""
    return {"items": accounts.privileged_inventory(gov, ctx)}


@router.post(
    "/accounts/{login}/suspend",
    response_model=AccountSuspended,
    responses=problems(400, 401, 403, 404),
)
def suspend_account(ctx: Ctx, gov: Gov, login: str, body: ReasonIn | None = None) -> Any:
    """Kill switch: suspend one account now (sessions revoked)."""
    return suspensions.suspend_account(gov, ctx, login, body.reason if body else "")


@router.post(
    "/accounts/{login}/lift", response_model=AccountLifted, responses=problems(401, 403, 404, 409)
)
def lift_account(ctx: Ctx, gov: Gov, login: str) -> Any:
    """Lift an account's suspension (needs a fresh second factor)."""
    return suspensions.lift_account(gov, ctx, login)


@router.post(
    "/orgs/{org_id}/suspend",
    response_model=OrgSuspended,
    responses=problems(400, 401, 403, 404, 409),
)
def suspend_org(ctx: Ctx, gov: Gov, org_id: str, body: ReasonIn | None = None) -> Any:
    """Kill switch: suspend one organisation now (all its sessions revoked)."""
    return suspensions.suspend_org(gov, ctx, org_id, body.reason if body else "")


@router.post(
    "/orgs/{org_id}/lift", response_model=OrgLifted, responses=problems(401, 403, 404, 409)
)
def lift_org(ctx: Ctx, gov: Gov, org_id: str) -> Any:
    """Lift an organisation's suspension (needs a fresh second factor)."""
    return suspensions.lift_org(gov, ctx, org_id)


@router.post("/jobs/run", response_model=JobReport, responses=problems(401, 403))
def run_jobs(ctx: Ctx, gov: Gov) -> Any:
    """Run the lifecycle jobs now (what the scheduler does periodically)."""
    if not ctx.agent.has(Role.ADMIN):
        raise Forbidden("only an administrator runs the jobs")
    return lifecycle.run_jobs(gov, ctx.now).as_dict()
