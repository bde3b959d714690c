"""Wires implementations to ports: SQLite or PostgreSQL, memory or Redis. Nothing else picks."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

from sqlalchemy import Engine

from rempart.citizen.service import CitizenDeps
from rempart.db.engine import is_sqlite, make_engine, sqlite_path
from rempart.db.migrate import is_initialised, upgrade, upgrade_connection
from rempart.db.uow import Database
from rempart.governance.adapters.sql import (
    SqlAccountRequestStore,
    SqlAccountStore,
    SqlEnrolmentTokenStore,
    SqlOrgSuspensionStore,
    SqlReviewStore,
)
from rempart.governance.model import GovernanceRules
from rempart.governance.service.deps import GovernanceDeps
from rempart.guard.adapters.sql_alerts import SqlAlertStore
from rempart.guard.ports import AlertSink
from rempart.guard.service.inline import Guard
from rempart.journal.adapters.signing import Ed25519Signer, checkpoint_checker
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.integrity import SignatureCheck, key_id_of
from rempart.journal.ports import CheckpointSigner, JournalQueries, JournalWriter
from rempart.kernel.clock import SystemClock
from rempart.kernel.errors import InvalidRequest, PolicyError
from rempart.kernel.ports import Clock
from rempart.mail.adapters.memory import MemoryMailer
from rempart.mail.adapters.smtp import SmtpMailer
from rempart.mail.ports import Mailer
from rempart.people.adapters.sql import SqlPortalStore
from rempart.people.scope import ScopeRules
from rempart.people.service.deps import PortalDeps
from rempart.settings import Settings
from rempart.signin.service.deps import AuthDeps

log = logging.getLogger("rempart")


@dataclass
class Container:
    """Everything a running Rempart holds; built per app, so tests each get their own."""

    settings: Settings
    engine: Engine
    db: Database  # the engine behind a unit of work: adapters get their connection from it
    portal: PortalDeps
    mailer: Mailer
    closers: list[object] = field(default_factory=list)
    auth: AuthDeps | None = None  # sign-in; built by ``build_container``
    guard: Guard | None = None  # the inline guard, unless the bench runs with it off
    # Requests run their reads on the event loop when every store they touch answers in
    # microseconds on this machine (SQLite portal and journal, guard state in process); a
    # PostgreSQL or Redis round trip would stall the loop, so those stay in the thread pool.
    inline_requests: bool = False
    governance: GovernanceDeps | None = None  # four eyes, reviews, lifecycle, kill switches
    jobs: object | None = None  # the periodic governance jobs, once started

    def start_jobs(self) -> None:
        """Run the governance jobs every ``jobs_interval_seconds`` on a background thread, and
        rebuild the guard's baselines from the journal every ``guard_rebuild_minutes``."""
        from rempart.governance.service import lifecycle
        from rempart.kernel.scheduler import IntervalRunner

        guard = self.guard
        if (
            guard is not None
            and self.settings.guard_baselines_at_start
            and not any(
                isinstance(c, IntervalRunner) and c.job_name == "guard-baselines"
                for c in self.closers
            )
        ):
            baselines = IntervalRunner(
                self.settings.guard_rebuild_minutes * 60,
                lambda: refresh_baselines(self, guard),
                name="guard-baselines",
            )
            baselines.start()
            self.closers.append(baselines)

        gov = self.governance
        if gov is None or self.jobs is not None or self.settings.jobs_interval_seconds <= 0:
            return
        runner = IntervalRunner(
            self.settings.jobs_interval_seconds, lambda: lifecycle.run_jobs(gov)
        )
        runner.start()
        self.jobs = runner
        self.closers.append(runner)

    @functools.cached_property
    def citizen(self) -> CitizenDeps:
        """Who consulted my file (the person's view of the journal), built on first use."""
        return build_citizen(self)

    def close(self) -> None:
        """Release connections and background workers."""
        for closer in reversed(self.closers):
            close = getattr(closer, "close", None)
            if callable(close):
                close()
        # Last: the closers above may still journal; this commits, signs and stops the writer.
        close_journal = getattr(self.portal.journal, "close", None)
        if callable(close_journal):
            close_journal()
        self.engine.dispose()


