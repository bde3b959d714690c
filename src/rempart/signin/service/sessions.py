"""Sessions: opened only after a second factor, bound to an address and a browser, short-lived.

The cookie carries a 256-bit random token; the server keeps only its SHA-256 (ASVS V7.2.3).
Binding, strongest first:

- Device Bound Session Credentials (``signin.service.devices``): once the browser registered
  its key, every request also needs a short-lived cookie that only a signature by that key
  renews; a copy of the cookies is worthless within minutes, from any address.
- Otherwise the exact address (IPv4 /32, IPv6 /64): a request from any other address gets
  ``step_up_required`` and no data until the second factor is proven from there. The network's
  operator is no binding: a thief on the same operator (four operators hold most French home
  lines) replays from "the same network" with the copied User-Agent.
- Another browser (User-Agent) revokes the session at once (July 2025's infostealer replay).
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from rempart.kernel.actors import Agent
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.errors import (
    AccountLocked,
    CsrfRejected,
    Forbidden,
    SessionRevoked,
    StepUpRequired,
    Unauthenticated,
)
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import (
    EndReason,
    Session,
    bound_address,
    digest,
    keyed_digest,
)
from rempart.signin.service.deps import AuthDeps
from rempart.signin.service.events import emit

TOKEN_RE = re.compile(r"\A[A-Za-z0-9_-]{43}\Z")  # token_urlsafe(32)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# ASVS V7.1.2: a person rarely needs more than a few browsers at once; the oldest ends first.
MAX_LIVE_SESSIONS = 5
DEVICE_REFRESH_HINT = "/api/v1/auth/dbsc/refresh"


class Resumption(StrEnum):
    """What a request resumes its session for: the binding each purpose may bypass."""

    DATA = "data"  # everything: exact address (or device proof), CSRF
    STEP_UP = "step_up"  # proving the factor again, possibly from a new address
    DEVICE_REGISTRATION = "device_registration"  # the browser's own POST: no CSRF header
    DEVICE_REFRESH = "device_refresh"  # the browser's signed refresh: the key is the proof


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """A new session: the token goes in the cookie, the CSRF token to the client's script, the
    registration challenge to a browser that can bind the session to a key (DBSC)."""

    token: str
    csrf_token: str
    session: Session
    device_challenge: str = ""


def csrf_token_for(deps: AuthDeps, token: str) -> str:
    """The CSRF token of a session: derived from its token, so it needs no storage."""
    return keyed_digest(deps.secret, "csrf", token)


def is_well_formed(token: str | None) -> bool:
    """True for something shaped like a session token (garbage cookies stop here)."""
    return bool(token) and TOKEN_RE.match(token or "") is not None


def open_session(
    deps: AuthDeps,
    agent: Agent,
    client: ClientInfo,
    method: str,
    *,
    enrol_only: bool = False,
    replaces: str | None = None,
) -> OpenedSession:
    """Open a session after a full sign-in; any session the browser still held ends (V7.2.4)."""
    now = deps.clock.now()
    if is_well_formed(replaces):
        deps.sessions.end(digest(replaces or ""), now, str(EndReason.LOGOUT))
    token = secrets.token_urlsafe(32)
    session = Session(
        key=digest(token),
        public_id=secrets.token_urlsafe(12),
        agent_id=agent.id,
        org_id=agent.org_id,
        method=method,
        created_at=now,
        last_seen_at=now,
        expires_at=now + deps.policy.absolute,
        fresh_until=now + deps.policy.step_up,  # the second factor was just proven
        address=client.address,
        network=client.network,
        country=client.country,
        user_agent=client.user_agent,
        enrol_only=enrol_only,
    )
    live = deps.sessions.live_of(agent.id, now)  # newest first
    for old in live[MAX_LIVE_SESSIONS - 1 :]:
        _end(deps, old, agent, client, EndReason.TOO_MANY)
    deps.sessions.create(session)
    deps.logins.record_success(agent.id, now)
    emit(
        deps,
        Tag.AUTH_LOGIN_SUCCEEDED,
        Decision.ALLOW,
        client,
        agent=agent,
        session_id=session.public_id,
        details={"method": method, "enrol_only": enrol_only, "country": client.country},
    )
    offer = deps.devices is not None and not enrol_only
    return OpenedSession(
        token,
        csrf_token_for(deps, token),
        session,
        device_registration_challenge(deps, token) if offer else "",
    )


def device_registration_challenge(deps: AuthDeps, token: str) -> str:
    """The challenge a browser signs to bind this session to its key (derived, not stored:
    only the sign-in response carries it)."""
    return keyed_digest(deps.secret, "dbsc-register", token)


def device_cookie_for(deps: AuthDeps, session_key: str, address: str, expires: int) -> str:
    """The short-lived bound cookie's value: its end, and a MAC over the session, the end and
    the address it was issued to (a copy used from another address is worthless at once)."""
    mac = keyed_digest(
        deps.secret, "dbsc-bound", f"{session_key}|{expires}|{bound_address(address)}"
    )
    return f"{expires}.{mac}"


def device_cookie_valid(
    deps: AuthDeps, session: Session, value: str | None, client: ClientInfo, now: dt.datetime
) -> bool:
    """True for an unexpired bound cookie of this session, issued to this client's address."""
    if not value or "." not in value or len(value) > 96:
        return False
    head = value.partition(".")[0]
    if not head.isdigit() or int(head) <= now.timestamp():
        return False
    expected = device_cookie_for(deps, session.key, client.address, int(head))
    return hmac.compare_digest(value.encode(), expected.encode())


