"""Wires privileged-account governance on the portal database and sign-in's services, and the
job that runs its lifecycle and reviews periodically."""

from __future__ import annotations

import datetime as dt

from rempart.db.uow import Database
from rempart.governance.adapters.sql import (
    SqlAccountRequestStore,
    SqlAccountStore,
    SqlEnrolmentTokenStore,
    SqlOrgSuspensionStore,
    SqlPrivilegeBatchStore,
    SqlReviewStore,
)
from rempart.governance.model import GovernanceRules
from rempart.governance.service import lifecycle
from rempart.governance.service.deps import GovernanceDeps
from rempart.guard.ports import AlertSink
from rempart.journal.ports import JournalWriter
from rempart.kernel.ports import AppSwitches, Clock, Directory
from rempart.kernel.scheduler import IntervalRunner
from rempart.mail.ports import Mailer
from rempart.settings import Settings
from rempart.signin.service.deps import AuthDeps


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


def build_governance(
    settings: Settings,
    db: Database,
    *,
    directory: Directory,
    apps: AppSwitches,
    journal: JournalWriter,
    alerts: AlertSink,
    clock: Clock,
    mailer: Mailer,
    auth: AuthDeps,
) -> GovernanceDeps:
    """Governance's use-case dependencies (four eyes, reviews, lifecycle, kill switches)."""
    accounts = SqlAccountStore(db)
    reviews = SqlReviewStore(db)
    return GovernanceDeps(
        standings=accounts,
        accounts=accounts,
        listings=accounts,
        requests=SqlAccountRequestStore(db),
        tokens=SqlEnrolmentTokenStore(db),
        org_suspensions=SqlOrgSuspensionStore(db),
        campaigns=reviews,
        review_items=reviews,
        transactions=db,
        directory=directory,
        apps=apps,
        journal=journal,
        alerts=alerts,
        clock=clock,
        mailer=mailer,
        rules=governance_rules(settings),
        auth=auth,
        batches=SqlPrivilegeBatchStore(db),
    )


def governance_job(gov: GovernanceDeps, settings: Settings) -> IntervalRunner | None:
    """Runs the lifecycle and review jobs every ``jobs_interval_seconds`` once started
    (None when that is 0: ``rempart jobs run`` from a scheduler instead)."""
    if settings.jobs_interval_seconds <= 0:
        return None
    return IntervalRunner(settings.jobs_interval_seconds, lambda: lifecycle.run_jobs(gov))
