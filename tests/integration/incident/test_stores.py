"""One contract, three stores: the incident records and the letters' outbox on the memory twin,
SQLite and PostgreSQL, so that the twin the unit tests use cannot drift."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from rempart.db.migrate import upgrade
from rempart.incident.adapters.memory import MemoryIncidents, MemoryOutbox
from rempart.incident.adapters.sql import SqlIncidents, SqlOutbox
from rempart.incident.model import (
    EventKind,
    Figures,
    Incident,
    IncidentEvent,
    LetterState,
    LetterTask,
    Selector,
    Window,
)
from tests.factories import NOW

Stores = tuple[MemoryIncidents | SqlIncidents, MemoryOutbox | SqlOutbox]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    if request.param == "memory":
        yield MemoryIncidents(), MemoryOutbox()
        return
    url = (
        f"sqlite:///{tmp_path}/rempart.db"
        if request.param == "sqlite"
        else str(request.getfixturevalue("fresh_postgres_url"))
    )
    upgrade(url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    yield SqlIncidents(engine), SqlOutbox(engine)
    engine.dispose()


def _incident() -> Incident:
    return Incident(
        id=0,
        title="Kairos",
        opened_at=NOW,
        opened_by="cli:dpo",
        selector=Selector.of(["of.isere"]),
        window=Window(NOW - dt.timedelta(days=3), None),
        aware_at=NOW + dt.timedelta(hours=1),
        alert_id=7,
        milestones={"detected": NOW},
    )


def test_incidents_keep_everything_they_are_given(stores: Stores) -> None:
    incidents, _ = stores
    kept = incidents.add(_incident())
    assert kept.id >= 1
    assert incidents.get(kept.id) == kept
    assert incidents.get(kept.id + 100) is None
    figures = Figures(12, 30, {"identity": 12, "nir": 2}, True)
    moved = dataclasses.replace(
        kept,
        figures=figures,
        milestones={**kept.milestones, "contained": NOW + dt.timedelta(hours=2)},
    )
    incidents.update(moved)
    assert incidents.get(kept.id) == moved
    second = incidents.add(_incident())
    assert [i.id for i in incidents.recent(10)] == [second.id, kept.id]
    incidents.add_event(
        IncidentEvent(
            kept.id,
            NOW + dt.timedelta(minutes=5),
            EventKind.CONTAINMENT,
            "verrouillé",
            "so",
            {"alert_id": 7},
        )
    )
    incidents.add_event(IncidentEvent(kept.id, NOW, EventKind.TIMELINE, "ouvert", "so"))
    assert [e.text for e in incidents.events(kept.id)] == ["ouvert", "verrouillé"]
    assert incidents.events(kept.id)[1].details == {"alert_id": 7}
    assert incidents.events(second.id) == []


def test_the_outbox_resumes_where_it_stood(stores: Stores) -> None:
    _, outbox = stores
    tasks = [LetterTask(1, f"{i:07d}K", "email", reference=f"REF{i}") for i in range(7)]
    assert outbox.plan(tasks) == 7
    assert outbox.plan(tasks) == 0  # planned once, whatever the number of runs
    assert outbox.plan([LetterTask(2, "0000001K", "letter", reference="OTHER")]) == 1
    due = outbox.due(1, "", 3)
    assert [t.ft_id for t in due] == ["0000000K", "0000001K", "0000002K"]
    outbox.mark(due[0], LetterState.SENDING, NOW)
    outbox.mark(due[0], LetterState.SENT, NOW, "NEW")
    outbox.mark(due[1], LetterState.SENDING, NOW)
    outbox.mark(due[2], LetterState.PRINTED, NOW)
    again = outbox.due(1, "", 10)
    assert [t.ft_id for t in again][:1] == ["0000001K"]
    assert again[0].state is LetterState.SENDING
    assert again[0].attempts == 1
    assert len(again) == 5
    assert outbox.due(1, "0000004K", 10)[0].ft_id == "0000005K"
    assert outbox.progress(1) == {"pending": 4, "sending": 1, "sent": 1, "printed": 1, "failed": 0}
    refs = outbox.references(1)
    assert refs["0000000K"] == "REF0"  # a reference once given is kept
    assert outbox.references(2) == {"0000001K": "OTHER"}
