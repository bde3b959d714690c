"""Sending the article 34 letters: resumable, idempotent, with progress and a delivery report.

Each letter goes out as an *official message* (registered before it leaves, with its
reference in the body and the ``X-Rempart-Reference`` header), under an idempotency key: the
register sends nothing twice for one key. The outbox moves each letter ``pending → sending →
sent`` (or ``printed`` for people without an e-mail address), each step committed before the
next, so a run that stops (crash, outage, Ctrl-C) leaves every letter done or still due, and
the next run takes up exactly those: nobody skipped.

A letter a crash left in ``sending`` is looked up in the register first: delivered, it is only
recorded (nobody mailed twice); never handed over, or refused by the server, it is sent again
under a new key (it never reached anyone). The one case that stays in doubt is a crash
between the server's acceptance and the register's record of it; the report counts those.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from rempart.incident.documents import Contacts, letter_text
from rempart.incident.model import Exposure, Incident, LetterState, LetterTask
from rempart.incident.ports import (
    Delivery,
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


def _key(task: LetterTask, attempt: int) -> str:
    return f"{task.idempotency_key}#{attempt}"


def _earlier(deps: SendDeps, task: LetterTask) -> Delivery | None:
    """What became of the attempt a crash interrupted (None: it reached nobody)."""
    if task.state is not LetterState.SENDING or task.attempts == 0:
        return None
    return deps.channel.lookup(task.ft_id, _key(task, task.attempts))


def send_letters(
    deps: SendDeps,
    incident: Incident,
    exposure: Exposure,
    *,
    by: str,
    progress: Callable[[int, int], None] | None = None,
) -> DeliveryReport:
    """Send every letter still due for ``incident``; safe to run again at any time."""
    report = DeliveryReport(incident.id)
    total = sum(deps.outbox.progress(incident.id).values())
    done = total - len_due(deps.outbox, incident.id)
    after = ""
    while batch := deps.outbox.due(incident.id, after, BATCH):
        after = batch[-1].ft_id
        delivered: list[str] = []
        for task in batch:
            person_exposure = exposure.persons.get(task.ft_id)
            if person_exposure is None:  # planned for an earlier, larger exposure
                continue
            earlier = _earlier(deps, task)
            if task.state is LetterState.SENDING:
                report.resumed_in_doubt += 1
            if earlier is not None and earlier.delivered:  # it did leave: record it, no resend
                deps.outbox.mark(task, LetterState.SENT, deps.clock.now(), earlier.reference)
                report.sent += 1
                delivered.append(task.ft_id)
                done += 1
                continue
            person = deps.people.person_by_ft_id(task.ft_id)
            channel = "email" if person is not None and person.email else "letter"
            body = letter_text(
                person_exposure,
                name=full_name(person, task.ft_id),
                address_lines=address_lines(person),
                contacts=deps.contacts,
            )
            deps.outbox.mark(task, LetterState.SENDING, deps.clock.now())
            result = deps.channel.deliver(
                OutgoingLetter(task.ft_id, channel, SUBJECT, body, _key(task, task.attempts + 1))
            )
            if not result.delivered:  # refused: still due, under a new key; unreachable: failed
                state = LetterState.PENDING if result.reference else LetterState.FAILED
                deps.outbox.mark(task, state, deps.clock.now(), "")
                report.failed += 1
                report.errors.append({"ft_id": task.ft_id, "reference": result.reference})
                continue
            state = LetterState.SENT if channel == "email" else LetterState.PRINTED
            deps.outbox.mark(task, state, deps.clock.now(), result.reference)
            if state is LetterState.SENT:
                report.sent += 1
            else:
                report.printed += 1
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
