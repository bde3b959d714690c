"""Advisers' portfolios (Missions Locales, Cap emploi, agency): hand over, close, take on.

``POST /api/v1/portfolio/hand-over`` (the structure's account manager), ``POST
/api/v1/portfolio/{ft_id}/close`` (the adviser), ``POST /api/v1/portfolio/take-on`` then
``POST /api/v1/portfolio/take-on/{confirmation_id}/confirm`` with the code the person received.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rempart.people.service import portfolio
from rempart.people.service.portfolio import PortfolioDeps
from rempart.web.deps import Ctx, container
from rempart.web.openapi import problems
from rempart.web.routing import SettledRoute

router = APIRouter(prefix="/api/v1", tags=["people"], route_class=SettledRoute)

FtId = Annotated[str, Field(min_length=1, max_length=32)]
Login = Annotated[str, Field(min_length=1, max_length=64)]


def _deps(request: Request) -> PortfolioDeps:
    return container(request).portfolio


Deps = Annotated[PortfolioDeps, Depends(_deps)]


class HandOverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_login: Login
    to_login: Login
    ft_ids: list[FtId] | None = Field(
        default=None, max_length=10_000, description="absent: every follow-up of from_login"
    )


class HandOverOut(BaseModel):
    handed_over: int
    from_: str = Field(alias="from")
    to: str


class ClosedOut(BaseModel):
    ft_id: str
    closed: bool


class TakeOnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ft_id: FtId
    birth_date: dt.date


class TakeOnAsked(BaseModel):
    confirmation_id: str
    expires_at: AwareDatetime


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=16)


class TakenOn(BaseModel):
    ft_id: str
    taken_on: bool


@router.post(
    "/portfolio/hand-over",
    response_model=HandOverOut,
    response_model_by_alias=True,
    responses=problems(400, 401, 403, 404),
)
def hand_over(ctx: Ctx, deps: Deps, body: HandOverIn) -> Any:
    """Hand follow-ups over from one adviser to a colleague of the same structure."""
    return portfolio.hand_over(deps, ctx, body.from_login, body.to_login, body.ft_ids)


@router.post(
    "/portfolio/{ft_id}/close", response_model=ClosedOut, responses=problems(400, 401, 403, 404)
)
def close(ctx: Ctx, deps: Deps, ft_id: str) -> Any:
    """Close one of the caller's own follow-ups."""
    return portfolio.close(deps, ctx, ft_id)


@router.post(
    "/portfolio/take-on",
    status_code=202,
    response_model=TakeOnAsked,
    responses=problems(400, 401, 403, 409, 429),
)
def take_on(ctx: Ctx, deps: Deps, body: TakeOnIn) -> Any:
    """Ask the person's consent: a one-time code goes to them (same answer for anyone)."""
    return portfolio.request_take_on(deps, ctx, body.ft_id, body.birth_date)


@router.post(
    "/portfolio/take-on/{confirmation_id}/confirm",
    response_model=TakenOn,
    responses=problems(400, 401, 403),
)
def confirm(ctx: Ctx, deps: Deps, confirmation_id: str, body: CodeIn) -> Any:
    """Enter the code the person gave: the follow-up starts today."""
    return portfolio.confirm_take_on(deps, ctx, confirmation_id, body.code)
