"""Incidents on the console, on memory twins: one click from an alert starts the 72 hours;
only the DPO and security officers handle them; the list of people needs a fresh second
factor and every reading (and refusal) is journaled (ASVS V8.2.1, V16.3.2; GDPR art. 33)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.guard.alerts import Alert, Severity
from rempart.incident.adapters.memory import MemoryIncidents, MemoryOutbox
from rempart.incident.documents import Contacts
from rempart.incident.model import EventKind
from rempart.incident.service import records
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.actors import Organisation, OrgKind, Role
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.errors import Forbidden, InvalidRequest, NotFound, StepUpRequired
from rempart.kernel.tags import Decision, Tag
from tests.factories import NOW, make_agent
from tests.support.journal import read


def ctx(role: Role, *, fresh: bool = False, minutes: int = 0) -> RequestContext:
    agent = make_agent(OrgKind.AGENCY, {role}, login=f"{role}.one")
    now = NOW + dt.timedelta(minutes=minutes)
    return RequestContext(
        agent=agent,
        org=Organisation(agent.org_id, OrgKind.AGENCY, "Agence", "12345678900011"),
        session_id="s-officer",
        client=ClientInfo("192.0.2.1", "pytest", "AS-TEST"),
        now=now,
        fresh_until=now + dt.timedelta(minutes=5) if fresh else None,
    )


@pytest.fixture
def deps() -> records.IncidentDeps:
    journal = MemoryJournal()
    journal.append(
        [
            dataclasses.replace(read(i, at=NOW - dt.timedelta(hours=1)), agent_login="thief")
            for i in range(6)
        ]
    )
    alerts = MemoryAlertStore()
    alerts.raise_alert(
        Alert(
            NOW - dt.timedelta(minutes=30),
            "guard:canary:read",
            Severity.HIGH,
            "Canari lu",
            agent_login="thief",
            org_id="ORG-0",
        )
    )
    return records.IncidentDeps(
        MemoryIncidents(), MemoryOutbox(), journal, journal, alerts, Contacts()
    )


def test_one_click_from_an_alert_opens_the_incident_and_starts_the_72_hours(
    deps: records.IncidentDeps,
) -> None:
    officer = ctx(Role.SECURITY_OFFICER)
    alert_id = deps.alerts.alerts_since(None, 10)[0].id
    incident = records.open_from_alert(deps, officer, alert_id)
    assert incident.aware_at == NOW
    assert incident.deadline == NOW + dt.timedelta(hours=72)
    assert incident.selector.values == ("thief",)
    assert incident.milestones["detected"] == NOW - dt.timedelta(minutes=30)
    assert records.open_from_alert(deps, officer, alert_id).id == incident.id  # not twice
    with pytest.raises(NotFound):
        records.open_from_alert(deps, officer, alert_id + 99)
    journal = deps.journal
    assert isinstance(journal, MemoryJournal)
    assert journal.entries[-1].tag is Tag.INCIDENT_RECORD_OPENED


def test_the_exposure_counts_and_drafts_then_complements(deps: records.IncidentDeps) -> None:
    dpo = ctx(Role.DPO)
    incident = records.open_from_alert(deps, ctx(Role.SECURITY_OFFICER), 1)
    figures = records.compute(deps, dpo, incident.id)
    assert figures.persons == 6
    shown = records.view(deps, dpo, incident.id)
    assert shown.draft is not None
    assert shown.draft["kind"] == "initial"
    assert "72 heures" in shown.draft_text
    records.compute(deps, dpo, incident.id)  # the same figures: no new draft
    journal = deps.journal
    assert isinstance(journal, MemoryJournal)
    journal.append(
        [dataclasses.replace(read(7, at=NOW), agent_login="thief", persons=("7777777K",))]
    )
    assert records.compute(deps, dpo, incident.id).persons == 7
    drafts = [
        e for e in records.view(deps, dpo, incident.id).events if e.kind is EventKind.NOTIFICATION
    ]
    assert [d.details["draft"]["kind"] for d in drafts] == ["initial", "complementary"]  # type: ignore[index]


def test_the_list_of_people_needs_the_team_and_a_fresh_second_factor(
    deps: records.IncidentDeps,
) -> None:
    incident = records.open_from_alert(deps, ctx(Role.SECURITY_OFFICER), 1)
    journal = deps.journal
    assert isinstance(journal, MemoryJournal)
    for outsider in (Role.ADVISOR, Role.ADMIN, Role.ACCOUNT_MANAGER):
        with pytest.raises(Forbidden):
            records.persons(deps, ctx(outsider, fresh=True), incident.id)
        with pytest.raises(Forbidden):
            records.view(deps, ctx(outsider), incident.id)
    with pytest.raises(StepUpRequired):
        records.persons(deps, ctx(Role.DPO), incident.id)
    refused = journal.entries[-1]
    assert refused.tag is Tag.INCIDENT_PERSONS_DENIED
    assert refused.decision is Decision.STEP_UP
    listed, total = records.persons(deps, ctx(Role.DPO, fresh=True), incident.id)
    assert total == 6
    assert [p.ft_id for p in listed] == sorted(f"{i:07d}K" for i in range(6))
    read_entry = journal.entries[-1]
    assert read_entry.tag is Tag.INCIDENT_PERSONS_READ
    assert read_entry.agent_login == "dpo.one"
    assert read_entry.details["persons"] == 6
    assert read_entry.persons == ()  # a digest, not a second copy of the list
    kinds = [e.kind for e in records.view(deps, ctx(Role.DPO), incident.id).events]
    assert EventKind.PERSONS_READ in kinds


def test_milestones_and_containment_actions_are_logged(deps: records.IncidentDeps) -> None:
    officer = ctx(Role.SECURITY_OFFICER, minutes=10)
    incident = records.open_from_alert(deps, ctx(Role.SECURITY_OFFICER), 1)
    records.log_event(deps, officer, incident.id, "containment", "Compte verrouillé", "contained")
    shown = records.view(deps, officer, incident.id)
    assert shown.incident.milestones["contained"] == NOW + dt.timedelta(minutes=10)
    assert [name for name, _ in shown.incident.timeline()] == ["detected", "aware", "contained"]
    assert shown.events[-1].text == "Compte verrouillé"
    for kind, text, milestone in (
        ("notification", "x", ""),
        ("containment", "", ""),
        ("containment", "x", "lunch"),
        ("nonsense", "x", ""),
    ):
        with pytest.raises(InvalidRequest):
            records.log_event(deps, officer, incident.id, kind, text, milestone)
