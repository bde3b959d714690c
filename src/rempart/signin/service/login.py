"""Password, then a second factor: the only way to a local session.

- argon2id; an unknown login still costs one verification against a dummy hash, and gets
  the very answer a wrong password gets (ASVS V6.3.1; no account enumeration).
- Growing delays per account and per address, then a lock after at most ``lock_after``
  consecutive failures, second-factor failures included (CNIL SAN-2026-003 found 50).
- A locked account is not opened by the right password from an address that failed
  against it; from elsewhere, after ``self_unlock_after``, proving the second factor lifts it.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import dataclass

from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.errors import (
    AccessSuspended,
    AccountLocked,
    Forbidden,
    InvalidRequest,
    Throttled,
    Unauthenticated,
)
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import (
    ACCOUNT_THROTTLE,
    ADDRESS_THROTTLE,
    FAILURES_LOCK,
    AccountLock,
    Challenge,
    ChallengeKind,
    Credentials,
    Method,
    WebauthnCredential,
    allowed_methods,
    bound_address,
    digest,
    keyed_digest,
    needs_key_enrolment,
)
from rempart.signin.service.deps import AuthDeps
from rempart.signin.service.events import emit
from rempart.signin.service.sessions import OpenedSession, open_session

LOCKED = "this account is locked after repeated failures: your account manager can unlock it"
BAD_CREDENTIALS = "wrong login or password"
UNKNOWN_CHALLENGE = "unknown or expired sign-in challenge: sign in again"
# Failures of an address against an account are remembered this long (self-unlock rule).
ATTACKER_MEMORY = dt.timedelta(days=2)
# A real account's failures and lock last until a success or someone lifts it: an unknown
# login's, this long.
PHANTOM_MEMORY = dt.timedelta(days=366)


@dataclass(frozen=True, slots=True)
class PasswordAccepted:
    """First factor accepted: the client must now prove a second one."""

    challenge: str
    methods: list[str]


def login_key(login: str) -> str:
    """Throttle key of a login (known or not: both are slowed the same way)."""
    return f"login:{login.casefold()}"


def address_key(address: str) -> str:
    """Throttle key of a client address (an IPv6 client counts by its /64)."""
    return f"addr:{bound_address(address)}"


def _failed_from_key(agent_id: int, address: str) -> str:
    return f"failed-from:{agent_id}:{bound_address(address)}"


def _phantom_key(login: str) -> str:
    """An unknown login's consecutive failures, kept like a real account's (which only a
    success resets), so that it "locks" when a real one would and stays so."""
    return f"unknown-failures:{login.casefold()}"


def check_throttle(deps: AuthDeps, login: str, client: ClientInfo) -> None:
    now = deps.clock.now()
    for key, policy in (
        (address_key(client.address), ADDRESS_THROTTLE),
        (login_key(login), ACCOUNT_THROTTLE),
    ):
        wait = policy.retry_after(deps.attempts.failures(key, now), now)
        if wait:
            emit(
                deps,
                Tag.AUTH_LOGIN_THROTTLED,
                Decision.THROTTLE,
                client,
                reason=key.split(":", 1)[0],
                details={"retry_after": wait},
            )
            raise Throttled("too many attempts: wait before trying again", wait)


def count_failure(
    deps: AuthDeps, creds: Credentials | None, login: str, client: ClientInfo
) -> None:
    """Slow the login and the address down; count towards the account's lock."""
    now = deps.clock.now()
    deps.attempts.record_failure(login_key(login), now, ACCOUNT_THROTTLE.forget_after)
    deps.attempts.record_failure(address_key(client.address), now, ADDRESS_THROTTLE.forget_after)
    if creds is None:
        return
    agent = creds.agent
    deps.attempts.record_failure(_failed_from_key(agent.id, client.address), now, ATTACKER_MEMORY)
    if creds.locked:
        deps.locks.add_lock_address(agent.id, client.address)
        return
    count = deps.logins.record_failed_login(agent.id)
    if count >= deps.policy.lock_after:
        deps.locks.lock(AccountLock(agent.id, now, FAILURES_LOCK, (client.address,)))
        emit(
            deps,
            Tag.AUTH_ACCOUNT_LOCKED,
            Decision.LOCK,
            client,
            agent=agent,
            reason="consecutive failures",
            details={"failures": count},
        )


