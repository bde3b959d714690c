"""What the sign-in use cases are given, wired by ``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass

from rempart.journal.ports import JournalWriter
from rempart.kernel.ports import AppSwitches, Clock, Directory
from rempart.signin.model import AuthPolicy
from rempart.signin.ports import (
    AttemptCounter,
    ChallengeStore,
    CredentialStore,
    IdentityFederation,
    NetworkLocator,
    PasswordHasher,
    SessionStore,
    TotpVerifier,
    WebauthnCeremonies,
)


@dataclass(frozen=True, slots=True)
class AuthDeps:
    credentials: CredentialStore
    challenges: ChallengeStore
    sessions: SessionStore
    directory: Directory  # accounts and organisations by id or login
    apps: AppSwitches  # the kill switches containment pulls
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
