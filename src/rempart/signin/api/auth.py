"""Sign-in over HTTP: password, second factors, sessions, factors, federation, admin revocation.

The contract's part (login, mfa/totp, logout, step-up/totp) is fixed by shared/API.md; the
rest is documented here and in the OpenAPI spec.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rempart.kernel.errors import Unauthenticated
from rempart.signin.model import FactorAction, Method
from rempart.signin.service import admin, factors, federation, login, proofs, sessions
from rempart.signin.service.sessions import OpenedSession, Resumption
from rempart.signin.web import (
    DEVICE_COOKIE,
    OIDC_COOKIE,
    OIDC_COOKIE_PATH,
    Auth,
    EnrolSession,
    Session,
    StepUpSession,
    clear_session_cookie,
    session_token,
    set_session_cookie,
)
from rempart.web.deps import AppSettings, client_info
from rempart.web.openapi import no_content, problems
from rempart.web.routing import SettledRoute

router = APIRouter(prefix="/api/v1/auth", tags=["sign-in"], route_class=SettledRoute)
admin_router = APIRouter(
    prefix="/api/v1/admin", tags=["sign-in administration"], route_class=SettledRoute
)

Challenge = Annotated[str, Field(min_length=1, max_length=128)]
Code = Annotated[str, Field(min_length=1, max_length=64)]
Login = Annotated[str, Path(min_length=1, max_length=64)]
# The ticket of a factor proven for this very change (POST /api/v1/auth/factors/proof/...).
FactorProof = Annotated[
    str | None,
    Header(
        alias="X-Factor-Proof",
        max_length=128,
        description="The proof ticket made for this action (factors/proof/totp or "
        "factors/proof/webauthn); the sign-in's freshness is not a proof.",
    ),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_In):
    login: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)  # verified exactly as typed


class LoginOut(BaseModel):
    mfa_required: bool
    challenge: str
    methods: list[Method] = Field(description="The second factors this account may finish with")


class TotpIn(_In):
    challenge: Challenge
    code: Code


class ChallengeIn(_In):
    challenge: Challenge


class WebauthnIn(_In):
    challenge: Challenge
    credential: dict[str, Any] = Field(description="PublicKeyCredential, JSON-encoded")


class WebauthnRegisterIn(WebauthnIn):
    name: str = Field(default="security key", max_length=64)


class CodeIn(_In):
    code: Code


class SessionOut(BaseModel):
    csrf_token: str = Field(description="Send it as X-CSRF-Token with every unsafe method.")
    expires_at: AwareDatetime
    idle_expires_at: AwareDatetime
    fresh_until: AwareDatetime | None


class FreshOut(BaseModel):
    fresh_until: AwareDatetime


class OptionsOut(BaseModel):
    challenge: str
    options: dict[str, Any] = Field(description="WebAuthn options, for navigator.credentials")


class SessionInfo(BaseModel):
    id: str
    csrf_token: str
    expires_at: AwareDatetime
    idle_expires_at: AwareDatetime
    fresh_until: AwareDatetime | None
    method: str = Field(description="totp, webauthn, recovery_code, or oidc:ACR")
    enrol_only: bool = Field(description="May only manage its own factors")


class LiveSession(BaseModel):
    id: str
    created_at: AwareDatetime
    last_seen_at: AwareDatetime
    network: str
    country: str
    user_agent: str
    method: str
    current: bool


class LiveSessions(BaseModel):
    items: list[LiveSession]


class Revoked(BaseModel):
    revoked: int = Field(description="How many sessions ended")


class TotpStatus(BaseModel):
    enrolled: bool


class KeyOut(BaseModel):
    id: int
    name: str
    created_at: AwareDatetime


class KeyInfo(KeyOut):
    last_used_at: AwareDatetime | None


class CodesLeft(BaseModel):
    left: int


class Identity(BaseModel):
    issuer: str
    subject: str


class FactorsOut(BaseModel):
    totp: TotpStatus
    webauthn: list[KeyInfo]
    recovery_codes: CodesLeft
    federated_identities: list[Identity]
    sign_in_methods: list[Method]


class TotpEnrolment(BaseModel):
    challenge: str
    secret: str = Field(description="Base32, to add to an authenticator app")
    otpauth_uri: str


class RecoveryCodes(BaseModel):
    codes: list[str] = Field(description="Shown once")


class ProofTotpIn(_In):
    action: FactorAction
    code: Code


class ProofBeginIn(_In):
    action: FactorAction


class ProofOut(BaseModel):
    proof: str = Field(description="Send it as X-Factor-Proof with the change; used once")
    action: FactorAction
    method: str
    expires_at: AwareDatetime


class PasswordChanged(BaseModel):
    sessions_ended: int


class PasswordIn(_In):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)
    end_other_sessions: bool = True


def _session_out(
    request: Request, response: Response, settings: AppSettings, opened: OpenedSession, auth: Auth
) -> dict[str, Any]:
    set_session_cookie(response, settings, opened)
    return {
        "csrf_token": opened.csrf_token,
        "expires_at": opened.session.expires_at,
        "idle_expires_at": opened.session.idle_expires_at(auth.policy),
        "fresh_until": opened.session.fresh_until,
    }


@router.post(
    "/login",
    response_model=LoginOut,
    responses=problems(400, 401, 403, 429),
)
def password_step(request: Request, auth: Auth, body: LoginIn) -> Any:
    """First factor. Never opens a session: answers a challenge for the second factor."""
    accepted = login.submit_password(auth, body.login, body.password, client_info(request))
    return {"mfa_required": True, "challenge": accepted.challenge, "methods": accepted.methods}


@router.post("/mfa/totp", response_model=SessionOut, responses=problems(400, 401, 403, 429))
def mfa_totp(
    request: Request, response: Response, auth: Auth, settings: AppSettings, body: TotpIn
) -> Any:
    """Second factor by TOTP code; sets the ``rempart_session`` cookie."""
    opened = login.finish_with_totp(
        auth, body.challenge, body.code, client_info(request), session_token(request)
    )
    return _session_out(request, response, settings, opened, auth)


@router.post(
    "/mfa/recovery-code",
    response_model=SessionOut,
    responses=problems(400, 401, 403, 429),
)
def mfa_recovery_code(
    request: Request, response: Response, auth: Auth, settings: AppSettings, body: TotpIn
) -> Any:
    """Second factor by a one-time recovery code (not offered to privileged roles)."""
    opened = login.finish_with_recovery_code(
        auth, body.challenge, body.code, client_info(request), session_token(request)
    )
    return _session_out(request, response, settings, opened, auth)


@router.post(
    "/webauthn/login/begin", response_model=OptionsOut, responses=problems(400, 401, 403, 429)
)
def webauthn_login_begin(request: Request, auth: Auth, body: ChallengeIn) -> Any:
    """WebAuthn request options for the challenge's account (user verification required)."""
    options = login.webauthn_options(auth, body.challenge, client_info(request))
    return {"challenge": body.challenge, "options": json.loads(options)}


