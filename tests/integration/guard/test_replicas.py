"""Several replicas, one budget: a scraper alternating between two servers on one PostgreSQL and
one Redis meets the same limit; with Redis gone, data requests fail closed.

ASVS 5.0: V2.4.1 (anti-automation limits that hold across the deployment), V16.5.3 (fail
securely: an unavailable control refuses rather than allows).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import create_engine

from rempart.bootstrap import build_container
from rempart.db.migrate import upgrade
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.actors import OrgKind, Role
from rempart.settings import Settings
from rempart_bench.perf import Server, start_server
from rempart_bench.population import demo_password_hasher
from tests.conftest import postgres_or_skip
from tests.factories import TODAY, World
from tests.support.redis import redis_or_skip

PASSWORD = "Correct-Horse-Battery-9"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
POLICY = """
[budgets]
agent_hour_floor = 5
agent_hour_ceiling = 5
agent_day_floor = 5
agent_day_ceiling = 5
off_hours_factor = 1.0
scope_budget_ceiling = 0
"""


@pytest.fixture
def journal_postgres_url() -> Iterator[str]:
    """A second fresh PostgreSQL database, for the journal (kept apart from the portal)."""
    base = postgres_or_skip()
    name = f"rempart_j_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield base.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _world(url: str) -> list[str]:
    upgrade(url)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    w = World(engine)
    w.org("Mission Locale Est", OrgKind.MISSION_LOCALE)
    w.agent(
        "ml.scraped",
        "Mission Locale Est",
        Role.ADVISOR,
        password_hash=demo_password_hasher().hash(PASSWORD),
        totp_secret=SECRET,
        last_used_at=dt.datetime.now(dt.UTC),
    )
    ft_ids = []
    for i in range(10):
        p = w.person(f"youth{i}", 5000 + i * 37)
        w.assign(f"youth{i}", "ml.scraped", "Mission Locale Est", TODAY - dt.timedelta(days=30))
        ft_ids.append(p.ft_id)
    engine.dispose()
    return ft_ids


def _sign_in(url: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=20, headers={"user-agent": "scraper"})
    challenge = c.post("/api/v1/auth/login", json={"login": "ml.scraped", "password": PASSWORD})
    assert challenge.status_code == 200, challenge.text
    totp = pyotp.TOTP(SECRET)
    r = c.post(
        "/api/v1/auth/mfa/totp",
        json={"challenge": challenge.json()["challenge"], "code": totp.now()},
    )
    assert r.status_code == 200, r.text
    c.headers["x-csrf-token"] = r.json()["csrf_token"]
    # Whatever the hour of the test run, prove the factor again (off hours asks for it).
    step = int(dt.datetime.now(dt.UTC).timestamp()) // 30 + 1
    assert c.post("/api/v1/auth/step-up/totp", json={"code": totp.at(step * 30)}).status_code == 200
    return c


@pytest.mark.postgres
@pytest.mark.slow
def test_a_scraper_alternating_between_replicas_meets_one_budget(
    fresh_postgres_url: str, journal_postgres_url: str, tmp_path: Path
) -> None:
    redis_url = redis_or_skip()
    ft_ids = _world(fresh_postgres_url)
    policy = tmp_path / "guard.toml"
    policy.write_text(POLICY)
    env = {
        "REMPART_DEMO": "true",
        "REMPART_REDIS_URL": redis_url,
        "REMPART_REDIS_PREFIX": f"rempart:test:{uuid.uuid4().hex}:",
        "REMPART_POLICY_FILE": str(policy),
        "REMPART_JOBS_INTERVAL_SECONDS": "0",
        "REMPART_ARGON2_TIME_COST": "1",
        "REMPART_ARGON2_MEMORY_KIB": "1024",
        "REMPART_ARGON2_PARALLELISM": "1",
    }
    servers: list[Server] = []
    try:
        for n in range(2):
            servers.append(
                start_server(fresh_postgres_url, journal_postgres_url, env, tmp_path / f"s{n}.log")
            )
        client = _sign_in(servers[0].url)
        codes = []
        for i, ft_id in enumerate(ft_ids):
            server = servers[i % 2]  # the session is shared: same cookie on either replica
            r = client.get(f"{server.url}/api/v1/persons/{ft_id}")
            codes.append(r.status_code if r.status_code == 200 else r.json()["code"])
        client.close()
    finally:
        for s in servers:
            s.stop()
    assert codes[:5] == [200] * 5
    assert codes[5:] == ["budget_exhausted"] * 5, codes


def test_guard_fails_closed_when_redis_is_unreachable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/r.db"
    upgrade(url)
    from fastapi.testclient import TestClient

    from rempart.web.app import create_app
    from rempart.web.deps import current_context
    from tests.conftest import context_for
    from tests.factories import standard_world

    box = build_container(
        Settings(demo=True, db_url=url, redis_url="redis://127.0.0.1:1/0", jobs_interval_seconds=0),
        journal=MemoryJournal(),
    )
    world = standard_world(box.engine)
    from rempart.kernel.clock import ManualClock
    from tests.factories import NOW

    clock = ManualClock(NOW)
    app = create_app(box.settings, container=box)
    app.dependency_overrides[current_context] = lambda: context_for(box, "ml.adv1", clock)
    r = TestClient(app).get(f"/api/v1/persons/{world.persons['youth'].ft_id}")
    assert r.status_code == 503
    assert r.json()["code"] == "guard_unavailable"
    assert world.persons["youth"].last_name not in r.text
    box.close()
