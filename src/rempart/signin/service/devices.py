"""Device Bound Session Credentials (W3C WebAppSec draft; Chrome): a session bound to a key
its browser holds, so that a copy of its cookies is worthless within minutes, from anywhere.

The protocol, as this server speaks it:

1. Sign-in answers ``Secure-Session-Registration: (ES256);path="…/dbsc/register";
   challenge="C"``. The browser makes a P-256 key and POSTs to that path a ``dbsc+jwt`` in
   ``Secure-Session-Response``: its public key in the header, ``jti`` = C, signed with the key.
2. ``register`` checks it, stores the public key on the session (the first registration wins),
   and sets the short-lived bound cookie (``rempart_bound``, a few minutes, a MAC over the
   session, its end and the address it was issued to); its answer is the session's
   configuration (identifier, refresh URL, scope, the cookie it must keep).
3. From then on every request needs that cookie, from the address it was issued to. Before it
   ends, the browser POSTs to the refresh URL with ``Sec-Secure-Session-Id``; the server
   answers ``403`` with ``Secure-Session-Challenge: "C2";id="…"``, the browser signs C2 with
   the same key, and ``refresh`` issues a new cookie for the address the proof came from.

A refresh challenge is a MAC over the session and a time: it is good for a few minutes and
once (the session remembers the last one answered). A device-bound session is never moved by a
TOTP step-up: only its key moves it.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.errors import Conflict, Forbidden, Unauthenticated
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import Session, bound_address, digest, keyed_digest
from rempart.signin.service.deps import AuthDeps
from rempart.signin.service.events import emit
from rempart.signin.service.sessions import (
    device_cookie_for,
    device_registration_challenge,
    load,
)


@dataclass(frozen=True, slots=True)
class DeviceCookie:
    """The bound cookie to set, and the session it belongs to (its public id names it)."""

    value: str
    max_age: int
    session_id: str


def _issue(deps: AuthDeps, session: Session, client: ClientInfo) -> DeviceCookie:
    ttl = deps.policy.device_cookie_ttl
    expires = int((deps.clock.now() + ttl).timestamp())
    value = device_cookie_for(deps, session.key, client.address, expires)
    return DeviceCookie(value, int(ttl.total_seconds()), session.public_id)


def _refused(deps: AuthDeps, client: ClientInfo, session: Session | None, why: str) -> None:
    emit(
        deps,
        Tag.AUTH_DEVICE_REFUSED,
        Decision.DENY,
        client,
        agent=deps.directory.agent_by_id(session.agent_id) if session else None,
        session_id=session.public_id if session else "",
        reason=why,
    )


def register(deps: AuthDeps, ctx: RequestContext, token: str, answer: str | None) -> DeviceCookie:
    """Bind the caller's session to the key that signed the registration challenge.

    ``ctx`` comes from a resumption that checked the address binding: a registration from
    anywhere but where the session was opened never gets here."""
    if deps.devices is None:
        raise Forbidden("device-bound sessions are not offered here")
    session = load(deps, token)
    if session.device_bound:
        raise Conflict("this session is already bound to a key")
    try:
        proof = deps.devices.verify(answer or "", None)
    except ValueError as exc:
        _refused(deps, ctx.client, session, f"registration: {exc}")
        raise Unauthenticated(f"device registration refused: {exc}") from None
    expected = device_registration_challenge(deps, token)
    if not hmac.compare_digest(proof.challenge.encode(), expected.encode()):
        _refused(deps, ctx.client, session, "registration: wrong challenge")
        raise Unauthenticated("device registration refused: wrong challenge")
    if not deps.sessions.bind_device(session.key, proof.public_key):
        raise Conflict("this session is already bound to a key")
    emit(
        deps,
        Tag.AUTH_DEVICE_BOUND,
        Decision.ALLOW,
        ctx.client,
        agent=ctx.agent,
        session_id=session.public_id,
        details={"address": bound_address(ctx.client.address)},
    )
    return _issue(deps, session, ctx.client)


def refresh_challenge(deps: AuthDeps, ctx: RequestContext, token: str) -> str:
    """A fresh challenge for the session's next refresh: ``<time>.<MAC>``."""
    session = load(deps, token)
    at = int(deps.clock.now().timestamp() * 1000)
    return f"{at}.{keyed_digest(deps.secret, 'dbsc-refresh', f'{session.key}|{at}')[:40]}"


def _challenge_fresh(deps: AuthDeps, session: Session, challenge: str) -> bool:
    head, _, mac = challenge.partition(".")
    if not head.isdigit() or len(challenge) > 64:
        return False
    expected = keyed_digest(deps.secret, "dbsc-refresh", f"{session.key}|{head}")[:40]
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        return False
    issued = dt.datetime.fromtimestamp(int(head) / 1000, tz=dt.UTC)
    now = deps.clock.now()
    return issued <= now <= issued + deps.policy.device_challenge_ttl


def refresh(
    deps: AuthDeps,
    ctx: RequestContext,
    token: str,
    session_id: str | None,
    answer: str | None,
) -> DeviceCookie:
    """A new bound cookie for a signed answer to a fresh challenge, by the session's key.

    ``ctx`` comes from a resumption that skipped the device and address checks (the key is
    the proof here) but not the browser's, the expiry, the account's state or locks."""
    session = load(deps, token)
    if not session.device_bound or session_id != session.public_id:
        _refused(deps, ctx.client, session, "refresh: not this device-bound session")
        raise Unauthenticated("no device-bound session of that name")
    if deps.devices is None:
        raise Forbidden("device-bound sessions are not offered here")
    try:
        proof = deps.devices.verify(answer or "", session.device_key)
    except ValueError as exc:
        _refused(deps, ctx.client, session, f"refresh: {exc}")
        raise Unauthenticated(f"device proof refused: {exc}") from None
    if not _challenge_fresh(deps, session, proof.challenge):
        _refused(deps, ctx.client, session, "refresh: stale or foreign challenge")
        raise Unauthenticated("device proof refused: stale challenge")
    if not deps.sessions.use_device_nonce(session.key, digest(proof.challenge)):
        _refused(deps, ctx.client, session, "refresh: challenge answered before")
        raise Unauthenticated("device proof refused: replayed")
    moved = bound_address(session.address) != bound_address(ctx.client.address)
    if moved:
        deps.sessions.rebind(
            session.key, ctx.client.address, ctx.client.network, ctx.client.country
        )
    emit(
        deps,
        Tag.AUTH_DEVICE_REFRESHED,
        Decision.ALLOW,
        ctx.client,
        agent=ctx.agent,
        session_id=session.public_id,
        details={"address": bound_address(ctx.client.address), "moved": moved},
    )
    return _issue(deps, session, ctx.client)
