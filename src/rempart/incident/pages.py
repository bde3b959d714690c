"""The console's "Incidents" pages: open one from an alert in one click, follow the art. 33
deadline and what is left of it, the exposure by category, the draft notification, the
letters' progress; the list of people behind a fresh second factor. DPO and security officers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import RedirectResponse

from rempart.incident.documents import CATEGORY_SHORT_FR
from rempart.incident.model import CATEGORY_ORDER, SENSITIVE, Milestone, format_left
from rempart.incident.service import records
from rempart.incident.service.records import IncidentDeps
from rempart.web.deps import container
from rempart.web.ui.routing import HtmlRoute
from rempart.web.ui.templating import render
from rempart.web.ui.visitor import Agent

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)

IncidentId = Annotated[int, Path(ge=1, le=2**62)]
AlertId = Annotated[int, Path(ge=1, le=2**62)]
MILESTONES_FR = {
    "detected": "Détection",
    "aware": "Prise de connaissance (début des 72 h)",
    "contained": "Confinement",
    "notified": "Notification à la CNIL",
    "informed": "Personnes informées",
}
EVENTS_FR = {
    "timeline": "Chronologie",
    "containment": "Mesure de confinement",
    "document": "Document",
    "notification": "Projet de notification",
    "persons_read": "Consultation de la liste des personnes",
}


def _deps(request: Request) -> IncidentDeps:
    return container(request).incident


def _common() -> dict[str, object]:
    return {
        "categories": [(c, CATEGORY_SHORT_FR[c], c in SENSITIVE) for c in CATEGORY_ORDER],
        "milestones_fr": MILESTONES_FR,
        "events_fr": EVENTS_FR,
        "milestones": [str(m) for m in Milestone if m is not Milestone.AWARE],
    }


@router.get("/console/incidents")
def incidents(request: Request, visitor: Agent) -> Response:
    """Every recent incident with its deadline."""
    items = records.recent(_deps(request), visitor.ctx)
    now = visitor.ctx.now
    rows = [(i, format_left(i.deadline - now), i.deadline < now) for i in items]
    return render(request, "incident/list.html", {"title": "Incidents", "rows": rows})


@router.post("/console/alertes/{alert_id}/incident")
def open_from_alert(request: Request, visitor: Agent, alert_id: AlertId) -> Response:
    """One click from an alert: the incident opens, the 72 hours start."""
    incident = records.open_from_alert(_deps(request), visitor.ctx, alert_id)
    return RedirectResponse(f"/console/incidents/{incident.id}", status_code=303)


@router.get("/console/incidents/{incident_id}")
def incident_page(request: Request, visitor: Agent, incident_id: IncidentId) -> Response:
    """One incident: deadline and time left, exposure by category, draft, letters, log."""
    shown = records.view(_deps(request), visitor.ctx, incident_id)
    now = visitor.ctx.now
    letters = shown.letters
    total = sum(letters.values())
    done = letters.get("sent", 0) + letters.get("printed", 0)
    return render(
        request,
        "incident/detail.html",
        {
            "title": f"Incident n° {shown.incident.id}",
            "incident": shown.incident,
            "left": format_left(shown.incident.deadline - now),
            "late": shown.incident.deadline < now,
            "events": shown.events,
            "letters": letters,
            "letters_total": total,
            "letters_done": done,
            "draft": shown.draft,
            "draft_text": shown.draft_text,
            **_common(),
        },
    )


@router.post("/console/incidents/{incident_id}/exposition")
def compute(request: Request, visitor: Agent, incident_id: IncidentId) -> Response:
    """Count who was exposed, by category, and draft (or complete) the notification."""
    records.compute(_deps(request), visitor.ctx, incident_id)
    return RedirectResponse(f"/console/incidents/{incident_id}", status_code=303)


@router.get("/console/incidents/{incident_id}/personnes")
def persons(request: Request, visitor: Agent, incident_id: IncidentId) -> Response:
    """The people exposed: a fresh second factor first; the reading is journaled."""
    listed, total = records.persons(_deps(request), visitor.ctx, incident_id)
    return render(
        request,
        "incident/persons.html",
        {
            "title": f"Personnes exposées, incident n° {incident_id}",
            "incident_id": incident_id,
            "persons": listed,
            "total": total,
            "short": CATEGORY_SHORT_FR,
        },
    )


@router.post("/console/incidents/{incident_id}/journal")
def log_line(
    request: Request,
    visitor: Agent,
    incident_id: IncidentId,
    kind: Annotated[str, Form(max_length=32)],
    text: Annotated[str, Form(max_length=2000)],
    milestone: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Add a containment action, a document or a milestone to the incident's log."""
    records.log_event(_deps(request), visitor.ctx, incident_id, kind, text, milestone)
    return RedirectResponse(f"/console/incidents/{incident_id}", status_code=303)
