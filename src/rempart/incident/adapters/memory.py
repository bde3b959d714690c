"""Memory twins of the incident stores: the same semantics as the SQL ones, in one process."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import Counter
from collections.abc import Sequence

from rempart.incident.model import Incident, IncidentEvent, LetterState, LetterTask
from rempart.incident.ports import Delivery, OutgoingLetter

DONE = frozenset({LetterState.SENT, LetterState.PRINTED})


class MemoryIncidents:
    """Implements ``IncidentStore``."""

    def __init__(self) -> None:
        self.incidents: dict[int, Incident] = {}
        self.log: list[IncidentEvent] = []
        self._lock = threading.Lock()

    def add(self, incident: Incident) -> Incident:
        """Keep a new incident; return it with its id."""
        with self._lock:
            kept = dataclasses.replace(incident, id=len(self.incidents) + 1)
            self.incidents[kept.id] = kept
            return kept

    def get(self, incident_id: int) -> Incident | None:
        """One incident."""
        return self.incidents.get(incident_id)

    def recent(self, limit: int) -> list[Incident]:
        """The latest incidents, newest first."""
        return sorted(self.incidents.values(), key=lambda i: -i.id)[:limit]

    def update(self, incident: Incident) -> None:
        """Store the incident as it is now."""
        with self._lock:
            if incident.id in self.incidents:
                self.incidents[incident.id] = incident

    def add_event(self, event: IncidentEvent) -> None:
        """Append to the incident's log."""
        with self._lock:
            self.log.append(event)

    def events(self, incident_id: int) -> list[IncidentEvent]:
        """The incident's log, oldest first."""
        return sorted((e for e in self.log if e.incident_id == incident_id), key=lambda e: e.at)


class MemoryOutbox:
    """Implements ``LetterOutbox``."""

    def __init__(self) -> None:
        self.tasks: dict[tuple[int, str], LetterTask] = {}
        self._lock = threading.Lock()

    def plan(self, tasks: Sequence[LetterTask]) -> int:
        """Add the tasks not planned yet; return how many were new."""
        new = 0
        with self._lock:
            for t in tasks:
                if (t.incident_id, t.ft_id) not in self.tasks:
                    self.tasks[(t.incident_id, t.ft_id)] = t
                    new += 1
        return new

    def due(self, incident_id: int, after_ft_id: str, limit: int) -> list[LetterTask]:
        """Letters not yet sent or printed, by person, after ``after_ft_id``."""
        with self._lock:
            found = sorted(
                (
                    t
                    for (i, f), t in self.tasks.items()
                    if i == incident_id and f > after_ft_id and t.state not in DONE
                ),
                key=lambda t: t.ft_id,
            )
        return found[:limit]

    def mark(
        self, task: LetterTask, state: LetterState, at: dt.datetime, reference: str = ""
    ) -> None:
        """Record where one letter stands."""
        with self._lock:
            key = (task.incident_id, task.ft_id)
            old = self.tasks.get(key, task)
            self.tasks[key] = dataclasses.replace(
                old,
                state=state,
                reference=old.reference or reference,
                attempts=old.attempts + (state is LetterState.SENDING),
                sent_at=at if state in DONE else old.sent_at,
            )

    def progress(self, incident_id: int) -> dict[str, int]:
        """Letters per state."""
        with self._lock:
            counts = Counter(str(t.state) for (i, _), t in self.tasks.items() if i == incident_id)
        return {str(s): counts.get(str(s), 0) for s in LetterState}

    def references(self, incident_id: int) -> dict[str, str]:
        """The reference each planned letter carries, by person."""
        with self._lock:
            return {f: t.reference for (i, f), t in self.tasks.items() if i == incident_id}


class MemoryLetterChannel:
    """Implements ``LetterChannel`` in memory: at most one message per idempotency key;
    ``fail`` makes the next deliveries to those people fail (handed over, not delivered)."""

    def __init__(self) -> None:
        self.sent: dict[str, OutgoingLetter] = {}
        self.state: dict[str, Delivery] = {}
        self.fail: set[str] = set()
        self._n = 0

    def deliver(self, letter: OutgoingLetter) -> Delivery:
        """Keep the letter once per key."""
        known = self.state.get(letter.idempotency_key)
        if known is not None:
            return known
        self._n += 1
        ok = letter.ft_id not in self.fail
        if ok:
            self.sent[letter.idempotency_key] = letter
        found = self.state[letter.idempotency_key] = Delivery(f"MEMO-{self._n:04d}-REF0", True, ok)
        return found

    def lookup(self, ft_id: str, idempotency_key: str) -> Delivery | None:
        """What became of the letter with this key."""
        return self.state.get(idempotency_key)
