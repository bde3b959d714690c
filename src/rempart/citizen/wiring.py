"""Wires "who consulted my file": codes by mail (never blocking), the journal read back."""

from __future__ import annotations

import datetime as dt
import hashlib

from rempart.citizen.adapters.sql import SqlCitizenStore
from rempart.citizen.service import CitizenDeps
from rempart.db.uow import Database
from rempart.guard.ports import AlertSink
from rempart.journal.ports import JournalQueries, JournalWriter
from rempart.kernel.errors import PolicyError
from rempart.kernel.ports import Clock
from rempart.messages.ports import OfficialMessages
from rempart.people.ports import PortalStore
from rempart.settings import Settings


def build_citizen(
    settings: Settings,
    db: Database,
    *,
    portal: PortalStore,
    journal: JournalWriter,
    alerts: AlertSink,
    messages: OfficialMessages,
    clock: Clock,
) -> CitizenDeps:
    """The citizen use cases' dependencies; codes go out as official messages."""
    if not hasattr(journal, "who_consulted"):
        raise PolicyError("this journal cannot be read back for the people it concerns")
    accesses: JournalQueries = journal  # type: ignore[assignment]  # checked just above
    return CitizenDeps(
        portal=portal,
        citizens=SqlCitizenStore(db),
        accesses=accesses,
        journal=journal,
        alerts=alerts,
        messages=messages,
        clock=clock,
        # A key of its own: a code digest is never comparable with any other HMAC here.
        secret=hashlib.sha256(
            b"rempart citizen codes\x00" + settings.secret_key.get_secret_value().encode()
        ).digest(),
        code_ttl=dt.timedelta(minutes=settings.citizen_code_minutes),
        session_ttl=dt.timedelta(minutes=settings.citizen_session_minutes),
        max_attempts=settings.citizen_code_attempts,
    )