@router.post(
    "/webauthn/login/finish",
    response_model=SessionOut,
    responses=problems(400, 401, 403, 429),
)
def webauthn_login_finish(
    request: Request, response: Response, auth: Auth, settings: AppSettings, body: WebauthnIn
) -> Any:
    """Second factor by security key; sets the ``rempart_session`` cookie."""
    opened = login.finish_with_webauthn(
        auth,
        body.challenge,
        json.dumps(body.credential),
        client_info(request),
        session_token(request),
    )
    return _session_out(request, response, settings, opened, auth)


@router.post(
    "/logout",
    status_code=204,
    responses={**no_content("Signed out; the cookie is cleared"), **problems(401, 403)},
)
def logout(request: Request, auth: Auth, settings: AppSettings) -> Response:
    """End the session on the server and clear the cookie."""
    token = session_token(request)
    response = Response(status_code=204)
    if token is not None:
        try:
            ctx = sessions.resume(
                auth,
                token,
                client_info(request),
                request.method,
                request.headers.get("x-csrf-token"),
                allow_enrol_only=True,
                device_cookie=request.cookies.get(DEVICE_COOKIE),
                # Signing out gives nothing away: it is allowed from a new address too.
                purpose=Resumption.STEP_UP,
            )
        except Unauthenticated as exc:
            if exc.code != "unauthenticated":  # revoked sessions still say so
                raise
        else:
            sessions.logout(auth, ctx, token)
    clear_session_cookie(response, settings)
    return response