def _may_self_unlock(deps: AuthDeps, creds: Credentials, client: ClientInfo) -> bool:
    """Right password, from an address that never failed against it, long enough after."""
    lock = deps.locks.lock_of(creds.agent.id)
    if lock is None or not lock.by_failures:  # the guard's or a human's lock: a human lifts it
        return False
    now = deps.clock.now()
    attacked_from_here = (
        bound_address(client.address) in {bound_address(a) for a in lock.addresses}
        or deps.attempts.failures(_failed_from_key(creds.agent.id, client.address), now).count > 0
    )
    return now - lock.locked_at >= deps.policy.self_unlock_after and not attacked_from_here


def submit_password(
    deps: AuthDeps, login: str, password: str, client: ClientInfo
) -> PasswordAccepted:
    """Check the first factor; on success hand out a challenge for the second one."""
    check_throttle(deps, login, client)
    creds = deps.credentials.credentials(login)
    with deps.work.slot(login, client.address):
        ok = deps.hasher.verify(creds.password_hash if creds else None, password)
    now = deps.clock.now()
    if creds is None:
        # The very answers an existing account gives, before and after its lock: the failure
        # counts (so the throttle grows alike) and the lock is remembered as long as a real
        # one lasts, not as long as the throttle's memory (no enumeration by lockout).
        phantom = _phantom_key(login)
        locked = deps.attempts.failures(phantom, now).count >= deps.policy.lock_after
        count_failure(deps, None, login, client)
        deps.attempts.record_failure(phantom, now, PHANTOM_MEMORY)
        reason = "locked" if locked else "bad credentials"
        emit(deps, Tag.AUTH_LOGIN_FAILED, Decision.DENY, client, reason=reason)
        if locked:
            raise AccountLocked(LOCKED)
        raise Unauthenticated(BAD_CREDENTIALS)
    agent = creds.agent
    unlock = False
    if creds.locked:
        if not (ok and _may_self_unlock(deps, creds, client)):
            if not ok:
                count_failure(deps, creds, login, client)
            emit(deps, Tag.AUTH_LOGIN_FAILED, Decision.DENY, client, agent=agent, reason="locked")
            raise AccountLocked(LOCKED)
        unlock = True
    if not ok:
        count_failure(deps, creds, login, client)
        emit(
            deps,
            Tag.AUTH_LOGIN_FAILED,
            Decision.DENY,
            client,
            agent=agent,
            reason="bad credentials",
        )
        raise Unauthenticated(BAD_CREDENTIALS)
    if not agent.active or (agent.end_date is not None and agent.end_date < now.date()):
        emit(deps, Tag.AUTH_LOGIN_FAILED, Decision.DENY, client, agent=agent, reason="inactive")
        raise AccessSuspended("this account is suspended")
    if deps.hasher.needs_rehash(creds.password_hash):
        # Seeded, imported or older parameters: today's cost while we hold the password.
        with deps.work.slot(login, client.address):
            rehashed = deps.hasher.hash(password)
        deps.credentials.set_password_hash(agent.id, rehashed)
    keys = deps.webauthn_keys.webauthn_credentials(agent.id)
    has_totp = bool(creds.totp_secret)
    methods = allowed_methods(
        agent,
        has_totp=has_totp,
        has_webauthn=bool(keys),
        recovery_codes_left=deps.recovery_codes.recovery_codes_left(agent.id),
        policy=deps.policy,
    )
    enrol_only = needs_key_enrolment(
        agent, has_totp=has_totp, has_webauthn=bool(keys), policy=deps.policy
    )
    if enrol_only:
        methods = [Method.TOTP]
    if not methods:
        emit(deps, Tag.AUTH_LOGIN_FAILED, Decision.DENY, client, agent=agent, reason="no factor")
        raise Forbidden("no usable second factor is enrolled: ask your account manager")
    deps.challenges.purge(now)  # forget ceremonies nobody finished
    handle = secrets.token_urlsafe(32)
    deps.challenges.put(
        Challenge(
            key=digest(handle),
            kind=ChallengeKind.MFA,
            agent_id=agent.id,
            created_at=now,
            expires_at=now + deps.policy.challenge_ttl,
            network=client.network,
            user_agent=client.user_agent,
            payload={
                "methods": " ".join(methods),
                "unlock": "1" if unlock else "",
                "enrol_only": "1" if enrol_only else "",
            },
        )
    )
    return PasswordAccepted(handle, [str(m) for m in methods])