def build_container(
    settings: Settings, *, clock: Clock | None = None, journal: JournalWriter | None = None
) -> Container:
    """Wire the adapters for ``settings``; migrates an in-memory or demo database on the way."""
    engine = make_engine(settings.db_url)
    if not is_initialised(engine) and is_memory(settings.db_url):
        upgrade_engine(engine, settings.db_url)
    db = Database(engine)
    store = SqlPortalStore(db)
    clock = clock or SystemClock()
    journal = journal or open_journal(settings, clock)
    portal = PortalDeps(
        store=store,
        journal=journal,
        clock=clock or SystemClock(),
        rules=ScopeRules(enrolment_grace_months=settings.enrolment_grace_months),
        alerts=build_alerts(settings, db),
        standings=store,
    )
    mailer: Mailer = (
        SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from)
        if settings.smtp_host
        else MemoryMailer(echo=settings.demo)
    )
    box = Container(
        settings=settings,
        engine=engine,
        db=db,
        portal=portal,
        mailer=mailer,
        inline_requests=is_sqlite(settings.db_url)
        and is_sqlite(settings.effective_journal_url())
        and not settings.redis_url,
    )
    if hasattr(portal.alerts, "close"):
        box.closers.append(portal.alerts)
    box.auth = build_auth(settings, db, store, journal, portal.clock)
    if settings.guard_mode == "on":
        box.guard = build_guard(settings, box)
        box.portal = replace(portal, guard=box.guard)
    box.governance = build_governance(settings, box)
    return box


def build_alerts(settings: Settings, db: Database) -> AlertSink:
    """Alerts stored for the console and the API; pushed to a webhook and syslog if configured."""
    store = SqlAlertStore(db)
    if not (settings.alert_webhook_url or settings.alert_syslog):
        return store
    from rempart.guard.adapters.fanout import FanOutAlertSink

    host, _, port = settings.alert_syslog.rpartition(":")
    if settings.alert_syslog and not (host and port.isdigit()):
        raise PolicyError("REMPART_ALERT_SYSLOG must be host:port")
    return FanOutAlertSink(
        store,
        webhook_url=settings.alert_webhook_url,
        syslog_host=host,
        syslog_port=int(port) if port.isdigit() else 514,
        syslog_tcp=settings.alert_syslog_tcp,
    )


def build_guard(settings: Settings, box: Container) -> Guard:
    """The guard: Redis state when configured (shared by replicas), else in process."""
    from rempart.guard.adapters.memory_profiles import MemoryProfileStore
    from rempart.guard.adapters.memory_state import MemoryGuardState
    from rempart.guard.policy import GuardPolicy, parse_policy
    from rempart.guard.ports import GuardState
    from rempart.signin.service.containment import SessionContainment

    policy = GuardPolicy()
    if settings.policy_file:
        try:
            text = Path(settings.policy_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"{settings.policy_file}: cannot read ({exc.strerror})") from None
        try:
            policy = parse_policy(text)
        except PolicyError as exc:
            raise PolicyError(f"{settings.policy_file}: {exc.detail}") from None
    state: GuardState
    if settings.redis_url:
        from rempart.guard.adapters.redis_state import RedisGuardState

        redis_state = RedisGuardState(settings.redis_url, prefix=settings.redis_prefix + "guard:")
        box.closers.append(redis_state)
        state = redis_state
    else:
        state = MemoryGuardState()
    assert box.auth is not None
    profiles = MemoryProfileStore()
    guard = Guard(
        state=state,
        profiles=profiles,
        containment=SessionContainment(box.auth),
        alerts=box.portal.alerts,
        journal=box.portal.journal,
        policy=policy,
    )
    if settings.guard_baselines_at_start:
        refresh_baselines(box, guard)
    return guard


def refresh_baselines(box: Container, guard: Guard) -> None:
    """Rebuild the guard's baselines from the journal, when the journal can be queried."""
    from rempart.guard.adapters.memory_profiles import MemoryProfileStore
    from rempart.guard.service.baselines import rebuild

    journal = box.portal.journal
    if not isinstance(guard.profiles, MemoryProfileStore) or not hasattr(journal, "activity"):
        return
    import gc

    guard.profiles.replace(
        rebuild(
            journal,  # type: ignore[arg-type]
            box.portal.store,
            box.portal.clock.now(),
            box.settings.guard_baseline_days,
            guard.policy.detectors.usual_hour_min_share,
        )
    )
    # Baselines live until the next rebuild: keep the collector from rescanning them, so that
    # a full collection does not land in the middle of a request (guard p99).
    gc.collect()
    gc.freeze()


