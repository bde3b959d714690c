"""Who is looking at a page: the signed-in agent, and the CSRF tokens of the forms.

Pages use the very session of the API (cookie ``rempart_session``, ``sessions.resume``); a
form carries the session's CSRF token in a hidden ``csrf_token`` field instead of the
``X-CSRF-Token`` header, and the server checks it the same way (ASVS V3.5.1). Before sign-in
there is no session yet: the sign-in forms carry an HMAC of a random pre-session cookie
(signed double submit), so that nobody signs a browser into someone else's account.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response

from rempart.kernel.actors import Role
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import CsrfRejected, Forbidden
from rempart.signin.model import keyed_digest
from rempart.signin.service import sessions
from rempart.signin.service.sessions import Resumption
from rempart.signin.web import DEVICE_COOKIE, auth_deps, session_token
from rempart.web.deps import client_info, settings_of

CSRF_FIELD = "csrf_token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CONSOLE_ROLES = frozenset({Role.SECURITY_OFFICER, Role.ADMIN})


class EnrolFirst(Exception):
    """An enrol-only session (privileged role without a security key) asked for another page."""


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in agent as the pages see them."""

    ctx: RequestContext
    csrf: str
    enrol_only: bool

    @property
    def roles(self) -> frozenset[str]:
        """The agent's roles, as words."""
        return frozenset(str(r) for r in self.ctx.agent.roles)

    @property
    def console(self) -> bool:
        """True for the security team (security officers and administrators)."""
        return bool(self.ctx.agent.roles & CONSOLE_ROLES)


async def form_field(request: Request, name: str) -> str | None:
    """One field of a form body (parsed once; FastAPI reuses it), or None."""
    if request.method not in UNSAFE:
        return None
    value = (await request.form()).get(name)
    return value if isinstance(value, str) else None


async def any_visitor(request: Request) -> Visitor:
    """The signed-in agent, an enrol-only session included; the form's CSRF token checked."""
    return await _visitor(request, Resumption.DATA)


async def step_up_visitor(request: Request) -> Visitor:
    """Like ``any_visitor``, for the step-up form: a session asked to prove its factor from a
    new address may do that there, and nothing else."""
    return await _visitor(request, Resumption.STEP_UP)


async def _visitor(request: Request, purpose: Resumption) -> Visitor:
    auth = auth_deps(request)
    token = session_token(request)
    ctx = sessions.resume(
        auth,
        token,
        client_info(request),
        request.method,
        await form_field(request, CSRF_FIELD),
        allow_enrol_only=True,
        device_cookie=request.cookies.get(DEVICE_COOKIE),
        purpose=purpose,
    )
    enrol_only = bool(sessions.describe(auth, ctx, token or "")["enrol_only"])
    visitor = Visitor(ctx, sessions.csrf_token_for(auth, token or ""), enrol_only)
    request.state.visitor = visitor
    return visitor


def signed_in(visitor: Annotated[Visitor, Depends(any_visitor)]) -> Visitor:
    """The signed-in agent with a full session (an enrol-only one goes to register a key)."""
    if visitor.enrol_only:
        raise EnrolFirst
    return visitor


def security_team(visitor: Annotated[Visitor, Depends(signed_in)]) -> Visitor:
    """The signed-in agent, who must be a security officer or an administrator."""
    if not visitor.console:
        raise Forbidden("only the security team reads alerts")
    return visitor


AnyVisitor = Annotated[Visitor, Depends(any_visitor)]
StepUpVisitor = Annotated[Visitor, Depends(step_up_visitor)]
Agent = Annotated[Visitor, Depends(signed_in)]
SecurityTeam = Annotated[Visitor, Depends(security_team)]


# -- before sign-in: signed double submit -------------------------------------------------


def presession_cookie(request: Request) -> str:
    """The pre-session cookie's name: ``__Host-`` prefixed whenever it can be (ASVS V3.3.3)."""
    return (
        "rempart_presession" if settings_of(request).insecure_http else "__Host-rempart_presession"
    )


def presession_token(request: Request) -> tuple[str, str | None]:
    """The CSRF token for the sign-in forms, and a new pre-session cookie value when the
    browser has none yet (give it to ``keep_presession``)."""
    value = request.cookies.get(presession_cookie(request), "")
    fresh = None
    if len(value) != 43:
        value = fresh = secrets.token_urlsafe(32)
    return keyed_digest(auth_deps(request).secret, "presession-csrf", value), fresh


def keep_presession(request: Request, response: Response, value: str | None) -> None:
    """Set the pre-session cookie (HttpOnly, SameSite=Strict, Secure unless --insecure-http)."""
    if value is None:
        return
    response.set_cookie(
        presession_cookie(request),
        value,
        path="/",
        secure=not settings_of(request).insecure_http,
        httponly=True,
        samesite="strict",
    )


def check_presession(request: Request, submitted: str) -> None:
    """Refuse a sign-in form whose token does not match this browser's pre-session cookie."""
    value = request.cookies.get(presession_cookie(request), "")
    expected = keyed_digest(auth_deps(request).secret, "presession-csrf", value)
    if len(value) != 43 or not hmac.compare_digest(submitted.encode(), expected.encode()):
        raise CsrfRejected("missing or wrong X-CSRF-Token")
