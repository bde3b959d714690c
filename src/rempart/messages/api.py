"""Official messages the person can verify: ``POST /api/v1/citizen/messages/verify``.

No session: whoever holds a message can ask whether it came from us. Genuine: when, on which
channel, about what. Anything else, malformed, unknown or revoked: the same ``{"genuine":
false}``, byte for byte, after the same work; misses are throttled (``429 throttled``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rempart.journal.model import format_time
from rempart.messages.model import Channel
from rempart.messages.ports import OfficialMessages
from rempart.web.deps import client_info, container
from rempart.web.openapi import problems
from rempart.web.routing import SettledRoute

router = APIRouter(
    prefix="/api/v1/citizen/messages", tags=["official messages"], route_class=SettledRoute
)

# One body for every "no": nothing in it depends on why.
NOT_GENUINE = b'{"genuine":false}'


def messages(request: Request) -> OfficialMessages:
    """The official messages' use cases."""
    return container(request).messages


Messages = Annotated[OfficialMessages, Depends(messages)]


class VerifyMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # No length limit here: a too-long text is malformed, and gets the same "no" as any other.
    reference: str = Field(description="XXXX-XXXX-XXXX as printed in the message")


class VerdictOut(BaseModel):
    """``{"genuine": false}`` alone, or genuine with when, on which channel and about what."""

    genuine: bool
    sent_at: AwareDatetime | None = Field(None, description="Only when genuine")
    channel: Channel | None = Field(None, description="Only when genuine")
    subject: str | None = Field(None, description="Only when genuine")


@router.post(
    "/verify",
    response_model=VerdictOut,
    response_model_exclude_none=True,
    responses=problems(400, 429),
)
def verify_message(request: Request, deps: Messages, body: VerifyMessageIn) -> Any:
    """Did this message come from us? The same "no" for a malformed, unknown or revoked one."""
    verdict = deps.verify(body.reference, client_info(request))
    m = verdict.message
    if m is None:
        return Response(NOT_GENUINE, media_type="application/json")
    # Serialised by hand, as the "no" is: the same path, so that the time does not tell them
    # apart (a response model's validation would add its own fraction of a millisecond).
    genuine = {
        "genuine": True,
        "sent_at": format_time(m.sent_at or m.registered_at),
        "channel": str(m.channel),
        "subject": m.subject,
    }
    return Response(
        json.dumps(genuine, ensure_ascii=False, separators=(",", ":")).encode(),
        media_type="application/json",
    )
