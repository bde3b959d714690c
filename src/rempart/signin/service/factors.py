"""Second factors of the signed-in agent: list, add, remove; step-up; password change.

Changing what authenticates an account needs a proof of an existing factor made for that very
change (``proofs``: a new TOTP code or a key's assertion, ASVS V6.4.4, V7.5.1), never the
sign-in's freshness; every change is a security event, mailed to the account's holder and
alerted to the security team. A privileged account's first passkey also needs a second
person's approval.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from rempart.kernel.context import RequestContext
from rempart.kernel.errors import (
    AccountLocked,
    Conflict,
    Forbidden,
    NotFound,
    StepUpRequired,
    Unauthenticated,
)
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import (
    ChallengeKind,
    EndReason,
    FactorAction,
    Method,
    WebauthnCredential,
    allowed_methods,
    digest,
    keyed_digest,
    needs_first_key_approval,
)
from rempart.signin.passwords import check_password
from rempart.signin.service import proofs
from rempart.signin.service.deps import AuthDeps
from rempart.signin.service.events import emit
from rempart.signin.service.login import (
    LOCKED,
    b64,
    check_throttle,
    count_failure,
    mfa_failed,
    normalise_code,
    recovery_code_hash,
    spend_totp_code,
    unb64,
    verify_assertion,
)
from rempart.signin.service.sessions import end_sessions, mark_fresh

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, no 0/O or 1/I
RECOVERY_LENGTH = 24  # 24 × 5 bits = 120 bits ≥ 112 (ASVS V6.5.2): a keyed SHA-256 suffices
FIRST_KEY_NEEDS_APPROVAL = (
    "your first passkey needs a second person's approval: ask your security officer, "
    "another account manager of your organisation or an agency administrator"
)


def user_handle(deps: AuthDeps, agent_id: int) -> bytes:
    """The WebAuthn user handle: opaque, stable, no personal data in it."""
    return bytes.fromhex(keyed_digest(deps.secret, "webauthn-user", str(agent_id)))[:32]


def _own_challenge(deps: AuthDeps, ctx: RequestContext, handle: str, kind: ChallengeKind) -> Any:
    """A challenge this very session started, still in time; it is consumed."""
    challenge = proofs.own_challenge(deps, ctx, handle, kind)
    if challenge is None:
        raise Unauthenticated("unknown or expired challenge: start again")
    return challenge


def _factor_event(
    deps: AuthDeps, ctx: RequestContext, added: bool, kind: str, **details: object
) -> None:
    emit(
        deps,
        Tag.AUTH_FACTOR_ADDED if added else Tag.AUTH_FACTOR_REMOVED,
        Decision.ALLOW,
        ctx.client,
        agent=ctx.agent,
        session_id=ctx.session_id,
        details={"factor": kind, **details},
    )


def list_factors(deps: AuthDeps, ctx: RequestContext) -> dict[str, Any]:
    """What the agent has enrolled, and what sign-in will accept from them."""
    creds = deps.credentials.credentials_by_id(ctx.agent.id)
    keys = deps.webauthn_keys.webauthn_credentials(ctx.agent.id)
    left = deps.recovery_codes.recovery_codes_left(ctx.agent.id)
    has_totp = bool(creds and creds.totp_secret)
    return {
        "totp": {"enrolled": has_totp},
        "webauthn": [
            {"id": k.id, "name": k.name, "created_at": k.created_at, "last_used_at": k.last_used_at}
            for k in keys
        ],
        "recovery_codes": {"left": left},
        "federated_identities": [
            {"issuer": i, "subject": s} for i, s in deps.identities.identities_of(ctx.agent.id)
        ],
        "sign_in_methods": [
            str(m)
            for m in allowed_methods(
                ctx.agent,
                has_totp=has_totp,
                has_webauthn=bool(keys),
                recovery_codes_left=left,
                policy=deps.policy,
            )
        ],
    }


def webauthn_registration_options(
    deps: AuthDeps, ctx: RequestContext, proof: str | None
) -> tuple[str, str]:
    """(challenge handle, creation options JSON) for a new key of the caller; ``proof``: the
    ticket of a factor proven for ``webauthn_register``."""
    method = proofs.spend(deps, ctx, FactorAction.WEBAUTHN_REGISTER, proof)
    keys = deps.webauthn_keys.webauthn_credentials(ctx.agent.id)
    if needs_first_key_approval(
        ctx.agent, has_webauthn=bool(keys), policy=deps.policy
    ) and not proofs.first_key_approval(deps, ctx.agent, spend_it=False):
        proofs.refused(deps, ctx, FactorAction.WEBAUTHN_REGISTER, "first passkey not approved")
        raise Forbidden(FIRST_KEY_NEEDS_APPROVAL)
    options, raw = deps.webauthn.registration_options(
        user_handle(deps, ctx.agent.id),
        ctx.agent.login,
        ctx.agent.login,
        [k.credential_id for k in keys],
    )
    handle = proofs.new_challenge(
        deps, ctx, ChallengeKind.WEBAUTHN_REGISTER, {"webauthn": b64(raw), "proof": method}
    )
    return handle, options


def register_webauthn(
    deps: AuthDeps, ctx: RequestContext, handle: str, credential_json: str, name: str
) -> WebauthnCredential:
    """Verify the attestation and store the key (user verification required); the ceremony
    was opened with a proof, and a privileged first key spends its approval here."""
    challenge = _own_challenge(deps, ctx, handle, ChallengeKind.WEBAUTHN_REGISTER)
    new = deps.webauthn.verify_registration(credential_json, unb64(challenge.payload["webauthn"]))
    existing = deps.webauthn_keys.webauthn_credentials(ctx.agent.id)
    if any(k.credential_id == new.credential_id for k in existing):
        raise Conflict("this security key is already registered")
    if len(existing) >= 10:
        raise Conflict("at most 10 security keys per account")
    if needs_first_key_approval(
        ctx.agent, has_webauthn=bool(existing), policy=deps.policy
    ) and not proofs.first_key_approval(deps, ctx.agent, spend_it=True):
        proofs.refused(deps, ctx, FactorAction.WEBAUTHN_REGISTER, "first passkey not approved")
        raise Forbidden(FIRST_KEY_NEEDS_APPROVAL)
    key = deps.webauthn_keys.add_webauthn_credential(
        ctx.agent.id, new, name.strip() or "security key", deps.clock.now()
    )
    _factor_event(deps, ctx, True, "webauthn", name=key.name, key_id=key.id)
    proofs.changed(
        deps,
        ctx,
        FactorAction.WEBAUTHN_REGISTER,
        challenge.payload.get("proof", ""),
        {"key_id": key.id, "name": key.name},
    )
    return key


def _still_signs_in(
    deps: AuthDeps, ctx: RequestContext, *, totp: bool, keys: int, recovery: int
) -> bool:
    return bool(
        allowed_methods(
            ctx.agent,
            has_totp=totp,
            has_webauthn=keys > 0,
            recovery_codes_left=recovery,
            policy=deps.policy,
        )
    )


def remove_webauthn(deps: AuthDeps, ctx: RequestContext, key_id: int, proof: str | None) -> None:
    """Remove one of the caller's keys, unless it is the last way to sign in."""
    method = proofs.spend(deps, ctx, FactorAction.WEBAUTHN_REMOVE, proof)
    keys = deps.webauthn_keys.webauthn_credentials(ctx.agent.id)
    if not any(k.id == key_id for k in keys):
        raise NotFound()
    creds = deps.credentials.credentials_by_id(ctx.agent.id)
    if not _still_signs_in(
        deps,
        ctx,
        totp=bool(creds and creds.totp_secret),
        keys=len(keys) - 1,
        recovery=deps.recovery_codes.recovery_codes_left(ctx.agent.id),
    ):
        raise Conflict("this is your last way to sign in: add another factor first")
    deps.webauthn_keys.remove_webauthn_credential(ctx.agent.id, key_id)
    _factor_event(deps, ctx, False, "webauthn", key_id=key_id)
    proofs.changed(deps, ctx, FactorAction.WEBAUTHN_REMOVE, method, {"key_id": key_id})