def _end(
    deps: AuthDeps,
    session: Session,
    agent: Agent | None,
    client: ClientInfo,
    reason: EndReason,
    details: dict[str, object] | None = None,
) -> None:
    now = deps.clock.now()
    if deps.sessions.end(session.key, now, str(reason)):
        emit(
            deps,
            Tag.AUTH_SESSION_REVOKED if reason.is_revocation else Tag.AUTH_SESSION_CLOSED,
            Decision.REVOKE if reason.is_revocation else Decision.ALLOW,
            client,
            agent=agent,
            session_id=session.public_id,
            reason=str(reason),
            details=details,
        )


def _ended_error(session: Session) -> Unauthenticated:
    try:
        reason = EndReason(session.end_reason)
    except ValueError:
        return SessionRevoked("this session was ended")
    if reason.is_revocation:
        return SessionRevoked(f"this session was ended ({reason})")
    return Unauthenticated("this session has ended: sign in again")


def load(deps: AuthDeps, token: str | None) -> Session:
    """The stored session a cookie names (Unauthenticated for a missing or unknown one)."""
    if not is_well_formed(token):
        raise Unauthenticated("sign in first")
    session = deps.sessions.get(digest(token or ""))
    if session is None:
        raise Unauthenticated("sign in first")
    return session


def _check_binding(
    deps: AuthDeps,
    session: Session,
    agent: Agent | None,
    client: ClientInfo,
    now: dt.datetime,
    device_cookie: str | None,
    purpose: Resumption,
) -> None:
    """The browser, then the device key or the exact address; raise when they do not hold."""
    if client.user_agent != session.user_agent:
        _end(
            deps,
            session,
            agent,
            client,
            EndReason.BROWSER_CHANGED,
            {
                "opened_from_network": session.network,
                "opened_from_country": session.country,
                "seen_country": client.country,
                "browser_changed": True,
            },
        )
        raise SessionRevoked("this session was opened from another browser; it is closed")
    if session.device_bound and purpose is not Resumption.DEVICE_REFRESH:
        if not device_cookie_valid(deps, session, device_cookie, client, now):
            raise Unauthenticated(
                "this session is bound to its browser's key: the browser must renew it "
                f"(POST {DEVICE_REFRESH_HINT}) before going on"
            )
    elif (
        not session.device_bound
        and purpose not in (Resumption.STEP_UP, Resumption.DEVICE_REFRESH)
        and bound_address(client.address) != bound_address(session.address)
    ):
        emit(
            deps,
            Tag.AUTH_SESSION_ADDRESS_CHANGED,
            Decision.STEP_UP,
            client,
            agent=agent,
            session_id=session.public_id,
            reason="address_changed",
            details={
                "opened_from_address": bound_address(session.address),
                "opened_from_network": session.network,
                "seen_network": client.network,
                "same_network": client.network == session.network,
            },
        )
        raise StepUpRequired(
            "this session is bound to the address it was opened from; from this one, confirm "
            "with your second factor, then retry"
        )


