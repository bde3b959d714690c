"""People the caller works with: portfolio, record read, exact lookup, follow-up notes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from rempart.people.service import consult, trainings
from rempart.web.deps import Ctx, Portal, inline, portal

router = APIRouter(prefix="/api/v1", tags=["people"])

FtIdParam = Annotated[str, Query(min_length=1, max_length=32, description="7 digits and a letter")]


class PersonSummary(BaseModel):
    ft_id: str
    last_name: str
    first_name: str


class PortfolioOut(BaseModel):
    items: list[PersonSummary]
    next_page: int | None


class LookupOut(BaseModel):
    items: list[PersonSummary]


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


@router.get("/portfolio", response_model=PortfolioOut)
def portfolio(
    ctx: Ctx,
    deps: Portal,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Any:
    """The people in the caller's scope, by name."""
    result = consult.portfolio_page(deps, ctx, page, size)
    return {"items": result.items, "next_page": result.next_page}


class ExportOut(BaseModel):
    items: list[PersonSummary]
    rows: int


@router.get("/portfolio/export", response_model=ExportOut)
def export(ctx: Ctx, deps: Portal) -> Any:
    """All the caller's people at once (the monthly roster export), within the export ceiling."""
    items = consult.export_portfolio(deps, ctx)
    return {"items": items, "rows": len(items)}


@router.get("/persons", response_model=LookupOut)
def lookup(ctx: Ctx, deps: Portal, ft_id: FtIdParam, birth_date: dt.date) -> Any:
    """Exact lookup by ft_id *and* birth date (zero or one item, minimal fields)."""
    return {"items": consult.lookup_person(deps, ctx, ft_id, birth_date)}


@router.get(
    "/persons/{ft_id}",
    responses={404: {"description": "No such person, or outside the caller's scope"}},
)
async def read_person(
    request: Request,
    ctx: Ctx,
    ft_id: str,
    purpose: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """A person's record, limited to what the caller's role and purpose allow."""
    deps = portal(request)  # not a dependency: the hot route resolves as few as it can
    if inline(request):  # local stores: decide on the loop, await the journal's commit
        return await consult.consult_person_async(deps, ctx, ft_id, purpose)
    return await run_in_threadpool(consult.consult_person, deps, ctx, ft_id, purpose)


@router.post("/persons/{ft_id}/notes", status_code=201)
def write_note(ctx: Ctx, deps: Portal, ft_id: str, body: NoteIn) -> dict[str, Any]:
    """An assigned adviser adds a follow-up note."""
    return trainings.add_follow_up_note(deps, ctx, ft_id, body.text)
