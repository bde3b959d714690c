"""The security team's alert feed."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel

from rempart.guard.service import alerts
from rempart.web.deps import Ctx, Portal

router = APIRouter(prefix="/api/v1", tags=["security team"])


class AlertOut(BaseModel):
    id: int
    at: dt.datetime
    rule: str
    severity: str
    agent_login: str
    org_id: str
    action_taken: str
    explanation: str
    evidence: dict[str, Any]


class AlertsOut(BaseModel):
    items: list[AlertOut]


@router.get("/alerts", response_model=AlertsOut)
def list_alerts(
    ctx: Ctx,
    deps: Portal,
    since: Annotated[AwareDatetime | None, Query(description="RFC 3339 with offset")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Any:
    """Alerts, newest first (security officers and admins)."""
    return {"items": alerts.list_alerts(deps.alerts, ctx, since, limit)}
