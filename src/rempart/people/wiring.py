"""Wires consulting people: the portal store (persons, agents, organisations, app switches) and
the scope rules, behind the data gate and the guard."""

from __future__ import annotations

from rempart.db.uow import Database
from rempart.guard.ports import AlertSink
from rempart.journal.ports import JournalWriter
from rempart.kernel.exposure import ExposureGuard
from rempart.kernel.ports import Clock
from rempart.people.adapters.sql import (
    SqlCanaryStore,
    SqlFollowUps,
    SqlPersonConfirmationStore,
    SqlPortalStore,
)
from rempart.people.ports import PersonNotifier
from rempart.people.scope import ScopeRules
from rempart.people.service.canaries import CanaryDeps
from rempart.people.service.deps import PortalDeps
from rempart.people.service.portfolio import PortfolioDeps
from rempart.settings import Settings


def portal_store(db: Database) -> SqlPortalStore:
    """The portal's records; also the directory and app switches the other capabilities read."""
    return SqlPortalStore(db)


def build_portal(
    settings: Settings,
    db: Database,
    store: SqlPortalStore,
    *,
    journal: JournalWriter,
    clock: Clock,
    guard: ExposureGuard | None,
    notices: PersonNotifier | None = None,
) -> PortalDeps:
    """The people use cases' dependencies; ``guard`` None is scope policy only (guard off);
    ``notices`` reach people (enrolment confirmation codes)."""
    return PortalDeps(
        store=store,
        journal=journal,
        clock=clock,
        rules=ScopeRules(enrolment_grace_months=settings.enrolment_grace_months),
        standings=store,
        transactions=db,
        guard=guard,
        notices=notices,
    )


def build_canaries(
    settings: Settings, db: Database, *, journal: JournalWriter, clock: Clock
) -> CanaryDeps:
    """Planting and rotating canaries in the register."""
    return CanaryDeps(
        canaries=SqlCanaryStore(db),
        transactions=db,
        journal=journal,
        clock=clock,
        mail_domain=settings.canary_mail_domain,
    )


def build_portfolio(
    settings: Settings,
    db: Database,
    store: SqlPortalStore,
    *,
    notifier: PersonNotifier,
    journal: JournalWriter,
    alerts: AlertSink,
    clock: Clock,
) -> PortfolioDeps:
    """Advisers' portfolios: hand-overs, closings, take-ons with the person's confirmation."""
    return PortfolioDeps(
        follow_ups=SqlFollowUps(db),
        persons=store,
        directory=store,
        confirmations=SqlPersonConfirmationStore(db),
        notifier=notifier,
        journal=journal,
        alerts=alerts,
        clock=clock,
        secret=settings.secret_key.get_secret_value().encode(),
        bulk_threshold=settings.portfolio_bulk_threshold,
    )
