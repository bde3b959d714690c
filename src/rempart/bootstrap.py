"""Wires implementations to ports: SQLite or PostgreSQL, memory or Redis. Nothing else picks."""

from __future__ import annotations

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
from rempart.settings import Settings


@dataclass
class Container:
    """Everything a running Rempart holds; built per app, so tests each get their own."""

    settings: Settings
    engine: Engine
    portal: PortalDeps
    mailer: Mailer
    closers: list[object] = field(default_factory=list)

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
    return Container(settings=settings, engine=engine, portal=portal, mailer=mailer)


def is_memory(url: str) -> bool:
    """True for an in-memory SQLite URL (tests)."""
    return url in ("sqlite://", "sqlite:///:memory:")


def upgrade_engine(engine: Engine, url: str) -> None:
    """Run the migrations on ``url``; an in-memory SQLite is migrated through ``engine`` itself."""
    if is_memory(url):
        upgrade_connection(engine)
    else:
        upgrade(url)
