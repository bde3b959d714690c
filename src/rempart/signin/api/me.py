"""Who am I."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from rempart.kernel.actors import OrgKind, Role
from rempart.web.deps import Ctx
from rempart.web.openapi import problems
from rempart.web.routing import SettledRoute

router = APIRouter(prefix="/api/v1", tags=["account"], route_class=SettledRoute)


class OrgOut(BaseModel):
    id: str
    kind: OrgKind
    name: str


class MeOut(BaseModel):
    login: str
    org: OrgOut
    roles: list[Role]


@router.get("/me", response_model=MeOut, responses=problems(401, 403))
def me(ctx: Ctx) -> Any:
    """The signed-in agent, their organisation and roles."""
    return {
        "login": ctx.agent.login,
        "org": {"id": ctx.org.id, "kind": str(ctx.org.kind), "name": ctx.org.name},
        "roles": sorted(str(r) for r in ctx.agent.roles),
    }
