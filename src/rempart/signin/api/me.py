"""Who am I, and the administrator's app switches."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from rempart.governance.api.accounts import Gov
from rempart.governance.service import suspensions
from rempart.kernel.actors import App, OrgKind, Role
from rempart.web.deps import Ctx
from rempart.web.openapi import problems

router = APIRouter(prefix="/api/v1", tags=["account"])


class OrgOut(BaseModel):
    id: str
    kind: OrgKind
    name: str


class MeOut(BaseModel):
    login: str
    org: OrgOut
    roles: list[Role]


class AppSwitched(BaseModel):
    app: App
    org_id: str | None = Field(description="null: every organisation")
    enabled: bool
    sessions_ended: int


class AppSwitchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_id: str | None = Field(default=None, max_length=32)


@router.get("/me", response_model=MeOut, responses=problems(401, 403))
def me(ctx: Ctx) -> Any:
    """The signed-in agent, their organisation and roles."""
    return {
        "login": ctx.agent.login,
        "org": {"id": ctx.org.id, "kind": str(ctx.org.kind), "name": ctx.org.name},
        "roles": sorted(str(r) for r in ctx.agent.roles),
    }


@router.post(
    "/admin/apps/{app}/suspend",
    response_model=AppSwitched,
    responses=problems(400, 401, 403, 404),
)
def suspend_app(ctx: Ctx, gov: Gov, app: App, body: AppSwitchIn) -> Any:
    """Kill switch: suspend one app for everyone, or for one organisation (sessions revoked)."""
    return suspensions.switch_app(gov, ctx, app, body.org_id, enabled=False)


@router.post(
    "/admin/apps/{app}/resume",
    response_model=AppSwitched,
    responses=problems(400, 401, 403, 404),
)
def resume_app(ctx: Ctx, gov: Gov, app: App, body: AppSwitchIn) -> Any:
    """Lift an app's suspension."""
    return suspensions.switch_app(gov, ctx, app, body.org_id, enabled=True)
