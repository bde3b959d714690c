"""Proofs made for one factor action, the notice and the alert every factor change sends.

Changing what authenticates an account (a TOTP secret, a key, recovery codes, the password)
needs a proof of an existing factor made *for that action*: a new TOTP code or a key's
assertion, exchanged for a one-time ticket that names the action and the session, lives two
minutes and is spent by the change. The sign-in's own freshness never counts: a cookie stolen
in the minutes after sign-in carries that freshness, not the victim's authenticator (2026
penetration test, finding 1). A recovery code never proves anything here: minting them is what
the thief is after.

Every change mails a notice to the address on file and raises an alert (high for privileged
accounts); every refused one raises an alert too. A privileged account's first passkey also
needs a second person's approval (``approve_first_key``, called by governance).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from rempart.guard.alerts import Severity
from rempart.kernel.actors import Agent
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import Forbidden, StepUpRequired, Unauthenticated
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import (
    Challenge,
    ChallengeKind,
    FactorAction,
    Method,
    SigninAlert,
    digest,
    proof_methods,
)
from rempart.signin.service.deps import AuthDeps
from rempart.signin.service.events import alert, emit
from rempart.signin.service.login import (
    b64,
    mfa_failed,
    spend_totp_code,
    unb64,
    verify_assertion,
)

log = logging.getLogger("rempart.signin")

NO_PROOF = "prove one of your factors for this very action first (a new code or your key)"

# What the notice calls each action (the agent reads French).
ACTION_LABELS: dict[FactorAction, str] = {
    FactorAction.TOTP_ENROL: "une nouvelle application d'authentification a été enregistrée",
    FactorAction.TOTP_REMOVE: "l'application d'authentification a été retirée",
    FactorAction.RECOVERY_CODES: "de nouveaux codes de secours ont été générés",
    FactorAction.WEBAUTHN_REGISTER: "une nouvelle clé d'accès a été enregistrée",
    FactorAction.WEBAUTHN_REMOVE: "une clé d'accès a été retirée",
    FactorAction.PASSWORD_CHANGE: "le mot de passe a été changé",
}


@dataclass(frozen=True, slots=True)
class Proof:
    """A one-time ticket: a factor was proven for ``action`` in this session."""

    token: str
    action: FactorAction
    method: str
    expires_at: dt.datetime


def new_challenge(
    deps: AuthDeps,
    ctx: RequestContext,
    kind: ChallengeKind,
    payload: dict[str, str],
    ttl: dt.timedelta | None = None,
) -> str:
    """A ceremony step bound to the caller's session, browser and network; its handle."""
    handle = secrets.token_urlsafe(32)
    now = deps.clock.now()
    deps.challenges.put(
        Challenge(
            key=digest(handle),
            kind=kind,
            agent_id=ctx.agent.id,
            created_at=now,
            expires_at=now + (ttl or deps.policy.challenge_ttl),
            network=ctx.client.network,
            user_agent=ctx.client.user_agent,
            payload={**payload, "session": ctx.session_id},
        )
    )
    return handle


def own_challenge(
    deps: AuthDeps, ctx: RequestContext, handle: str | None, kind: ChallengeKind
) -> Challenge | None:
    """The challenge this very session started, still in time, now consumed; else None."""
    challenge = deps.challenges.get(digest(handle)) if handle and len(handle) <= 128 else None
    if (
        challenge is None
        or challenge.kind is not kind
        or challenge.agent_id != ctx.agent.id
        or challenge.payload.get("session") != ctx.session_id
        or deps.clock.now() >= challenge.expires_at
        or not deps.challenges.take(challenge.key)
    ):
        return None
    return challenge


def methods_for(deps: AuthDeps, agent: Agent) -> list[Method]:
    """The factors that may prove a change to ``agent``'s factors."""
    creds = deps.credentials.credentials_by_id(agent.id)
    return proof_methods(
        agent,
        has_totp=bool(creds and creds.totp_secret),
        has_webauthn=bool(deps.webauthn_keys.webauthn_credentials(agent.id)),
        policy=deps.policy,
    )


def _severity(agent: Agent) -> Severity:
    return Severity.HIGH if agent.privileged else Severity.MEDIUM


