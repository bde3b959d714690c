"""Sign-in: credentials, second factors, sessions and the rules that tie them together.

Everything here is plain data and pure decisions; the services apply them, the adapters
store them. Security reasons are written next to each rule.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from rempart.kernel.actors import Agent, Organisation, Role
from rempart.kernel.context import address_line
from rempart.kernel.throttling import ThrottlePolicy

# Growing delays after failed sign-ins (ASVS V6.3.1), per account and per client address.
ACCOUNT_THROTTLE = ThrottlePolicy(free=3, base_seconds=1.0, max_seconds=900.0)
# Offices and Missions Locales sit behind one NAT: an address gets more free attempts.
ADDRESS_THROTTLE = ThrottlePolicy(free=10, base_seconds=1.0, max_seconds=900.0)


class Method(StrEnum):
    """Second factors a sign-in may finish with."""

    TOTP = "totp"
    WEBAUTHN = "webauthn"
    RECOVERY = "recovery_code"


class ChallengeKind(StrEnum):
    """What a pending challenge is waiting for."""

    MFA = "mfa"  # password accepted, second factor expected
    WEBAUTHN_REGISTER = "webauthn_register"
    WEBAUTHN_STEP_UP = "webauthn_step_up"
    TOTP_ENROL = "totp_enrol"
    OIDC = "oidc"
    PROOF_WEBAUTHN = "proof_webauthn"  # a key's assertion asked for one factor action
    FACTOR_PROOF = "factor_proof"  # a factor proven for one action, not yet spent
    FIRST_KEY_APPROVAL = "first_key_approval"  # a second person let a privileged account
    # register its first passkey


class FactorAction(StrEnum):
    """What changes an account's way of signing in: each needs its own proof (finding of the
    2026 penetration test: a cookie stolen inside the sign-in's fresh window replaced the
    victim's TOTP and minted recovery codes, riding on the freshness the cookie carried)."""

    TOTP_ENROL = "totp_enrol"
    TOTP_REMOVE = "totp_remove"
    RECOVERY_CODES = "recovery_codes"
    WEBAUTHN_REGISTER = "webauthn_register"
    WEBAUTHN_REMOVE = "webauthn_remove"
    PASSWORD_CHANGE = "password_change"  # noqa: S105 - an action's name, not a password


class SigninAlert(StrEnum):
    """Alert rules sign-in raises to the security team."""

    FACTOR_CHANGED = "factor_changed"
    FACTOR_CHANGE_REFUSED = "factor_change_refused"
    FIRST_KEY_APPROVED = "first_key_approved"


class EndReason(StrEnum):
    """Why a session ended; everything but logout and expiry is a revocation."""

    LOGOUT = "logout"
    IDLE = "idle_timeout"
    ABSOLUTE = "absolute_timeout"
    NETWORK_CHANGED = "network_changed"
    BROWSER_CHANGED = "browser_changed"
    ADMIN = "revoked_by_administrator"
    USER = "revoked_by_user"
    ACCOUNT_DISABLED = "account_disabled"
    ACCOUNT_LOCKED = "account_locked"
    TOO_MANY = "too_many_sessions"
    GUARD = "revoked_by_guard"

    @property
    def is_revocation(self) -> bool:
        """Revocations answer ``session_revoked``; logout and expiry plain ``unauthenticated``."""
        return self not in (EndReason.LOGOUT, EndReason.IDLE, EndReason.ABSOLUTE)


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """The sign-in rules in force, built from the settings by ``signin.wiring``."""

    idle: dt.timedelta = dt.timedelta(minutes=15)
    absolute: dt.timedelta = dt.timedelta(hours=10)
    step_up: dt.timedelta = dt.timedelta(minutes=5)
    challenge_ttl: dt.timedelta = dt.timedelta(minutes=5)
    oidc_ttl: dt.timedelta = dt.timedelta(minutes=10)
    challenge_attempts: int = 5
    lock_after: int = 10  # CNIL SAN-2026-003 found 50 too many; ASVS V6.3.1
    self_unlock_after: dt.timedelta = dt.timedelta(minutes=30)
    webauthn_only_for_privileged: bool = True
    acr_values: tuple[str, ...] = ("eidas2", "eidas3")
    privileged_acr_values: tuple[str, ...] = ("eidas3",)
    rp_id: str = "localhost"
    rp_name: str = "Rempart"
    origin: str = "http://localhost:8000"
    touch_every: dt.timedelta = dt.timedelta(seconds=30)
    # DBSC: the bound cookie lives a few minutes (the draft's own examples use ten); a stolen
    # copy is worth at most that, from the address it was issued to only. A refresh challenge
    # must be answered within the same time.
    device_cookie_ttl: dt.timedelta = dt.timedelta(minutes=5)
    device_challenge_ttl: dt.timedelta = dt.timedelta(minutes=5)
    # Training managers reach a whole organisation's trainees: phishing-resistant too, outside
    # demo mode (settings.webauthn_for_training_managers).
    webauthn_for_training_managers: bool = False
    proof_ttl: dt.timedelta = dt.timedelta(minutes=2)  # a factor proof, spent by one action
    first_key_approval_ttl: dt.timedelta = dt.timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Credentials:
    """What proves an agent's identity, as stored with the agent."""

    agent: Agent
    password_hash: str
    totp_secret: str
    totp_last_step: int
    locked: bool
    failed_logins: int