def totp_enrolment(deps: AuthDeps, ctx: RequestContext, proof: str | None) -> dict[str, str]:
    """A new TOTP secret to scan; active only once a code from it is confirmed. ``proof``:
    the ticket of a factor proven for ``totp_enrol`` (the current TOTP or a key)."""
    method = proofs.spend(deps, ctx, FactorAction.TOTP_ENROL, proof)
    secret = deps.totp.new_secret()
    handle = proofs.new_challenge(
        deps, ctx, ChallengeKind.TOTP_ENROL, {"secret": secret, "proof": method}
    )
    return {
        "challenge": handle,
        "secret": secret,
        "otpauth_uri": deps.totp.provisioning_uri(secret, ctx.agent.login, "Rempart"),
    }


def confirm_totp(deps: AuthDeps, ctx: RequestContext, handle: str, code: str) -> None:
    """Store the new secret once the app proves it has it (the ceremony began with a proof)."""
    challenge = _own_challenge(deps, ctx, handle, ChallengeKind.TOTP_ENROL)
    secret = challenge.payload["secret"]
    step = deps.totp.matching_step(secret, normalise_code(code), deps.clock.now())
    if step is None:
        raise Unauthenticated("wrong code: start the enrolment again")
    deps.totp_secrets.set_totp(ctx.agent.id, secret, step)  # that code is spent already
    _factor_event(deps, ctx, True, "totp")
    proofs.changed(deps, ctx, FactorAction.TOTP_ENROL, challenge.payload.get("proof", ""))