@router.get("/session", response_model=SessionInfo, responses=problems(401, 403))
def current_session(request: Request, auth: Auth, ctx: EnrolSession) -> Any:
    """The current session: its CSRF token and timeouts (after a federated sign-in, say)."""
    return sessions.describe(auth, ctx, session_token(request) or "")


@router.get("/sessions", response_model=LiveSessions, responses=problems(401, 403))
def my_sessions(auth: Auth, ctx: Session) -> Any:
    """The caller's live sessions."""
    return {"items": sessions.list_own(auth, ctx)}


@router.post("/sessions/revoke-others", response_model=Revoked, responses=problems(401, 403))
def revoke_my_other_sessions(request: Request, auth: Auth, ctx: Session) -> Any:
    """End every other session of the caller (after a fresh second-factor proof)."""
    return {"revoked": sessions.revoke_others(auth, ctx, session_token(request) or "")}


@router.post("/step-up/totp", response_model=FreshOut, responses=problems(400, 401, 403, 429))
def step_up_totp(request: Request, auth: Auth, ctx: StepUpSession, body: CodeIn) -> Any:
    """Prove the TOTP factor again; privileged actions are allowed until ``fresh_until``."""
    until = factors.step_up_totp(auth, ctx, session_token(request) or "", body.code)
    return {"fresh_until": until}


@router.post(
    "/step-up/webauthn/begin", response_model=OptionsOut, responses=problems(401, 403, 409)
)
def step_up_webauthn_begin(auth: Auth, ctx: StepUpSession) -> Any:
    """WebAuthn request options to confirm inside the session."""
    handle, options = factors.webauthn_step_up_options(auth, ctx)
    return {"challenge": handle, "options": json.loads(options)}


@router.post(
    "/step-up/webauthn/finish", response_model=FreshOut, responses=problems(400, 401, 403, 429)
)
def step_up_webauthn_finish(
    request: Request, auth: Auth, ctx: StepUpSession, body: WebauthnIn
) -> Any:
    """Prove the security key again."""
    until = factors.step_up_webauthn(
        auth, ctx, session_token(request) or "", body.challenge, json.dumps(body.credential)
    )
    return {"fresh_until": until}


@router.get("/factors", response_model=FactorsOut, responses=problems(401, 403))
def list_factors(auth: Auth, ctx: EnrolSession) -> Any:
    """The caller's enrolled factors and the sign-in methods they allow."""
    return factors.list_factors(auth, ctx)


def _proof_out(proof: proofs.Proof) -> dict[str, Any]:
    return {
        "proof": proof.token,
        "action": proof.action,
        "method": proof.method,
        "expires_at": proof.expires_at,
    }


@router.post("/factors/proof/totp", response_model=ProofOut, responses=problems(400, 401, 403, 429))
def factor_proof_totp(auth: Auth, ctx: EnrolSession, body: ProofTotpIn) -> Any:
    """Prove the TOTP factor (a new code) for one factor change; throttled like a sign-in."""
    return _proof_out(proofs.prove_with_totp(auth, ctx, body.action, body.code))


@router.post(
    "/factors/proof/webauthn/begin", response_model=OptionsOut, responses=problems(400, 401, 403)
)
def factor_proof_webauthn_begin(auth: Auth, ctx: EnrolSession, body: ProofBeginIn) -> Any:
    """WebAuthn request options to prove a key for one factor change."""
    handle, options = proofs.webauthn_proof_options(auth, ctx, body.action)
    return {"challenge": handle, "options": json.loads(options)}


