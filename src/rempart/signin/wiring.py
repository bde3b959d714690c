"""Wires sign-in: argon2id, TOTP, WebAuthn, OIDC when configured, GeoIP, memory counters, and
the SQL stores of credentials, challenges and sessions."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from rempart.db.uow import Database
from rempart.guard.ports import AlertSink
from rempart.journal.ports import JournalWriter
from rempart.kernel.ports import AppSwitches, Clock, Directory
from rempart.mail.ports import Mailer
from rempart.settings import Settings
from rempart.signin.adapters.dbsc import Es256DeviceProofs
from rempart.signin.adapters.geoip import GeoipLocator
from rempart.signin.adapters.hashing import LocalHashingWork
from rempart.signin.adapters.memory_attempts import MemoryAttemptCounter
from rempart.signin.adapters.oidc import AuthlibFederation
from rempart.signin.adapters.passwords import Argon2PasswordHasher
from rempart.signin.adapters.sql import SqlChallengeStore, SqlCredentialStore, SqlSessionStore
from rempart.signin.adapters.totp import PyotpTotp
from rempart.signin.adapters.webauthn import PyWebauthn
from rempart.signin.model import AuthPolicy
from rempart.signin.service.containment import SessionContainment
from rempart.signin.service.deps import AuthDeps


def auth_policy(settings: Settings) -> AuthPolicy:
    """The sign-in rules in force, from the settings."""
    public = urlsplit(settings.public_url)
    return AuthPolicy(
        idle=dt.timedelta(minutes=settings.session_idle_minutes),
        absolute=dt.timedelta(hours=settings.session_absolute_hours),
        step_up=dt.timedelta(minutes=settings.step_up_minutes),
        challenge_ttl=dt.timedelta(minutes=settings.mfa_challenge_minutes),
        lock_after=settings.lockout_threshold,
        self_unlock_after=dt.timedelta(minutes=settings.self_unlock_minutes),
        webauthn_only_for_privileged=bool(settings.webauthn_only_for_privileged),
        webauthn_for_training_managers=bool(settings.webauthn_for_training_managers),
        acr_values=tuple(settings.oidc_acr_values),
        privileged_acr_values=tuple(settings.oidc_privileged_acr_values),
        rp_id=public.hostname or "localhost",
        origin=f"{public.scheme}://{public.netloc}",
    )


def build_auth(
    settings: Settings,
    db: Database,
    *,
    directory: Directory,
    apps: AppSwitches,
    journal: JournalWriter,
    alerts: AlertSink,
    mailer: Mailer,
    clock: Clock,
) -> AuthDeps:
    """Sign-in's use-case dependencies on the portal database."""
    policy = auth_policy(settings)
    federation = (
        AuthlibFederation(
            settings.oidc_issuer,
            settings.oidc_client_id,
            settings.oidc_client_secret.get_secret_value(),
            acr_values=tuple(dict.fromkeys(policy.acr_values + policy.privileged_acr_values)),
            scope=settings.oidc_scope,
        )
        if settings.oidc_issuer
        else None
    )
    credentials = SqlCredentialStore(db)  # the agents and their factors' tables
    sessions = SqlSessionStore(db)
    return AuthDeps(
        credentials=credentials,
        logins=credentials,
        locks=credentials,
        totp_secrets=credentials,
        webauthn_keys=credentials,
        recovery_codes=credentials,
        identities=credentials,
        challenges=SqlChallengeStore(db),
        sessions=sessions,
        revocations=sessions,
        directory=directory,
        apps=apps,
        hasher=Argon2PasswordHasher(
            settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
        ),
        work=LocalHashingWork(
            max_total=settings.argon2_max_concurrent,
            max_per_address=settings.argon2_max_per_address,
            wait_seconds=settings.argon2_queue_seconds,
        ),
        totp=PyotpTotp(),
        webauthn=PyWebauthn(policy.rp_id, policy.rp_name, policy.origin),
        federation=federation,
        locator=GeoipLocator(),
        attempts=MemoryAttemptCounter(),
        journal=journal,
        alerts=alerts,
        mailer=mailer,
        clock=clock,
        policy=policy,
        secret=settings.secret_key.get_secret_value().encode(),
        devices=Es256DeviceProofs(),
    )


def containment(auth: AuthDeps) -> SessionContainment:
    """What the guard does to an abused account, through sign-in's stores."""
    return SessionContainment(auth)
