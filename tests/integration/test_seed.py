"""``rempart seed`` against real databases: what it writes, what it refuses, and that it repeats."""

from __future__ import annotations

import datetime as dt
import json
import re
import stat
from pathlib import Path
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import MetaData, create_engine, func, insert, select, text
from typer.testing import CliRunner, Result

from rempart.cli.main import app
from rempart.db.engine import make_engine
from rempart.db.migrate import read_meta, upgrade
from rempart.db.schema.core import AgentRow, PersonRow
from rempart.people.adapters.sql import SqlPortalStore
from rempart.people.model import PersonKind, Relations
from rempart.people.scope import ScopeRules, relation_of

AS_OF = "2026-11-16"
TODAY = dt.date.fromisoformat(AS_OF)
PERSONS = 3000
CREDENTIAL_KEYS = {"login", "password", "totp_secret", "org_id", "org_kind", "roles"}


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def seed(url: str, out: Path, *extra: str, seed_value: int = 5) -> Result:
    return run(
        "seed",
        "--db",
        url,
        "--persons",
        str(PERSONS),
        "--seed",
        str(seed_value),
        "--credentials-out",
        str(out),
        "--as-of",
        AS_OF,
        *extra,
    )


def sqlite_url(tmp_path: Path, name: str = "rempart.db") -> str:
    return f"sqlite:///{tmp_path / name}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database that does not exist yet (SQLite) or has no tables (PostgreSQL)."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return str(request.getfixturevalue("fresh_postgres_url"))