def resume(
    deps: AuthDeps,
    token: str | None,
    client: ClientInfo,
    method: str,
    csrf: str | None,
    *,
    allow_enrol_only: bool = False,
    device_cookie: str | None = None,
    purpose: Resumption = Resumption.DATA,
) -> RequestContext:
    """The request context of a live session, or the reason there is none.

    Order matters: the binding is checked first, so that a stolen cookie replayed elsewhere
    gets nothing even when the thief got the rest of the request wrong.
    """
    if not is_well_formed(token):
        raise Unauthenticated("sign in first")
    # One read brings the session, its account and its organisation: this runs on every call.
    holder = deps.sessions.holder(digest(token or ""))
    if holder is None:
        raise Unauthenticated("sign in first")
    session, agent, org = holder.session, holder.agent, holder.org
    now = deps.clock.now()
    if session.ended_at is not None:
        raise _ended_error(session)
    _check_binding(deps, session, agent, client, now, device_cookie, purpose)
    if (
        method.upper() in UNSAFE_METHODS
        and purpose not in (Resumption.DEVICE_REGISTRATION, Resumption.DEVICE_REFRESH)
        and not (
            csrf and hmac.compare_digest(csrf.encode(), csrf_token_for(deps, token or "").encode())
        )
    ):
        # The browser's own DBSC requests carry no CSRF header: their signed challenge, which
        # another site cannot produce, stands in for it.
        raise CsrfRejected("missing or wrong X-CSRF-Token")
    expiry = session.expiry_reason(now, deps.policy)
    if expiry is not None:
        _end(deps, session, agent, client, expiry)
        raise Unauthenticated("this session has expired: sign in again")
    if agent is None or not agent.active:
        _end(deps, session, agent, client, EndReason.ACCOUNT_DISABLED)
        raise SessionRevoked("this account is no longer active")
    lock = deps.locks.lock_of(agent.id) if holder.locked else None
    if holder.locked and (lock is None or not lock.by_failures):
        # Locked by the guard or an administrator (not by password failures): stop now.
        _end(deps, session, agent, client, EndReason.ACCOUNT_LOCKED)
        raise AccountLocked("this account is locked")
    if session.enrol_only and not allow_enrol_only:
        raise Forbidden("register a security key first: your role signs in with it only")
    if org is None:
        raise Unauthenticated("sign in first")
    if now - session.last_seen_at >= deps.policy.touch_every:
        deps.sessions.touch(session.key, now)
    return RequestContext(
        agent=agent,
        org=org,
        session_id=session.public_id,
        client=client,
        now=now,
        fresh_until=session.fresh_until,
        # A step-up after sign-in pushed fresh_until past the sign-in's own window.
        reproved=session.fresh_until is not None
        and session.fresh_until > session.created_at + deps.policy.step_up,
    )


def logout(deps: AuthDeps, ctx: RequestContext, token: str) -> None:
    """End the caller's session (ASVS V7.4.1: the server forgets it, not just the browser)."""
    session = load(deps, token)
    _end(deps, session, ctx.agent, ctx.client, EndReason.LOGOUT)


