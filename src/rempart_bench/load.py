"""Bulk-load a synthetic population into the portal database (SQLite or PostgreSQL).

Speed comes from SQLAlchemy Core ``insert()`` executed with many rows at once, in a few
large transactions, people generated and written one chunk at a time (memory stays flat
whatever the population). On SQLite the loading connection alone runs with
``synchronous=OFF`` and a large page cache: a crash mid-seed loses a demo database that is
rebuilt anyway, and the settings vanish with the connection.

Only a database that is empty, or marked as a demo database, is ever written to.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

from sqlalchemy import Connection, Engine, MetaData, insert, inspect, select, text

from rempart.db.engine import make_engine
from rempart.db.migrate import is_initialised, read_meta, upgrade, write_meta
from rempart.db.schema.core import (
    AgentRow,
    AssignmentRow,
    AttendanceRow,
    EnrolmentRow,
    FollowUpNoteRow,
    OrganisationRow,
    PersonRow,
    TrainingRow,
    TrainingSessionRow,
)
from rempart_bench.population import Credential, Population, Row, hash_credentials

BATCH = 20_000  # rows per executemany
PERSONS_PER_TRANSACTION = 200_000  # commit now and then so the WAL can be checkpointed
SQLITE_CACHE_KIB = 256 * 1024  # page cache of the loading connection

# Tables whose ids the seed writes explicitly (PostgreSQL sequences must follow them).
EXPLICIT_ID_TABLES = ("persons", "agents", "trainings", "training_sessions", "enrolments")


class SeedRefused(Exception):
    """The target database is not one a synthetic population may be written to."""


class Progress(Protocol):
    """Where the loader reports what it is doing (a progress bar, or nothing)."""

    def stage(self, name: str, total: int) -> None:
        """A new stage of ``total`` steps begins."""

    def advance(self, name: str, steps: int) -> None:
        """``steps`` more steps of stage ``name`` are done."""


class NoProgress:
    """Reports nothing."""

    def stage(self, name: str, total: int) -> None:
        """Ignore the stage."""

    def advance(self, name: str, steps: int) -> None:
        """Ignore the steps."""


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What was written, and how long it took."""

    organisations: int
    agents: int
    persons: int
    canaries: int
    trainings: int
    sessions: int
    enrolments: int
    assignments: int
    notes: int
    attendance: int
    seconds: float


def _has_rows(engine: Engine, table: type[PersonRow] | type[AgentRow]) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(table.id).limit(1)).first() is not None


def _drop_everything(engine: Engine) -> None:
    meta = MetaData()
    meta.reflect(bind=engine)
    meta.drop_all(bind=engine)


def prepare_demo_database(url: str, *, replace: bool = False) -> None:
    """Create (migrate and mark as demo) the database at ``url``, or refuse to touch it.

    An empty database is migrated and marked as a demo database. A database with tables
    but no demo mark is refused: it may hold real people. A demo database that already holds
    a population is refused unless ``replace``, which drops every table first.
    """
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
        if tables:
            if not is_initialised(engine):
                raise SeedRefused(
                    "the database holds tables but is not a Rempart database; "
                    "a synthetic population is only written to an empty or demo database"
                )
            if read_meta(engine, "demo") != "true":
                raise SeedRefused(
                    "the database is not marked as a demo database and may hold real "
                    "people; refusing to write a synthetic population into it"
                )
            if _has_rows(engine, PersonRow) or _has_rows(engine, AgentRow):
                if not replace:
                    raise SeedRefused(
                        "this demo database already holds a population; "
                        "pass --replace to drop it and seed again"
                    )
                _drop_everything(engine)
        upgrade(url)
        write_meta(engine, "demo", "true")
    finally:
        engine.dispose()


def _batches(rows: Iterable[Row], size: int = BATCH) -> Iterator[list[Row]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def _insert(conn: Connection, table: type[object], rows: list[Row]) -> int:
    for start in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[start : start + BATCH])
    return len(rows)


def _tune_sqlite(conn: Connection) -> None:
    # This connection only, for the seed only (the engine is disposed afterwards).
    conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    conn.exec_driver_sql("PRAGMA synchronous=OFF")
    conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    conn.exec_driver_sql("PRAGMA temp_store=MEMORY")


