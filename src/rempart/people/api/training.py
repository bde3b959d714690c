"""The training follow-up app: trainings, sessions, attendance, enrolment by exact lookup."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from rempart.people.service import trainings
from rempart.web.deps import Ctx, Portal

router = APIRouter(prefix="/api/v1", tags=["training follow-up"])

Id = Annotated[int, Path(ge=1, le=2**62)]


class AttendanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    marks: dict[Annotated[str, Field(max_length=16)], Literal["present", "absent", "excused"]] = (
        Field(max_length=500)
    )


class EnrolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ft_id: str = Field(min_length=1, max_length=16)
    birth_date: dt.date


@router.get("/trainings")
def list_trainings(ctx: Ctx, deps: Portal) -> dict[str, Any]:
    """The caller's training body's trainings."""
    return {"items": trainings.list_trainings(deps, ctx)}


@router.get("/trainings/{training_id}")
def training(ctx: Ctx, deps: Portal, training_id: Id) -> dict[str, Any]:
    """One training, its sessions and its trainees."""
    return trainings.training_detail(deps, ctx, training_id)


@router.post("/trainings/{training_id}/enrolments", status_code=201)
def enrol(ctx: Ctx, deps: Portal, training_id: Id, body: EnrolIn) -> dict[str, Any]:
    """Enrol a person who gave the caller their ft_id and birth date."""
    return trainings.enrol_person(deps, ctx, training_id, body.ft_id, body.birth_date)


@router.get("/training-sessions/{session_id}/attendance")
def attendance(ctx: Ctx, deps: Portal, session_id: Id) -> dict[str, Any]:
    """A session's roster with the marks recorded so far."""
    return trainings.session_attendance(deps, ctx, session_id)


@router.put("/training-sessions/{session_id}/attendance")
def record_attendance(ctx: Ctx, deps: Portal, session_id: Id, body: AttendanceIn) -> dict[str, Any]:
    """Record presence marks for a whole session at once."""
    return trainings.record_attendance(deps, ctx, session_id, dict(body.marks))
