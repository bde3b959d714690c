"""The published journal: its latest signed checkpoint, its key, consistency proofs, and the
cosignatures witnesses send back. No session: anyone may check the journal grows honestly.

The checkpoint and the key are plain text in the C2SP formats (signed-note, tlog-checkpoint),
so that tools written for Certificate Transparency, Go's checksum database or Sigstore's
witnesses read them as they are.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from rempart.journal.service import publication
from rempart.journal.service.publication import PublicationDeps
from rempart.kernel.errors import InvalidRequest
from rempart.web.deps import container
from rempart.web.openapi import problems
from rempart.web.routing import SettledRoute

router = APIRouter(prefix="/api/v1/journal", tags=["published journal"], route_class=SettledRoute)

TEXT = "text/plain; charset=utf-8"
MAX_NOTE = 1 << 16


def _deps(request: Request) -> PublicationDeps:
    return container(request).publication


def _text_answer(description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}
    }


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses={**_text_answer("The latest signed checkpoint (C2SP signed note)."), **problems(404)},
)
def checkpoint(request: Request) -> PlainTextResponse:
    """The latest checkpoint in the C2SP tlog-checkpoint format, signed as a C2SP signed note
    (Ed25519), followed by the cosignatures witnesses sent for it (C2SP tlog-cosignature)."""
    note = publication.checkpoint_note(publication.published_log(_deps(request)))
    return PlainTextResponse(note.decode("utf-8"), media_type=TEXT)


@router.get(
    "/key",
    response_class=PlainTextResponse,
    responses={**_text_answer("The signer's verifier key NAME+HASH+KEY."), **problems(404)},
)
def key(request: Request) -> PlainTextResponse:
    """The checkpoint signer's verifier key, in the signed-note form ``NAME+HEXKEYHASH+KEY``."""
    log = publication.published_log(_deps(request))
    return PlainTextResponse(publication.log_verifier_key(log), media_type=TEXT)


class ConsistencyOut(BaseModel):
    proof: list[str] = Field(description="RFC 9162 consistency proof, base64 hashes in order")


@router.get(
    "/consistency",
    response_model=ConsistencyOut,
    responses=problems(400, 404, 409),
)
def consistency(
    request: Request,
    first: Annotated[int, Query(ge=0, le=1 << 62, description="The older tree size M")],
    second: Annotated[int, Query(ge=0, le=1 << 62, description="The newer tree size N")],
) -> Any:
    """The RFC 9162 consistency proof between the tree heads of sizes M and N (§2.1.4)."""
    log = publication.published_log(_deps(request))
    proof = publication.consistency_proof(log, first, second)
    return {"proof": [base64.b64encode(p).decode("ascii") for p in proof]}


class CosignaturesOut(BaseModel):
    accepted: int = Field(description="Cosignatures recorded")
    tree_size: int


@router.post(
    "/cosignatures",
    response_model=CosignaturesOut,
    responses=problems(400, 403, 404),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": {"type": "string", "maxLength": MAX_NOTE}}},
        }
    },
)
async def cosignatures(request: Request) -> Any:
    """A witness sends back a checkpoint of this journal with its cosignature lines; those by
    a configured witness (``REMPART_JOURNAL_WITNESSES``) that verify are recorded and served
    with the checkpoint from then on."""
    body = await request.body()
    if len(body) > MAX_NOTE:
        raise InvalidRequest("a cosigned checkpoint is a few hundred bytes")
    accepted = publication.accept_cosignatures(_deps(request), body)
    return {"accepted": len(accepted), "tree_size": accepted[0].tree_size}
