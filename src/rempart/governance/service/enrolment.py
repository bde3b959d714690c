"""Enrolment of a new (or reset) account through a one-time link mailed to its holder.

The link carries a 256-bit random token; only its SHA-256 is stored (ASVS V6.5.2), it expires
(ASVS V6.4.1) and works once. Opening it shows a fresh TOTP secret; the person then sets a
password under the sign-in policy and proves the TOTP code. Until then the account reads
nothing (the data gate checks ``enrolment_pending``); afterwards it is on probation, which
the guard reads to give it a low exposure budget.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from rempart.governance.model import EnrolmentToken, GovernanceAlert
from rempart.governance.service.deps import GovernanceDeps
from rempart.governance.service.events import alert, record
from rempart.guard.alerts import Severity
from rempart.kernel.actors import Agent
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.errors import InvalidRequest, Unauthenticated
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import digest
from rempart.signin.passwords import check_password

log = logging.getLogger("rempart.enrolment")

ISSUER = "Rempart"
_INVALID = "this enrolment link is invalid, used or expired: ask your account manager for a new one"


def link_for(gov: GovernanceDeps, token: str) -> str:
    """The URL mailed to the person (the enrolment page reads the token from it)."""
    return f"{gov.rules.public_url.rstrip('/')}/enrol?token={token}"


def send_link(gov: GovernanceDeps, ctx: RequestContext | None, agent: Agent) -> bool:
    """Issue a new one-time link for ``agent`` (revoking earlier ones) and mail it.

    Returns False when the mail could not be sent: the approval stands, the failure is
    journaled, and an account manager can send a new link.
    """
    now = ctx.now if ctx is not None else gov.clock.now()
    token = secrets.token_urlsafe(32)
    expires_at = now + gov.rules.enrolment_ttl
    gov.tokens.add_enrolment_token(agent.id, digest(token), now, expires_at)
    hours = int(gov.rules.enrolment_ttl.total_seconds() // 3600)
    body = (
        f"Hello,\n\nA Rempart account ({agent.login}) was opened for you.\n"
        f"Activate it within {hours} hours with this one-time link:\n\n"
        f"{link_for(gov, token)}\n\n"
        "You will choose a password and set up an authenticator app.\n"
        "If you did not expect this message, tell your organisation's account manager.\n"
    )
    try:
        gov.mailer.send(agent.email, "Rempart: activate your account", body)
        sent = True
    except Exception:  # a mail outage must not undo an approval already recorded
        log.warning("enrolment mail to account %s failed", agent.login, exc_info=True)
        sent = False
    record(
        gov,
        ctx,
        Tag.ACCOUNT_ENROLMENT_SENT,
        Decision.ALLOW if sent else Decision.DENY,
        subject=agent,
        reason="" if sent else "mail not delivered",
        details={"expires_at": expires_at.isoformat(), "delivered": sent},
        at=now,
    )
    return sent


def _token(gov: GovernanceDeps, token: str) -> tuple[EnrolmentToken, Agent]:
    now = gov.clock.now()
    found = gov.tokens.enrolment_token(digest(token)) if 20 <= len(token) <= 128 else None
    if found is None or not found.usable(now, gov.rules.enrolment_attempts):
        raise Unauthenticated(_INVALID)
    agent = gov.directory.agent_by_id(found.agent_id)
    if agent is None or not agent.active:
        raise Unauthenticated(_INVALID)
    return found, agent


def begin(gov: GovernanceDeps, token: str) -> dict[str, Any]:
    """Open the link: who it is for, and the TOTP secret to add to an authenticator app."""
    found, agent = _token(gov, token)
    secret = found.pending_totp_secret
    if not secret:
        secret = gov.auth.totp.new_secret()
        gov.tokens.set_pending_totp(found.id, secret)
    org = gov.directory.organisation(agent.org_id)
    return {
        "login": agent.login,
        "organisation": org.name if org else "",
        "totp_secret": secret,
        "otpauth_uri": gov.auth.totp.provisioning_uri(secret, agent.login, ISSUER),
        "expires_at": found.expires_at.isoformat(),
    }


def complete(
    gov: GovernanceDeps, token: str, password: str, code: str, client: ClientInfo
) -> dict[str, Any]:
    """Set the password and prove the TOTP code: the account is enrolled, on probation."""
    found, agent = _token(gov, token)
    if not found.pending_totp_secret:
        raise InvalidRequest("open the enrolment link first to get your authenticator secret")
    org = gov.directory.organisation(agent.org_id)
    check_password(password, [agent.login, agent.email.split("@", 1)[0], org.name if org else ""])
    now = gov.clock.now()
    where: dict[str, object] = {"address": client.address, "network": client.network}
    step = gov.auth.totp.matching_step(found.pending_totp_secret, code.strip(), now)
    if step is None:
        failures = gov.tokens.count_enrolment_failure(found.id)
        record(
            gov,
            None,
            Tag.ACCOUNT_ENROLMENT_FAILED,
            Decision.DENY,
            subject=agent,
            reason="wrong code",
            details={"failures": failures, **where},
        )
        if failures >= gov.rules.enrolment_attempts:
            # Someone is guessing codes on a stolen link: burn it, the manager sends another.
            gov.tokens.revoke_enrolment_tokens(agent.id, now)
            alert(
                gov,
                None,
                GovernanceAlert.ENROLMENT_ABUSED,
                Severity.HIGH,
                f"The enrolment link of {agent.login} failed {failures} times; it was revoked.",
                evidence={"account": agent.login, "failures": failures, **where},
                action_taken="link_revoked",
                org_id=agent.org_id,
            )
        raise Unauthenticated("this code is not the one your authenticator app shows")
    probation_until = now + gov.rules.probation if gov.rules.probation else None
    with gov.auth.work.slot(agent.login, client.address):  # argon2 bounded, as at sign-in
        password_hash = gov.auth.hasher.hash(password)
    if not gov.tokens.complete_enrolment(
        found.id,
        agent.id,
        at=now,
        password_hash=password_hash,
        totp_secret=found.pending_totp_secret,
        totp_step=step,
        probation_until=probation_until,
    ):
        raise Unauthenticated(_INVALID)
    facts: dict[str, object] = {
        "factor": "totp",
        "probation_until": probation_until.isoformat() if probation_until else None,
        **where,
    }
    record(gov, None, Tag.ACCOUNT_ENROLMENT_COMPLETED, Decision.ALLOW, subject=agent, details=facts)
    alert(
        gov,
        None,
        GovernanceAlert.FACTOR_ENROLLED,
        Severity.LOW,
        f"{agent.login} enrolled a password and a TOTP factor through their enrolment link.",
        evidence={"account": agent.login, **facts},
        org_id=agent.org_id,
    )
    return {
        "status": "enrolled",
        "login": agent.login,
        "probation_until": facts["probation_until"],
        # Privileged roles sign in with a security key: TOTP opens an enrol-only session.
        "next": "register_security_key" if agent.privileged else "sign_in",
    }