@router.post(
    "/factors/proof/webauthn/finish",
    response_model=ProofOut,
    responses=problems(400, 401, 403, 429),
)
def factor_proof_webauthn_finish(auth: Auth, ctx: EnrolSession, body: WebauthnIn) -> Any:
    """The key's assertion: a proof ticket for the action named at ``begin``."""
    return _proof_out(
        proofs.prove_with_webauthn(auth, ctx, body.challenge, json.dumps(body.credential))
    )


@router.post(
    "/webauthn/register/begin", response_model=OptionsOut, responses=problems(400, 401, 403)
)
def webauthn_register_begin(auth: Auth, ctx: EnrolSession, proof: FactorProof = None) -> Any:
    """Creation options for a new security key (a proof made for ``webauthn_register``; a
    privileged account's first key also needs a second person's approval)."""
    handle, options = factors.webauthn_registration_options(auth, ctx, proof)
    return {"challenge": handle, "options": json.loads(options)}


@router.post(
    "/webauthn/register/finish",
    status_code=201,
    response_model=KeyOut,
    responses=problems(400, 401, 403, 409),
)
def webauthn_register_finish(auth: Auth, ctx: EnrolSession, body: WebauthnRegisterIn) -> Any:
    """Verify and store the new key."""
    key = factors.register_webauthn(
        auth, ctx, body.challenge, json.dumps(body.credential), body.name
    )
    return {"id": key.id, "name": key.name, "created_at": key.created_at}


@router.delete(
    "/factors/webauthn/{key_id}",
    status_code=204,
    responses={**no_content("The key is removed"), **problems(400, 401, 403, 404, 409)},
)
def remove_webauthn(
    auth: Auth,
    ctx: Session,
    key_id: Annotated[int, Path(ge=1, le=2**62)],
    proof: FactorProof = None,
) -> Response:
    """Remove one of the caller's keys (not the last way to sign in; a proof made for
    ``webauthn_remove``)."""
    factors.remove_webauthn(auth, ctx, key_id, proof)
    return Response(status_code=204)


@router.post("/totp/enrol/begin", response_model=TotpEnrolment, responses=problems(400, 401, 403))
def totp_enrol_begin(auth: Auth, ctx: EnrolSession, proof: FactorProof = None) -> Any:
    """A new TOTP secret (and its otpauth URI) to confirm with a code (a proof made for
    ``totp_enrol``)."""
    return factors.totp_enrolment(auth, ctx, proof)


@router.post(
    "/totp/enrol/finish",
    status_code=204,
    responses={**no_content("The new TOTP secret is active"), **problems(400, 401, 403, 404)},
)
def totp_enrol_finish(auth: Auth, ctx: EnrolSession, body: TotpIn) -> Response:
    """Confirm the new TOTP secret with a code from it."""
    factors.confirm_totp(auth, ctx, body.challenge, body.code)
    return Response(status_code=204)


@router.delete(
    "/factors/totp",
    status_code=204,
    responses={
        **no_content("The TOTP secret is forgotten"),
        **problems(400, 401, 403, 404, 409),
    },
)
def remove_totp(auth: Auth, ctx: Session, proof: FactorProof = None) -> Response:
    """Forget the caller's TOTP secret (not the last way to sign in; a proof made for
    ``totp_remove``)."""
    factors.remove_totp(auth, ctx, proof)
    return Response(status_code=204)


@router.post(
    "/factors/recovery-codes", response_model=RecoveryCodes, responses=problems(400, 401, 403)
)
def new_recovery_codes(auth: Auth, ctx: Session, proof: FactorProof = None) -> Any:
    """Ten new one-time recovery codes, shown once; the previous ones stop working (a proof
    made for ``recovery_codes``)."""
    return {"codes": factors.new_recovery_codes(auth, ctx, proof)}


