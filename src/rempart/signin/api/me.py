"""Who am I, and the administrator's app switches."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from rempart.governance.api.accounts import Gov
from rempart.governance.service import suspensions
from rempart.kernel.actors import App
from rempart.web.deps import Ctx

router = APIRouter(prefix="/api/v1", tags=["account"])


class OrgOut(BaseModel):
    id: str
    kind: str
    name: str


class MeOut(BaseModel):
    login: str
    org: OrgOut
    roles: list[str]


class AppSwitchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_id: str | None = Field(default=None, max_length=32)


@router.get("/me", response_model=MeOut)
def me(ctx: Ctx) -> Any:
    """The signed-in agent, their organisation and roles."""
    return {
        "login": ctx.agent.login,
        "org": {"id": ctx.org.id, "kind": str(ctx.org.kind), "name": ctx.org.name},
        "roles": sorted(str(r) for r in ctx.agent.roles),
    }


@router.post("/admin/apps/{app}/suspend")
def suspend_app(ctx: Ctx, gov: Gov, app: App, body: AppSwitchIn) -> dict[str, Any]:
    """Kill switch: suspend one app for everyone, or for one organisation (sessions revoked)."""
    return suspensions.switch_app(gov, ctx, app, body.org_id, enabled=False)


@router.post("/admin/apps/{app}/resume")
def resume_app(ctx: Ctx, gov: Gov, app: App, body: AppSwitchIn) -> dict[str, Any]:
    """Lift an app's suspension."""
    return suspensions.switch_app(gov, ctx, app, body.org_id, enabled=True)