def scalar(url: str, sql: str) -> Any:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(bind=engine)
        out = {}
        with engine.connect() as conn:
            for name, table in sorted(meta.tables.items()):
                rows = conn.execute(select(table)).all()
                out[name] = sorted((tuple(r) for r in rows), key=repr)
        return out
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One seeded SQLite database for the tests that only read it."""
    tmp = tmp_path_factory.mktemp("seeded")
    url, out = sqlite_url(tmp), tmp / "credentials.json"
    result = seed(url, out)
    assert result.exit_code == 0, result.output
    return url, out


def test_seed_builds_a_demo_database_and_the_credentials_file(
    empty_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "secret" / "credentials.json"
    result = seed(empty_url, out)
    assert result.exit_code == 0, result.output
    assert "seeded 3,000 people" in result.output

    engine = make_engine(empty_url)
    try:
        assert read_meta(engine, "demo") == "true"
        assert read_meta(engine, "seed") == "5"
        assert read_meta(engine, "seed_as_of") == AS_OF
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(PersonRow)).scalar_one() == PERSONS
            agents = {
                r.login: r
                for r in conn.execute(
                    select(
                        AgentRow.login,
                        AgentRow.password_hash,
                        AgentRow.totp_secret,
                        AgentRow.org_id,
                        AgentRow.roles,
                        AgentRow.active,
                        AgentRow.training_valid_until,
                    )
                )
            }
    finally:
        engine.dispose()

    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    creds = json.loads(out.read_text(encoding="utf-8"))["agents"]
    assert len(creds) == len(agents)
    hasher = PasswordHasher()
    for c in creds:
        assert set(c) >= CREDENTIAL_KEYS
        row = agents[c["login"]]
        assert row.active
        assert row.totp_secret == c["totp_secret"]
        assert row.org_id == c["org_id"]
        assert row.roles.split() == sorted(c["roles"])
        assert row.training_valid_until.isoformat() == c["training_valid_until"]
        assert hasher.verify(row.password_hash, c["password"])
        assert pyotp.TOTP(c["totp_secret"]).verify(pyotp.TOTP(c["totp_secret"]).now())
    assert {c["org_kind"] for c in creds} == {
        "agency",
        "training_body",
        "mission_locale",
        "cap_emploi",
    }


def test_later_inserts_get_fresh_ids(empty_url: str, tmp_path: Path) -> None:
    # Explicit ids must not leave PostgreSQL sequences behind.
    assert seed(empty_url, tmp_path / "c.json").exit_code == 0
    engine = make_engine(empty_url)
    try:
        with engine.begin() as conn:
            org_id = conn.execute(text("SELECT id FROM organisations LIMIT 1")).scalar_one()
            new = conn.execute(
                insert(AgentRow)
                .values(
                    login="new.colleague",
                    email="new.colleague@example.org",
                    org_id=org_id,
                    roles="advisor",
                    created_at=dt.datetime.now(dt.UTC),
                )
                .returning(AgentRow.id)
            ).scalar_one()
            highest = conn.execute(select(func.max(AgentRow.id))).scalar_one()
            if conn.dialect.name == "postgresql":
                for table in ("persons", "trainings", "training_sessions", "enrolments"):
                    top = conn.execute(text(f"SELECT max(id) FROM {table}")).scalar_one()
                    following = conn.execute(
                        text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))")
                    ).scalar_one()
                    assert following > top, table
    finally:
        engine.dispose()
    assert new == highest


def test_same_seed_same_database(tmp_path: Path) -> None:
    a, b = sqlite_url(tmp_path, "a.db"), sqlite_url(tmp_path, "b.db")
    assert seed(a, tmp_path / "a.json").exit_code == 0
    assert seed(b, tmp_path / "b.json").exit_code == 0
    first, second = dump(a), dump(b)
    assert first["persons"]
    assert first == second
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_another_seed_another_database(tmp_path: Path) -> None:
    a, b = sqlite_url(tmp_path, "a.db"), sqlite_url(tmp_path, "b.db")
    assert seed(a, tmp_path / "a.json").exit_code == 0
    assert seed(b, tmp_path / "b.json", seed_value=6).exit_code == 0
    assert dump(a)["persons"] != dump(b)["persons"]


def test_refuses_a_database_not_marked_as_demo(empty_url: str, tmp_path: Path) -> None:
    upgrade(empty_url)  # a real portal database: migrated, never marked as demo
    result = seed(empty_url, tmp_path / "c.json")
    assert result.exit_code != 0
    assert "not marked as a demo database" in " ".join(result.output.split())
    assert scalar(empty_url, "SELECT count(*) FROM persons") == 0
    assert scalar(empty_url, "SELECT count(*) FROM agents") == 0
    assert not (tmp_path / "c.json").exists()


def test_refuses_a_database_of_something_else(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    result = seed(url, tmp_path / "c.json")
    assert result.exit_code != 0
    assert "not a Rempart database" in " ".join(result.output.split())


def test_refuses_in_production_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMPART_DEMO", "false")
    result = seed(sqlite_url(tmp_path), tmp_path / "c.json")
    assert result.exit_code != 0
    assert "production mode" in result.output
    assert not (tmp_path / "rempart.db").exists()


def test_a_populated_demo_database_is_replaced_only_on_request(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    assert seed(url, tmp_path / "c.json").exit_code == 0
    before = dump(url)["persons"]
    again = seed(url, tmp_path / "c.json", seed_value=9)
    assert again.exit_code != 0
    assert "--replace" in again.output
    assert dump(url)["persons"] == before
    replaced = seed(url, tmp_path / "c.json", "--replace", seed_value=9)
    assert replaced.exit_code == 0, replaced.output
    assert dump(url)["persons"] != before
    assert scalar(url, "SELECT count(*) FROM persons") == PERSONS
    assert scalar(url, "SELECT value FROM rempart_meta WHERE key = 'demo'") == "true"


def test_foreign_keys_hold(seeded: tuple[str, Path]) -> None:
    url = seeded[0]
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    finally:
        engine.dispose()


def test_canaries_are_reached_by_no_relation_and_listed_in_no_portfolio(
    seeded: tuple[str, Path],
) -> None:
    url = seeded[0]
    assert scalar(url, "SELECT count(*) FROM persons WHERE is_canary") == 5
    for table in ("enrolments", "assignments", "follow_up_notes", "attendance"):
        reached = scalar(
            url,
            f"SELECT count(*) FROM {table} t JOIN persons p ON p.id = t.person_id "
            "WHERE p.is_canary",
        )
        assert reached == 0, table


def test_every_mission_locale_adviser_follows_50_to_150_youths(seeded: tuple[str, Path]) -> None:
    url = seeded[0]
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT g.id, count(DISTINCT a.person_id), min(p.kind), max(p.kind) "
                    "FROM agents g JOIN organisations o ON o.id = g.org_id "
                    "LEFT JOIN assignments a ON a.agent_id = g.id AND a.end_date IS NULL "
                    "LEFT JOIN persons p ON p.id = a.person_id "
                    "WHERE o.kind = 'mission_locale' AND g.roles = 'advisor' GROUP BY g.id"
                )
            ).all()
            managers = conn.execute(
                text(
                    "SELECT o.id, count(g.id) FROM organisations o LEFT JOIN agents g "
                    "ON g.org_id = o.id AND g.roles LIKE '%account_manager%' GROUP BY o.id"
                )
            ).all()
    finally:
        engine.dispose()
    assert rows
    for _agent, youths, low, high in rows:
        assert 50 <= youths <= 150
        assert low == high == PersonKind.YOUTH.value
    assert all(count >= 2 for _org, count in managers)


def test_the_portal_sees_the_seeded_relations(seeded: tuple[str, Path]) -> None:
    # Seeded data read back through the portal's own store and scope policy.
    url, out = seeded
    creds = json.loads(out.read_text(encoding="utf-8"))["agents"]
    login = next(
        c["login"] for c in creds if c["org_kind"] == "mission_locale" and "advisor" in c["roles"]
    )
    engine = make_engine(url)
    try:
        store = SqlPortalStore(engine)
        agent = store.agent_by_login(login)
        assert agent is not None
        people = store.portfolio(agent, TODAY, TODAY, 0, 100)
        assert people
        person = store.person_by_ft_id(people[0][0])
        assert person is not None
        relations = store.relations(person.id, agent)
        assert relation_of(agent, relations, TODAY, ScopeRules()) is not None
        canary_ft_id = scalar(url, "SELECT ft_id FROM persons WHERE is_canary LIMIT 1")
        canary = store.person_by_ft_id(canary_ft_id)
        assert canary is not None
        assert store.relations(canary.id, agent) == Relations()
    finally:
        engine.dispose()


def test_history_days_writes_past_activity_into_the_journal(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    journal = f"sqlite:///{tmp_path}/journal.db"
    result = seed(url, tmp_path / "c.json", "--history-days", "30", "--journal", journal)
    assert result.exit_code == 0, result.output
    written = re.search(
        r"history ([\d,]+) journal entries over 30 days", " ".join(result.output.split())
    )
    assert written is not None, result.output
    assert int(written.group(1).replace(",", "")) > 0
    assert scalar(url, "SELECT value FROM rempart_meta WHERE key = 'history_days'") == "30"
    assert scalar(journal, "SELECT count(*) FROM journal_entries") == int(
        written.group(1).replace(",", "")
    )


def test_a_bad_reference_date_is_refused(tmp_path: Path) -> None:
    result = seed(sqlite_url(tmp_path), tmp_path / "c.json", "--as-of", "16/11/2026")
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_demo_logins_shows_one_login_per_kind_and_role(seeded: tuple[str, Path]) -> None:
    out = seeded[1]
    creds = json.loads(out.read_text(encoding="utf-8"))["agents"]
    result = run("demo-logins", "--credentials", str(out))
    assert result.exit_code == 0, result.output
    for kind, role in (
        ("training_body", "training_manager"),
        ("mission_locale", "advisor"),
        ("cap_emploi", "advisor"),
        ("agency", "security_officer"),
        ("agency", "dpo"),
        ("agency", "admin"),
    ):
        shown = [c for c in creds if c["org_kind"] == kind and role in c["roles"]]
        assert any(c["login"] in result.output and c["password"] in result.output for c in shown)
    assert re.search(r"│ \d{6}\s+│", result.output)
