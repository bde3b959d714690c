"""An incident's report: its record, the article 33 draft, one letter per person, the pack.

``write_report`` is what ``rempart incident report`` runs: it opens the incident (or finds the
one already open for the same selector and awareness), computes the exposure, writes
``notification.json`` and its French rendering, ``letters/FT_ID.txt`` (and plans each letter
for sending, with the reference it carries), and ``evidence/``. Run again later, it drafts a
*complementary* notification when the figures have changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rempart.incident.documents import (
    Contacts,
    letter_text,
    notification_draft,
    render_notification,
)
from rempart.incident.model import (
    EventKind,
    Exposure,
    Figures,
    Incident,
    IncidentEvent,
    LetterTask,
    Milestone,
    PersonExposure,
    Selector,
    Window,
)
from rempart.incident.ports import IncidentStore, LetterOutbox, PersonDirectory
from rempart.incident.service.access import list_digest
from rempart.incident.service.evidence import EvidenceSource, PublishedLog, write_pack
from rempart.incident.service.exposure import compute_exposure
from rempart.journal.ports import ScopedEntries
from rempart.people.model import Person

MEASURES_TAKEN = [
    "Sessions du ou des comptes concernés fermées et comptes verrouillés dès la détection.",
    "Analyse du journal d'accès infalsifiable pour établir la liste exacte des personnes et des "
    "données consultées.",
    "Conservation des preuves (extrait du journal signé, preuves d'inclusion) pour la plainte.",
]
MEASURES_PROPOSED = [
    "Réinitialisation des mots de passe et des seconds facteurs des comptes concernés, "
    "passage à une clé de sécurité (WebAuthn).",
    "Information de chaque personne concernée (article 34) avec des conseils contre "
    "l'hameçonnage ciblé.",
    "Dépôt de plainte et signalement à l'ANSSI / CERT-FR.",
]


class ReportJournal(ScopedEntries, EvidenceSource, PublishedLog, Protocol):
    """The journal as the report reads it: the scoped entries, their proofs, what it
    published."""


@dataclass(frozen=True, slots=True)
class ReportDeps:
    journal: ReportJournal
    people: PersonDirectory
    incidents: IncidentStore
    outbox: LetterOutbox
    contacts: Contacts
    can_sign: bool = False


@dataclass(frozen=True, slots=True)
class ReportResult:
    incident: Incident
    exposure: Exposure
    draft: dict[str, object]
    letters: int
    manifest: dict[str, object]


def find_or_open(
    incidents: IncidentStore,
    selector: Selector,
    window: Window,
    aware_at: dt.datetime,
    *,
    by: str,
    now: dt.datetime,
    title: str = "",
    alert_id: int = 0,
) -> Incident:
    """The incident open for this selector and awareness, or a new one."""
    for known in incidents.recent(1000):
        if known.selector == selector and known.aware_at == aware_at:
            if known.window == window:
                return known
            moved = dataclasses.replace(known, window=window)
            incidents.update(moved)
            return moved
    incident = incidents.add(
        Incident(
            id=0,
            title=title or f"Violation de données : {selector.describe()}",
            opened_at=now,
            opened_by=by,
            selector=selector,
            window=window,
            aware_at=aware_at,
            alert_id=alert_id,
            milestones={str(Milestone.DETECTED): min(now, aware_at)},
        )
    )
    incidents.add_event(
        IncidentEvent(incident.id, now, EventKind.TIMELINE, "Incident ouvert", by, {})
    )
    return incident


def address_lines(person: Person | None) -> list[str]:
    """The postal address block of a letter."""
    if person is None:
        return []
    a = person.address
    return [a.line, f"{a.postcode} {a.city}"]


def _is_canary(person: Person | None) -> bool:
    return person is not None and person.is_canary


def full_name(person: Person | None, ft_id: str) -> str:
    """``Madame, Monsieur Prénom NOM`` is not guessed: first and last name as registered."""
    return f"{person.first_name} {person.last_name.upper()}" if person else f"Titulaire {ft_id}"


def compose_letters(
    directory_of_people: PersonDirectory,
    outbox: LetterOutbox,
    contacts: Contacts,
    incident: Incident,
    persons: list[PersonExposure],
    directory: Path,
    progress: Callable[[int], None] | None = None,
    *,
    looked_up: Mapping[str, Person | None] | None = None,
) -> int:
    """Write one letter per person and plan it for sending; the reference is fixed once.
    ``looked_up``: the people already read from the directory (not read again)."""
    directory.mkdir(parents=True, exist_ok=True)
    planned: list[LetterTask] = []
    people: dict[str, Person | None] = {}
    for p in persons:
        person = (
            looked_up[p.ft_id]
            if looked_up is not None and p.ft_id in looked_up
            else directory_of_people.person_by_ft_id(p.ft_id)
        )
        people[p.ft_id] = person
        planned.append(
            LetterTask(
                incident.id,
                p.ft_id,
                "email" if person is not None and person.email else "letter",
            )
        )
    outbox.plan(planned)
    references = outbox.references(incident.id)
    for n, p in enumerate(persons, 1):
        person = people[p.ft_id]
        text = letter_text(
            p,
            name=full_name(person, p.ft_id),
            address_lines=address_lines(person),
            contacts=contacts,
        )
        text += (
            f"\nRéférence : {references[p.ft_id]}\n"
            if references.get(p.ft_id)
            else "\nRéférence : attribuée à l'envoi, dans le registre des messages officiels.\n"
        )
        (directory / f"{p.ft_id}.txt").write_text(text, encoding="utf-8")
        if progress is not None and n % 1000 == 0:
            progress(n)
    return len(persons)


def write_report(
    deps: ReportDeps,
    incident: Incident,
    out: Path,
    *,
    now: dt.datetime,
    by: str,
    progress: Callable[[int], None] | None = None,
) -> ReportResult:
    """Everything ``rempart incident report`` writes, for an open incident."""
    exposure = compute_exposure(deps.journal, incident.selector, incident.window)
    # A canary is nobody: no letter, not counted among the people; that one was read at all
    # proves an access beyond its scope, so the draft says how many were.
    people = {ft: deps.people.person_by_ft_id(ft) for ft in exposure.persons}  # once, for both
    canaries = exposure.set_aside([ft for ft, person in people.items() if _is_canary(person)])
    previous = incident.figures
    draft = notification_draft(
        incident,
        exposure,
        now=now,
        contacts=deps.contacts,
        measures_taken=MEASURES_TAKEN,
        measures_proposed=MEASURES_PROPOSED,
        previous=previous,
    )
    draft["canary_records_read"] = canaries
    out.mkdir(parents=True, exist_ok=True)
    (out / "notification.json").write_text(
        json.dumps(draft, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    (out / "notification.txt").write_text(render_notification(draft), encoding="utf-8")
    persons = exposure.sorted_persons()
    letters = compose_letters(
        deps.people,
        deps.outbox,
        deps.contacts,
        incident,
        persons,
        out / "letters",
        progress,
        looked_up=people,
    )
    about: dict[str, object] = {
        "incident_id": incident.id,
        "selector": incident.selector.as_json(),
        "window": incident.window.as_json(),
        "aware_at": draft["aware_at"],
        "persons": len(persons),
        "persons_sha256": list_digest(exposure.persons),
    }
    manifest = write_pack(
        deps.journal,
        exposure.entries,
        out / "evidence",
        about,
        can_sign=deps.can_sign,
        publication=deps.journal,
    )
    figures = Figures.of(exposure)
    incident = dataclasses.replace(incident, figures=figures)
    deps.incidents.update(incident)
    if previous != figures:
        deps.incidents.add_event(
            IncidentEvent(
                incident.id,
                now,
                EventKind.NOTIFICATION,
                "Projet de notification complémentaire (les chiffres ont changé)"
                if previous is not None
                else "Projet de notification initiale",
                by,
                {"figures": figures.as_json(), "kind": draft["kind"]},
            )
        )
    return ReportResult(incident, exposure, draft, letters, manifest)
