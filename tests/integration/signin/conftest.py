"""One backend per run of a contract test: the memory twin, SQLite, and PostgreSQL when set.

Every contract test takes ``backend`` and asserts only through the ports, so the twin and the
SQL adapters answer the very same questions the very same way.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, create_engine, text, update

from rempart.db.engine import make_engine
from rempart.db.migrate import upgrade
from rempart.db.schema.core import AgentRow, Base
from rempart.kernel.actors import Agent, Organisation, OrgKind, Role
from rempart.people.adapters.sql import SqlPortalStore
from rempart.signin.adapters.memory import (
    MemoryChallengeStore,
    MemoryCredentialStore,
    MemoryDirectory,
    MemorySessionStore,
)
from rempart.signin.adapters.sql import SqlChallengeStore, SqlCredentialStore, SqlSessionStore
from tests.conftest import postgres_or_skip
from tests.factories import NOW, World

ORG_A = "Formations Dupont"
ORG_B = "Mission Locale Nord"


@dataclass
class Backend:
    """The stores of one backend, and the ids of the few agents stored in it."""

    name: str
    credentials: SqlCredentialStore | MemoryCredentialStore
    challenges: SqlChallengeStore | MemoryChallengeStore
    sessions: SqlSessionStore | MemorySessionStore
    directory: SqlPortalStore | MemoryDirectory
    agents: dict[str, int]  # login -> id
    orgs: dict[str, str]  # name -> id
    enrol: Callable[..., None]  # (agent_id, *, password_hash, totp_secret, locked) as the seed does


def _memory() -> Backend:
    orgs = {ORG_A: "FOR-0001", ORG_B: "MIS-0002"}
    kinds = {ORG_A: OrgKind.TRAINING_BODY, ORG_B: OrgKind.MISSION_LOCALE}
    directory = MemoryDirectory(
        organisations=[Organisation(orgs[n], kinds[n], n, "00000000000000") for n in orgs]
    )
    agents: dict[str, int] = {}
    for n, (login, org, role) in enumerate(_AGENTS, start=1):
        directory.put_agent(
            Agent(
                id=n,
                login=login,
                email=f"{login}@example.fr",
                org_id=orgs[org],
                org_kind=kinds[org],
                roles=frozenset({role}),
                created_at=NOW - dt.timedelta(days=400),
            )
        )
        agents[login] = n
    credentials = MemoryCredentialStore(directory)
    return Backend(
        "memory",
        credentials,
        MemoryChallengeStore(),
        MemorySessionStore(credentials),
        directory,
        agents,
        orgs,
        credentials.enrol,
    )


_AGENTS = [
    ("tm.dupont", ORG_A, Role.TRAINING_MANAGER),
    ("am.dupont", ORG_A, Role.ACCOUNT_MANAGER),
    ("ml.adv1", ORG_B, Role.ADVISOR),
]


@pytest.fixture(scope="module")
def postgres_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """One migrated PostgreSQL database per module (creating one per test costs seconds)."""
    postgres_or_skip()
    url = request.getfixturevalue("fresh_postgres_url_module")
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def fresh_postgres_url_module() -> Iterator[str]:
    """A brand-new PostgreSQL database for one module, dropped afterwards."""
    base = postgres_or_skip()
    name = f"rempart_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "rempart_meta":
                conn.execute(table.delete())


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    """The memory twin, or the SQL adapters on a migrated database with the same agents."""
    if request.param == "memory":
        yield _memory()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db')}/rempart.db"
        upgrade(url)
        engine = make_engine(url)
    else:
        engine = request.getfixturevalue("postgres_engine")
        _empty(engine)
    world = World(engine)
    world.org(ORG_A, OrgKind.TRAINING_BODY)
    world.org(ORG_B, OrgKind.MISSION_LOCALE)
    for login, org, role in _AGENTS:
        world.agent(login, org, role)

    def enrol(
        agent_id: int, *, password_hash: str = "", totp_secret: str = "", locked: bool = False
    ) -> None:
        with engine.begin() as conn:
            conn.execute(
                update(AgentRow)
                .where(AgentRow.id == agent_id)
                .values(password_hash=password_hash, totp_secret=totp_secret, locked=locked)
            )

    yield Backend(
        request.param,
        SqlCredentialStore(engine),
        SqlChallengeStore(engine),
        SqlSessionStore(engine),
        SqlPortalStore(engine),
        dict(world.agents),
        dict(world.orgs),
        enrol,
    )
    if request.param == "sqlite":
        engine.dispose()
