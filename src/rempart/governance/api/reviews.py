"""Access reviews: campaigns per organisation, decisions per account and role, reports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from rempart.governance.api.accounts import Gov
from rempart.governance.service import reviews
from rempart.web.deps import Ctx

router = APIRouter(prefix="/api/v1", tags=["access reviews"])

Id = Annotated[int, Path(ge=1, le=2**62)]


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_id: str | None = Field(default=None, max_length=32)
    duration_days: int | None = Field(default=None, ge=1, le=90)
    default_decision: Literal["keep", "remove"] = "remove"


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["keep", "remove"]


@router.post("/reviews", status_code=201)
def open_campaign(ctx: Ctx, gov: Gov, body: CampaignIn) -> dict[str, Any]:
    """Open a review campaign for an organisation now."""
    return reviews.open_campaign(gov, ctx, body.org_id, body.duration_days, body.default_decision)


@router.get("/reviews")
def list_campaigns(
    ctx: Ctx, gov: Gov, org_id: Annotated[str | None, Query(max_length=32)] = None
) -> dict[str, Any]:
    """The campaigns the caller may see, newest first."""
    return {"items": reviews.list_campaigns(gov, ctx, org_id)}


@router.get("/reviews/{campaign_id}")
def campaign(ctx: Ctx, gov: Gov, campaign_id: Id) -> dict[str, Any]:
    """A campaign and its items."""
    return reviews.campaign_detail(gov, ctx, campaign_id)


@router.post("/reviews/{campaign_id}/items/{item_id}")
def decide(ctx: Ctx, gov: Gov, campaign_id: Id, item_id: Id, body: DecisionIn) -> dict[str, Any]:
    """Keep or remove one account or role; a removal applies at once."""
    return reviews.decide(gov, ctx, campaign_id, item_id, body.decision)


@router.get("/reviews/{campaign_id}/report")
def report(ctx: Ctx, gov: Gov, campaign_id: Id) -> dict[str, Any]:
    """What the campaign decided, with totals."""
    return reviews.report(gov, ctx, campaign_id)
