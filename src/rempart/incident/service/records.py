"""Incidents on the console: open one from an alert, follow its deadline, compute who was
exposed, read the list of people, log milestones, containment actions and documents.

Only the DPO and security officers handle incidents. The list of people is personal data too:
reading it needs a second factor proven in the last few minutes, and every reading (and every
refusal) is journaled with the officer, the incident and a digest of the list.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from rempart.guard.alerts import Alert
from rempart.guard.ports import AlertSink
from rempart.incident.documents import (
    Contacts,
    notification_draft,
    render_notification,
)
from rempart.incident.model import (
    EventKind,
    Figures,
    Incident,
    IncidentEvent,
    Milestone,
    PersonExposure,
    Selector,
    Window,
)
from rempart.incident.ports import IncidentStore, LetterOutbox
from rempart.incident.service.access import list_digest
from rempart.incident.service.exposure import compute_exposure
from rempart.incident.service.report import MEASURES_PROPOSED, MEASURES_TAKEN
from rempart.journal.entries import entry_for
from rempart.journal.ports import JournalWriter, ScopedEntries
from rempart.kernel.actors import Role
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import Forbidden, InvalidRequest, NotFound, StepUpRequired
from rempart.kernel.tags import Decision, Tag

TEAM = frozenset({Role.DPO, Role.SECURITY_OFFICER})
ALERT_WINDOW = 5000  # the alerts an incident can be opened from: the most recent ones
LIST_LIMIT = 2000  # people shown on the page; the full list is in the report's files


@dataclass(frozen=True, slots=True)
class IncidentDeps:
    incidents: IncidentStore
    outbox: LetterOutbox
    entries: ScopedEntries | None  # None: a journal that cannot be read back (write-only)
    journal: JournalWriter
    alerts: AlertSink
    contacts: Contacts
    lookback: dt.timedelta = dt.timedelta(days=7)  # before the alert: when it may have begun


@dataclass(frozen=True, slots=True)
class IncidentView:
    incident: Incident
    events: list[IncidentEvent]
    letters: dict[str, int]
    draft: dict[str, object] | None
    draft_text: str


def may_handle(ctx: RequestContext) -> bool:
    """True for the DPO and security officers."""
    return bool(ctx.agent.roles & TEAM)


def _team(ctx: RequestContext) -> None:
    if not may_handle(ctx):
        raise Forbidden("only the DPO and security officers handle incidents")


def _get(deps: IncidentDeps, incident_id: int) -> Incident:
    found = deps.incidents.get(incident_id)
    if found is None:
        raise NotFound()
    return found


def _who(ctx: RequestContext) -> str:
    return ctx.agent.login


def _journal(
    deps: IncidentDeps,
    ctx: RequestContext,
    tag: Tag,
    incident_id: int,
    decision: Decision = Decision.ALLOW,
    **details: object,
) -> None:
    deps.journal.append(
        [
            entry_for(
                ctx,
                tag,
                decision,
                purpose="security_investigation",
                details={"incident_id": incident_id, **details},
            )
        ]
    )


def recent(deps: IncidentDeps, ctx: RequestContext, limit: int = 100) -> list[Incident]:
    """The latest incidents."""
    _team(ctx)
    return deps.incidents.recent(limit)


def alert_of(deps: IncidentDeps, ctx: RequestContext, alert_id: int) -> Alert:
    """One recent alert, to open an incident from."""
    _team(ctx)
    found = next(
        (a for a in deps.alerts.alerts_since(None, ALERT_WINDOW) if a.id == alert_id), None
    )
    if found is None:
        raise NotFound()
    return found


def open_from_alert(deps: IncidentDeps, ctx: RequestContext, alert_id: int) -> Incident:
    """One click from an alert: its account (else its organisation) from a lookback before the
    alert, open-ended, the controller aware now (the 72 hours start)."""
    alert = alert_of(deps, ctx, alert_id)
    if alert.agent_login:
        selector = Selector.of([alert.agent_login])
    elif alert.org_id:
        selector = Selector.of(org_id=alert.org_id)
    else:
        raise InvalidRequest("this alert names neither an account nor an organisation")
    for known in deps.incidents.recent(200):
        if known.alert_id == alert.id:
            return known  # a second click opens the same incident
    incident = deps.incidents.add(
        Incident(
            id=0,
            title=f"Alerte n° {alert.id} : {alert.rule}",
            opened_at=ctx.now,
            opened_by=_who(ctx),
            selector=selector,
            window=Window(alert.at - deps.lookback, None),
            aware_at=ctx.now,
            alert_id=alert.id,
            milestones={str(Milestone.DETECTED): alert.at},
        )
    )
    deps.incidents.add_event(
        IncidentEvent(
            incident.id,
            ctx.now,
            EventKind.TIMELINE,
            f"Incident ouvert depuis l'alerte n° {alert.id} ({alert.explanation})",
            _who(ctx),
            {"alert_id": alert.id},
        )
    )
    _journal(deps, ctx, Tag.INCIDENT_RECORD_OPENED, incident.id, alert_id=alert.id)
    return incident


def view(deps: IncidentDeps, ctx: RequestContext, incident_id: int) -> IncidentView:
    """The incident, its log, its letters and its latest notification draft."""
    _team(ctx)
    incident = _get(deps, incident_id)
    events = deps.incidents.events(incident_id)
    drafts = [e for e in events if e.kind is EventKind.NOTIFICATION]
    draft = drafts[-1].details.get("draft") if drafts else None
    draft = draft if isinstance(draft, dict) else None
    return IncidentView(
        incident,
        events,
        deps.outbox.progress(incident_id),
        draft,
        render_notification(draft) if draft else "",
    )


def compute(deps: IncidentDeps, ctx: RequestContext, incident_id: int) -> Figures:
    """Count who was exposed (by category) and draft the notification; a new draft, marked
    complementary, only when the figures changed."""
    _team(ctx)
    incident = _get(deps, incident_id)
    if deps.entries is None:
        raise InvalidRequest("this journal cannot be read back")
    found = compute_exposure(deps.entries, incident.selector, incident.window)
    figures = Figures.of(found)
    previous = incident.figures
    _journal(
        deps,
        ctx,
        Tag.INCIDENT_EXPOSURE_COMPUTED,
        incident.id,
        persons=len(found.persons),
        persons_sha256=list_digest(found.persons),
    )
    if previous == figures:
        return figures
    draft = notification_draft(
        incident,
        found,
        now=ctx.now,
        contacts=deps.contacts,
        measures_taken=MEASURES_TAKEN,
        measures_proposed=MEASURES_PROPOSED,
        previous=previous,
    )
    deps.incidents.update(dataclasses.replace(incident, figures=figures))
    deps.incidents.add_event(
        IncidentEvent(
            incident.id,
            ctx.now,
            EventKind.NOTIFICATION,
            "Projet de notification complémentaire (les chiffres ont changé)"
            if previous is not None
            else "Projet de notification initiale",
            _who(ctx),
            {"draft": draft},
        )
    )
    return figures


def persons(
    deps: IncidentDeps, ctx: RequestContext, incident_id: int
) -> tuple[list[PersonExposure], int]:
    """The people exposed (the first ``LIST_LIMIT``) and how many in all: a fresh second factor
    first, and the reading journaled."""
    _team(ctx)
    incident = _get(deps, incident_id)
    if not ctx.is_fresh:
        _journal(
            deps,
            ctx,
            Tag.INCIDENT_PERSONS_DENIED,
            incident.id,
            Decision.STEP_UP,
            reason="second factor not fresh",
        )
        raise StepUpRequired("prove your second factor again to read the list of people")
    if deps.entries is None:
        raise InvalidRequest("this journal cannot be read back")
    found = compute_exposure(deps.entries, incident.selector, incident.window)
    _journal(
        deps,
        ctx,
        Tag.INCIDENT_PERSONS_READ,
        incident.id,
        persons=len(found.persons),
        persons_sha256=list_digest(found.persons),
    )
    deps.incidents.add_event(
        IncidentEvent(
            incident.id,
            ctx.now,
            EventKind.PERSONS_READ,
            f"Liste des personnes consultée ({len(found.persons)} personnes)",
            _who(ctx),
            {"persons_sha256": list_digest(found.persons)},
        )
    )
    listed = found.sorted_persons()
    return listed[:LIST_LIMIT], len(listed)


def log_event(
    deps: IncidentDeps,
    ctx: RequestContext,
    incident_id: int,
    kind: str,
    text: str,
    milestone: str = "",
) -> None:
    """A line in the log (containment action, document, note), and a milestone if named."""
    _team(ctx)
    incident = _get(deps, incident_id)
    text = text.strip()
    if not 1 <= len(text) <= 2000:
        raise InvalidRequest("a log line holds 1 to 2000 characters")
    try:
        event_kind = EventKind(kind)
    except ValueError:
        raise InvalidRequest("unknown kind of log line") from None
    if event_kind not in (EventKind.TIMELINE, EventKind.CONTAINMENT, EventKind.DOCUMENT):
        raise InvalidRequest("unknown kind of log line")
    if milestone:
        try:
            reached = Milestone(milestone)
        except ValueError:
            raise InvalidRequest("unknown milestone") from None
        incident = dataclasses.replace(
            incident, milestones={**incident.milestones, str(reached): ctx.now}
        )
        deps.incidents.update(incident)
    deps.incidents.add_event(
        IncidentEvent(incident.id, ctx.now, event_kind, text, _who(ctx), {"milestone": milestone})
    )
    _journal(deps, ctx, Tag.INCIDENT_RECORD_UPDATED, incident.id, kind=kind, milestone=milestone)
