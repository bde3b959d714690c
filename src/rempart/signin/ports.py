"""Ports: what the use cases need from the outside world, named for their role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from rempart.kernel.throttling import Failures
from rempart.signin.model import (
    AccountLock,
    Challenge,
    Credentials,
    DeviceProof,
    FederatedClaims,
    FederationRequest,
    NewWebauthnCredential,
    Session,
    SessionHolder,
    WebauthnCredential,
)


class PasswordHasher(Protocol):
    """Slow, salted password hashing (argon2id)."""

    def hash(self, password: str) -> str:
        """A new salted hash of ``password``."""
        ...

    def verify(self, stored: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored``; None still costs one full verification."""
        ...

    def needs_rehash(self, stored: str) -> bool:
        """True when ``stored`` was made with weaker parameters than today's."""
        ...


class TotpVerifier(Protocol):
    """RFC 6238 time-based codes."""

    def new_secret(self) -> str:
        """A fresh base32 secret from a CSPRNG."""
        ...

    def matching_step(self, secret: str, code: str, at: dt.datetime) -> int | None:
        """The time step (±1 around ``at``) whose code is ``code``, or None."""
        ...

    def provisioning_uri(self, secret: str, account: str, issuer: str) -> str:
        """The ``otpauth://`` URI an authenticator app scans."""
        ...


class WebauthnCeremonies(Protocol):
    """WebAuthn registration and authentication, user verification required."""

    def registration_options(
        self, user_handle: bytes, login: str, display_name: str, exclude: Sequence[bytes]
    ) -> tuple[str, bytes]:
        """Creation options as JSON, and the challenge they carry."""
        ...

    def verify_registration(self, credential_json: str, challenge: bytes) -> NewWebauthnCredential:
        """Check an attestation; raise Unauthenticated or InvalidRequest when it does not hold."""
        ...

    def authentication_options(self, allow: Sequence[bytes]) -> tuple[str, bytes]:
        """Request options as JSON, and the challenge they carry."""
        ...

    def credential_id(self, credential_json: str) -> bytes:
        """The raw id of the credential an assertion names (InvalidRequest if unreadable)."""
        ...

    def verify_authentication(
        self, credential_json: str, challenge: bytes, public_key: bytes, sign_count: int
    ) -> int:
        """Check an assertion; return the new sign count (a counter going back fails)."""
        ...


class IdentityFederation(Protocol):
    """An OpenID Connect provider (ProConnect-shaped): code flow with PKCE."""

    def authorization_request(self, redirect_uri: str) -> FederationRequest:
        """A new authorization request with fresh state, nonce and PKCE verifier."""
        ...

    def complete(
        self, request: FederationRequest, redirect_uri: str, code: str, issuer: str | None
    ) -> FederatedClaims:
        """Exchange the code and verify the ID token (signature, iss, aud, nonce, times)."""
        ...


class NetworkLocator(Protocol):
    """Where an address sits: its autonomous system and country, offline."""

    def locate(self, address: str) -> tuple[str, str]:
        """(network label, ISO country code or "") for an address."""
        ...


class AttemptCounter(Protocol):
    """Failed attempts per key, shared by every replica in production (Redis)."""

    def failures(self, key: str, now: dt.datetime) -> Failures:
        """The failures counted under ``key`` (forgotten after a quiet period)."""
        ...

    def record_failure(self, key: str, now: dt.datetime, forget_after: dt.timedelta) -> Failures:
        """Count one more failure under ``key``; return the new tally."""
        ...

    def clear(self, key: str) -> None:
        """Forget ``key`` (after a success, or an unlock)."""
        ...


class CredentialStore(Protocol):
    """An account's stored credentials: password hash, TOTP state, lock flag."""

    def credentials(self, login: str) -> Credentials | None:
        """Credentials of the agent with this login."""
        ...

    def credentials_by_id(self, agent_id: int) -> Credentials | None:
        """Credentials of the agent with this id."""
        ...

    def set_password_hash(self, agent_id: int, password_hash: str) -> None:
        """Store a new password hash."""
        ...


class LoginRecords(Protocol):
    """Consecutive failed sign-ins of an account, and its last successful one."""

    def record_failed_login(self, agent_id: int) -> int:
        """One more consecutive failure; return the new count."""
        ...

    def record_success(self, agent_id: int, at: dt.datetime) -> None:
        """Reset the failure count and note the sign-in time."""
        ...


class AccountLocks(Protocol):
    """Locks placed on accounts, with why, when and the addresses that failed."""

    def lock(self, lock: AccountLock) -> None:
        """Lock the account (replacing any earlier lock record)."""
        ...

    def add_lock_address(self, agent_id: int, address: str) -> None:
        """Remember one more address that failed against a locked account."""
        ...

    def lock_of(self, agent_id: int) -> AccountLock | None:
        """The lock record of this account, if any."""
        ...

    def unlock(self, agent_id: int) -> None:
        """Lift the lock and reset the failure count."""
        ...


class TotpSecrets(Protocol):
    """An account's TOTP secret and the last time step it used."""

    def set_totp(self, agent_id: int, secret: str, last_step: int) -> None:
        """Store (or clear, with "") the TOTP secret."""
        ...

    def use_totp_step(self, agent_id: int, step: int) -> bool:
        """Record ``step`` as used if it is newer than the last one; False on a replay."""
        ...


