"""Dependencies failing under a running app: the journal stalled, the database refusing
connections. Data requests fail closed with a 503 problem (never the data, never a 500 or a
stack trace), ``Retry-After`` set, and the service comes back by itself when the dependency
does (ASVS 5.0 V16.5.3 fail securely, V16.5.1 generic errors, V16.3.2 no access unlogged,
V13.2.x dependencies reached with bounded waits)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from rempart.bootstrap import Container, build_container
from rempart.db.migrate import upgrade
from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.kernel.clock import ManualClock
from rempart.settings import Settings
from rempart.web.app import create_app
from rempart.web.deps import current_context
from tests.conftest import context_for
from tests.factories import NOW, World, standard_world


def _client(box: Container, clock: ManualClock, login: str = "tm.dupont") -> TestClient:
    app = create_app(box.settings, container=box)
    app.dependency_overrides[current_context] = lambda: context_for(box, login, clock)
    return TestClient(app, raise_server_exceptions=False)


def _assert_closed(r: object, code: str, person_name: str) -> None:
    assert r.status_code == 503, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    assert r.json()["code"] == code  # type: ignore[attr-defined]
    assert int(r.headers["retry-after"]) >= 1  # type: ignore[attr-defined]
    assert person_name not in r.text  # type: ignore[attr-defined]
    assert "Traceback" not in r.text  # type: ignore[attr-defined]


@pytest.fixture
def journaled(tmp_path: Path) -> Iterator[tuple[Container, World, ManualClock, Path]]:
    db = f"sqlite:///{tmp_path}/rempart.db"
    upgrade(db)
    clock = ManualClock(NOW)
    journal_file = tmp_path / "journal.db"
    store = SqlJournalStore(f"sqlite:///{journal_file}", clock=clock, wait_seconds=0.5)
    store.start()
    box = build_container(Settings(demo=True, db_url=db), clock=clock, journal=store)
    world = standard_world(box.engine)
    yield box, world, clock, journal_file
    box.close()
    store.close()


def test_a_read_waits_for_the_journal_then_fails_closed_and_recovers(
    journaled: tuple[Container, World, ManualClock, Path],
) -> None:
    box, world, clock, journal_file = journaled
    trainee = world.persons["trainee"]
    client = _client(box, clock)
    assert client.get(f"/api/v1/persons/{trainee.ft_id}").status_code == 200
    other = sqlite3.connect(journal_file, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the journal's writer cannot commit
    try:
        started = time.monotonic()
        r = client.get(f"/api/v1/persons/{trainee.ft_id}")
        assert time.monotonic() - started < 5
        _assert_closed(r, "journal_unavailable", trainee.last_name)
        listing = client.get("/api/v1/portfolio")
        _assert_closed(listing, "journal_unavailable", trainee.last_name)
    finally:
        other.execute("ROLLBACK")
        other.close()
    deadline = time.monotonic() + 15
    while (r := client.get(f"/api/v1/persons/{trainee.ft_id}")).status_code != 200:
        assert r.status_code == 503
        assert time.monotonic() < deadline, "the journal did not come back"
        time.sleep(0.2)
    assert r.json()["last_name"] == trainee.last_name


@pytest.mark.postgres
def test_a_database_refusing_connections_is_a_503_and_service_resumes(
    fresh_postgres_url: str,
) -> None:
    upgrade(fresh_postgres_url)
    clock = ManualClock(NOW)
    box = build_container(
        Settings(demo=True, db_url=fresh_postgres_url), clock=clock, journal=MemoryJournal()
    )
    try:
        world = standard_world(box.engine)
        trainee = world.persons["trainee"]
        client = _client(box, clock)
        assert client.get(f"/api/v1/persons/{trainee.ft_id}").status_code == 200
        name = fresh_postgres_url.rsplit("/", 1)[1]
        admin = create_engine(
            fresh_postgres_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            + "/postgres",
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            c.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
        try:
            for path in (f"/api/v1/persons/{trainee.ft_id}", "/api/v1/portfolio", "/api/v1/me"):
                _assert_closed(client.get(path), "database_unavailable", trainee.last_name)
        finally:
            with admin.connect() as c:
                c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            admin.dispose()
        r = client.get(f"/api/v1/persons/{trainee.ft_id}")
        assert r.status_code == 200, r.text
        assert r.json()["last_name"] == trainee.last_name
    finally:
        box.close()
