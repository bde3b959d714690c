"""The session cookie and ``authenticate``: from a request to the signed-in agent's context.

Shared by sign-in's edges (the API and the pages) and by the web kit's pages, which use the
very session of the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from rempart.kernel.context import RequestContext
from rempart.settings import Settings
from rempart.signin.service import sessions
from rempart.signin.service.deps import AuthDeps
from rempart.signin.service.sessions import OpenedSession
from rempart.web.deps import CSRF_HEADER, client_info, container

COOKIE = "rempart_session"
OIDC_COOKIE = "rempart_oidc"
OIDC_COOKIE_PATH = "/api/v1/auth/oidc"


def auth_deps(request: Request) -> AuthDeps:
    """The sign-in use cases' dependencies."""
    return container(request).auth


def session_token(request: Request) -> str | None:
    """The session cookie's value, if any."""
    return request.cookies.get(COOKIE)


def _resume(request: Request, *, allow_enrol_only: bool) -> RequestContext:
    return sessions.resume(
        auth_deps(request),
        session_token(request),
        client_info(request),
        request.method,
        request.headers.get(CSRF_HEADER),
        allow_enrol_only=allow_enrol_only,
    )


def authenticate(request: Request) -> RequestContext:
    """``app.state.authenticate``: the context of the request's live session, or an error."""
    return _resume(request, allow_enrol_only=False)


def authenticate_for_enrolment(request: Request) -> RequestContext:
    """Like ``authenticate``, but an enrol-only session may manage its own factors."""
    return _resume(request, allow_enrol_only=True)


def set_session_cookie(response: Response, settings: Settings, opened: OpenedSession) -> None:
    """``rempart_session``: HttpOnly, SameSite=Strict, Secure unless --insecure-http."""
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
    """Tell the browser to forget the session cookie."""
    response.delete_cookie(
        COOKIE, path="/", secure=not settings.insecure_http, httponly=True, samesite="strict"
    )


Auth = Annotated[AuthDeps, Depends(auth_deps)]
Session = Annotated[RequestContext, Depends(authenticate)]
EnrolSession = Annotated[RequestContext, Depends(authenticate_for_enrolment)]
