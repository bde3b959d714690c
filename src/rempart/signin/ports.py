"""Ports: what the use cases need from the outside world, named for their role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from rempart.signin.model import (
    AccountLock,
    Challenge,
    Credentials,
    Failures,
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
    """Agents' credentials and second factors."""

    def credentials(self, login: str) -> Credentials | None: ...
    def credentials_by_id(self, agent_id: int) -> Credentials | None: ...
    def set_password_hash(self, agent_id: int, password_hash: str) -> None: ...
    def set_totp(self, agent_id: int, secret: str, last_step: int) -> None: ...
    def use_totp_step(self, agent_id: int, step: int) -> bool:
        """Record ``step`` as used if it is newer than the last one; False on a replay."""
        ...

    def record_failed_login(self, agent_id: int) -> int:
        """One more consecutive failure; return the new count."""
        ...

    def record_success(self, agent_id: int, at: dt.datetime) -> None: ...
    def lock(self, lock: AccountLock) -> None: ...
    def add_lock_address(self, agent_id: int, address: str) -> None: ...
    def lock_of(self, agent_id: int) -> AccountLock | None: ...
    def unlock(self, agent_id: int) -> None: ...
    def webauthn_credentials(self, agent_id: int) -> list[WebauthnCredential]: ...
    def add_webauthn_credential(
        self, agent_id: int, cred: NewWebauthnCredential, name: str, at: dt.datetime
    ) -> WebauthnCredential: ...
    def update_sign_count(self, cred_id: int, sign_count: int, at: dt.datetime) -> None: ...
    def remove_webauthn_credential(self, agent_id: int, cred_id: int) -> bool: ...
    def recovery_codes_left(self, agent_id: int) -> int: ...
    def replace_recovery_codes(
        self, agent_id: int, code_hashes: Sequence[str], at: dt.datetime
    ) -> None: ...
    def use_recovery_code(self, agent_id: int, code_hash: str, at: dt.datetime) -> bool:
        """Mark the code used; False when unknown or already used."""
        ...

    def agent_by_identity(self, issuer: str, subject: str) -> int | None: ...
    def link_identity(self, agent_id: int, issuer: str, subject: str, at: dt.datetime) -> None: ...
    def unlink_identity(self, agent_id: int, issuer: str, subject: str) -> bool: ...
    def identities_of(self, agent_id: int) -> list[tuple[str, str]]: ...


class ChallengeStore(Protocol):
    """Pending steps of sign-in ceremonies, each used at most once."""

    def put(self, challenge: Challenge) -> None: ...
    def get(self, key: str) -> Challenge | None: ...
    def update(self, key: str, *, attempts: int, payload: dict[str, str]) -> None: ...
    def take(self, key: str) -> bool:
        """Delete the challenge; True only for the one caller that deleted it."""
        ...

    def purge(self, before: dt.datetime) -> None: ...


class SessionStore(Protocol):
    """Server-side sessions, keyed by the hash of the cookie token."""

    def create(self, session: Session) -> None: ...
    def get(self, key: str) -> Session | None: ...
    def holder(self, key: str) -> SessionHolder | None:
        """The session with its account's credentials and organisation, in one read (the
        request path resumes a session on every call)."""
        ...

    def touch(self, key: str, at: dt.datetime) -> None: ...
    def set_fresh_until(self, key: str, until: dt.datetime) -> None: ...
    def end_public(self, public_id: str, at: dt.datetime, reason: str) -> bool:
        """End one live session named by its public id."""
        ...

    def end(self, key: str, at: dt.datetime, reason: str) -> bool:
        """End one live session; False when it had already ended."""
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

    def live_of(self, agent_id: int, now: dt.datetime) -> list[Session]: ...
