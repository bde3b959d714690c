"""Wires the retention job on the portal database, and its place among the periodic jobs."""

from __future__ import annotations

from rempart.db.uow import Database
from rempart.guard.ports import AlertSink
from rempart.journal.ports import JournalWriter
from rempart.kernel.ports import Clock
from rempart.kernel.scheduler import IntervalRunner
from rempart.retention import service
from rempart.retention.adapters.sql import SqlPersonErasure
from rempart.retention.model import RetentionRule
from rempart.retention.service import RetentionDeps
from rempart.settings import Settings


def build_retention(
    settings: Settings, db: Database, *, journal: JournalWriter, alerts: AlertSink, clock: Clock
) -> RetentionDeps:
    """The retention job's dependencies."""
    return RetentionDeps(
        erasure=SqlPersonErasure(db),
        transactions=db,
        journal=journal,
        alerts=alerts,
        clock=clock,
        rule=RetentionRule(settings.retention_years),
    )


def retention_job(deps: RetentionDeps, settings: Settings) -> IntervalRunner | None:
    """Erases the people past the rule every ``jobs_interval_seconds`` inside ``serve``."""
    if settings.jobs_interval_seconds <= 0:
        return None
    return IntervalRunner(
        settings.jobs_interval_seconds,
        lambda: service.run(deps, dry_run=False),
        name="rempart-retention",
    )