def _follow_sequences(conn: Connection) -> None:
    # Explicit ids do not advance PostgreSQL sequences; later inserts would collide.
    for name in EXPLICIT_ID_TABLES:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608 - fixed names
                f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
            )
        )


def load_population(
    engine: Engine,
    population: Population,
    credentials: list[Credential],
    password_hashes: list[str],
    progress: Progress,
) -> SeedReport:
    """Write every row of ``population`` through ``engine`` (tables must exist and be empty)."""
    started = time.perf_counter()
    counts = dict.fromkeys(("enrolments", "assignments", "notes", "attendance"), 0)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            conn.commit()  # PRAGMA journal_mode cannot run inside a transaction
            _tune_sqlite(conn)
        progress.stage("organisations", len(population.orgs) + len(population.agents))
        _insert(conn, OrganisationRow, population.organisation_rows())
        progress.advance("organisations", len(population.orgs))
        agent_rows = [
            agent.row(password_hash=h, totp_secret=c.totp_secret)
            for agent, c, h in zip(population.agents, credentials, password_hashes, strict=True)
        ]
        _insert(conn, AgentRow, agent_rows)
        progress.advance("organisations", len(agent_rows))

        progress.stage("trainings", len(population.trainings) + population.session_count)
        _insert(conn, TrainingRow, population.training_rows())
        progress.advance("trainings", len(population.trainings))
        for batch in _batches(population.session_rows()):
            _insert(conn, TrainingSessionRow, batch)
            progress.advance("trainings", len(batch))
        conn.commit()

        progress.stage("persons", population.size)
        since_commit = 0
        for chunk in population.chunks():
            _insert(conn, PersonRow, chunk.persons)
            counts["enrolments"] += _insert(conn, EnrolmentRow, chunk.enrolments)
            counts["assignments"] += _insert(conn, AssignmentRow, chunk.assignments)
            counts["notes"] += _insert(conn, FollowUpNoteRow, chunk.notes)
            counts["attendance"] += _insert(conn, AttendanceRow, chunk.attendance)
            since_commit += len(chunk.persons)
            if since_commit >= PERSONS_PER_TRANSACTION:
                conn.commit()
                since_commit = 0
            progress.advance("persons", len(chunk.persons))
        if not sqlite:
            _follow_sequences(conn)
        conn.commit()

        progress.stage("statistics", 1)
        conn.exec_driver_sql("ANALYZE")  # the planner needs fresh statistics on big tables
        conn.commit()
        progress.advance("statistics", 1)
    return SeedReport(
        organisations=len(population.orgs),
        agents=len(population.agents),
        persons=population.size,
        canaries=population.totals.canaries,
        trainings=len(population.trainings),
        sessions=population.session_count,
        enrolments=counts["enrolments"],
        assignments=counts["assignments"],
        notes=counts["notes"],
        attendance=counts["attendance"],
        seconds=time.perf_counter() - started,
    )


def seed(
    url: str,
    persons: int,
    seed: int,
    today: dt.date,
    *,
    replace: bool = False,
    history_days: int = 0,
    progress: Progress | None = None,
) -> tuple[SeedReport, list[Credential]]:
    """Build a synthetic population and write it to the demo database at ``url``.

    Refuses (``SeedRefused``) a database that is neither empty nor marked as demo.
    """
    progress = progress or NoProgress()
    prepare_demo_database(url, replace=replace)
    population = Population(persons, seed, today)
    credentials = population.credentials()
    progress.stage("credentials", len(credentials))
    hashes: list[str] = []
    for batch in _batches_of(credentials, 1024):
        hashes += hash_credentials(batch)
        progress.advance("credentials", len(batch))
    engine = make_engine(url)
    try:
        report = load_population(engine, population, credentials, hashes, progress)
        for key, value in (
            ("seed", str(seed)),
            ("seed_persons", str(persons)),
            ("seed_as_of", today.isoformat()),
            ("history_days", str(history_days)),
        ):
            write_meta(engine, key, value)
    finally:
        engine.dispose()
    return report, credentials


def _batches_of(items: list[Credential], size: int) -> Iterator[list[Credential]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