def refused(deps: AuthDeps, ctx: RequestContext, action: FactorAction, why: str) -> None:
    """Journal and alert a refused factor change (the stolen-cookie pattern)."""
    emit(
        deps,
        Tag.AUTH_FACTOR_REFUSED,
        Decision.STEP_UP,
        ctx.client,
        agent=ctx.agent,
        session_id=ctx.session_id,
        reason=why,
        details={"action": str(action)},
    )
    alert(
        deps,
        SigninAlert.FACTOR_CHANGE_REFUSED,
        _severity(ctx.agent),
        f"A change to the sign-in factors of {ctx.agent.login} ({action}) was refused: {why}.",
        ctx.client,
        agent=ctx.agent,
        session_id=ctx.session_id,
        evidence={"action": str(action), "why": why},
        action_taken="refused",
    )


def _issue(deps: AuthDeps, ctx: RequestContext, action: FactorAction, method: str) -> Proof:
    handle = new_challenge(
        deps,
        ctx,
        ChallengeKind.FACTOR_PROOF,
        {"action": str(action), "method": method},
        deps.policy.proof_ttl,
    )
    return Proof(handle, action, method, deps.clock.now() + deps.policy.proof_ttl)


def prove_with_totp(deps: AuthDeps, ctx: RequestContext, action: FactorAction, code: str) -> Proof:
    """A new TOTP code (never one already used, the sign-in's included) proves ``action``.

    Throttled and counted towards the lock like a sign-in (ASVS V6.3.1)."""
    if Method.TOTP not in methods_for(deps, ctx.agent):
        refused(deps, ctx, action, "a code may not prove this account's factor changes")
        raise Forbidden("confirm with your security key")
    creds = deps.credentials.credentials_by_id(ctx.agent.id)
    if creds is None:
        raise Unauthenticated("sign in first")
    if not spend_totp_code(
        deps,
        ctx,
        creds,
        code,
        reason="factor proof: wrong or already used code",
        details={"method": "totp", "action": str(action)},
    ):
        refused(deps, ctx, action, "wrong or already used code")
        raise StepUpRequired("wrong or already used code")
    return _issue(deps, ctx, action, "totp")


def webauthn_proof_options(
    deps: AuthDeps, ctx: RequestContext, action: FactorAction
) -> tuple[str, str]:
    """(challenge handle, request options JSON) for a key's assertion proving ``action``."""
    if Method.WEBAUTHN not in methods_for(deps, ctx.agent):
        raise Forbidden("no security key may prove this account's factor changes")
    keys = deps.webauthn_keys.webauthn_credentials(ctx.agent.id)
    options, raw = deps.webauthn.authentication_options([k.credential_id for k in keys])
    handle = new_challenge(
        deps, ctx, ChallengeKind.PROOF_WEBAUTHN, {"webauthn": b64(raw), "action": str(action)}
    )
    return handle, options


def prove_with_webauthn(
    deps: AuthDeps, ctx: RequestContext, handle: str, credential_json: str
) -> Proof:
    """A key's assertion over the challenge ``webauthn_proof_options`` gave proves its action."""
    challenge = own_challenge(deps, ctx, handle, ChallengeKind.PROOF_WEBAUTHN)
    if challenge is None:
        raise Unauthenticated("unknown or expired challenge: start again")
    action = FactorAction(challenge.payload["action"])
    try:
        verify_assertion(deps, ctx.agent.id, credential_json, unb64(challenge.payload["webauthn"]))
    except Unauthenticated as exc:
        mfa_failed(
            deps,
            ctx,
            f"factor proof: {exc.detail}",
            {"method": "webauthn", "action": str(action)},
        )
        refused(deps, ctx, action, "the security key's assertion failed")
        raise StepUpRequired(exc.detail) from exc
    return _issue(deps, ctx, action, "webauthn")


def spend(deps: AuthDeps, ctx: RequestContext, action: FactorAction, token: str | None) -> str:
    """Spend the proof made for ``action`` in this session; its method. Refused (journaled,
    alerted, ``401 step_up_required``) without one: the sign-in's freshness is not a proof."""
    challenge = own_challenge(deps, ctx, token, ChallengeKind.FACTOR_PROOF)
    if challenge is None or challenge.payload.get("action") != str(action):
        refused(deps, ctx, action, "no proof made for this action")
        raise StepUpRequired(NO_PROOF)
    return challenge.payload.get("method", "")


