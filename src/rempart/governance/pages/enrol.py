"""The enrolment page the mailed link opens: plain HTML forms, no script, every value escaped.

Opening the link (GET) only shows a button: mail scanners that prefetch links never see the
authenticator secret, which is handed out on the POST that follows.
"""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import HTMLResponse

from rempart.governance.service import enrolment
from rempart.governance.web import Gov
from rempart.kernel.errors import RempartError
from rempart.web.deps import client_info
from rempart.web.errors import status_of
from rempart.web.routing import SettledRoute

router = APIRouter(tags=["enrolment"], include_in_schema=False, route_class=SettledRoute)

Token = Annotated[str, Form(min_length=1, max_length=128)]


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)} · Rempart</title></head><body><main>"
        f"<h1>{html.escape(title)}</h1>{body}</main></body></html>",
        status_code=status,
    )


def _failed(exc: RempartError) -> HTMLResponse:
    return _page("Enrolment", f"<p role='alert'>{html.escape(exc.detail)}</p>", status_of(exc))


def _hidden(token: str) -> str:
    return f"<input type='hidden' name='token' value='{html.escape(token, quote=True)}'>"


@router.get("/enrol", response_class=HTMLResponse)
def open_link(token: Annotated[str, Query(min_length=1, max_length=128)]) -> HTMLResponse:
    """The link's landing page: one button, nothing secret yet."""
    return _page(
        "Activate your Rempart account",
        "<form method='post' action='/enrol/start'>"
        f"{_hidden(token)}<button type='submit'>Start</button></form>",
    )


@router.post("/enrol/start", response_class=HTMLResponse)
def start(gov: Gov, token: Token) -> HTMLResponse:
    """Show the authenticator secret, and ask for a password and the first code."""
    try:
        info = enrolment.begin(gov, token)
    except RempartError as exc:
        return _failed(exc)
    secret = html.escape(str(info["totp_secret"]))
    return _page(
        f"Account {info['login']}",
        f"<p>Organisation: {html.escape(str(info['organisation']))}</p>"
        "<p>Add this key to your authenticator app:</p>"
        f"<p><code>{secret}</code></p>"
        f"<p><code>{html.escape(str(info['otpauth_uri']))}</code></p>"
        "<form method='post' action='/enrol/finish'>"
        f"{_hidden(token)}"
        "<label>New password <input type='password' name='password' required "
        "autocomplete='new-password' maxlength='256'></label>"
        "<label>Code shown by the app <input name='code' required inputmode='numeric' "
        "autocomplete='one-time-code' maxlength='16'></label>"
        "<button type='submit'>Activate</button></form>",
    )


@router.post("/enrol/finish", response_class=HTMLResponse)
def finish(
    gov: Gov,
    request: Request,
    token: Token,
    password: Annotated[str, Form(min_length=1, max_length=256)],
    code: Annotated[str, Form(min_length=1, max_length=16)],
) -> HTMLResponse:
    """Set the password, prove the code: done."""
    try:
        done = enrolment.complete(gov, token, password, code, client_info(request))
    except RempartError as exc:
        return _failed(exc)
    after = (
        "Sign in, then register your security key."
        if done["next"] == "register_security_key"
        else "You can now sign in."
    )
    return _page("Account activated", f"<p>{html.escape(after)}</p>")
