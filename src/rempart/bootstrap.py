"""Builds one running Rempart: the shared infrastructure once (settings, portal database, clock,
journal, mailer), then each capability wires itself (``<capability>/wiring.py``), lower ones
first. Nothing is built later, during a request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

from sqlalchemy import Engine

from rempart.citizen import wiring as citizen_wiring
from rempart.citizen.service import CitizenDeps
from rempart.db.engine import is_sqlite
from rempart.db.migrate import open_portal_database
from rempart.db.uow import Database
from rempart.governance import wiring as governance_wiring
from rempart.governance.service.deps import GovernanceDeps
from rempart.guard import wiring as guard_wiring
from rempart.guard.ports import AlertSink
from rempart.guard.service.inline import Guard
from rempart.incident import wiring as incident_wiring
from rempart.incident.service.records import IncidentDeps
from rempart.journal import wiring as journal_wiring
from rempart.journal.ports import JournalWriter
from rempart.journal.service.publication import PublicationDeps
from rempart.kernel.clock import SystemClock
from rempart.kernel.ports import Clock
from rempart.kernel.scheduler import IntervalRunner, Jobs
from rempart.mail import wiring as mail_wiring
from rempart.mail.ports import Mailer
from rempart.messages import wiring as messages_wiring
from rempart.messages.ports import OfficialMessages
from rempart.people import wiring as people_wiring
from rempart.people.service.canaries import CanaryDeps
from rempart.people.service.deps import PortalDeps
from rempart.people.service.portfolio import PortfolioDeps
from rempart.retention import service as retention_service
from rempart.retention import wiring as retention_wiring
from rempart.retention.service import RetentionDeps
from rempart.settings import Settings
from rempart.signin import wiring as signin_wiring
from rempart.signin.service.deps import AuthDeps


@dataclass(frozen=True, slots=True)
class Container:
    """Everything a running Rempart holds; built per app, so tests each get their own.

    A variant (the bench's flat-access portal) is a ``dataclasses.replace`` copy: it shares the
    original's resources, and closing either closes them."""

    settings: Settings
    engine: Engine
    db: Database  # the engine behind a unit of work: adapters get their connection from it
    clock: Clock
    journal: JournalWriter
    # Called by the app's lifespan with its event loop: the journal's writer process, when the
    # settings ask for one (``journal_writer``), takes that loop's appends.
    serve_journal: Callable[[asyncio.AbstractEventLoop], None]
    publication: PublicationDeps  # the journal's published checkpoints, proofs, cosignatures
    mailer: Mailer
    alerts: AlertSink  # the security team's alerts (store, webhook, syslog)
    auth: AuthDeps  # sign-in
    # The inline guard; None only with ``guard_mode = "off"`` (scope policy alone: the bench's
    # comparison), which is a setting, not a missing part.
    guard: Guard | None
    portal: PortalDeps  # consulting people
    governance: GovernanceDeps  # four eyes, reviews, lifecycle, kill switches
    messages: OfficialMessages  # official messages to people: register, send, verify
    citizen: CitizenDeps  # "who consulted my file"
    incident: IncidentDeps  # incident response: records, exposure, notification, letters
    canaries: CanaryDeps  # planting and rotating canary records
    portfolio: PortfolioDeps  # advisers' follow-ups: hand-over, close, take-on with consent
    retention: RetentionDeps  # erasing people past the retention rule (a periodic job too)
    # Requests run their reads on the event loop when every store they touch answers in
    # microseconds on this machine (SQLite portal and journal, guard state in process); a
    # PostgreSQL or Redis round trip would stall the loop, so those stay in the thread pool.
    inline_requests: bool
    jobs: Jobs  # governance's lifecycle and reviews, the guard's baselines; started by the app
    resources: ExitStack = field(repr=False, compare=False)

    def start_jobs(self) -> None:
        """Start the periodic jobs (every ``jobs_interval_seconds``, and the guard's baselines
        every ``guard_rebuild_minutes``); the app's lifespan calls this once."""
        self.jobs.start()

    def run_jobs_once(self) -> dict[str, object]:
        """What ``rempart jobs run`` runs besides governance's: retention (its report)."""
        return {"retention": retention_service.run(self.retention, dry_run=False).as_dict()}

    def close(self) -> None:
        """Stop the jobs, then release what was opened, the journal (commits, signs, stops its
        writer) and the database last."""
        self.resources.close()


def build_container(
    settings: Settings, *, clock: Clock | None = None, journal: JournalWriter | None = None
) -> Container:
    """Wire every capability for ``settings``; migrates an in-memory database on the way."""
    resources = ExitStack()
    try:
        return _wire(settings, clock or SystemClock(), journal, resources)
    except BaseException:
        resources.close()  # a refused start releases what it had opened
        raise


def _wire(
    settings: Settings, clock: Clock, journal: JournalWriter | None, resources: ExitStack
) -> Container:
    engine = open_portal_database(settings.db_url)
    resources.callback(engine.dispose)
    db = Database(engine)
    journal = journal or journal_wiring.open_journal(settings, clock)
    close_journal = getattr(journal, "close", None)
    if callable(close_journal):
        resources.callback(close_journal)
    mailer = mail_wiring.open_mailer(settings)

    store = people_wiring.portal_store(db)  # also the directory and app switches below
    alerts = guard_wiring.alert_sink(settings, db, resources)
    auth = signin_wiring.build_auth(
        settings,
        db,
        directory=store,
        apps=store,
        journal=journal,
        alerts=alerts,
        mailer=mailer,
        clock=clock,
    )
    runners: list[IntervalRunner] = []
    guard: Guard | None = None
    if settings.guard_mode == "on":
        guard = guard_wiring.build_guard(
            settings,
            containment=signin_wiring.containment(auth),
            alerts=alerts,
            journal=journal,
            resources=resources,
        )
        if settings.guard_baselines_at_start:
            guard_wiring.refresh_baselines(guard, journal, store, clock, settings)
            runners.append(guard_wiring.baselines_job(guard, journal, store, clock, settings))
    messages = messages_wiring.build_messages(
        settings, db, portal=store, mailer=mailer, clock=clock, resources=resources
    )
    portal = people_wiring.build_portal(
        settings,
        db,
        store,
        journal=journal,
        clock=clock,
        guard=guard,
        notices=messages_wiring.OfficialCodeNotifier(messages),
    )
    governance = governance_wiring.build_governance(
        settings,
        db,
        directory=store,
        apps=store,
        journal=journal,
        alerts=alerts,
        clock=clock,
        mailer=mailer,
        auth=auth,
    )
    if (governance_job := governance_wiring.governance_job(governance, settings)) is not None:
        runners.append(governance_job)
    citizen = citizen_wiring.build_citizen(
        settings,
        db,
        portal=store,
        journal=journal,
        alerts=alerts,
        messages=messages,
        clock=clock,
    )
    retention = retention_wiring.build_retention(
        settings, db, journal=journal, alerts=alerts, clock=clock
    )
    if (retention_job := retention_wiring.retention_job(retention, settings)) is not None:
        runners.append(retention_job)
    jobs = Jobs(runners)
    resources.callback(jobs.close)  # first to close: a job may still journal
    return Container(
        settings=settings,
        engine=engine,
        db=db,
        clock=clock,
        journal=journal,
        serve_journal=journal_wiring.serving_writer(settings, journal),
        publication=journal_wiring.publication(settings, journal),
        mailer=mailer,
        alerts=alerts,
        auth=auth,
        guard=guard,
        portal=portal,
        governance=governance,
        messages=messages,
        citizen=citizen,
        incident=incident_wiring.build_incident(settings, db, journal=journal, alerts=alerts),
        inline_requests=is_sqlite(settings.db_url)
        and is_sqlite(settings.effective_journal_url())
        and not settings.redis_url,
        canaries=people_wiring.build_canaries(settings, db, journal=journal, clock=clock),
        portfolio=people_wiring.build_portfolio(
            settings,
            db,
            store,
            notifier=messages_wiring.OfficialCodeNotifier(messages),
            journal=journal,
            alerts=alerts,
            clock=clock,
        ),
        retention=retention,
        jobs=jobs,
        resources=resources,
    )