def remove_totp(deps: AuthDeps, ctx: RequestContext, proof: str | None) -> None:
    """Forget the caller's TOTP secret, unless it is the last way to sign in."""
    method = proofs.spend(deps, ctx, FactorAction.TOTP_REMOVE, proof)
    creds = deps.credentials.credentials_by_id(ctx.agent.id)
    if creds is None or not creds.totp_secret:
        raise NotFound()
    if not _still_signs_in(
        deps,
        ctx,
        totp=False,
        keys=len(deps.webauthn_keys.webauthn_credentials(ctx.agent.id)),
        recovery=0,
    ):
        raise Conflict("this is your last way to sign in: add another factor first")
    deps.totp_secrets.set_totp(ctx.agent.id, "", 0)
    _factor_event(deps, ctx, False, "totp")
    proofs.changed(deps, ctx, FactorAction.TOTP_REMOVE, method)


def new_recovery_codes(deps: AuthDeps, ctx: RequestContext, proof: str | None) -> list[str]:
    """Ten fresh one-time codes (shown once; the old ones stop working)."""
    method = proofs.spend(deps, ctx, FactorAction.RECOVERY_CODES, proof)
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        for _ in range(RECOVERY_CODES)
    ]
    shown = ["-".join(c[i : i + 4] for i in range(0, RECOVERY_LENGTH, 4)) for c in codes]
    deps.recovery_codes.replace_recovery_codes(
        ctx.agent.id, [recovery_code_hash(deps, c) for c in codes], deps.clock.now()
    )
    _factor_event(deps, ctx, True, "recovery_codes", count=RECOVERY_CODES)
    proofs.changed(deps, ctx, FactorAction.RECOVERY_CODES, method, {"count": RECOVERY_CODES})
    return shown


