"""The unit of work: one connection and one transaction per request or per use case.

SQL adapters never hold an engine; they ask a ``Database`` for a connection. Inside a unit of
work every adapter gets the same connection, and nothing is committed before the unit of work
ends: it commits when the use case returns and rolls back when it raises, so that a use case
that writes several things (approve a request *and* create the account it asks for) never
leaves half of them. Outside a unit of work (a store tested alone, a background thread) each
call gets a short transaction of its own, exactly as a plain engine would give.

The current unit of work travels in a context variable: the web layer opens one per HTTP
request (``web.middleware.UnitOfWorkPerRequest``) and the threads that run the request's
dependencies and route inherit it; a command opens one per use case with
``database.unit_of_work()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.pool import PoolProxiedConnection

_current: ContextVar[UnitOfWork | None] = ContextVar("rempart_unit_of_work", default=None)


class UnitOfWork:
    """One pooled connection, checked out on first use, and its transaction.

    The hand-written statements of the request path (``rempart.db.raw``) run on the driver's
    own cursor; the SQLAlchemy ``Connection`` around the same pooled connection is built only
    when a Core statement needs it (most reads never do: it costs more to build and close than
    the read it would carry)."""

    __slots__ = ("_conn", "_cursor", "_pooled", "database")

    def __init__(self, database: Database) -> None:
        self.database = database
        self._pooled: PoolProxiedConnection | None = None
        self._conn: Connection | None = None
        self._cursor: Any = None

    def _checked_out(self) -> PoolProxiedConnection:
        if self._pooled is None:
            self._pooled = self.database.engine.raw_connection()
        return self._pooled

    def connection(self) -> Connection:
        """The unit of work's SQLAlchemy connection, on its pooled connection."""
        if self._conn is None:
            self._conn = Connection(self.database.engine, connection=self._checked_out())
        return self._conn

    def cursor(self) -> Any:
        """A driver cursor on the unit of work's connection, for hand-written statements
        (``rempart.db.raw``); one per unit of work, reused statement after statement."""
        if self._cursor is None:
            self._cursor = self._checked_out().dbapi_connection.cursor()  # type: ignore[union-attr]
        return self._cursor

    def commit(self) -> None:
        """Commit what the use case wrote (nothing to do when it touched no table)."""
        if self._conn is not None:
            self._conn.commit()
        elif self._pooled is not None:
            self._pooled.commit()  # only hand-written reads: ends the driver's transaction

    def rollback(self) -> None:
        """Forget what the use case wrote."""
        if self._conn is not None:
            self._conn.rollback()
        elif self._pooled is not None:
            self._pooled.rollback()

    def close(self) -> None:
        """Give the connection back to the pool."""
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None
        if self._conn is not None:
            self._conn.close()  # checks the pooled connection in
            self._conn = None
        elif self._pooled is not None:
            self._pooled.close()
        self._pooled = None


class Database:
    """The portal database as the adapters see it: ``connect()`` to read, ``begin()`` to write."""

    __slots__ = ("engine", "single_writer")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite: one writer for the whole file, and the requests run on the event loop.
        self.single_writer = engine.dialect.name == "sqlite"

    def active(self) -> UnitOfWork | None:
        """The unit of work this database is in, in this context, if any."""
        return self._active()

    def _active(self) -> UnitOfWork | None:
        uow = _current.get()
        return uow if uow is not None and uow.database is self else None

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection to read with: the unit of work's, else a short one."""
        uow = self._active()
        if uow is not None:
            yield uow.connection()
            return
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection to write with: the unit of work's (committed when it ends), else a
        short transaction committed at the end of the block."""
        uow = self._active()
        if uow is not None:
            yield uow.connection()
            return
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """Run a use case in one transaction; a nested call joins the outer unit of work."""
        outer = self._active()
        if outer is not None:
            yield outer
            return
        uow = UnitOfWork(self)
        token = _current.set(uow)
        try:
            yield uow
            uow.commit()
        except BaseException:
            uow.rollback()
            raise
        finally:
            _current.reset(token)
            uow.close()

    def settle(self) -> None:
        """Commit what the current unit of work has written so far (see ``settle``)."""
        settle(self)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def current_unit_of_work() -> UnitOfWork | None:
    """The unit of work of the running request or use case, if any."""
    return _current.get()


def settle(database: Database | None = None) -> None:
    """Commit what the current unit of work (of ``database``, if given) has written so far; it
    goes on in a new transaction.

    SQLite has a single writer, and the requests of a local portal run on the event loop: a
    unit of work that holds the write lock while its request waits (for the journal, for a
    worker thread, for the loop itself) makes any other request that writes on the loop wait
    for it in SQLite's busy handler, which blocks the loop, so that the holder can never finish:
    the server stalls for the whole busy timeout. Settling before every such wait keeps the
    write lock inside one stretch of synchronous work.

    On PostgreSQL rows are locked one by one and requests run in worker threads: there is
    nothing to settle, and the unit of work stays whole until its end."""
    uow = _current.get()
    if (
        uow is not None
        and uow.database.single_writer
        and (database is None or uow.database is database)
    ):
        uow.commit()


def discard() -> None:
    """Roll back what the current unit of work has written so far, where ``settle`` would have
    committed it (a use case that failed in a worker thread lets the lock go there)."""
    uow = _current.get()
    if uow is not None and uow.database.single_writer:
        uow.rollback()


def bind(uow: UnitOfWork) -> Token[UnitOfWork | None]:
    """Make ``uow`` the current unit of work of this context (the web layer's per request)."""
    return _current.set(uow)


def unbind(token: Token[UnitOfWork | None]) -> None:
    """Undo ``bind``."""
    _current.reset(token)


def as_database(target: Database | Engine) -> Database:
    """A ``Database`` for ``target`` (stores built on a bare engine, in tests, get one)."""
    return target if isinstance(target, Database) else Database(target)
