"""What governance decides about sign-in, under sign-in's and the account's URLs: unlocking an
account, linking a federated identity, and the apps' kill switches."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from rempart.governance.api.accounts import IdentityIn, IdentityLinked
from rempart.governance.service import accounts, suspensions
from rempart.governance.web import Gov
from rempart.kernel.actors import App
from rempart.web.deps import Ctx
from rempart.web.openapi import problems
from rempart.web.routing import SettledRoute

admin_router = APIRouter(
    prefix="/api/v1/admin", tags=["sign-in administration"], route_class=SettledRoute
)
apps_router = APIRouter(prefix="/api/v1", tags=["account"], route_class=SettledRoute)

Login = Annotated[str, Path(min_length=1, max_length=64)]


class Unlocked(BaseModel):
    locked: bool


class AppSwitched(BaseModel):
    app: App
    org_id: str | None = Field(description="null: every organisation")
    enabled: bool
    sessions_ended: int


class AppSwitchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_id: str | None = Field(default=None, max_length=32)


@admin_router.post(
    "/accounts/{login}/unlock", response_model=Unlocked, responses=problems(400, 401, 403, 404)
)
def unlock_account(gov: Gov, ctx: Ctx, login: Login) -> Any:
    """Lift a lock (account manager of the organisation, or administrator; step-up needed).

    The same governed path as ``POST /api/v1/accounts/{login}/unlock``: journaled and alerted.
    """
    accounts.unlock(gov, ctx, login)
    return {"locked": False}


@admin_router.post(
    "/accounts/{login}/identities",
    status_code=201,
    response_model=IdentityLinked,
    responses=problems(400, 401, 403, 404, 409),
)
def link_identity(gov: Gov, ctx: Ctx, login: Login, body: IdentityIn) -> Any:
    """Link a federated identity (issuer, sub) to an account that went through four eyes
    (administrators; December 2025: rogue accounts came in through the federation)."""
    accounts.link_federated_identity(gov, ctx, login, body.issuer, body.subject)
    return {"login": login, "issuer": body.issuer, "subject": body.subject}


@apps_router.post(
    "/admin/apps/{app}/suspend",
    response_model=AppSwitched,
    responses=problems(400, 401, 403, 404),
)
def suspend_app(ctx: Ctx, gov: Gov, app: App, body: AppSwitchIn) -> Any:
    """Kill switch: suspend one app for everyone, or for one organisation (sessions revoked)."""
    return suspensions.switch_app(gov, ctx, app, body.org_id, enabled=False)


@apps_router.post(
    "/admin/apps/{app}/resume",
    response_model=AppSwitched,
    responses=problems(400, 401, 403, 404),
)
def resume_app(ctx: Ctx, gov: Gov, app: App, body: AppSwitchIn) -> Any:
    """Lift an app's suspension."""
    return suspensions.switch_app(gov, ctx, app, body.org_id, enabled=True)
