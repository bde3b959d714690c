"""Device Bound Session Credentials (W3C WebAppSec draft): registration and refresh.

The browser calls these itself (Chrome since version 145): the registration after a sign-in
whose answer carried ``Secure-Session-Registration``, the refresh before its bound cookie ends.
The protocol and the reasons are in ``signin.service.devices``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from rempart.kernel.context import RequestContext
from rempart.settings import Settings
from rempart.signin.service import devices
from rempart.signin.service.devices import DeviceCookie
from rempart.signin.service.sessions import Resumption
from rempart.signin.web import (
    DEVICE_COOKIE,
    DEVICE_REFRESH_PATH,
    Auth,
    resume_for,
    session_token,
)
from rempart.web.deps import AppSettings
from rempart.web.errors import problem
from rempart.web.openapi import problems
from rempart.web.routing import SettledRoute

router = APIRouter(prefix="/api/v1/auth/dbsc", tags=["sign-in"], route_class=SettledRoute)

RESPONSE_HEADER = "Secure-Session-Response"
SESSION_ID_HEADER = "Sec-Secure-Session-Id"
CHALLENGE_HEADER = "Secure-Session-Challenge"


class DeviceScope(BaseModel):
    """Where the bound cookie is needed: this origin."""

    origin: str
    include_site: bool
    scope_specification: list[dict[str, str]]


class DeviceCredential(BaseModel):
    """The cookie the browser keeps alive by refreshing."""

    type: str
    name: str
    attributes: str


class DeviceSession(BaseModel):
    """The DBSC session configuration (the draft's JSON)."""

    session_identifier: str
    refresh_url: str
    scope: DeviceScope
    credentials: list[DeviceCredential]


def _config(auth: Auth, settings: Settings, cookie: DeviceCookie) -> dict[str, Any]:
    """The session configuration the draft's browser expects, naming the cookie it keeps."""
    secure = "" if settings.insecure_http else " Secure;"
    return {
        "session_identifier": cookie.session_id,
        "refresh_url": DEVICE_REFRESH_PATH,
        "scope": {
            "origin": auth.policy.origin,
            "include_site": False,
            "scope_specification": [],
        },
        "credentials": [
            {
                "type": "cookie",
                "name": DEVICE_COOKIE,
                "attributes": f"Path=/;{secure} HttpOnly; SameSite=Strict",
            }
        ],
    }


def _with_cookie(
    response: Response, auth: Auth, settings: Settings, cookie: DeviceCookie
) -> dict[str, Any]:
    response.set_cookie(
        DEVICE_COOKIE,
        cookie.value,
        max_age=cookie.max_age,
        path="/",
        secure=not settings.insecure_http,
        httponly=True,
        samesite="strict",
    )
    return _config(auth, settings, cookie)


def _context(request: Request, purpose: Resumption) -> RequestContext:
    return resume_for(request, purpose)


@router.post("/register", response_model=DeviceSession, responses=problems(401, 403, 409))
def register(request: Request, response: Response, auth: Auth, settings: AppSettings) -> Any:
    """Bind the session to the browser's key (the JWT in ``Secure-Session-Response``)."""
    ctx = _context(request, Resumption.DEVICE_REGISTRATION)
    cookie = devices.register(
        auth, ctx, session_token(request) or "", request.headers.get(RESPONSE_HEADER)
    )
    return _with_cookie(response, auth, settings, cookie)


@router.post("/refresh", response_model=DeviceSession, responses=problems(401, 403))
def refresh(request: Request, response: Response, auth: Auth, settings: AppSettings) -> Any:
    """Without an answer: ``403`` and a challenge; with a signed one: a new bound cookie."""
    ctx = _context(request, Resumption.DEVICE_REFRESH)
    token = session_token(request) or ""
    answer = request.headers.get(RESPONSE_HEADER)
    if not answer:
        challenge = devices.refresh_challenge(auth, ctx, token)
        return problem(
            403,
            "forbidden",
            "sign the challenge with this session's key",
            {CHALLENGE_HEADER: f'"{challenge}";id="{ctx.session_id}"'},
        )
    cookie = devices.refresh(auth, ctx, token, request.headers.get(SESSION_ID_HEADER), answer)
    return _with_cookie(response, auth, settings, cookie)