def governance_rules(settings: Settings) -> GovernanceRules:
    """The governance rules in force, from the settings."""
    return GovernanceRules(
        approver_min_age=dt.timedelta(days=settings.approver_min_age_days),
        request_ttl=dt.timedelta(hours=settings.account_request_ttl_hours),
        burst_limit=settings.account_request_burst,
        burst_window=dt.timedelta(minutes=settings.account_request_burst_minutes),
        weekly_cap=settings.account_request_weekly_cap,
        enrolment_ttl=dt.timedelta(hours=settings.enrolment_link_hours),
        probation=dt.timedelta(days=settings.probation_days),
        training_grace=dt.timedelta(days=settings.training_grace_days),
        inactivity_disable=dt.timedelta(days=settings.inactivity_disable_days),
        inactivity_erase=dt.timedelta(days=settings.inactivity_erase_days),
        review_period=dt.timedelta(days=settings.review_period_days),
        review_duration=dt.timedelta(days=settings.review_duration_days),
        review_remind_every=dt.timedelta(days=settings.review_remind_every_days),
        public_url=settings.public_url,
    )


def build_governance(settings: Settings, box: Container) -> GovernanceDeps:
    """Wire privileged-account governance on the portal database and sign-in's services."""
    assert box.auth is not None
    accounts = SqlAccountStore(box.db)
    reviews = SqlReviewStore(box.db)
    return GovernanceDeps(
        standings=accounts,
        accounts=accounts,
        listings=accounts,
        requests=SqlAccountRequestStore(box.db),
        tokens=SqlEnrolmentTokenStore(box.db),
        org_suspensions=SqlOrgSuspensionStore(box.db),
        campaigns=reviews,
        review_items=reviews,
        transactions=box.db,
        directory=box.portal.store,
        apps=box.portal.store,
        journal=box.portal.journal,
        alerts=box.portal.alerts,
        clock=box.portal.clock,
        mailer=box.mailer,
        rules=governance_rules(settings),
        auth=box.auth,
    )


def build_auth(
    settings: Settings, db: Database, store: SqlPortalStore, journal: JournalWriter, clock: Clock
) -> AuthDeps:
    """Wire sign-in: argon2id, TOTP, WebAuthn, OIDC when configured, GeoIP, memory counters."""
    from urllib.parse import urlsplit

    from rempart.signin.adapters.geoip import GeoipLocator
    from rempart.signin.adapters.memory_attempts import MemoryAttemptCounter
    from rempart.signin.adapters.oidc import AuthlibFederation
    from rempart.signin.adapters.passwords import Argon2PasswordHasher
    from rempart.signin.adapters.sql import SqlChallengeStore, SqlCredentialStore, SqlSessionStore
    from rempart.signin.adapters.totp import PyotpTotp
    from rempart.signin.adapters.webauthn import PyWebauthn
    from rempart.signin.model import AuthPolicy

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
        directory=store,
        apps=store,
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


def build_citizen(box: Container) -> CitizenDeps:
    """Wire "who consulted my file": codes by mail (never blocking), the journal read back."""
    from rempart.citizen.adapters.sql import SqlCitizenStore
    from rempart.mail.background import BackgroundMailer

    journal = box.portal.journal
    if not hasattr(journal, "who_consulted"):
        raise PolicyError("this journal cannot be read back for the people it concerns")
    mailer = BackgroundMailer(box.mailer)
    box.closers.append(mailer)
    s = box.settings
    return CitizenDeps(
        portal=box.portal.store,
        citizens=SqlCitizenStore(box.db),
        accesses=cast(JournalQueries, journal),
        journal=journal,
        alerts=box.portal.alerts,
        mailer=mailer,
        clock=box.portal.clock,
        # A key of its own: a code digest is never comparable with any other HMAC here.
        secret=hashlib.sha256(
            b"rempart citizen codes\x00" + s.secret_key.get_secret_value().encode()
        ).digest(),
        code_ttl=dt.timedelta(minutes=s.citizen_code_minutes),
        session_ttl=dt.timedelta(minutes=s.citizen_session_minutes),
        max_attempts=s.citizen_code_attempts,
    )


