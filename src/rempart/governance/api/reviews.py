"""Access reviews: campaigns per organisation, decisions per account and role, reports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rempart.governance.model import ReviewDecision
from rempart.governance.service import reviews
from rempart.governance.web import Gov
from rempart.web.deps import Ctx
from rempart.web.openapi import problems
from rempart.web.routing import SettledRoute

router = APIRouter(prefix="/api/v1", tags=["access reviews"], route_class=SettledRoute)

Id = Annotated[int, Path(ge=1, le=2**62)]


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_id: str | None = Field(default=None, max_length=32)
    duration_days: int | None = Field(default=None, ge=1, le=90)
    default_decision: Literal["keep", "remove"] = "remove"


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["keep", "remove"]


class CampaignOut(BaseModel):
    id: int
    org_id: str
    opened_by: str
    opened_at: AwareDatetime
    deadline: AwareDatetime
    default_decision: ReviewDecision
    status: Literal["open", "closed"]
    closed_at: AwareDatetime | None


class CampaignsOut(BaseModel):
    items: list[CampaignOut]


class ItemOut(BaseModel):
    id: int
    login: str
    role: str | None = Field(description="null: the item is the account itself")
    scope: Literal["account", "role"]
    decision: ReviewDecision | None
    decided_by: str | None
    decided_at: AwareDatetime | None
    by_default: bool = Field(description="Decided by the campaign's default at its deadline")


class CampaignDetail(CampaignOut):
    items: list[ItemOut]


class Totals(BaseModel):
    items: int
    accounts: int
    kept: int
    removed: int
    kept_by_default: int
    removed_by_default: int
    undecided: int


class ReportOut(BaseModel):
    campaign: CampaignOut
    totals: Totals
    reviewers: list[str]
    items: list[ItemOut]


@router.post(
    "/reviews",
    status_code=201,
    response_model=CampaignOut,
    responses=problems(400, 401, 403, 404, 409),
)
def open_campaign(ctx: Ctx, gov: Gov, body: CampaignIn) -> Any:
    """Open a review campaign for an organisation now."""
    return reviews.open_campaign(gov, ctx, body.org_id, body.duration_days, body.default_decision)


@router.get("/reviews", response_model=CampaignsOut, responses=problems(400, 401, 403))
def list_campaigns(
    ctx: Ctx, gov: Gov, org_id: Annotated[str | None, Query(max_length=32)] = None
) -> Any:
    """The campaigns the caller may see, newest first."""
    return {"items": reviews.list_campaigns(gov, ctx, org_id)}


@router.get(
    "/reviews/{campaign_id}", response_model=CampaignDetail, responses=problems(400, 401, 403, 404)
)
def campaign(ctx: Ctx, gov: Gov, campaign_id: Id) -> Any:
    """A campaign and its items."""
    return reviews.campaign_detail(gov, ctx, campaign_id)


@router.post(
    "/reviews/{campaign_id}/items/{item_id}",
    response_model=ItemOut,
    responses=problems(400, 401, 403, 404, 409),
)
def decide(ctx: Ctx, gov: Gov, campaign_id: Id, item_id: Id, body: DecisionIn) -> Any:
    """Keep or remove one account or role; a removal applies at once."""
    return reviews.decide(gov, ctx, campaign_id, item_id, body.decision)


@router.get(
    "/reviews/{campaign_id}/report",
    response_model=ReportOut,
    responses=problems(400, 401, 403, 404),
)
def report(ctx: Ctx, gov: Gov, campaign_id: Id) -> Any:
    """What the campaign decided, with totals."""
    return reviews.report(gov, ctx, campaign_id)
