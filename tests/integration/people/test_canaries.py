"""Canaries in the real register: ``rempart canary plant --count N`` and ``rotate``.

No legitimate flow shows them (portfolio, lookup, a person's own codes); reading one raises the
guard's canary alert at once; the journal of a run holds counts, never which records are bait.
ASVS V16.3.2 (security events journaled), V2.4.1 (anti-automation: detection of bulk access).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from rempart.bootstrap import Container
from rempart.citizen import service as citizen
from rempart.cli.main import app as cli
from rempart.db.engine import make_engine
from rempart.db.migrate import write_meta
from rempart.db.schema.core import PersonRow
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.kernel.context import ClientInfo
from rempart.kernel.identifiers import is_ft_id, is_valid_nir
from rempart.kernel.tags import Decision, Tag
from rempart.people.service import canaries
from tests.factories import World
from tests.support.governance import alert_rules, client_as


def canary_rows(box: Container) -> list[Any]:
    with box.engine.connect() as conn:
        return list(conn.execute(select(PersonRow.__table__).where(PersonRow.is_canary)))


def test_planted_canaries_look_real_are_never_listed_and_trip_the_guard(
    container: Container, world: World, clock: ManualClock, journal: MemoryJournal
) -> None:
    total = canaries.plant(container.canaries, 5, by="os:test")
    assert total == 5
    rows = canary_rows(container)
    assert len(rows) == 5
    assert all(is_ft_id(r.ft_id) and is_valid_nir(r.nir) and r.email for r in rows)
    planted = [e for e in journal.entries if e.tag is Tag.PEOPLE_CANARY_PLANTED]
    assert planted[-1].details["count"] == 5
    assert all(r.ft_id not in repr(e) for r in rows for e in journal.entries)

    # No legitimate flow shows them: portfolios, the exact lookup.
    for login in ("tm.dupont", "ml.adv1", "cap.adv", "ag.adv"):
        agent = container.portal.store.agent_by_login(login)
        assert agent is not None
        listed = container.portal.store.portfolio(
            agent, clock.now().date(), clock.now().date(), 0, 1000
        )
        assert not {r[0] for r in listed} & {r.ft_id for r in rows}
    canary = rows[0]
    lookup = client_as(container, "tm.dupont", clock).get(
        f"/api/v1/persons?ft_id={canary.ft_id}&birth_date={canary.birth_date.isoformat()}"
    )
    # Even the exact lookup with both values finds nobody (the answer of a miss), and the
    # guard raises its alert.
    assert lookup.status_code == 200
    assert lookup.json()["items"] == []
    assert any("canary" in rule for rule in alert_rules(container))

    # Reading one is the answer anyone gets for a stranger, and an alert at once.
    r = client_as(container, "ag.adv", clock).get(f"/api/v1/persons/{canary.ft_id}")
    assert r.status_code == 404
    assert any("canary" in rule for rule in alert_rules(container))

    # A canary never receives a "who consulted my file" code: the details "do not match".
    client = ClientInfo(address="203.0.113.9", user_agent="pytest", network="AS-TEST")
    citizen.request_code(container.citizen, canary.ft_id, canary.birth_date, client)
    sent = [e for e in journal.entries if e.tag is Tag.CITIZEN_CHALLENGE_SENT]
    assert sent[-1].decision is Decision.NOT_FOUND


def test_rotation_gives_every_canary_a_new_identity(
    container: Container, world: World, journal: MemoryJournal
) -> None:
    canaries.plant(container.canaries, 4, by="os:test")
    before = {r.id: r.ft_id for r in canary_rows(container)}
    assert canaries.rotate(container.canaries, by="os:test") == 4
    after = {r.id: r.ft_id for r in canary_rows(container)}
    assert set(after) == set(before)
    assert all(after[i] != before[i] for i in before)
    assert all(container.portal.store.person_by_ft_id(f) is None for f in before.values())
    assert [e.details["count"] for e in journal.entries if e.tag is Tag.PEOPLE_CANARY_ROTATED] == [
        4
    ]


def test_the_command_plants_and_rotates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/rempart.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade", "--db", url]).exit_code == 0
    engine = make_engine(url)
    write_meta(engine, "demo", "true")
    assert runner.invoke(cli, ["canary", "plant", "--count", "3", "--db", url]).exit_code == 0
    assert runner.invoke(cli, ["canary", "rotate", "--db", url]).exit_code == 0
    assert runner.invoke(cli, ["canary", "plant", "--count", "0", "--db", url]).exit_code == 2
    with engine.connect() as conn:
        assert len(conn.execute(select(PersonRow.id).where(PersonRow.is_canary)).all()) == 3
    engine.dispose()