class WebauthnKeys(Protocol):
    """An account's registered security keys and passkeys."""

    def webauthn_credentials(self, agent_id: int) -> list[WebauthnCredential]:
        """The agent's keys, oldest first."""
        ...

    def add_webauthn_credential(
        self, agent_id: int, cred: NewWebauthnCredential, name: str, at: dt.datetime
    ) -> WebauthnCredential:
        """Store a newly registered key."""
        ...

    def update_sign_count(self, cred_id: int, sign_count: int, at: dt.datetime) -> None:
        """Remember the authenticator's counter and when it was used."""
        ...

    def remove_webauthn_credential(self, agent_id: int, cred_id: int) -> bool:
        """Remove one of the agent's keys; False when it has no such key."""
        ...


class RecoveryCodes(Protocol):
    """An account's one-time recovery codes, stored as keyed hashes."""

    def recovery_codes_left(self, agent_id: int) -> int:
        """Unused codes."""
        ...

    def replace_recovery_codes(
        self, agent_id: int, code_hashes: Sequence[str], at: dt.datetime
    ) -> None:
        """Drop the old codes and store the new ones."""
        ...

    def use_recovery_code(self, agent_id: int, code_hash: str, at: dt.datetime) -> bool:
        """Mark the code used; False when unknown or already used."""
        ...


class IdentityLinks(Protocol):
    """Identity-provider accounts (issuer, subject) linked to Rempart accounts."""

    def agent_by_identity(self, issuer: str, subject: str) -> int | None:
        """The account linked to (issuer, subject), matched on both."""
        ...

    def link_identity(self, agent_id: int, issuer: str, subject: str, at: dt.datetime) -> None:
        """Link a provider identity to an account."""
        ...

    def unlink_identity(self, agent_id: int, issuer: str, subject: str) -> bool:
        """Remove a link; False when there was none."""
        ...

    def identities_of(self, agent_id: int) -> list[tuple[str, str]]:
        """(issuer, subject) pairs linked to the account, oldest first."""
        ...


class ChallengeStore(Protocol):
    """Pending steps of sign-in ceremonies, each used at most once."""

    def put(self, challenge: Challenge) -> None:
        """Store a new challenge."""
        ...

    def get(self, key: str) -> Challenge | None:
        """The challenge stored under ``key``."""
        ...

    def update(self, key: str, *, attempts: int, payload: dict[str, str]) -> None:
        """Record an attempt or new ceremony data."""
        ...

    def take(self, key: str) -> bool:
        """Delete the challenge; True only for the one caller that deleted it."""
        ...

    def purge(self, before: dt.datetime) -> None:
        """Forget challenges that expired before ``before``."""
        ...


class DeviceProofs(Protocol):
    """Checks the JWTs a browser signs with its session key (DBSC, ES256)."""

    def verify(self, token: str, public_key: str | None) -> DeviceProof:
        """The key and challenge of a well-signed ``dbsc+jwt``: signed by ``public_key`` when
        given (a refresh), else by the key its header carries (a registration). ValueError for
        anything else, with the reason."""
        ...


class SessionStore(Protocol):
    """Server-side sessions, keyed by the hash of the cookie token."""

    def create(self, session: Session) -> None:
        """Store a new session."""
        ...

    def get(self, key: str) -> Session | None:
        """The session whose token hashes to ``key`` (ended ones included)."""
        ...

    def holder(self, key: str) -> SessionHolder | None:
        """The session with its account's credentials and organisation, in one read (the
        request path resumes a session on every call)."""
        ...

    def touch(self, key: str, at: dt.datetime) -> None:
        """Note activity on a live session (the idle timeout counts from here)."""
        ...

    def set_fresh_until(self, key: str, until: dt.datetime) -> None:
        """The second factor was proven again: privileged actions allowed until ``until``."""
        ...

    def rebind(self, key: str, address: str, network: str, country: str) -> None:
        """Bind a live session to the address a step-up (or a device proof) came from."""
        ...

    def bind_device(self, key: str, device_key: str) -> bool:
        """Register the browser's key (DBSC) on a live session that has none; False otherwise
        (the first registration wins: a thief cannot replace the browser's key)."""
        ...

    def use_device_nonce(self, key: str, nonce: str) -> bool:
        """Record the refresh challenge a device answered; False when it was answered before."""
        ...

    def end(self, key: str, at: dt.datetime, reason: str) -> bool:
        """End one live session; False when it had already ended."""
        ...

    def live_of(self, agent_id: int, now: dt.datetime) -> list[Session]:
        """The agent's sessions not ended nor past their absolute end, newest first."""
        ...


class SessionRevocations(Protocol):
    """Ending sessions from outside them: by public id, or all of an agent or organisation."""

    def end_public(self, public_id: str, at: dt.datetime, reason: str) -> bool:
        """End one live session named by its public id."""
        ...

    def end_all(
        self,
        at: dt.datetime,
        reason: str,
        *,
        agent_id: int | None = None,
        org_id: str | None = None,
        except_key: str | None = None,
    ) -> list[Session]:
        """End every live session of an agent or an organisation; return the sessions ended."""
        ...


class HashingWork(Protocol):
    """Bounds on argon2 work, so that memory stays flat under a flood (each hash holds tens of
    MiB): at most one at a time per account, a few per address, a fixed number in total."""

    def slot(self, login: str, address: str) -> AbstractContextManager[None]:
        """Hold a slot for one hash; raise Throttled when the account or the address already
        holds its share, or when no slot frees up in time."""
        ...
