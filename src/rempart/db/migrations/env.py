"""Alembic environment: a given connection, or the URL from the programmatic config."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from rempart.db.engine import make_engine
from rempart.db.schema import (
    citizen,  # noqa: F401 - registers the "who consulted my file" tables
    governance,  # noqa: F401 - registers the governance tables
    incident,  # noqa: F401 - registers the incident response tables
    intake,  # noqa: F401 - registers the import, portfolio and confirmation tables
    messages,  # noqa: F401 - registers the official messages' register
    signin,  # noqa: F401 - registers the sign-in tables
)
from rempart.db.schema.core import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///rempart.db")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
