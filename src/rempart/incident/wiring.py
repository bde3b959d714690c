"""Wires incident response: the journal it reads (and journals its own accesses in), the
portal's people, its records, and the channel its letters go through."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from typing import cast

from rempart.db.migrate import open_portal_database
from rempart.db.uow import Database
from rempart.guard.ports import AlertSink
from rempart.incident.adapters.messages import OfficialLetterChannel
from rempart.incident.adapters.sql import SqlIncidents, SqlOutbox
from rempart.incident.documents import Contacts
from rempart.incident.service.records import IncidentDeps
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.ports import JournalWriter, ScopedEntries
from rempart.journal.wiring import open_journal_archive
from rempart.kernel.clock import SystemClock
from rempart.mail import wiring as mail_wiring
from rempart.messages import wiring as messages_wiring
from rempart.people import wiring as people_wiring
from rempart.people.adapters.sql import SqlPortalStore
from rempart.settings import Settings


def open_journal(url: str, signing_key: str | None) -> SqlJournalStore:
    """The journal an incident command reads, and appends its own accesses to."""
    return open_journal_archive(url, signing_key)


def build_incident(
    settings: Settings, db: Database, *, journal: JournalWriter, alerts: AlertSink
) -> IncidentDeps:
    """The console's incident use cases on the portal database and the portal's journal."""
    scoped = getattr(journal, "scoped_entries", None)
    return IncidentDeps(
        incidents=SqlIncidents(db),
        outbox=SqlOutbox(db),
        # Both journal stores (SQL and memory) read back; a write-only sink would not.
        entries=cast(ScopedEntries, journal) if callable(scoped) else None,
        journal=journal,
        alerts=alerts,
        contacts=contacts(settings),
    )


def contacts(settings: Settings) -> Contacts:
    """Who the documents name."""
    return Contacts(
        dpo=settings.dpo_contact, official_site=messages_wiring.official_address(settings)
    )


@dataclass(frozen=True, slots=True)
class Records:
    """The portal-side stores of incident response."""

    db: Database
    incidents: SqlIncidents
    outbox: SqlOutbox
    people: SqlPortalStore


def open_records(settings: Settings, resources: ExitStack) -> Records:
    """The incident stores in the portal database (closed with ``resources``)."""
    engine = open_portal_database(settings.db_url)
    resources.callback(engine.dispose)
    db = Database(engine)
    return Records(db, SqlIncidents(db), SqlOutbox(db), people_wiring.portal_store(db))


def letter_channel(
    settings: Settings, records: Records, resources: ExitStack, *, print_dir: str
) -> OfficialLetterChannel:
    """The letters' channel: official messages (registered, referenced, idempotent by key),
    mailed through the portal's mailer (SMTP, DKIM-signed when a key is set), delivered
    before each call returns; printed letters written to ``print_dir``."""
    messenger = messages_wiring.build_messages(
        settings,
        records.db,
        portal=records.people,
        mailer=mail_wiring.open_mailer(settings),
        clock=SystemClock(),
        resources=resources,
        inline=True,
        letters_dir=print_dir,
    )
    return OfficialLetterChannel(messenger)