def _pending(deps: AuthDeps, handle: str, client: ClientInfo) -> tuple[Challenge, Credentials]:
    """The MFA challenge ``handle`` names, checked for age, browser and network."""
    if not handle or len(handle) > 128:
        raise Unauthenticated(UNKNOWN_CHALLENGE)
    challenge = deps.challenges.get(digest(handle))
    now = deps.clock.now()
    if challenge is None or challenge.kind is not ChallengeKind.MFA:
        raise Unauthenticated(UNKNOWN_CHALLENGE)
    if now >= challenge.expires_at:
        deps.challenges.take(challenge.key)
        raise Unauthenticated(UNKNOWN_CHALLENGE)
    creds = deps.credentials.credentials_by_id(challenge.agent_id)
    if creds is None:
        raise Unauthenticated(UNKNOWN_CHALLENGE)
    if challenge.network != client.network or challenge.user_agent != client.user_agent:
        # A challenge is a half-open door: it only opens for the browser that earned it.
        deps.challenges.take(challenge.key)
        emit(
            deps,
            Tag.AUTH_MFA_FAILED,
            Decision.DENY,
            client,
            agent=creds.agent,
            reason="challenge replayed from another network or browser",
        )
        raise Unauthenticated(UNKNOWN_CHALLENGE)
    check_throttle(deps, creds.agent.login, client)
    if creds.locked and challenge.payload.get("unlock") != "1":
        raise AccountLocked(LOCKED)
    return challenge, creds


def _second_factor_failed(
    deps: AuthDeps,
    challenge: Challenge,
    creds: Credentials,
    client: ClientInfo,
    method: Method,
    reason: str,
) -> None:
    attempts = challenge.attempts + 1
    if attempts >= deps.policy.challenge_attempts:
        deps.challenges.take(challenge.key)
    else:
        deps.challenges.update(challenge.key, attempts=attempts, payload=dict(challenge.payload))
    count_failure(deps, creds, creds.agent.login, client)
    emit(
        deps,
        Tag.AUTH_MFA_FAILED,
        Decision.DENY,
        client,
        agent=creds.agent,
        reason=reason,
        details={"method": str(method), "attempt": attempts},
    )


def _allows(challenge: Challenge, method: Method) -> None:
    if str(method) not in challenge.payload.get("methods", "").split():
        raise Forbidden(f"this account may not sign in with {method}")


def _finish(
    deps: AuthDeps,
    challenge: Challenge,
    creds: Credentials,
    client: ClientInfo,
    method: str,
    replaces: str | None,
) -> OpenedSession:
    if not deps.challenges.take(challenge.key):  # a concurrent request already used it
        raise Unauthenticated(UNKNOWN_CHALLENGE)
    deps.attempts.clear(login_key(creds.agent.login))
    if challenge.payload.get("unlock") == "1":
        deps.locks.unlock(creds.agent.id)
        emit(
            deps,
            Tag.AUTH_ACCOUNT_UNLOCKED,
            Decision.ALLOW,
            client,
            agent=creds.agent,
            reason="second factor proven after the lock delay",
        )
    return open_session(
        deps,
        creds.agent,
        client,
        method,
        enrol_only=challenge.payload.get("enrol_only") == "1",
        replaces=replaces,
    )


def spend_totp_code(
    deps: AuthDeps,
    ctx: RequestContext,
    creds: Credentials,
    code: str,
    *,
    reason: str,
    details: dict[str, object],
) -> bool:
    """Spend one TOTP code of the signed-in account inside its session (a step-up, a factor
    proof): throttled like a sign-in, each step usable once, and a wrong or spent code counted
    towards the lock and journaled with ``reason`` (ASVS V6.3.1, V6.5.1). True when good."""
    check_throttle(deps, ctx.agent.login, ctx.client)
    step = deps.totp.matching_step(creds.totp_secret, normalise_code(code), deps.clock.now())
    if step is not None and deps.totp_secrets.use_totp_step(ctx.agent.id, step):
        return True
    count_failure(deps, creds, ctx.agent.login, ctx.client)
    mfa_failed(deps, ctx, reason, details)
    return False


def mfa_failed(
    deps: AuthDeps, ctx: RequestContext, reason: str, details: dict[str, object]
) -> None:
    """Journal a second factor that failed inside the signed-in session (a step-up, a factor
    proof): ``auth:mfa:failed``, denied, with the session and why."""
    emit(
        deps,
        Tag.AUTH_MFA_FAILED,
        Decision.DENY,
        ctx.client,
        agent=ctx.agent,
        session_id=ctx.session_id,
        reason=reason,
        details=details,
    )


def normalise_code(code: str) -> str:
    """Codes are typed with spaces or dashes sometimes; nothing else is changed."""
    return code.replace(" ", "").replace("-", "")


