"""The training follow-up app: trainings, sessions, attendance, enrolment by exact lookup."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from rempart.people.model import AttendanceMark
from rempart.people.service import trainings
from rempart.web.deps import Ctx, Portal
from rempart.web.openapi import problems
from rempart.web.routing import SettledRoute

router = APIRouter(prefix="/api/v1", tags=["training follow-up"], route_class=SettledRoute)

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


class TrainingOut(BaseModel):
    id: int
    title: str
    start_date: dt.date
    end_date: dt.date


class TrainingsOut(BaseModel):
    items: list[TrainingOut]


class TrainingSessionOut(BaseModel):
    id: int
    day: dt.date
    label: str


class EnrolledOut(BaseModel):
    ft_id: str
    last_name: str
    first_name: str
    start_date: dt.date
    end_date: dt.date


class TrainingDetailOut(TrainingOut):
    sessions: list[TrainingSessionOut]
    enrolled: list[EnrolledOut]


class EnrolmentOut(EnrolledOut):
    training_id: int
    confirmed: bool = Field(
        True,
        description="false for an enrolment made from the exact lookup: no contact data until "
        "the person gives back the code sent to them, or the agency's prescription is imported",
    )


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=16)


class ConfirmedOut(BaseModel):
    training_id: int
    ft_id: str
    confirmed: bool


class TrainingRef(BaseModel):
    id: int
    title: str


class MarkOut(BaseModel):
    ft_id: str
    last_name: str
    first_name: str
    mark: AttendanceMark | None = Field(description="null until a mark is recorded")


class AttendanceOut(BaseModel):
    session: TrainingSessionOut
    training: TrainingRef
    attendance: list[MarkOut]


class AttendanceRecorded(BaseModel):
    session_id: int
    recorded: int = Field(description="How many marks were recorded")


@router.get("/trainings", response_model=TrainingsOut, responses=problems(401, 403, 503))
def list_trainings(ctx: Ctx, deps: Portal) -> Any:
    """The caller's training body's trainings."""
    return {"items": trainings.list_trainings(deps, ctx)}


@router.get(
    "/trainings/{training_id}",
    response_model=TrainingDetailOut,
    responses=problems(400, 401, 403, 404, 429, 503),
)
def training(ctx: Ctx, deps: Portal, training_id: Id) -> Any:
    """One training, its sessions and its trainees."""
    return trainings.training_detail(deps, ctx, training_id)


@router.post(
    "/trainings/{training_id}/enrolments",
    status_code=201,
    response_model=EnrolmentOut,
    responses=problems(400, 401, 403, 404, 429, 503),
)
def enrol(ctx: Ctx, deps: Portal, training_id: Id, body: EnrolIn) -> Any:
    """Enrol a person who gave the caller their ft_id and birth date."""
    return trainings.enrol_person(deps, ctx, training_id, body.ft_id, body.birth_date)


@router.post(
    "/trainings/{training_id}/enrolments/{ft_id}/confirmation",
    response_model=ConfirmedOut,
    responses=problems(400, 401, 403, 404, 429, 503),
)
def confirm(
    ctx: Ctx,
    deps: Portal,
    training_id: Id,
    ft_id: Annotated[str, Path(min_length=1, max_length=16)],
    body: ConfirmIn,
) -> Any:
    """The person gave back the code sent to the address on file: the enrolment is confirmed."""
    return trainings.confirm_enrolment(deps, ctx, training_id, ft_id, body.code)


@router.get(
    "/training-sessions/{session_id}/attendance",
    response_model=AttendanceOut,
    responses=problems(400, 401, 403, 404, 429, 503),
)
def attendance(ctx: Ctx, deps: Portal, session_id: Id) -> Any:
    """A session's roster with the marks recorded so far."""
    return trainings.session_attendance(deps, ctx, session_id)


@router.put(
    "/training-sessions/{session_id}/attendance",
    response_model=AttendanceRecorded,
    responses=problems(400, 401, 403, 404, 429, 503),
)
def record_attendance(ctx: Ctx, deps: Portal, session_id: Id, body: AttendanceIn) -> Any:
    """Record presence marks for a whole session at once."""
    return trainings.record_attendance(deps, ctx, session_id, dict(body.marks))