def changed(
    deps: AuthDeps,
    ctx: RequestContext,
    action: FactorAction,
    method: str,
    details: dict[str, object] | None = None,
) -> None:
    """After a factor change: a notice to the address on file, an alert to the security team."""
    agent = ctx.agent
    alert(
        deps,
        SigninAlert.FACTOR_CHANGED,
        _severity(agent),
        f"The sign-in factors of {agent.login} changed ({action}), proven by {method}.",
        ctx.client,
        agent=agent,
        session_id=ctx.session_id,
        evidence={"action": str(action), "proof": method, **(details or {})},
        action_taken="owner_notified",
    )
    notify(deps, agent, ACTION_LABELS[action], ctx.client.network, ctx.client.country)


def notify(deps: AuthDeps, agent: Agent, what: str, network: str, country: str) -> None:
    """Mail the account's holder, at the address on file, what changed (no link in it)."""
    at = deps.clock.now().strftime("%d/%m/%Y à %H:%M UTC")
    where = f"{network} ({country})" if country else network or "réseau inconnu"
    body = (
        "Bonjour,\n\n"
        f"Sur votre compte Rempart « {agent.login} », le {at}, depuis le réseau {where} : "
        f"{what}.\n\n"
        "Si c'est vous, vous n'avez rien à faire.\n"
        "Si ce n'est pas vous, prévenez tout de suite votre responsable de compte ou l'équipe "
        "sécurité : quelqu'un d'autre utilise peut-être votre compte.\n\n"
        "Ce message ne contient aucun lien et ne vous demande rien : ne cliquez jamais sur un "
        "lien reçu au nom de Rempart.\n"
    )
    try:
        deps.mailer.send(agent.email, "Rempart : vos moyens de connexion ont changé", body)
    except Exception as exc:  # noqa: BLE001 - the change stands; the alert already went out
        log.warning("factor change notice not sent to %s: %s", agent.login, type(exc).__name__)


def _approval_key(agent_id: int) -> str:
    return digest(f"first-key-approval:{agent_id}")


def approve_first_key(deps: AuthDeps, ctx: RequestContext, target: Agent) -> dt.datetime:
    """A second person lets ``target`` register its first passkey; until when. Governance
    decides who may (four eyes); this records it, alerts and tells the account's holder."""
    now = deps.clock.now()
    until = now + deps.policy.first_key_approval_ttl
    key = _approval_key(target.id)
    deps.challenges.take(key)  # a newer approval replaces an older one
    deps.challenges.put(
        Challenge(
            key=key,
            kind=ChallengeKind.FIRST_KEY_APPROVAL,
            agent_id=target.id,
            created_at=now,
            expires_at=until,
            network="",
            user_agent="",
            payload={"approved_by": ctx.agent.login, "approved_by_id": str(ctx.agent.id)},
        )
    )
    emit(
        deps,
        Tag.AUTH_FIRST_KEY_APPROVED,
        Decision.ALLOW,
        ctx.client,
        agent=ctx.agent,
        session_id=ctx.session_id,
        details={"account": target.login, "until": until.isoformat()},
    )
    alert(
        deps,
        SigninAlert.FIRST_KEY_APPROVED,
        Severity.MEDIUM,
        f"{ctx.agent.login} approved the first passkey of {target.login}.",
        ctx.client,
        agent=ctx.agent,
        session_id=ctx.session_id,
        evidence={"account": target.login, "until": until.isoformat()},
        action_taken="first_key_allowed",
    )
    return until


def first_key_approval(deps: AuthDeps, agent: Agent, *, spend_it: bool) -> bool:
    """True when someone else approved ``agent``'s first passkey and it is still in time
    (``spend_it``: and the approval is now used up)."""
    challenge = deps.challenges.get(_approval_key(agent.id))
    if (
        challenge is None
        or challenge.kind is not ChallengeKind.FIRST_KEY_APPROVAL
        or challenge.agent_id != agent.id
        or challenge.payload.get("approved_by_id") == str(agent.id)
        or deps.clock.now() >= challenge.expires_at
    ):
        return False
    return deps.challenges.take(challenge.key) if spend_it else True