def finish_with_totp(
    deps: AuthDeps, handle: str, code: str, client: ClientInfo, replaces: str | None = None
) -> OpenedSession:
    """Second factor by TOTP: ±1 step, and never the same step twice (ASVS V6.5.1)."""
    challenge, creds = _pending(deps, handle, client)
    _allows(challenge, Method.TOTP)
    now = deps.clock.now()
    step = (
        deps.totp.matching_step(creds.totp_secret, normalise_code(code), now)
        if creds.totp_secret
        else None
    )
    if step is None or step <= creds.totp_last_step:
        reason = "wrong code" if step is None else "code already used"
        _second_factor_failed(deps, challenge, creds, client, Method.TOTP, reason)
        raise Unauthenticated("wrong or already used code")
    if not deps.totp_secrets.use_totp_step(creds.agent.id, step):
        _second_factor_failed(deps, challenge, creds, client, Method.TOTP, "code already used")
        raise Unauthenticated("wrong or already used code")
    return _finish(deps, challenge, creds, client, "password+totp", replaces)


def recovery_code_hash(deps: AuthDeps, code: str) -> str:
    """Keyed hash of a normalised recovery code (120-bit codes: no slow hash needed)."""
    return keyed_digest(deps.secret, "recovery", normalise_code(code).upper())


def finish_with_recovery_code(
    deps: AuthDeps, handle: str, code: str, client: ClientInfo, replaces: str | None = None
) -> OpenedSession:
    """Second factor by a one-time recovery code; the code is spent whatever happens next."""
    challenge, creds = _pending(deps, handle, client)
    _allows(challenge, Method.RECOVERY)
    now = deps.clock.now()
    if not deps.recovery_codes.use_recovery_code(
        creds.agent.id, recovery_code_hash(deps, code), now
    ):
        _second_factor_failed(deps, challenge, creds, client, Method.RECOVERY, "wrong code")
        raise Unauthenticated("wrong or already used recovery code")
    emit(
        deps,
        Tag.AUTH_RECOVERY_CODE_USED,
        Decision.ALLOW,
        client,
        agent=creds.agent,
        details={"left": deps.recovery_codes.recovery_codes_left(creds.agent.id)},
    )
    return _finish(deps, challenge, creds, client, "password+recovery_code", replaces)


def b64(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    """Inverse of ``b64``."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def webauthn_options(deps: AuthDeps, handle: str, client: ClientInfo) -> str:
    """Request options (JSON) for the agent's keys; the challenge is kept with the MFA challenge."""
    challenge, creds = _pending(deps, handle, client)
    _allows(challenge, Method.WEBAUTHN)
    keys = deps.webauthn_keys.webauthn_credentials(creds.agent.id)
    options, raw = deps.webauthn.authentication_options([k.credential_id for k in keys])
    deps.challenges.update(
        challenge.key,
        attempts=challenge.attempts,
        payload={**challenge.payload, "webauthn": b64(raw)},
    )
    return options


def verify_assertion(
    deps: AuthDeps, agent_id: int, credential_json: str, expected: bytes
) -> WebauthnCredential:
    """Check an assertion against one of the agent's keys and store the new counter."""
    wanted = deps.webauthn.credential_id(credential_json)
    key = next(
        (k for k in deps.webauthn_keys.webauthn_credentials(agent_id) if k.credential_id == wanted),
        None,
    )
    if key is None:
        raise Unauthenticated("this security key is not registered for this account")
    count = deps.webauthn.verify_authentication(
        credential_json, expected, key.public_key, key.sign_count
    )
    deps.webauthn_keys.update_sign_count(key.id, count, deps.clock.now())
    return key


def finish_with_webauthn(
    deps: AuthDeps,
    handle: str,
    credential_json: str,
    client: ClientInfo,
    replaces: str | None = None,
) -> OpenedSession:
    """Second factor by a security key: signature, user verification, counter (ASVS V6.3.3)."""
    challenge, creds = _pending(deps, handle, client)
    _allows(challenge, Method.WEBAUTHN)
    expected = challenge.payload.get("webauthn")
    if not expected:
        raise InvalidRequest("ask for the WebAuthn options of this challenge first")
    try:
        verify_assertion(deps, creds.agent.id, credential_json, unb64(expected))
    except Unauthenticated as exc:
        _second_factor_failed(deps, challenge, creds, client, Method.WEBAUTHN, exc.detail)
        raise
    return _finish(deps, challenge, creds, client, "password+webauthn", replaces)
