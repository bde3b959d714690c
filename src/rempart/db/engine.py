"""Engines for the portal database: SQLite in WAL mode by default, PostgreSQL via psycopg 3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(url: str) -> bool:
    """True for an SQLite URL."""
    return normalise_url(url).startswith("sqlite")


def is_memory(url: str) -> bool:
    """True for an in-memory SQLite URL (tests)."""
    return url in ("sqlite://", "sqlite:///:memory:")


def sqlite_path(url: str) -> Path | None:
    """The file behind an SQLite URL (None for in-memory or non-SQLite)."""
    u = make_url(normalise_url(url))
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoint; WAL keeps it consistent
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the pragmas and pool this project relies on."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is None:
            # One shared in-memory database for every thread of the process (tests).
            engine = create_engine(
                url, connect_args={"check_same_thread": False}, poolclass=StaticPool
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            # A request holds its unit of work's connection until it has answered (the journal's
            # commit included), so as many stay open as requests are in flight: keep enough that
            # none is opened and closed per request, and never make the event loop wait for one.
            engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": 10},
                pool_size=64,
                max_overflow=-1,
                # The connection given back last is taken first: its page cache is the warm
                # one (a point read measured 13.0 µs first-in-first-out, 11.0 µs so).
                pool_use_lifo=True,
            )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # One connection per request in flight (the thread pool runs 40 at most): kept open.
    return create_engine(url, pool_size=32, max_overflow=8, pool_pre_ping=True)
