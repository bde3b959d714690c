"""Who consulted my file: the person concerned sees every access to their file.

A one-time code mailed to the address on file opens a short session (cookie
``rempart_citizen``, separate from agents' sessions); the person then lists the accesses and
can flag one they do not recognise, which raises an alert for the security team.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rempart.citizen import service as citizen
from rempart.citizen.model import CitizenSession
from rempart.citizen.service import CitizenDeps
from rempart.kernel.categories import DataCategory
from rempart.kernel.tags import Decision
from rempart.messages.model import Channel
from rempart.web.deps import CSRF_HEADER, AppSettings, client_info, container
from rempart.web.openapi import no_content, problems
from rempart.web.routing import SettledRoute

router = APIRouter(
    prefix="/api/v1/citizen", tags=["who consulted my file"], route_class=SettledRoute
)

COOKIE = "rempart_citizen"
COOKIE_PATH = "/api/v1/citizen"
SENT = "If these details match our records, a code was sent to the e-mail address we hold."


def citizen_deps(request: Request) -> CitizenDeps:
    """The use cases' dependencies."""
    return container(request).citizen


Citizen = Annotated[CitizenDeps, Depends(citizen_deps)]


def citizen_session(request: Request, deps: Citizen) -> CitizenSession:
    """The person's live session (cookie), with the CSRF check on unsafe methods."""
    return citizen.resume(
        deps,
        request.cookies.get(COOKIE),
        request.method,
        request.headers.get(CSRF_HEADER),
        client=client_info(request),
    )


Person = Annotated[CitizenSession, Depends(citizen_session)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CodeRequestIn(_In):
    ft_id: str = Field(min_length=1, max_length=32, description="7 digits and a letter")
    birth_date: dt.date


class ChallengeOut(BaseModel):
    challenge_id: str
    expires_at: AwareDatetime
    detail: str = Field(description="The same words whether or not the person exists.")


class VerifyIn(_In):
    challenge_id: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=16, description="The 6 digits received by mail")


class VerifyOut(BaseModel):
    csrf_token: str = Field(description="Send it as X-CSRF-Token with every POST.")
    expires_at: AwareDatetime


class AccessOut(BaseModel):
    seq: int = Field(description="The journal entry; quote it to flag this access.")
    at: AwareDatetime
    organisation: str
    role: str = Field(description="The agent's roles, comma-separated")
    action: str = Field(description="The journal tag, source:subject:action")
    action_label: str
    purpose: str
    decision: Decision = Field(description="allow, or the refusal the person was spared")
    data_categories: list[DataCategory] = Field(description="What was served (empty if refused)")


class AccessesOut(BaseModel):
    items: list[AccessOut]
    next_page: int | None
    nothing_on_file: bool = Field(
        default=False,
        description="The portal keeps nothing more about the person (erased at the end of its "
        "retention period)",
    )


class OfficialMessageOut(BaseModel):
    reference: str = Field(description="XXXX-XXXX-XXXX, as printed in the message")
    sent_at: AwareDatetime
    channel: Channel
    subject: str
    content: str = Field(description="The body as sent, one-time codes masked")


class OfficialMessagesOut(BaseModel):
    items: list[OfficialMessageOut]


class FlagIn(_In):
    comment: str = Field(default="", max_length=500)


class FlagOut(BaseModel):
    status: Literal["received"]


@router.post(
    "/challenge",
    status_code=202,
    response_model=ChallengeOut,
    responses=problems(400, 429),
)
def request_code(request: Request, deps: Citizen, body: CodeRequestIn) -> Any:
    """Ask for a one-time code. The answer is the same whether or not the person exists."""
    issued = citizen.request_code(deps, body.ft_id, body.birth_date, client_info(request))
    return {"challenge_id": issued.challenge_id, "expires_at": issued.expires_at, "detail": SENT}


@router.post("/verify", response_model=VerifyOut, responses=problems(400, 401))
def verify(
    request: Request, response: Response, deps: Citizen, settings: AppSettings, body: VerifyIn
) -> Any:
    """Exchange the code for a short session (cookie ``rempart_citizen``)."""
    opened = citizen.verify_code(deps, body.challenge_id, body.code, client_info(request))
    s = opened.session
    response.set_cookie(
        COOKIE,
        opened.token,
        max_age=int((s.expires_at - s.created_at).total_seconds()),
        path=COOKIE_PATH,
        secure=not settings.insecure_http,
        httponly=True,
        samesite="strict",
    )
    return {"csrf_token": opened.csrf_token, "expires_at": s.expires_at}


@router.get("/accesses", response_model=AccessesOut, responses=problems(400, 401))
def list_accesses(
    request: Request,
    deps: Citizen,
    person: Person,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Any:
    """Every access to the person's file by a partner organisation, newest first."""
    return citizen.accesses(deps, person, client_info(request), page)


@router.get("/messages", response_model=OfficialMessagesOut, responses=problems(401))
def my_messages(deps: Citizen, person: Person) -> Any:
    """Every official message sent to the person, newest first, with its full content (to
    compare with what they received)."""
    return {
        "items": [
            {
                "reference": m.display_reference,
                "sent_at": m.sent_at or m.registered_at,
                "channel": m.channel,
                "subject": m.subject,
                "content": m.body,
            }
            for m in deps.messages.messages_of(person.ft_id)
        ]
    }


@router.post(
    "/accesses/{seq}/flag",
    status_code=202,
    response_model=FlagOut,
    responses=problems(400, 401, 403, 404),
)
def flag(
    request: Request,
    deps: Citizen,
    person: Person,
    seq: Annotated[int, Path(ge=1, le=2**62)],
    body: FlagIn | None = None,
) -> Any:
    """I don't recognise this: the security team gets an alert about that access."""
    comment = body.comment if body else ""
    citizen.flag_access(deps, person, seq, comment, client_info(request))
    return {"status": "received"}


@router.post(
    "/logout",
    status_code=204,
    responses={**no_content("The session is over; the cookie is cleared"), **problems(401, 403)},
)
def logout(deps: Citizen, person: Person, settings: AppSettings) -> Response:
    """End the session."""
    citizen.end_session(deps, person)
    response = Response(status_code=204)
    response.delete_cookie(
        COOKIE,
        path=COOKIE_PATH,
        secure=not settings.insecure_http,
        httponly=True,
        samesite="strict",
    )
    return response