@router.post("/password", response_model=PasswordChanged, responses=problems(400, 401, 403, 429))
def change_password(
    request: Request, auth: Auth, ctx: Session, body: PasswordIn, proof: FactorProof = None
) -> Any:
    """Change the caller's password (CNIL 2022-100 policy, common passwords refused): a proof
    made for ``password_change``, throttled and counted towards the lock like a sign-in."""
    ended = factors.change_password(
        auth,
        ctx,
        session_token(request) or "",
        body.current_password,
        body.new_password,
        body.end_other_sessions,
        proof,
    )
    return {"sessions_ended": ended}


_LOCATION = {"Location": {"description": "Where to go next", "schema": {"type": "string"}}}


def _redirect_uri(settings: AppSettings) -> str:
    return settings.public_url.rstrip("/") + "/api/v1/auth/oidc/callback"


@router.get(
    "/oidc/login",
    status_code=302,
    response_class=RedirectResponse,
    responses={
        302: {"description": "To the identity provider", "headers": _LOCATION},
        **problems(404, 429),
    },
)
def oidc_login(request: Request, auth: Auth, settings: AppSettings) -> Response:
    """Start a federated sign-in: redirect to the identity provider (code + PKCE)."""
    url, browser = federation.start(auth, client_info(request), _redirect_uri(settings))
    response = RedirectResponse(url, status_code=302)
    # Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
    response.set_cookie(
        OIDC_COOKIE,
        browser,
        max_age=int(auth.policy.oidc_ttl.total_seconds()),
        path=OIDC_COOKIE_PATH,
        secure=not settings.insecure_http,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get(
    "/oidc/callback",
    status_code=303,
    response_class=RedirectResponse,
    responses={
        303: {"description": "Signed in: to the home page", "headers": _LOCATION},
        **problems(400, 401, 403, 404, 429),
    },
)
def oidc_callback(
    request: Request,
    auth: Auth,
    settings: AppSettings,
    state: Annotated[str, Query(max_length=256)] = "",
    code: Annotated[str, Query(max_length=2048)] = "",
    iss: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    """The provider's answer: verify it, open a session for the linked account, go home."""
    opened = federation.finish(
        auth,
        client_info(request),
        _redirect_uri(settings),
        state=state,
        code=code,
        issuer=iss,
        error=error,
        browser=request.cookies.get(OIDC_COOKIE),
        replaces=session_token(request),
    )
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, settings, opened)
    response.delete_cookie(OIDC_COOKIE, path=OIDC_COOKIE_PATH, secure=not settings.insecure_http)
    return response


@admin_router.post(
    "/accounts/{login}/sessions/revoke",
    response_model=Revoked,
    responses=problems(400, 401, 403, 404),
)
def revoke_account_sessions(auth: Auth, ctx: Session, login: Login) -> Any:
    """End every session of an account (administrators, security officers, its account manager)."""
    return {"revoked": admin.revoke_account_sessions(auth, ctx, login)}


@admin_router.post(
    "/organisations/{org_id}/sessions/revoke",
    response_model=Revoked,
    responses=problems(400, 401, 403, 404),
)
def revoke_org_sessions(
    auth: Auth, ctx: Session, org_id: Annotated[str, Path(min_length=1, max_length=32)]
) -> Any:
    """End every session of an organisation (administrators, security officers)."""
    return {"revoked": admin.revoke_org_sessions(auth, ctx, org_id)}


@admin_router.delete(
    "/accounts/{login}/identities",
    status_code=204,
    responses={**no_content("The link is removed"), **problems(400, 401, 403, 404)},
)
def unlink_identity(
    auth: Auth,
    ctx: Session,
    login: Login,
    issuer: Annotated[str, Query(min_length=1, max_length=255)],
    subject: Annotated[str, Query(min_length=1, max_length=255)],
) -> Response:
    """Remove a federated identity's link."""
    admin.unlink_identity(auth, ctx, login, issuer, subject)
    return Response(status_code=204)
