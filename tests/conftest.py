"""Shared fixtures: databases (SQLite always, PostgreSQL when it answers), apps, contexts.

The PostgreSQL and Redis tests run whenever those servers answer at their usual local
addresses (probed once, quickly, when this file loads); ``REMPART_TEST_POSTGRES_URL`` and
``REMPART_TEST_REDIS_URL`` point them elsewhere (empty: never). With ``CI=true`` or
``REMPART_REQUIRE_SERVICES=1`` a missing server fails the run instead. The end of every run
says in one line what was skipped and why.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
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

LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
REQUIRE_SERVICES = (
    os.environ.get("REMPART_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true"
)
PROBE_SECONDS = 0.5


def _reachable(url: str, default_port: int) -> str | None:
    """None when something listens at the URL's address, else why not."""
    parts = urlsplit(url)
    where = f"{parts.hostname}:{parts.port or default_port}"
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), timeout=PROBE_SECONDS
        ):
            return None
    except OSError:
        return f"no server at {where}"


def _postgres_problem(url: str) -> str | None:
    """None when the URL's PostgreSQL answers a query, else why not."""
    problem = _reachable(url, 5432)
    if problem is not None:
        return problem
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("SELECT 1").fetchone()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"{urlsplit(url).netloc}{urlsplit(url).path} refused: {first}"
    return None


def _redis_problem(url: str) -> str | None:
    """None when the URL's Redis answers PING, else why not."""
    problem = _reachable(url, 6379)
    if problem is not None:
        return problem
    client = redis.Redis.from_url(
        url, socket_connect_timeout=PROBE_SECONDS, socket_timeout=PROBE_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"{urlsplit(url).netloc} did not answer PING: {exc}"
    finally:
        client.close()
    return None


def _resolve(variable: str, local_url: str, probe: Callable[[str], str | None]) -> str | None:
    """Set ``variable`` to the local server's URL when it answers and nothing else is set.

    Returns why the service's tests cannot run, or None. Test modules and the subprocesses
    they start read the variable, so it is set here, before any of them is imported.
    """
    if variable in os.environ:
        if os.environ[variable]:
            return None  # an explicit server: its tests run (and fail if it is down)
        return f"{variable} is empty"
    problem = probe(local_url)
    if problem is None:
        os.environ[variable] = local_url
    return problem


POSTGRES_PROBLEM = _resolve("REMPART_TEST_POSTGRES_URL", LOCAL_POSTGRES_URL, _postgres_problem)
REDIS_PROBLEM = _resolve("REMPART_TEST_REDIS_URL", LOCAL_REDIS_URL, _redis_problem)
POSTGRES_URL = os.environ.get("REMPART_TEST_POSTGRES_URL", "")


def postgres_or_skip() -> str:
    """The PostgreSQL URL for tests; in CI a missing server fails instead of skipping."""
    if not POSTGRES_URL:
        message = f"PostgreSQL tests: {POSTGRES_PROBLEM}"
        if REQUIRE_SERVICES:
            pytest.fail(f"{message} (required in CI)")
        pytest.skip(message)
    return POSTGRES_URL


def _skip_reason(report: pytest.TestReport) -> tuple[str, str]:
    """Which missing service made a test skip (or "" for another reason), and the message."""
    message = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
    message = message.removeprefix("Skipped: ")
    if "postgres" in report.keywords or "PostgreSQL" in message:
        return "PostgreSQL", POSTGRES_PROBLEM or message
    if "Redis" in message:
        return "Redis", REDIS_PROBLEM or message
    if "browser" in report.keywords or "chromium" in message.lower():
        return "browser", message
    return "", message or "no reason given"


def skipped_summary(reports: list[pytest.TestReport]) -> str:
    """One line: how many tests each missing service skipped, and why."""
    counts: Counter[tuple[str, str]] = Counter()
    for report in {r.nodeid: r for r in reports}.values():
        counts[_skip_reason(report)] += 1
    if not counts:
        return "skipped: none"
    parts = []
    for (service, why), n in counts.most_common():
        tests = f"{n} {service} test" if service else f"{n} test"
        parts.append(f"{tests}{'s' * (n != 1)} ({why})")
    return "skipped: " + ", ".join(parts)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Generator[None]:
    """After pytest's own summary: the one line of what was skipped."""
    try:
        return (yield)
    finally:
        skipped = [r for r in terminalreporter.stats.get("skipped", []) if r.skipped]
        terminalreporter.write_line(skipped_summary(skipped), yellow=bool(skipped), bold=True)


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
