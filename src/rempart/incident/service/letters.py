"""Sending the article 34 letters: resumable, idempotent, with progress and a delivery report.

Each letter moves ``pending → sending → sent`` in the outbox, each step committed before the
next: a run that stops (crash, outage, Ctrl-C) leaves every letter either done or still due,
and the next run takes up exactly those — nobody skipped. A letter is handed to the channel
with its idempotency key and the reference fixed when it was planned, so a retry is the same
message, never a second one with another reference; the channel delivers at most one message
per key. The only letters a crash can leave in doubt are the ones in ``sending`` at that
instant (the server may have accepted one just before the crash); the report counts them.

People without an e-mail address get the printable letter (``printed``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from rempart.incident.documents import Contacts, letter_text
from rempart.incident.model import Exposure, Incident, LetterState
from rempart.incident.ports import (
    LetterChannel,
    LetterOutbox,
    OutgoingLetter,
    PersonDirectory,
)
from rempart.incident.service.report import address_lines, full_name
from rempart.journal.model import JournalEntry
from rempart.journal.ports import JournalWriter
from rempart.kernel.ports import Clock
from rempart.kernel.tags import Decision, Tag

SUBJECT = "Vos données personnelles ont été consultées sans autorisation"
BATCH = 200


@dataclass(frozen=True, slots=True)
class SendDeps:
    outbox: LetterOutbox
    channel: LetterChannel
    people: PersonDirectory
    journal: JournalWriter
    clock: Clock
    contacts: Contacts


@dataclass(slots=True)
class DeliveryReport:
    """What one run did, and where the whole incident stands after it."""

    incident_id: int
    sent: int = 0
    printed: int = 0
    failed: int = 0
    resumed_in_doubt: int = 0  # letters a previous run left in "sending"
    errors: list[dict[str, str]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        """The delivery report as written next to the letters."""
        return {
            "incident_id": self.incident_id,
            "this_run": {
                "sent": self.sent,
                "printed": self.printed,
                "failed": self.failed,
                "resumed_in_doubt": self.resumed_in_doubt,
            },
            "totals": self.totals,
            "errors": self.errors[:1000],
        }


def send_letters(
    deps: SendDeps,
    incident: Incident,
    exposure: Exposure,
    *,
    by: str,
    progress: Callable[[int, int], None] | None = None,
    stop_after: int | None = None,
) -> DeliveryReport:
    """Send every letter still due for ``incident``; safe to run again at any time."""
    report = DeliveryReport(incident.id)
    total = sum(deps.outbox.progress(incident.id).values())
    done = total - len_due(deps.outbox, incident.id)
    after = ""
    handled = 0
    while batch := deps.outbox.due(incident.id, after, BATCH):
        after = batch[-1].ft_id
        delivered: list[str] = []
        for task in batch:
            if stop_after is not None and handled >= stop_after:
                report.totals = deps.outbox.progress(incident.id)
                return report
            handled += 1
            person_exposure = exposure.persons.get(task.ft_id)
            if person_exposure is None:  # planned for an earlier, larger exposure
                continue
            if task.state is LetterState.SENDING:
                report.resumed_in_doubt += 1
            person = deps.people.person_by_ft_id(task.ft_id)
            if task.channel != "email" or person is None or not person.email:
                deps.outbox.mark(task, LetterState.PRINTED, deps.clock.now())
                report.printed += 1
            else:
                body = letter_text(
                    person_exposure,
                    name=full_name(person, task.ft_id),
                    address_lines=address_lines(person),
                    reference=task.reference,
                    contacts=deps.contacts,
                )
                deps.outbox.mark(task, LetterState.SENDING, deps.clock.now())
                try:
                    reference = deps.channel.deliver(
                        OutgoingLetter(
                            person.email, SUBJECT, body, task.reference, task.idempotency_key
                        )
                    )
                except OSError as exc:  # the server or the network: this letter stays due
                    deps.outbox.mark(task, LetterState.PENDING, deps.clock.now())
                    report.failed += 1
                    report.errors.append({"ft_id": task.ft_id, "error": type(exc).__name__})
                    continue
                deps.outbox.mark(task, LetterState.SENT, deps.clock.now(), reference)
                report.sent += 1
            delivered.append(task.ft_id)
            done += 1
            if progress is not None:
                progress(done, total)
        if delivered:
            deps.journal.append([_letters_entry(deps.clock.now(), by, incident.id, delivered)])
    report.totals = deps.outbox.progress(incident.id)
    return report


def len_due(outbox: LetterOutbox, incident_id: int) -> int:
    """Letters still due."""
    counts = outbox.progress(incident_id)
    return sum(n for s, n in counts.items() if s not in (LetterState.SENT, LetterState.PRINTED))


def _letters_entry(at: dt.datetime, by: str, incident_id: int, ft_ids: list[str]) -> JournalEntry:
    # Each person's own access log shows that they were written to, and by whom.
    return JournalEntry(
        at=at,
        tag=Tag.INCIDENT_LETTER_SENT,
        decision=Decision.ALLOW,
        agent_login=by[:64],
        persons=tuple(ft_ids),
        purpose="security_investigation",
        details={"incident_id": incident_id, "letters": len(ft_ids)},
    )
