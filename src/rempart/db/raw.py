"""Hand-written SELECTs for the few statements every data request runs.

Building a Core statement, computing its cache key and turning its row into objects costs
several times what SQLite takes to answer a primary-key read; on the request path (resume the
session, the data gate, the person and their relations) these statements go to the driver as
plain SQL with bound parameters, on the unit of work's own connection. Written once with ``?``
placeholders, they run on SQLite as they are and on PostgreSQL with ``%s``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rempart.db.uow import Database


def day_or_none(value: Any) -> dt.date | None:
    """A nullable DATE column's value: SQLite hands back ISO text, PostgreSQL a date."""
    if value is None or type(value) is dt.date:
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(value)


def day(value: Any) -> dt.date:
    """A NOT NULL DATE column's value."""
    found = day_or_none(value)
    if found is None:
        raise ValueError("a NOT NULL date column held NULL")
    return found


def instant_or_none(value: Any) -> dt.datetime | None:
    """A nullable DATETIME column's value as an aware UTC datetime (all stored times are UTC)."""
    if value is None:
        return None
    at = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def instant(value: Any) -> dt.datetime:
    """A NOT NULL DATETIME column's value as an aware UTC datetime."""
    found = instant_or_none(value)
    if found is None:
        raise ValueError("a NOT NULL time column held NULL")
    return found


class RawSql:
    """Runs hand-written SELECTs through a ``Database`` (the unit of work's connection)."""

    __slots__ = ("_texts", "db", "sqlite")

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sqlite = db.engine.dialect.name == "sqlite"
        self._texts: dict[str, str] = {}

    def _text(self, sql: str) -> str:
        text = self._texts.get(sql)
        if text is None:
            text = sql if self.sqlite else sql.replace("?", "%s")
            self._texts[sql] = text
        return text

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        with self.db.connect() as conn:
            cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                yield cur
            finally:
                cur.close()

    def one(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """The first row, or None."""
        uow = self.db.active()
        if uow is not None:  # the request path: the unit of work's own cursor
            cur = uow.cursor()
            cur.execute(self._text(sql), params)
            return cur.fetchone()  # type: ignore[no-any-return]
        with self._cursor() as cur:
            cur.execute(self._text(sql), params)
            return cur.fetchone()  # type: ignore[no-any-return]

    def all(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Every row."""
        uow = self.db.active()
        if uow is not None:
            cur = uow.cursor()
            cur.execute(self._text(sql), params)
            return list(cur.fetchall())
        with self._cursor() as cur:
            cur.execute(self._text(sql), params)
            return list(cur.fetchall())