def open_journal(settings: Settings, clock: Clock) -> SqlJournalStore:
    """The journal store for ``settings``, its own database, signing with the configured key."""
    url = settings.effective_journal_url()
    if settings.journal_signing_key is None and not settings.demo:
        journal_signer(settings, None)  # refuses, before anything is opened
    if is_memory(url) and not is_memory(settings.db_url) and not settings.demo:
        # A persistent portal with a journal that vanishes on restart would lose evidence.
        raise PolicyError("REMPART_JOURNAL_URL must be set when the portal is not on SQLite")
    store = SqlJournalStore(
        url,
        clock=clock,
        checkpoint_every=settings.journal_checkpoint_every,
        checkpoint_seconds=settings.journal_checkpoint_seconds,
        group_wait=settings.journal_group_wait_ms / 1000,
        group_max=settings.journal_group_max,
    )
    store.use_signer(journal_signer(settings, store))
    store.start()
    return store


def journal_signer(settings: Settings, store: SqlJournalStore | None) -> CheckpointSigner:
    """The configured signing key; in demo mode one generated and kept in the journal itself."""
    if settings.journal_signing_key is not None:
        return Ed25519Signer.from_base64(settings.journal_signing_key.get_secret_value())
    if not settings.demo:
        raise PolicyError(
            "REMPART_JOURNAL_SIGNING_KEY must be set outside demo mode "
            "(base64 of a raw Ed25519 private key; `rempart journal keygen` makes one)"
        )
    if store is None:
        raise PolicyError("a demo journal keeps its generated key in its own database")
    signer = demo_signer(store)
    log.warning(
        "demo mode: the journal's checkpoints are signed with key %s, kept in the journal "
        "database itself, so whoever can write that database can forge them; set "
        "REMPART_JOURNAL_SIGNING_KEY for anything real",
        signer.key_id,
    )
    return signer


def demo_signer(store: SqlJournalStore) -> Ed25519Signer:
    """The demo journal's own signing key, generated on first use."""
    raw = store.demo_private_key()
    if raw is not None:
        return Ed25519Signer.from_raw(raw)
    signer = Ed25519Signer.generate()
    store.register_key(
        signer.public_key,
        signer.key_id,
        note="demo key, stored in the journal itself: not a trust anchor",
        private_key=signer.private_raw(),
    )
    return signer


def open_journal_archive(url: str, signing_key: str | None = None) -> SqlJournalStore:
    """A journal opened by the maintenance commands: signs with ``signing_key`` when given,
    else with a demo journal's stored key, else not at all (read-only work)."""
    path = sqlite_path(url)
    if is_sqlite(url) and (path is None or not path.exists()):
        raise InvalidRequest(f"no journal at {url}")
    store = SqlJournalStore(url, clock=SystemClock(), create=False)
    if signing_key:
        store.use_signer(Ed25519Signer.from_base64(signing_key))
    elif (raw := store.demo_private_key()) is not None:
        store.use_signer(Ed25519Signer.from_raw(raw))
    return store


def create_journal(url: str) -> SqlJournalStore:
    """Create a journal's schema (idempotent): for its owner, before the portal uses it."""
    return SqlJournalStore(url, clock=SystemClock(), create=True)


@dataclass(frozen=True, slots=True)
class TrustAnchors:
    """The public keys a verification trusts, and where they came from."""

    check: SignatureCheck
    key_ids: tuple[str, ...]
    from_journal_itself: bool


def journal_trust(
    store: SqlJournalStore, public_keys: list[str], signing_key: str | None
) -> TrustAnchors:
    """Keys given by the operator (or derived from the signing key) are trust anchors; failing
    those, the journal's own key table, which an intruder could have rewritten."""
    keys: dict[str, bytes] = {}
    for text in public_keys:
        raw = base64.b64decode(text.strip(), validate=True)
        keys[key_id_of(raw)] = raw
    if signing_key:
        signer = Ed25519Signer.from_base64(signing_key)
        keys[signer.key_id] = signer.public_key
    if keys:
        return TrustAnchors(checkpoint_checker(keys), tuple(keys), from_journal_itself=False)
    stored = store.public_keys()
    return TrustAnchors(checkpoint_checker(stored), tuple(stored), from_journal_itself=True)


def new_journal_key() -> tuple[str, str, str]:
    """A fresh signing key: (private key base64, public key base64, key id)."""
    signer = Ed25519Signer.generate()
    return (
        base64.b64encode(signer.private_raw()).decode(),
        base64.b64encode(signer.public_key).decode(),
        signer.key_id,
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
