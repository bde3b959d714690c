"""Administrators and the security team: privileged-account inventory, kill switches, jobs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from rempart.governance.api.accounts import Gov
from rempart.governance.service import accounts, lifecycle, suspensions
from rempart.kernel.actors import Role
from rempart.kernel.errors import Forbidden
from rempart.web.deps import Ctx

router = APIRouter(prefix="/api/v1/admin", tags=["administration"])


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)


@router.get("/privileged-accounts")
def privileged_accounts(ctx: Ctx, gov: Gov) -> dict[str, Any]:
    """Privileged accounts: roles, last use, factor types, who created and approved them,
    open requests (security officers and administrators)."""
    return {"items": accounts.privileged_inventory(gov, ctx)}


@router.post("/accounts/{login}/suspend")
def suspend_account(ctx: Ctx, gov: Gov, login: str, body: ReasonIn | None = None) -> dict[str, Any]:
    """Kill switch: suspend one account now (sessions revoked)."""
    return suspensions.suspend_account(gov, ctx, login, body.reason if body else "")


@router.post("/accounts/{login}/lift")
def lift_account(ctx: Ctx, gov: Gov, login: str) -> dict[str, Any]:
    """Lift an account's suspension (needs a fresh second factor)."""
    return suspensions.lift_account(gov, ctx, login)


@router.post("/orgs/{org_id}/suspend")
def suspend_org(ctx: Ctx, gov: Gov, org_id: str, body: ReasonIn | None = None) -> dict[str, Any]:
    """Kill switch: suspend one organisation now (all its sessions revoked)."""
    return suspensions.suspend_org(gov, ctx, org_id, body.reason if body else "")


@router.post("/orgs/{org_id}/lift")
def lift_org(ctx: Ctx, gov: Gov, org_id: str) -> dict[str, Any]:
    """Lift an organisation's suspension (needs a fresh second factor)."""
    return suspensions.lift_org(gov, ctx, org_id)


@router.post("/jobs/run")
def run_jobs(ctx: Ctx, gov: Gov) -> dict[str, Any]:
    """Run the lifecycle jobs now (what the scheduler does periodically)."""
    if not ctx.agent.has(Role.ADMIN):
        raise Forbidden("only an administrator runs the jobs")
    return lifecycle.run_jobs(gov, ctx.now).as_dict()
