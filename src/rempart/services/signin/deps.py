"""What the sign-in use cases are given, wired by ``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass

from rempart.domain.auth import AuthPolicy
from rempart.domain.ports import (
    AttemptCounter,
    ChallengeStore,
    Clock,
    CredentialStore,
    IdentityFederation,
    JournalWriter,
    NetworkLocator,
    PasswordHasher,
    PortalStore,
    SessionStore,
    TotpVerifier,
    WebauthnCeremonies,
)


@dataclass(frozen=True, slots=True)
class AuthDeps:
    credentials: CredentialStore
    challenges: ChallengeStore
    sessions: SessionStore
    portal: PortalStore
    hasher: PasswordHasher
    totp: TotpVerifier
    webauthn: WebauthnCeremonies
    federation: IdentityFederation | None
    locator: NetworkLocator
    attempts: AttemptCounter
    journal: JournalWriter
    clock: Clock
    policy: AuthPolicy
    secret: bytes  # derives CSRF tokens and peppers recovery-code hashes
