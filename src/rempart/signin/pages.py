"""Sign-in pages: password, then a TOTP code, a passkey or a recovery code; factors; step-up.

The forms call the sign-in use cases the API calls (``services/signin``) and set the same
``rempart_session`` cookie. Passkeys go through the API's WebAuthn endpoints from
``static/js/passkey.js``: the browser's ``navigator.credentials`` needs a script, and the CSP
allows scripts from this origin only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from rempart.kernel import errors as e
from rempart.signin.model import FactorAction
from rempart.signin.service import factors, login, proofs, sessions
from rempart.signin.web import (
    auth_deps,
    clear_session_cookie,
    session_token,
    set_session_cookie,
)
from rempart.web.deps import client_info, settings_of
from rempart.web.ui.routing import HtmlRoute, error_page, safe_next
from rempart.web.ui.templating import render
from rempart.web.ui.visitor import (
    Agent,
    AnyVisitor,
    StepUpVisitor,
    any_visitor,
    check_presession,
    keep_presession,
    presession_token,
)

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)

Field = Annotated[str, Form(max_length=1024)]
Short = Annotated[str, Form(max_length=256)]
METHOD_NAMES = {"totp": "code", "webauthn": "passkey", "recovery_code": "recovery"}


def _public_origin(request: Request) -> str:
    url = settings_of(request).public_url.rstrip("/")
    return url


def _login_page(
    request: Request, *, status: int = 200, error: str = "", suite: str = "", login_name: str = ""
) -> Response:
    token, fresh = presession_token(request)
    response = render(
        request,
        "signin/login.html",
        {
            "title": "Connexion",
            "form_token": token,
            "error": error,
            "suite": safe_next(suite, ""),
            "login_name": login_name,
            "proconnect": bool(settings_of(request).oidc_issuer),
        },
        status=status,
    )
    keep_presession(request, response, fresh)
    return response


def _second_factor_page(
    request: Request,
    challenge: str,
    methods: list[str],
    suite: str,
    *,
    status: int = 200,
    error: str = "",
) -> Response:
    token, fresh = presession_token(request)
    response = render(
        request,
        "signin/second_factor.html",
        {
            "title": "Second facteur",
            "form_token": token,
            "challenge": challenge,
            "methods": methods,
            "suite": safe_next(suite),
            "error": error,
            "public_origin": _public_origin(request),
        },
        status=status,
    )
    keep_presession(request, response, fresh)
    return response


@router.get("/")
async def home(request: Request, suite: str = "") -> Response:
    """The sign-in page; a signed-in agent goes on to their home page."""
    if session_token(request):
        try:
            await any_visitor(request)
        except e.RempartError:
            pass
        else:
            return RedirectResponse(safe_next(suite), status_code=303)
    return _login_page(request, suite=suite)


@router.post("/connexion")
def password_step(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=128)],
    login_name: Annotated[str, Form(alias="login", max_length=128)],
    password: Field,
    suite: Short = "",
) -> Response:
    """First factor; answers the second-factor page (a password alone never opens a session)."""
    check_presession(request, csrf_token)
    try:
        accepted = login.submit_password(
            auth_deps(request), login_name, password, client_info(request)
        )
    except (e.Unauthenticated, e.AccountLocked, e.AccessSuspended, e.Forbidden) as exc:
        status = 401 if isinstance(exc, e.Unauthenticated) else 403
        return _login_page(
            request, status=status, error=exc.detail, suite=suite, login_name=login_name
        )
    return _second_factor_page(request, accepted.challenge, accepted.methods, suite)


@router.post("/connexion/code")
def code_step(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=128)],
    challenge: Annotated[str, Form(max_length=128)],
    code: Annotated[str, Form(max_length=64)],
    methods: Annotated[str, Form(max_length=64)] = "totp",
    method: Annotated[str, Form(max_length=16)] = "totp",
    suite: Short = "",
) -> Response:
    """Second factor by TOTP or recovery code: opens the session, sets the cookie."""
    check_presession(request, csrf_token)
    auth = auth_deps(request)
    finish = (
        login.finish_with_recovery_code if method == "recovery_code" else login.finish_with_totp
    )
    try:
        opened = finish(auth, challenge, code, client_info(request), session_token(request))
    except (e.Unauthenticated, e.AccountLocked, e.Forbidden) as exc:
        if exc.detail == login.UNKNOWN_CHALLENGE or not isinstance(exc, e.Unauthenticated):
            return _login_page(request, status=401, error=exc.detail, suite=suite)
        offered = [m for m in methods.split() if m in METHOD_NAMES]
        return _second_factor_page(
            request, challenge, offered or ["totp"], suite, status=401, error=exc.detail
        )
    response = RedirectResponse(safe_next(suite), status_code=303)
    set_session_cookie(response, settings_of(request), opened)
    return response


@router.post("/deconnexion")
def sign_out(request: Request, visitor: AnyVisitor) -> Response:
    """End the session on the server, forget the cookie and whatever the browser kept."""
    sessions.logout(auth_deps(request), visitor.ctx, session_token(request) or "")
    response = RedirectResponse("/?ok=deconnecte", status_code=303)
    clear_session_cookie(response, settings_of(request))
    # ASVS V14.3.1: nothing of the session stays in the browser's caches or storage.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@router.get("/compte/securite")
def security_page(request: Request, visitor: AnyVisitor) -> Response:
    """The agent's factors: passkeys (register one here), TOTP, recovery codes, sessions."""
    auth = auth_deps(request)
    return render(
        request,
        "signin/security.html",
        {
            "title": "Sécurité de mon compte",
            "factors": factors.list_factors(auth, visitor.ctx),
            "proof_methods": [str(m) for m in proofs.methods_for(auth, visitor.ctx.agent)],
            "sessions": sessions.list_own(auth, visitor.ctx),
            "public_origin": _public_origin(request),
            "same_origin": _same_origin(request),
        },
    )


