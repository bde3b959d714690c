"""What the sign-in use cases are given, wired by ``signin.wiring``: narrow ports, one per role."""

from __future__ import annotations

from dataclasses import dataclass

from rempart.guard.ports import AlertSink
from rempart.journal.ports import JournalWriter
from rempart.kernel.ports import AppSwitches, Clock, Directory
from rempart.mail.ports import Mailer
from rempart.signin.model import AuthPolicy
from rempart.signin.ports import (
    AccountLocks,
    AttemptCounter,
    ChallengeStore,
    CredentialStore,
    DeviceProofs,
    HashingWork,
    IdentityFederation,
    IdentityLinks,
    LoginRecords,
    NetworkLocator,
    PasswordHasher,
    RecoveryCodes,
    SessionRevocations,
    SessionStore,
    TotpSecrets,
    TotpVerifier,
    WebauthnCeremonies,
    WebauthnKeys,
)


@dataclass(frozen=True, slots=True)
class AuthDeps:
    credentials: CredentialStore  # password hash, TOTP state, lock flag (read)
    logins: LoginRecords  # consecutive failures, last success
    locks: AccountLocks
    totp_secrets: TotpSecrets
    webauthn_keys: WebauthnKeys
    recovery_codes: RecoveryCodes
    identities: IdentityLinks
    challenges: ChallengeStore
    sessions: SessionStore
    revocations: SessionRevocations
    directory: Directory  # accounts and organisations by id or login
    apps: AppSwitches  # the kill switches containment pulls
    hasher: PasswordHasher
    work: HashingWork  # argon2 bounded per account, per address and in total
    totp: TotpVerifier
    webauthn: WebauthnCeremonies
    federation: IdentityFederation | None
    locator: NetworkLocator
    attempts: AttemptCounter
    journal: JournalWriter
    alerts: AlertSink  # factor changes and refused ones, to the security team
    mailer: Mailer  # notices to the address on file when a factor changes
    clock: Clock
    policy: AuthPolicy
    secret: bytes  # derives CSRF tokens and peppers recovery-code hashes
    devices: DeviceProofs | None = None  # DBSC: None when device-bound sessions are not offered