@dataclass(frozen=True, slots=True)
class SessionHolder:
    """A session with its account and organisation, as one read returns them: what resuming
    a session checks, and none of the account's secrets (its password hash, its TOTP seed),
    which only the sign-in steps that verify them read."""

    session: Session
    agent: Agent | None  # None: the account no longer exists
    locked: bool
    org: Organisation | None


FAILURES_LOCK = "failures"  # the reason of the lock repeated password failures place


@dataclass(frozen=True, slots=True)
class AccountLock:
    """A lock on an account: after repeated failures (``FAILURES_LOCK``), or placed by the
    guard or the security team (the reason names the rule or the officer's reason)."""

    agent_id: int
    locked_at: dt.datetime
    reason: str
    addresses: tuple[str, ...] = ()

    @property
    def by_failures(self) -> bool:
        """True for the lock that password failures place, the only one its owner may lift
        (after a delay, from a clean address); any other lock takes a human to lift."""
        return self.reason == FAILURES_LOCK


@dataclass(frozen=True, slots=True)
class Challenge:
    """A pending step of a ceremony, bound to the browser and network that started it."""

    key: str  # hash of the handle given to the client
    kind: ChallengeKind
    agent_id: int
    created_at: dt.datetime
    expires_at: dt.datetime
    network: str
    user_agent: str
    attempts: int = 0
    payload: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Session:
    """A server-side session; the cookie holds a token whose hash is ``key``."""

    key: str
    public_id: str
    agent_id: int
    org_id: str
    method: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime  # absolute end
    fresh_until: dt.datetime | None
    address: str
    network: str
    country: str
    user_agent: str
    enrol_only: bool = False  # may only register a security key (privileged, none yet)
    ended_at: dt.datetime | None = None
    end_reason: str = ""
    # Device Bound Session Credentials: the browser's public key (a JWK, JSON) once registered,
    # and the last refresh challenge it signed (a signed answer is good once).
    device_key: str = ""
    device_nonce: str = ""

    @property
    def device_bound(self) -> bool:
        """True once the browser registered a key: only its signatures keep the session alive."""
        return bool(self.device_key)

    def idle_expires_at(self, policy: AuthPolicy) -> dt.datetime:
        """When the session dies if nothing more happens."""
        return min(self.last_seen_at + policy.idle, self.expires_at)

    def expiry_reason(self, now: dt.datetime, policy: AuthPolicy) -> EndReason | None:
        """Why the session is over at ``now``, or None while it is alive (ASVS V7.3.1, V7.3.2)."""
        if now >= self.expires_at:
            return EndReason.ABSOLUTE
        if now >= self.last_seen_at + policy.idle:
            return EndReason.IDLE
        return None


@dataclass(frozen=True, slots=True)
class WebauthnCredential:
    """A registered security key or passkey."""

    id: int
    agent_id: int
    credential_id: bytes
    public_key: bytes
    sign_count: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class NewWebauthnCredential:
    """What a verified registration yields."""

    credential_id: bytes
    public_key: bytes
    sign_count: int