def mark_fresh(deps: AuthDeps, ctx: RequestContext, token: str, method: str) -> dt.datetime:
    """The second factor was proven again: privileged actions are allowed for a few minutes.

    Proven from another address than the session's, it moves the session there (a session not
    bound to a device key; a device-bound one moves only with a signature by its key)."""
    until = deps.clock.now() + deps.policy.step_up
    key = digest(token)
    deps.sessions.set_fresh_until(key, until)
    session = deps.sessions.get(key)
    if (
        session is not None
        and not session.device_bound
        and bound_address(session.address) != bound_address(ctx.client.address)
    ):
        deps.sessions.rebind(key, ctx.client.address, ctx.client.network, ctx.client.country)
        emit(
            deps,
            Tag.AUTH_SESSION_REBOUND,
            Decision.ALLOW,
            ctx.client,
            agent=ctx.agent,
            session_id=ctx.session_id,
            reason="step_up_from_new_address",
            details={
                "previous_address": bound_address(session.address),
                "previous_network": session.network,
                "method": method,
            },
        )
    emit(
        deps,
        Tag.AUTH_STEP_UP_SUCCEEDED,
        Decision.ALLOW,
        ctx.client,
        agent=ctx.agent,
        session_id=ctx.session_id,
        details={"method": method},
    )
    return until


def require_fresh(ctx: RequestContext) -> None:
    """Raise StepUpRequired unless the second factor was proven recently (ASVS V7.5.1)."""
    if not ctx.is_fresh:
        raise StepUpRequired("confirm with your second factor, then retry")


def describe(deps: AuthDeps, ctx: RequestContext, token: str) -> dict[str, object]:
    """The current session as its owner sees it (the CSRF token included, for scripts)."""
    session = load(deps, token)
    return {
        "id": session.public_id,
        "csrf_token": csrf_token_for(deps, token),
        "expires_at": session.expires_at,
        "idle_expires_at": session.idle_expires_at(deps.policy),
        "fresh_until": session.fresh_until,
        "method": session.method,
        "enrol_only": session.enrol_only,
    }


def list_own(deps: AuthDeps, ctx: RequestContext) -> list[dict[str, object]]:
    """The caller's live sessions (ASVS V7.5.2)."""
    now = deps.clock.now()
    return [
        {
            "id": s.public_id,
            "created_at": s.created_at,
            "last_seen_at": s.last_seen_at,
            "network": s.network,
            "country": s.country,
            "user_agent": s.user_agent,
            "method": s.method,
            "current": s.public_id == ctx.session_id,
        }
        for s in deps.sessions.live_of(ctx.agent.id, now)
        if s.expiry_reason(now, deps.policy) is None
    ]


def end_sessions(
    deps: AuthDeps,
    client: ClientInfo,
    reason: EndReason,
    *,
    actor: Agent | None,
    agent_id: int | None = None,
    org_id: str | None = None,
    except_key: str | None = None,
) -> int:
    """End every live session of an agent or an organisation; one event per session."""
    ended = deps.revocations.end_all(
        deps.clock.now(), str(reason), agent_id=agent_id, org_id=org_id, except_key=except_key
    )
    for session in ended:
        owner = deps.directory.agent_by_id(session.agent_id)
        emit(
            deps,
            Tag.AUTH_SESSION_REVOKED,
            Decision.REVOKE,
            client,
            agent=owner,
            session_id=session.public_id,
            reason=str(reason),
            details={"by": actor.login if actor else "", "opened_from_network": session.network},
        )
    return len(ended)


def revoke_others(deps: AuthDeps, ctx: RequestContext, token: str) -> int:
    """End the caller's other sessions, after a fresh second-factor proof (ASVS V7.5.2)."""
    require_fresh(ctx)
    return end_sessions(
        deps,
        ctx.client,
        EndReason.USER,
        actor=ctx.agent,
        agent_id=ctx.agent.id,
        except_key=digest(token),
    )
