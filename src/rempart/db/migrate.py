"""Run the Alembic migrations of the portal database programmatically."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, delete, insert, inspect, select

from rempart.db.engine import is_memory, make_engine, normalise_url
from rempart.db.schema.core import MetaRow

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database at ``url`` to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def upgrade_connection(engine: Engine, revision: str = "heads") -> None:
    """Migrate through an existing engine (needed for in-memory SQLite, one per engine)."""
    cfg = alembic_config("sqlite://")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def open_portal_database(url: str) -> Engine:
    """The portal database's engine; an in-memory database (tests) is migrated on the way,
    since nobody else can reach it to run ``rempart db upgrade``."""
    engine = make_engine(url)
    if is_memory(url) and not is_initialised(engine):
        upgrade_connection(engine)
    return engine


def is_initialised(engine: Engine) -> bool:
    """True when the portal's tables exist."""
    return inspect(engine).has_table("rempart_meta")


def read_meta(engine: Engine, key: str) -> str | None:
    """One value of ``rempart_meta`` (None when absent or the table is missing)."""
    if not is_initialised(engine):
        return None
    with engine.connect() as conn:
        return conn.execute(select(MetaRow.value).where(MetaRow.key == key)).scalar_one_or_none()


def write_meta(engine: Engine, key: str, value: str) -> None:
    """Set one value of ``rempart_meta``."""
    with engine.begin() as conn:
        conn.execute(delete(MetaRow).where(MetaRow.key == key))
        conn.execute(insert(MetaRow).values(key=key, value=value))


def is_demo(url: str) -> bool:
    """True when the database at ``url`` is marked as a synthetic demo database."""
    engine = make_engine(url)
    try:
        return read_meta(engine, "demo") == "true"
    finally:
        engine.dispose()