def step_up_totp(deps: AuthDeps, ctx: RequestContext, token: str, code: str) -> dt.datetime:
    """Prove TOTP again inside the session; a wrong code counts towards the lock."""
    creds = deps.credentials.credentials_by_id(ctx.agent.id)
    if creds is None:
        raise Unauthenticated("sign in first")
    methods = allowed_methods(
        ctx.agent,
        has_totp=bool(creds.totp_secret),
        has_webauthn=bool(deps.webauthn_keys.webauthn_credentials(ctx.agent.id)),
        recovery_codes_left=0,
        policy=deps.policy,
    )
    if Method.TOTP not in methods:
        raise Forbidden("confirm with your security key")
    if not spend_totp_code(
        deps,
        ctx,
        creds,
        code,
        reason="step-up: wrong or already used code",
        details={"method": "totp"},
    ):
        raise StepUpRequired("wrong or already used code")
    return mark_fresh(deps, ctx, token, "totp")


def webauthn_step_up_options(deps: AuthDeps, ctx: RequestContext) -> tuple[str, str]:
    """(challenge handle, request options JSON) to confirm with a key inside the session."""
    keys = deps.webauthn_keys.webauthn_credentials(ctx.agent.id)
    if not keys:
        raise Conflict("no security key is registered")
    options, raw = deps.webauthn.authentication_options([k.credential_id for k in keys])
    return proofs.new_challenge(
        deps, ctx, ChallengeKind.WEBAUTHN_STEP_UP, {"webauthn": b64(raw)}
    ), options


def step_up_webauthn(
    deps: AuthDeps, ctx: RequestContext, token: str, handle: str, credential_json: str
) -> dt.datetime:
    """Prove the security key again inside the session."""
    challenge = _own_challenge(deps, ctx, handle, ChallengeKind.WEBAUTHN_STEP_UP)
    try:
        verify_assertion(deps, ctx.agent.id, credential_json, unb64(challenge.payload["webauthn"]))
    except Unauthenticated as exc:
        mfa_failed(deps, ctx, f"step-up: {exc.detail}", {"method": "webauthn"})
        raise StepUpRequired(exc.detail) from exc
    return mark_fresh(deps, ctx, token, "webauthn")


def change_password(
    deps: AuthDeps,
    ctx: RequestContext,
    token: str,
    current: str,
    new: str,
    end_other_sessions: bool,
    proof: str | None,
) -> int:
    """Change the caller's password (ASVS V6.2.2-3): behind a proof made for it, throttled
    and counted towards the lock like a sign-in, the new one checked against the policy
    *before* the current one, so that a refusal says nothing about the current password."""
    method = proofs.spend(deps, ctx, FactorAction.PASSWORD_CHANGE, proof)
    check_throttle(deps, ctx.agent.login, ctx.client)
    creds = deps.credentials.credentials_by_id(ctx.agent.id)
    if creds is None:
        raise Unauthenticated("sign in first")
    if creds.locked:
        raise AccountLocked(LOCKED)
    check_password(new, [ctx.agent.login, ctx.agent.email.split("@")[0], ctx.org.name])
    with deps.work.slot(ctx.agent.login, ctx.client.address):
        ok = deps.hasher.verify(creds.password_hash, current)
    if not ok:
        count_failure(deps, creds, ctx.agent.login, ctx.client)
        emit(
            deps,
            Tag.AUTH_LOGIN_FAILED,
            Decision.DENY,
            ctx.client,
            agent=ctx.agent,
            session_id=ctx.session_id,
            reason="password change: wrong current password",
        )
        raise Unauthenticated("the current password is wrong")
    with deps.work.slot(ctx.agent.login, ctx.client.address):
        new_hash = deps.hasher.hash(new)
    deps.credentials.set_password_hash(ctx.agent.id, new_hash)
    emit(
        deps,
        Tag.AUTH_PASSWORD_CHANGED,
        Decision.ALLOW,
        ctx.client,
        agent=ctx.agent,
        session_id=ctx.session_id,
    )
    proofs.changed(deps, ctx, FactorAction.PASSWORD_CHANGE, method)
    if not end_other_sessions:
        return 0
    return end_sessions(
        deps,
        ctx.client,
        EndReason.USER,
        actor=ctx.agent,
        agent_id=ctx.agent.id,
        except_key=digest(token),
    )
