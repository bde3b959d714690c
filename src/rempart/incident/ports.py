"""Ports of incident response: what its use cases need, named for their role.

The journal side (``ScopedEntries``, ``ProofSource``) is the journal's own ports; the people
side is one lookup. Incidents, their letters and the channel that delivers them are here, each
with a memory twin in ``adapters/memory.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rempart.incident.model import Incident, IncidentEvent, LetterState, LetterTask
from rempart.people.model import Person


class PersonDirectory(Protocol):
    """Who a person is and where to write to them (the people capability's store)."""

    def person_by_ft_id(self, ft_id: str) -> Person | None: ...


class IncidentStore(Protocol):
    """Incidents and their logs."""

    def add(self, incident: Incident) -> Incident:
        """Keep a new incident; return it with its id."""
        ...

    def get(self, incident_id: int) -> Incident | None: ...

    def recent(self, limit: int) -> list[Incident]:
        """The latest incidents, newest first."""
        ...

    def update(self, incident: Incident) -> None:
        """Store the incident's window, milestones and figures as they are now."""
        ...

    def add_event(self, event: IncidentEvent) -> None: ...

    def events(self, incident_id: int) -> list[IncidentEvent]:
        """The incident's log, oldest first."""
        ...


class LetterOutbox(Protocol):
    """Who is to be told, and where each letter stands: what makes sending resumable."""

    def plan(self, tasks: Sequence[LetterTask]) -> int:
        """Add the tasks not planned yet (by incident and person); return how many were new."""
        ...

    def due(self, incident_id: int, after_ft_id: str, limit: int) -> list[LetterTask]:
        """Letters not yet sent or printed (pending, or in doubt after a crash), by person."""
        ...

    def mark(
        self, task: LetterTask, state: LetterState, at: dt.datetime, reference: str = ""
    ) -> None:
        """Record where one letter stands (a reference once given is kept)."""
        ...

    def progress(self, incident_id: int) -> dict[str, int]:
        """Letters per state."""
        ...

    def references(self, incident_id: int) -> dict[str, str]:
        """The reference each planned letter carries, by person."""
        ...


@dataclass(frozen=True, slots=True)
class OutgoingLetter:
    """One letter handed to the channel."""

    ft_id: str
    channel: str  # "email" or "letter" (printed, for the post)
    subject: str
    body: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the channel knows of a letter: its reference, whether it left, whether the mail
    server (or the print shop) took it."""

    reference: str
    handed_over: bool
    delivered: bool


class LetterChannel(Protocol):
    """Delivers letters as official messages: registered, referenced, at most once per key."""

    def deliver(self, letter: OutgoingLetter) -> Delivery:
        """Register and send it (a key seen before sends nothing and tells what became of it)."""
        ...

    def lookup(self, ft_id: str, idempotency_key: str) -> Delivery | None:
        """What became of an earlier letter with this key (None: never registered)."""
        ...