@dataclass(frozen=True, slots=True)
class FederationRequest:
    """One authorization request to the identity provider, kept server-side until the callback."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class FederatedClaims:
    """The verified ID token claims Rempart relies on."""

    issuer: str
    subject: str
    acr: str
    auth_time: dt.datetime | None = None
    amr: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeviceProof:
    """A verified DBSC answer: the browser's public key (canonical JWK JSON) and the challenge
    it signed (``jti``)."""

    public_key: str
    challenge: str


def bound_address(address: str) -> str:
    """What a session is bound to: the exact IPv4 address, or the IPv6 /64 (one subscriber's
    line; the rest of the address rotates on its own).

    Not the operator's network: most French home lines belong to four operators, so "same
    operator" says nothing about who holds a stolen cookie.
    """
    return address_line(address)


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy token (256-bit session ids, challenges): storage key.

    A plain hash is enough for values of 112 bits or more (ASVS V6.5.2); a leaked table
    then gives nothing that can be replayed as a cookie.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def keyed_digest(key: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA-256 of ``value`` for one ``purpose``: derived tokens (CSRF) and peppered hashes."""
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def needs_phishing_resistant(agent: Agent, policy: AuthPolicy) -> bool:
    """True when the agent signs in (and proves factor changes) with a security key only.

    Privileged roles when the policy says so (the Dec 2025 incident started with an account
    manager's account), and training managers, whose scope is a whole organisation (July 2025:
    a training body's stolen credentials), when ``webauthn_for_training_managers`` is on.
    """
    if agent.privileged and policy.webauthn_only_for_privileged:
        return True
    return policy.webauthn_for_training_managers and agent.has(Role.TRAINING_MANAGER)


def allowed_methods(
    agent: Agent,
    *,
    has_totp: bool,
    has_webauthn: bool,
    recovery_codes_left: int,
    policy: AuthPolicy,
) -> list[Method]:
    """The second factors this agent may finish a sign-in with.

    Privileged roles use the phishing-resistant factor only when the policy says so (the
    Dec 2025 incident started with an account manager's account); recovery codes are
    phishable too, so they are not offered to them either.
    """
    if needs_phishing_resistant(agent, policy):
        return [Method.WEBAUTHN] if has_webauthn else []
    methods: list[Method] = []
    if has_totp:
        methods.append(Method.TOTP)
    if has_webauthn:
        methods.append(Method.WEBAUTHN)
    if methods and recovery_codes_left > 0:
        methods.append(Method.RECOVERY)
    return methods


def needs_key_enrolment(
    agent: Agent, *, has_totp: bool, has_webauthn: bool, policy: AuthPolicy
) -> bool:
    """An agent who must use a key, with TOTP but no key yet: TOTP opens an enrol-only session."""
    return needs_phishing_resistant(agent, policy) and has_totp and not has_webauthn


def proof_methods(
    agent: Agent, *, has_totp: bool, has_webauthn: bool, policy: AuthPolicy
) -> list[Method]:
    """The factors that may prove a factor change: never a recovery code (they are what a thief
    mints), a key only for those who must sign in with one, unless they have none yet."""
    if needs_phishing_resistant(agent, policy) and has_webauthn:
        return [Method.WEBAUTHN]
    methods: list[Method] = []
    if has_totp:
        methods.append(Method.TOTP)
    if has_webauthn:
        methods.append(Method.WEBAUTHN)
    return methods


def needs_first_key_approval(agent: Agent, *, has_webauthn: bool, policy: AuthPolicy) -> bool:
    """A privileged account's first passkey needs a second person's approval: otherwise a
    phished password and TOTP code would become a permanent key in the thief's hands."""
    return agent.privileged and policy.webauthn_only_for_privileged and not has_webauthn


def acr_satisfies(acr: str, agent: Agent | None, policy: AuthPolicy) -> bool:
    """True when the identity provider's ``acr`` meets what Rempart requires (ASVS V6.8.4)."""
    wanted = policy.acr_values
    if agent is not None and needs_phishing_resistant(agent, policy):
        wanted = policy.privileged_acr_values
    return acr in wanted
