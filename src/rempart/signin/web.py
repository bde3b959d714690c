"""The session cookie and ``authenticate``: from a request to the signed-in agent's context.

Shared by sign-in's edges (the API and the pages) and by the web kit's pages, which use the
very session of the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from rempart.db.uow import settle
from rempart.kernel.context import RequestContext
from rempart.settings import Settings
from rempart.signin.service import sessions
from rempart.signin.service.deps import AuthDeps
from rempart.signin.service.sessions import OpenedSession, Resumption
from rempart.web.deps import CSRF_HEADER, client_info, container

COOKIE = "rempart_session"
# DBSC's short-lived cookie: only a signature by the browser's key renews it.
DEVICE_COOKIE = "rempart_bound"
DEVICE_REGISTRATION_PATH = "/api/v1/auth/dbsc/register"
DEVICE_REFRESH_PATH = "/api/v1/auth/dbsc/refresh"
OIDC_COOKIE = "rempart_oidc"
OIDC_COOKIE_PATH = "/api/v1/auth/oidc"


def auth_deps(request: Request) -> AuthDeps:
    """The sign-in use cases' dependencies."""
    return container(request).auth


def session_token(request: Request) -> str | None:
    """The session cookie's value, if any."""
    return request.cookies.get(COOKIE)


def _resume(
    request: Request, *, allow_enrol_only: bool, purpose: Resumption = Resumption.DATA
) -> RequestContext:
    try:
        return sessions.resume(
            auth_deps(request),
            session_token(request),
            client_info(request),
            request.method,
            request.headers.get(CSRF_HEADER),
            allow_enrol_only=allow_enrol_only,
            device_cookie=request.cookies.get(DEVICE_COOKIE),
            purpose=purpose,
        )
    finally:
        # What resuming wrote (a touch, an ended session) stands on its own, and is committed
        # before the request goes on to wait for anything (``rempart.db.uow.settle``).
        settle()


def resume_for(request: Request, purpose: Resumption) -> RequestContext:
    """The context of the request's session for one ``purpose`` (DBSC's own requests)."""
    return _resume(request, allow_enrol_only=False, purpose=purpose)


def authenticate(request: Request) -> RequestContext:
    """``app.state.authenticate``: the context of the request's live session, or an error."""
    return _resume(request, allow_enrol_only=False)


def authenticate_for_enrolment(request: Request) -> RequestContext:
    """Like ``authenticate``, but an enrol-only session may manage its own factors."""
    return _resume(request, allow_enrol_only=True)


def authenticate_for_step_up(request: Request) -> RequestContext:
    """Like ``authenticate``, but a session asked to step up from a new address may prove its
    second factor from there (and only that: every other route still refuses)."""
    return _resume(request, allow_enrol_only=False, purpose=Resumption.STEP_UP)


def device_registration_header(challenge: str) -> str:
    """``Secure-Session-Registration`` (DBSC): ES256 keys, where to register, the challenge."""
    return f'(ES256);path="{DEVICE_REGISTRATION_PATH}";challenge="{challenge}"'


def set_session_cookie(response: Response, settings: Settings, opened: OpenedSession) -> None:
    """``rempart_session``: HttpOnly, SameSite=Strict, Secure unless --insecure-http; and the
    invitation to bind the session to the browser's key (DBSC), for browsers that can."""
    if opened.device_challenge:
        response.headers["Secure-Session-Registration"] = device_registration_header(
            opened.device_challenge
        )
    seconds = int((opened.session.expires_at - opened.session.created_at).total_seconds())
    response.set_cookie(
        COOKIE,
        opened.token,
        max_age=seconds,
        path="/",
        secure=not settings.insecure_http,
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    """Tell the browser to forget the session cookie (and the device-bound one)."""
    for name in (COOKIE, DEVICE_COOKIE):
        response.delete_cookie(
            name, path="/", secure=not settings.insecure_http, httponly=True, samesite="strict"
        )


Auth = Annotated[AuthDeps, Depends(auth_deps)]
Session = Annotated[RequestContext, Depends(authenticate)]
EnrolSession = Annotated[RequestContext, Depends(authenticate_for_enrolment)]
StepUpSession = Annotated[RequestContext, Depends(authenticate_for_step_up)]
