"""The privileged rows of imports: one four-eyes request per import, for national admins.

``GET /api/v1/imports/privileges`` lists them; ``POST .../{id}/approve`` (a national
administrator other than the one who ran the import, with a fresh second factor) grants them;
``POST .../{id}/deny`` turns them down.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel

from rempart.governance.model import RequestStatus
from rempart.governance.service import privileges
from rempart.governance.web import Gov
from rempart.kernel.actors import Role
from rempart.web.deps import Ctx
from rempart.web.openapi import problems
from rempart.web.routing import SettledRoute

router = APIRouter(prefix="/api/v1", tags=["accounts"], route_class=SettledRoute)


class PrivilegeRow(BaseModel):
    login: str
    org_id: str
    roles: list[Role]


class PrivilegeRequestOut(BaseModel):
    request_id: str
    status: RequestStatus
    import_batch: int
    requested_by: str
    created_at: AwareDatetime
    expires_at: AwareDatetime
    decided_by: str | None
    decided_at: AwareDatetime | None
    items: list[PrivilegeRow]


class PrivilegeRequestsOut(BaseModel):
    items: list[PrivilegeRequestOut]


class PrivilegesGranted(BaseModel):
    status: Literal["approved"]
    request_id: str
    granted: list[PrivilegeRow]


class PrivilegesDenied(BaseModel):
    status: Literal["denied"]
    request_id: str


@router.get(
    "/imports/privileges", response_model=PrivilegeRequestsOut, responses=problems(401, 403)
)
def list_privilege_requests(ctx: Ctx, gov: Gov) -> Any:
    """The import privilege requests, newest first."""
    return {"items": privileges.list_batches(gov, ctx)}


@router.post(
    "/imports/privileges/{request_id}/approve",
    response_model=PrivilegesGranted,
    responses=problems(401, 403, 404, 409),
)
def approve_privileges(ctx: Ctx, gov: Gov, request_id: str) -> Any:
    """A second national administrator grants an import's privileged rows."""
    return privileges.approve_batch(gov, ctx, request_id)


@router.post(
    "/imports/privileges/{request_id}/deny",
    response_model=PrivilegesDenied,
    responses=problems(401, 403, 404, 409),
)
def deny_privileges(ctx: Ctx, gov: Gov, request_id: str) -> Any:
    """Turn an import's privileged rows down."""
    return privileges.deny_batch(gov, ctx, request_id)
