"""Wires implementations to ports: SQLite or PostgreSQL, memory or Redis. Nothing else picks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine

from rempart.adapters.clock import SystemClock
from rempart.adapters.mail import MemoryMailer, SmtpMailer
from rempart.adapters.memory.journal import MemoryJournal
from rempart.adapters.sql.alert_store import SqlAlertStore
from rempart.adapters.sql.engine import make_engine
from rempart.adapters.sql.migrate import is_initialised, upgrade, upgrade_connection
from rempart.adapters.sql.portal_store import SqlPortalStore
from rempart.domain.ports import Clock, JournalWriter, Mailer
from rempart.domain.scope import ScopeRules
from rempart.services.deps import PortalDeps
from rempart.services.signin.deps import AuthDeps
from rempart.settings import Settings


@dataclass
class Container:
    """Everything a running Rempart holds; built per app, so tests each get their own."""

    settings: Settings
    engine: Engine
    portal: PortalDeps
    mailer: Mailer
    closers: list[object] = field(default_factory=list)
    auth: AuthDeps | None = None  # sign-in; built by ``build_container``

    def close(self) -> None:
        """Release connections and background workers."""
        for closer in reversed(self.closers):
            close = getattr(closer, "close", None)
            if callable(close):
                close()
        self.engine.dispose()


def build_container(
    settings: Settings, *, clock: Clock | None = None, journal: JournalWriter | None = None
) -> Container:
    """Wire the adapters for ``settings``; migrates an in-memory or demo database on the way."""
    engine = make_engine(settings.db_url)
    if not is_initialised(engine) and is_memory(settings.db_url):
        upgrade_engine(engine, settings.db_url)
    store = SqlPortalStore(engine)
    journal = journal or MemoryJournal()
    portal = PortalDeps(
        store=store,
        journal=journal,
        clock=clock or SystemClock(),
        rules=ScopeRules(enrolment_grace_months=settings.enrolment_grace_months),
        alerts=SqlAlertStore(engine),
    )
    mailer: Mailer = (
        SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from)
        if settings.smtp_host
        else MemoryMailer(echo=settings.demo)
    )
    box = Container(settings=settings, engine=engine, portal=portal, mailer=mailer)
    box.auth = build_auth(settings, engine, store, journal, portal.clock)
    return box


def build_auth(
    settings: Settings, engine: Engine, store: SqlPortalStore, journal: JournalWriter, clock: Clock
) -> AuthDeps:
    """Wire sign-in: argon2id, TOTP, WebAuthn, OIDC when configured, GeoIP, memory counters."""
    from urllib.parse import urlsplit

    from rempart.adapters.auth.geoip import GeoipLocator
    from rempart.adapters.auth.oidc import AuthlibFederation
    from rempart.adapters.auth.passwords import Argon2PasswordHasher
    from rempart.adapters.auth.totp import PyotpTotp
    from rempart.adapters.auth.webauthn import PyWebauthn
    from rempart.adapters.memory.throttle import MemoryAttemptCounter
    from rempart.adapters.sql.auth_store import (
        SqlChallengeStore,
        SqlCredentialStore,
        SqlSessionStore,
    )
    from rempart.domain.auth import AuthPolicy

    public = urlsplit(settings.public_url)
    origin = f"{public.scheme}://{public.netloc}"
    policy = AuthPolicy(
        idle=dt.timedelta(minutes=settings.session_idle_minutes),
        absolute=dt.timedelta(hours=settings.session_absolute_hours),
        step_up=dt.timedelta(minutes=settings.step_up_minutes),
        challenge_ttl=dt.timedelta(minutes=settings.mfa_challenge_minutes),
        lock_after=settings.lockout_threshold,
        self_unlock_after=dt.timedelta(minutes=settings.self_unlock_minutes),
        webauthn_only_for_privileged=bool(settings.webauthn_only_for_privileged),
        acr_values=tuple(settings.oidc_acr_values),
        privileged_acr_values=tuple(settings.oidc_privileged_acr_values),
        rp_id=public.hostname or "localhost",
        origin=origin,
    )
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
    return AuthDeps(
        credentials=SqlCredentialStore(engine),
        challenges=SqlChallengeStore(engine),
        sessions=SqlSessionStore(engine),
        portal=store,
        hasher=Argon2PasswordHasher(
            settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
        ),
        totp=PyotpTotp(),
        webauthn=PyWebauthn(policy.rp_id, policy.rp_name, origin),
        federation=federation,
        locator=GeoipLocator(),
        attempts=MemoryAttemptCounter(),
        journal=journal,
        clock=clock,
        policy=policy,
        secret=settings.secret_key.get_secret_value().encode(),
    )


def is_memory(url: str) -> bool:
    """True for an in-memory SQLite URL (tests)."""
    return url in ("sqlite://", "sqlite:///:memory:")


def upgrade_engine(engine: Engine, url: str) -> None:
    """Run the migrations on ``url``; an in-memory SQLite is migrated through ``engine`` itself."""
    if is_memory(url):
        upgrade_connection(engine)
    else:
        upgrade(url)
