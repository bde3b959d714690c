"""The ASVS chapter tests: one file per chapter, each test naming the requirement it shows.

They fill what the capability tests leave unnamed: headers, encodings, configuration, the
architecture rules behind a requirement. SQLite only: nothing here depends on the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rempart.bootstrap import Container, build_container
from rempart.db.migrate import upgrade
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.web.app import create_app
from rempart.web.deps import current_context
from tests.conftest import context_for
from tests.factories import World, standard_world
from tests.support.signin import auth_settings, client_for

AgentClient = Callable[..., TestClient]


@pytest.fixture
def box(tmp_path: Path, clock: ManualClock, journal: MemoryJournal) -> Iterator[Container]:
    db_url = f"sqlite:///{tmp_path}/rempart.db"
    upgrade(db_url)
    c = build_container(auth_settings(db_url), clock=clock, journal=journal)  # type: ignore[arg-type]
    yield c
    c.close()


@pytest.fixture
def world(box: Container) -> World:
    return standard_world(box.engine)


@pytest.fixture
def app(box: Container, world: World) -> FastAPI:
    return create_app(box.settings, container=box)


@pytest.fixture
def anon(app: FastAPI) -> TestClient:
    """A browser with no session, over HTTPS."""
    return client_for(app)


@pytest.fixture
def agent(box: Container, world: World, clock: ManualClock) -> AgentClient:
    """A client acting as a stored agent (the session layer bypassed, as in ``as_agent``)."""

    def make(login: str, *, fresh: bool = False) -> TestClient:
        app = create_app(box.settings, container=box)
        app.dependency_overrides[current_context] = lambda: context_for(
            box, login, clock, fresh=fresh
        )
        return client_for(app)

    return make
