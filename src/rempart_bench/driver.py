"""Driving the real application through its HTTP interface, in process, as a client would.

Each simulated person at a keyboard is an ``Agentish``: a network address (sent through a
trusted proxy's X-Forwarded-For, as behind the production reverse proxy), a browser, and the
session cookie and CSRF token the portal gave them. Cookies are handled by hand so that a
thief can replay one from elsewhere, exactly as an infostealer does.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from typing import Any

import pyotp
from fastapi import FastAPI

with warnings.catch_warnings():
    # Starlette suggests another HTTP client package; the in-process transport is all we use.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PROXY = "10.255.0.1"  # the bench's reverse proxy; settings trust 10.255.0.0/16
PROXY_CIDR = "10.255.0.0/16"


@dataclass
class Answer:
    status: int
    code: str
    body: dict[str, Any]
    retry_after: int = 0

    @property
    def rule(self) -> str:
        """The guard rule named at the start of a problem's detail, if any."""
        detail = str(self.body.get("detail", ""))
        if not detail.startswith("guard:"):
            return ""
        return ":".join(detail.split(":")[:3])


@dataclass
class Agentish:
    """Someone at a keyboard: who they claim to be, where from, with which browser."""

    login: str
    password: str
    totp_secret: str
    ip: str
    user_agent: str
    cookie: str = ""
    csrf: str = ""
    used_steps: set[int] = field(default_factory=set)

    def code(self, now: dt.datetime) -> str:
        """A TOTP code for ``now`` that this person has not used yet (one per 30 s step)."""
        step = int(now.timestamp()) // 30
        if step in self.used_steps:
            step += 1  # the next step is still within the verifier's ±1 step window
        self.used_steps.add(step)
        return pyotp.TOTP(self.totp_secret).at(step * 30)


class Driver:
    """Sends requests to the app in process and turns answers into ``Answer``s."""

    def __init__(self, app: FastAPI) -> None:
        self.client = TestClient(app, client=(PROXY, 40000), raise_server_exceptions=True)
        # Entered once: one event loop thread for the whole run, not one per request.
        self.client.__enter__()

    def close(self) -> None:
        """Stop the client's event loop (and the app's lifespan)."""
        self.client.__exit__(None, None, None)

    def request(
        self, who: Agentish, method: str, path: str, json: dict[str, Any] | None = None
    ) -> Answer:
        """One request from ``who``'s network and browser, with their cookie if any."""
        headers = {"x-forwarded-for": who.ip, "user-agent": who.user_agent}
        if who.cookie:
            headers["cookie"] = f"rempart_session={who.cookie}"
            if method not in ("GET", "HEAD"):
                headers["x-csrf-token"] = who.csrf
        r = self.client.request(method, path, json=json, headers=headers)
        self.client.cookies.clear()  # each simulated person carries their own cookie, by hand
        try:
            body = r.json() if r.content else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {"items": body}
        cookie = r.cookies.get("rempart_session")
        if cookie:
            who.cookie = cookie
        return Answer(
            status=r.status_code,
            code=str(body.get("code", "")) if r.status_code >= 400 else "",
            body=body,
            retry_after=int(r.headers.get("retry-after", "0") or 0),
        )

    def sign_in(self, who: Agentish, now: dt.datetime, *, second_factor: bool = True) -> Answer:
        """Password then TOTP, as the API contract says; returns the last answer."""
        first = self.request(
            who, "POST", "/api/v1/auth/login", {"login": who.login, "password": who.password}
        )
        if first.status != 200 or not second_factor:
            return first
        second = self.request(
            who,
            "POST",
            "/api/v1/auth/mfa/totp",
            {"challenge": first.body.get("challenge", ""), "code": who.code(now)},
        )
        if second.status == 200:
            who.csrf = str(second.body.get("csrf_token", ""))
        return second

    def step_up(self, who: Agentish, now: dt.datetime) -> Answer:
        """Prove the second factor again inside the session."""
        return self.request(who, "POST", "/api/v1/auth/step-up/totp", {"code": who.code(now)})
