"""Shared fixtures: databases (SQLite always, PostgreSQL when configured), apps, contexts."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from rempart.bootstrap import Container, build_container
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.settings import Settings
from rempart.web.app import create_app
from rempart.web.deps import current_context
from tests.factories import NOW, World, standard_world

POSTGRES_URL = os.environ.get("REMPART_TEST_POSTGRES_URL", "")
REQUIRE_SERVICES = os.environ.get("REMPART_REQUIRE_SERVICES") == "1"


def postgres_or_skip() -> str:
    """The PostgreSQL URL for tests; in CI a missing server fails instead of skipping."""
    if not POSTGRES_URL:
        if REQUIRE_SERVICES:
            pytest.fail("REMPART_TEST_POSTGRES_URL must be set in CI")
        pytest.skip("PostgreSQL tests need REMPART_TEST_POSTGRES_URL")
    return POSTGRES_URL


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for one test, dropped afterwards."""
    base = postgres_or_skip()
    name = f"rempart_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty portal database: SQLite file, and PostgreSQL when configured."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db')}/rempart.db"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    from rempart.db.migrate import upgrade

    upgrade(url)
    return url


@pytest.fixture
def clock() -> ManualClock:
    """A clock standing still at the test's reference time."""
    return ManualClock(NOW)


@pytest.fixture
def journal() -> MemoryJournal:
    """An in-memory journal whose entries tests can read."""
    return MemoryJournal()


@pytest.fixture
def container(db_url: str, clock: ManualClock, journal: MemoryJournal) -> Iterator[Container]:
    """A container on the test database."""
    box = build_container(Settings(demo=True, db_url=db_url), clock=clock, journal=journal)
    yield box
    box.close()


@pytest.fixture
def world(container: Container) -> World:
    """The standard small world stored in the test database."""
    return standard_world(container.engine)


def context_for(
    container: Container, login: str, clock: ManualClock, *, fresh: bool = False
) -> RequestContext:
    """A request context for a stored agent, as if they had signed in (``fresh``: and had just
    proven their second factor again)."""
    agent = container.portal.store.agent_by_login(login)
    assert agent is not None
    org = container.portal.store.organisation(agent.org_id)
    assert org is not None
    return RequestContext(
        agent=agent,
        org=org,
        session_id=f"test-session-{login}",
        client=ClientInfo(address="192.0.2.10", user_agent="pytest", network="AS-TEST"),
        now=clock.now(),
        fresh_until=clock.now() + dt.timedelta(minutes=5) if fresh else None,
    )


@pytest.fixture
def as_agent(container: Container, world: World, clock: ManualClock) -> Callable[..., TestClient]:
    """A test client acting as the named agent (session layer bypassed)."""

    def make(login: str, *, fresh: bool = False) -> TestClient:
        app = create_app(container.settings, container=container)
        app.dependency_overrides[current_context] = lambda: context_for(
            container, login, clock, fresh=fresh
        )
        return TestClient(app, raise_server_exceptions=False)

    return make