def _same_origin(request: Request) -> bool:
    """True when the browser is on the public URL (passkeys are bound to its host name)."""
    here = f"{request.url.scheme}://{request.url.netloc}"
    return here == _public_origin(request)


@router.post("/compte/codes-de-secours")
def recovery_codes(
    request: Request,
    visitor: Agent,
    proof_code: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Ten new recovery codes, shown once, after a new code of the app proven for this very
    action (the sign-in's freshness does not count)."""
    auth = auth_deps(request)
    try:
        proof = proofs.prove_with_totp(auth, visitor.ctx, FactorAction.RECOVERY_CODES, proof_code)
    except (e.StepUpRequired, e.Forbidden):
        # Not the step-up page: replaying this form would replay the refused code.
        return RedirectResponse("/compte/securite?ok=preuve_refusee", status_code=303)
    codes = factors.new_recovery_codes(auth, visitor.ctx, proof.token)
    return render(
        request, "signin/recovery_codes.html", {"title": "Codes de secours", "codes": codes}
    )


@router.post("/verification")
def step_up(
    request: Request,
    visitor: StepUpVisitor,
    stepup_code: Annotated[str, Form(max_length=64)],
    stepup_next: Annotated[str, Form(max_length=2048)] = "/accueil",
    stepup_method: Annotated[str, Form(max_length=8)] = "get",
) -> Response:
    """Prove the TOTP code again, then go back: a form is replayed as it was sent (307)."""
    target = safe_next(stepup_next)
    try:
        factors.step_up_totp(
            auth_deps(request), visitor.ctx, session_token(request) or "", stepup_code
        )
    except (e.StepUpRequired, e.Forbidden) as exc:
        return error_page(request, _Retry(exc.detail, target, stepup_method))
    if stepup_method == "post":
        return RedirectResponse(target, status_code=307)
    return RedirectResponse(target, status_code=303)


class _Retry(e.StepUpRequired):
    """A failed step-up: show the form again for the original target, not /verification."""

    def __init__(self, detail: str, target: str, method: str) -> None:
        super().__init__(detail)
        self.target = target
        self.method = "post" if method == "post" else "get"
