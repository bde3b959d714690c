"""People the caller works with: portfolio, record read, exact lookup, follow-up notes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, NotRequired

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter
from starlette.concurrency import run_in_threadpool
from typing_extensions import TypedDict

from rempart.kernel.categories import Purpose
from rempart.people.model import RegistrationStatus
from rempart.people.service import consult, trainings
from rempart.web.deps import Ctx, Portal, inline, portal, query_text, resolved_context
from rempart.web.openapi import DateText, TimeText, problems
from rempart.web.routing import DirectRoute, SettledRoute

router = APIRouter(prefix="/api/v1", tags=["people"], route_class=SettledRoute)

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


class NoteOut(BaseModel):
    written_at: AwareDatetime
    author: str
    text: str


class PostalAddressOut(TypedDict):
    line: str
    postcode: str
    city: str


class TrainingOfPerson(TypedDict):
    """A training of the caller's own organisation the person is enrolled in."""

    training_id: int
    title: str
    start_date: DateText
    end_date: DateText


class FollowUpNote(TypedDict):
    """A note written in the caller's own organisation."""

    written_at: TimeText
    author: str
    text: str


class PersonRecord(TypedDict):
    """A person's record: identity always; every other field only when the caller's relation,
    role and purpose allow its category, and then present (a withheld field is absent, never
    null nor masked). ``deregistration_date`` and ``rqth_since`` are null when there is none."""

    ft_id: Annotated[str, Field(description="7 digits and an upper-case letter")]
    last_name: str
    first_name: str
    birth_date: DateText
    email: NotRequired[str]  # contact
    phone: NotRequired[str]
    postal_address: NotRequired[PostalAddressOut]
    nir: NotRequired[str]  # nir: the agency's own adviser only
    registration_status: NotRequired[RegistrationStatus]  # status
    registration_date: NotRequired[DateText]
    deregistration_date: NotRequired[DateText | None]
    last_activity_date: NotRequired[DateText]
    trainings: NotRequired[list[TrainingOfPerson]]  # training
    follow_up_notes: NotRequired[list[FollowUpNote]]  # follow_up_notes
    rqth_since: NotRequired[DateText | None]  # disability
    purpose: Annotated[Purpose, Field(description="The purpose the read was journaled under")]


# The record is the hot path: validated and written to JSON in one pass of pydantic-core,
# straight into the response (no second thread hop, no jsonable_encoder walk).
_RECORD = TypeAdapter(PersonRecord)


@router.get("/portfolio", response_model=PortfolioOut, responses=problems(400, 401, 403, 429, 503))
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


@router.get("/portfolio/export", response_model=ExportOut, responses=problems(401, 403, 429, 503))
def export(ctx: Ctx, deps: Portal) -> Any:
    """All the caller's people at once (the monthly roster export), within the export ceiling."""
    items = consult.export_portfolio(deps, ctx)
    return {"items": items, "rows": len(items)}


@router.get("/persons", response_model=LookupOut, responses=problems(400, 401, 403, 429, 503))
def lookup(ctx: Ctx, deps: Portal, ft_id: FtIdParam, birth_date: dt.date) -> Any:
    """Exact lookup by ft_id *and* birth date (zero or one item, minimal fields)."""
    return {"items": consult.lookup_person(deps, ctx, ft_id, birth_date)}


# ``purpose`` is read by the route itself (see ``read_person``); documented here.
_PURPOSE_PARAMETER = {
    "name": "purpose",
    "in": "query",
    "required": False,
    "description": "The purpose of the read, for the journal and the scope policy",
    "schema": {"type": "string", "maxLength": 64},
}


async def read_person(request: Request, ft_id: str) -> Response:
    """A person's record, limited to what the caller's role and purpose allow."""
    # The hot route (a ``DirectRoute``): FastAPI resolves nothing; the context and the purpose
    # are read here.
    ctx = await resolved_context(request)
    purpose = query_text(request, "purpose", max_length=64)
    deps = portal(request)
    if inline(request):  # local stores: decide on the loop, await the journal's commit
        record = await consult.consult_person_async(deps, ctx, ft_id, purpose)
    else:
        record = await run_in_threadpool(consult.consult_person, deps, ctx, ft_id, purpose)
    return _record_response(record)


router.add_api_route(
    "/persons/{ft_id}",
    read_person,
    methods=["GET"],
    route_class_override=DirectRoute,
    response_class=Response,
    responses={
        200: {
            "description": "The record, fields limited to what the caller may see",
            "content": {"application/json": {}},
            "model": PersonRecord,
        },
        **problems(400, 401, 403, 404, 429, 503),
    },
    openapi_extra={"parameters": [_PURPOSE_PARAMETER]},
)


def _record_response(record: dict[str, Any]) -> Response:
    return Response(
        _RECORD.dump_json(_RECORD.validate_python(record)), media_type="application/json"
    )


@router.post(
    "/persons/{ft_id}/notes",
    status_code=201,
    response_model=NoteOut,
    responses=problems(400, 401, 403, 404, 429, 503),
)
def write_note(ctx: Ctx, deps: Portal, ft_id: str, body: NoteIn) -> Any:
    """An assigned adviser adds a follow-up note."""
    return trainings.add_follow_up_note(deps, ctx, ft_id, body.text)
