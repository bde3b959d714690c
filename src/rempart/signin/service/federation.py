"""Federated sign-in (ProConnect-shaped OpenID Connect): identities link to existing accounts only.

The Dec 2025 attacker created accounts through the federation; here the federation never
creates one. An identity is matched on (issuer, sub) (ASVS V6.8.1, V10.5.2), linked
beforehand by an administrator, and the ``acr`` the provider reports is checked on the
server: a weaker one is refused (ASVS V6.8.4).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets

from rempart.kernel.context import ClientInfo
from rempart.kernel.errors import (
    AccessSuspended,
    AccountLocked,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    Unauthenticated,
)
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import Challenge, ChallengeKind, FederationRequest, acr_satisfies, digest
from rempart.signin.service.deps import AuthDeps
from rempart.signin.service.events import emit
from rempart.signin.service.sessions import OpenedSession, open_session

EXPIRED = "unknown or expired sign-in attempt: start again"


def start(deps: AuthDeps, client: ClientInfo, redirect_uri: str) -> tuple[str, str]:
    """(authorization URL, browser-binding token for a cookie) of a new federated sign-in."""
    if deps.federation is None:
        raise NotFound()
    request = deps.federation.authorization_request(redirect_uri)
    browser = secrets.token_urlsafe(32)
    now = deps.clock.now()
    deps.challenges.put(
        Challenge(
            key=digest(request.state),
            kind=ChallengeKind.OIDC,
            agent_id=0,
            created_at=now,
            expires_at=now + deps.policy.oidc_ttl,
            network=client.network,
            user_agent=client.user_agent,
            payload={
                "nonce": request.nonce,
                "verifier": request.code_verifier,
                "browser": digest(browser),
            },
        )
    )
    return request.url, browser


def finish(
    deps: AuthDeps,
    client: ClientInfo,
    redirect_uri: str,
    *,
    state: str,
    code: str,
    issuer: str | None,
    error: str | None,
    browser: str | None,
    replaces: str | None = None,
) -> OpenedSession:
    """Complete the flow this very browser started; open a session for the linked account."""
    if deps.federation is None:
        raise NotFound()
    if not state or len(state) > 256:
        raise InvalidRequest("the authorization response lacks its state")
    pending = deps.challenges.get(digest(state))
    if pending is None or pending.kind is not ChallengeKind.OIDC:
        raise Unauthenticated(EXPIRED)
    # One use, whatever comes next: an authorization response cannot be replayed.
    taken = deps.challenges.take(pending.key)
    if not taken or deps.clock.now() >= pending.expires_at:
        raise Unauthenticated(EXPIRED)
    expected = pending.payload.get("browser", "")
    if not browser or not hmac.compare_digest(digest(browser), expected):
        # ASVS V10.1.2: the response must come back to the browser that asked for it.
        raise InvalidRequest("this sign-in was started in another browser")
    if pending.network != client.network or pending.user_agent != client.user_agent:
        raise Unauthenticated(EXPIRED)
    if error:
        emit(deps, Tag.AUTH_LOGIN_FAILED, Decision.DENY, client, reason="provider refused")
        raise Unauthenticated("the identity provider did not sign you in")
    if not code or len(code) > 2048:
        raise InvalidRequest("the authorization response lacks its code")
    request = FederationRequest(
        url="",
        state=state,
        nonce=pending.payload["nonce"],
        code_verifier=pending.payload["verifier"],
    )
    claims = deps.federation.complete(request, redirect_uri, code, issuer)
    agent_id = deps.identities.agent_by_identity(claims.issuer, claims.subject)
    creds = deps.credentials.credentials_by_id(agent_id) if agent_id is not None else None
    if creds is None:
        emit(
            deps,
            Tag.AUTH_LOGIN_FAILED,
            Decision.DENY,
            client,
            reason="federated identity not linked",
            details={"issuer": claims.issuer, "subject": claims.subject, "acr": claims.acr},
        )
        raise Forbidden(
            "this identity is not linked to a Rempart account: ask your account manager"
        )
    agent = creds.agent
    if not acr_satisfies(claims.acr, agent, deps.policy):
        emit(
            deps,
            Tag.AUTH_LOGIN_FAILED,
            Decision.DENY,
            client,
            agent=agent,
            reason="authentication level too weak",
            details={"acr": claims.acr, "issuer": claims.issuer},
        )
        raise Forbidden(
            f"your identity provider reports a weaker sign-in ({claims.acr or 'none'}) "
            "than Rempart requires: sign in with multi-factor authentication"
        )
    if creds.locked:
        emit(deps, Tag.AUTH_LOGIN_FAILED, Decision.DENY, client, agent=agent, reason="locked")
        raise AccountLocked("this account is locked: your account manager can unlock it")
    if not agent.active:
        raise AccessSuspended("this account is suspended")
    return open_session(deps, agent, client, f"oidc:{claims.acr}", replaces=replaces)


def link(deps: AuthDeps, agent_id: int, issuer: str, subject: str, at: dt.datetime) -> None:
    """Link (issuer, sub) to an account; refused when it is linked already."""
    if deps.identities.agent_by_identity(issuer, subject) is not None:
        raise Conflict("this identity is already linked to an account")
    deps.identities.link_identity(agent_id, issuer, subject, at)
