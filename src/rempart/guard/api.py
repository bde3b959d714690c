"""The security team's alert feed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from rempart.guard.alerts import Severity
from rempart.guard.service import alerts
from rempart.web.deps import Ctx, container
from rempart.web.openapi import problems
from rempart.web.routing import SettledRoute

router = APIRouter(prefix="/api/v1", tags=["security team"], route_class=SettledRoute)


class AlertOut(BaseModel):
    id: int
    at: AwareDatetime
    rule: str = Field(description="source:subject:action, like the journal's tags")
    severity: Severity
    agent_login: str
    org_id: str
    action_taken: str
    explanation: str = Field(description="One human-readable sentence")
    evidence: dict[str, Any] = Field(
        description="The observed values, thresholds and baseline behind the decision"
    )


class AlertsOut(BaseModel):
    items: list[AlertOut]


@router.get("/alerts", response_model=AlertsOut, responses=problems(400, 401, 403))
def list_alerts(
    request: Request,
    ctx: Ctx,
    since: Annotated[AwareDatetime | None, Query(description="RFC 3339 with offset")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Any:
    """Alerts, newest first (security officers and admins)."""
    return {"items": alerts.list_alerts(container(request).alerts, ctx, since, limit)}
