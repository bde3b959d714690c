"""The guard's second round over HTTP: an adviser's whole scope read at a person's pace is
stopped at half of it, with an alert the security team reads on the console; a script's pace
is stopped within a handful of people. ASVS V2.4.1 (anti-automation), V8.2.2 (bounded data
access), V16.3.2 (security events with their figures)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from rempart.bootstrap import Container, build_container
from rempart.db.migrate import upgrade
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.web.app import create_app
from tests.factories import TODAY, World, standard_world
from tests.support.signin import auth_settings, client_for, give_credentials, sign_in

SCOPE = 60


@pytest.fixture
def box(tmp_path: Path, clock: ManualClock, journal: MemoryJournal) -> Iterator[Container]:
    db_url = f"sqlite:///{tmp_path}/rempart.db"
    upgrade(db_url)
    c = build_container(auth_settings(db_url), clock=clock, journal=journal)  # type: ignore[arg-type]
    yield c
    c.close()


@pytest.fixture
def world(box: Container) -> World:
    w = standard_world(box.engine)
    for i in range(SCOPE - 1):  # cap.adv follows one person already
        name = f"followed{i}"
        w.person(name, 500 + i)
        w.assign(name, "cap.adv", "Cap emploi 75", TODAY - dt.timedelta(days=30))
    return w


@pytest.fixture
def app(box: Container, world: World) -> FastAPI:
    return create_app(box.settings, container=box)


def _followed(world: World) -> list[str]:
    return [p.ft_id for n, p in world.persons.items() if n.startswith("followed")] + [
        world.persons["cap_person"].ft_id
    ]


def test_reading_the_whole_scope_slowly_is_stopped_at_half_and_shown_on_the_console(
    app: FastAPI, box: Container, world: World, clock: ManualClock
) -> None:
    """One record every 8 s (a paced script, or a person reading everything): the 30th of 60
    asks for a step-up; the alert, with its figures, is in the API and the console's feed."""
    adviser = client_for(app)
    sign_in(adviser, give_credentials(box.engine, "cap.adv"), clock)
    codes = []
    for ft_id in _followed(world):
        clock.advance(8)
        r = adviser.get(f"/api/v1/persons/{ft_id}")
        codes.append(r.status_code if r.status_code == 200 else r.json()["code"])
        if r.status_code != 200:
            assert "guard:scope:sweep" in r.json()["detail"]
            assert "30 of the 60 people" in r.json()["detail"]
    assert codes[:29] == [200] * 29
    assert set(codes[29:]) == {"step_up_required"}
    officer = client_for(app, address="198.51.100.8")
    sign_in(officer, give_credentials(box.engine, "ag.sec"), clock)
    items = officer.get("/api/v1/alerts").json()["items"]
    sweep = next(a for a in items if a["rule"] == "guard:scope:sweep")
    assert (sweep["agent_login"], sweep["severity"]) == ("cap.adv", "high")
    assert sweep["evidence"]["scope_size"] == SCOPE
    assert sweep["evidence"]["observed"] == 30
    feed = officer.get("/console/alertes/flux", headers={"HX-Request": "true"})
    assert "Lecture de presque tout le périmètre" in feed.text


def test_a_script_inside_the_session_is_stopped_within_a_handful_of_people(
    app: FastAPI, box: Container, world: World, clock: ManualClock
) -> None:
    """Records asked 0.3 s apart: 1 + 8 served, then a step-up on every next one."""
    adviser = client_for(app)
    sign_in(adviser, give_credentials(box.engine, "cap.adv"), clock)
    codes = []
    for ft_id in _followed(world)[:20]:
        clock.advance(0.3)
        r = adviser.get(f"/api/v1/persons/{ft_id}")
        codes.append(r.status_code if r.status_code == 200 else r.json()["code"])
    assert codes[:9] == [200] * 9
    assert set(codes[9:]) == {"step_up_required"}
