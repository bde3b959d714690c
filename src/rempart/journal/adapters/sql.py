"""``SqlJournalStore``: the access journal in its own SQLite or PostgreSQL database.

Appends go through one writer thread that batches every request waiting at that moment into a
single transaction (group commit): callers block until *their* batch is committed, so no
response leaves before its entry is durable, while a commit (one fsync) serves many requests.
SQLite runs in WAL mode with ``synchronous=FULL`` here: the journal promises durability, the
portal database does not need to.

Each batch takes the database's write lock first (``BEGIN IMMEDIATE`` on SQLite, an advisory
lock on PostgreSQL) and reads the head back, so several processes (replicas, a seeding run, a
maintenance command) can append to one journal and still get one contiguous, chained sequence.

The statements go straight to the DB-API driver: this path runs 20,000 times a second, and the
ORM layer would cost more than the database.
"""

from __future__ import annotations

import _thread
import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.pool import PoolProxiedConnection

from rempart.db.engine import is_sqlite, make_engine, sqlite_path
from rempart.journal.adapters.sql_schema import (
    DERIVED,
    PURGEABLE,
    SCHEMA_VERSION,
    postgres_ddl,
    postgres_grants,
    postgres_upgrade,
    sqlite_ddl,
    sqlite_trigger,
    sqlite_upgrade,
)
from rempart.journal.integrity import (
    BLOCK,
    GENESIS,
    NODE_LEVEL,
    Checkpoint,
    CheckpointKind,
    Cosignature,
)
from rempart.journal.merkle import Frontier, leaf_hash, node_hash, root_of
from rempart.journal.model import (
    JournalEntry,
    StoredEntry,
    canonical_bytes,
    entry_from_canonical,
    format_time,
    parse_time,
)
from rempart.journal.ports import CheckpointSigner
from rempart.kernel.errors import (
    Conflict,
    JournalTampered,
    JournalUnavailable,
    PolicyError,
    RempartError,
)
from rempart.kernel.ports import Clock

log = logging.getLogger("rempart.journal")


_CACHE_KIB = int(os.environ.get("REMPART_JOURNAL_CACHE_KIB", "131072"))  # per connection
_MMAP_BYTES = 1 << 35  # address space only: pages are mapped as they are read
_PG_LOCK = 0x52454D50
_CHUNKS = (128, 32, 8, 1)  # rows per multi-row INSERT; few distinct statements to prepare
_MAINTAIN_EVERY = 0.2  # seconds between two passes of the maintenance thread
_INDEX_BATCH = 50_000  # entries per derived-index transaction
# Each derived index, filled from the durable tables by one statement run inside the database.
_INDEX_SQL = (
    "INSERT {ignore}INTO journal_by_person (ft_id, seq) SELECT ft_id, seq FROM journal_persons "
    "WHERE seq > ? AND seq <= ?{conflict}",
    "INSERT {ignore}INTO journal_by_agent (agent_login, at, seq) SELECT agent_login, at, seq "
    "FROM journal_entries WHERE seq > ? AND seq <= ? AND agent_login <> ''{conflict}",
    "INSERT {ignore}INTO journal_by_session (session_id, at, seq) SELECT session_id, at, seq "
    "FROM journal_entries WHERE seq > ? AND seq <= ? AND session_id <> ''{conflict}",
)


def _sqlite_journal_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # "Durably committed" is the promise: fsync the WAL at every commit.
    cur.execute("PRAGMA synchronous=FULL")
    # Every entry lands in four indexes at random places: keep their pages in memory.
    cur.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
    cur.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
    # Copying the WAL back into the database (and its fsync) is the checkpointer thread's job,
    # not the committing writer's: appends do not wait for it.
    cur.execute("PRAGMA wal_autocheckpoint=0")
    cur.execute("PRAGMA journal_size_limit=67108864")  # shrink the WAL back after a checkpoint
    cur.close()
    dbapi_conn.isolation_level = None  # this store issues BEGIN/COMMIT itself


# An entry ready for the writer: (canonical form, leaf hash, at, agent_login, org_id,
# session_id, persons). A plain tuple: one is built per request, it must be cheap.
_Prepared = tuple[bytes, bytes, object, str, str, str, list[str]]


class _Pending:
    """One caller's entries, and the lock it sleeps on until the writer commits them."""

    __slots__ = ("error", "items", "last", "lock")

    def __init__(self, items: list[_Prepared]) -> None:
        self.items = items
        self.last = 0
        self.error: BaseException | None = None
        # A bare lock, held until the batch is committed: waking hundreds of callers after
        # each commit must cost as little GIL time as possible (an Event is pure Python).
        self.lock = _thread.allocate_lock()
        self.lock.acquire()

    def wake(self) -> None:
        self.lock.release()


class _AwaitedPending(_Pending):
    """One caller's entries, for a caller on an event loop: the writer settles its future
    from its own thread once the batch is committed."""

    __slots__ = ("future", "loop")

    def __init__(self, items: list[_Prepared], loop: asyncio.AbstractEventLoop) -> None:
        self.items = items
        self.last = 0
        self.error = None
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()

    def wake(self) -> None:
        self.loop.call_soon_threadsafe(self.settle)

    def settle(self) -> None:
        """On the loop: let the awaiting request go on."""
        if not self.future.done():
            self.future.set_result(None)


class _Expired(Exception):
    """The writer did not confirm an awaited commit in time."""


def _expire(future: asyncio.Future[Any]) -> None:
    """The deadline of an awaited commit: fail it (the writer's late answer is then ignored)."""
    if not future.done():
        future.set_exception(_Expired())


def _late() -> JournalUnavailable:
    log.warning("journal commit not confirmed in time: failing the request closed")
    return JournalUnavailable("the journal cannot record right now; data access is paused")


def unavailable(exc: BaseException) -> JournalUnavailable:
    """A failed write (database gone, disk full, a dead writer process, ...) as the 503 its
    callers answer."""
    error = JournalUnavailable("the journal cannot record right now; data access is paused")
    error.__cause__ = exc
    return error


def _settle_all(pendings: list[_AwaitedPending]) -> None:
    for p in pendings:
        p.settle()


def _wake_all(batch: list[_Pending]) -> None:
    """Wake a committed batch's callers: threads one by one, each event loop once (a single
    cross-thread call per loop rather than one per request)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_AwaitedPending]] = {}
    for p in batch:
        if isinstance(p, _AwaitedPending):
            by_loop.setdefault(p.loop, []).append(p)
        else:
            p.wake()
    for loop, pendings in by_loop.items():
        # A caller that gave up (its wait timed out) may have had its loop closed since: the
        # writer carries on with the other callers.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle_all, pendings)


_STOP = _Pending([])  # tells the writer to finish
_T = TypeVar("_T")


class WriterChannel(Protocol):
    """A writer outside this process (``writer_process.WriterProcess``) for one event loop."""

    def serves(self, loop: asyncio.AbstractEventLoop) -> bool: ...

    def submit(self, items: Sequence[_Prepared]) -> asyncio.Future[int]: ...

    def close(self) -> None: ...


@dataclass(slots=True)
class _Head:
    seq: int
    chain: bytes
    frontier: Frontier
    checkpoint_size: int
    checkpoint_mono: float


def _blob(value: object) -> bytes:
    """A stored binary value; anything else (a damaged row) is refused as a ValueError."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise ValueError("not a binary value")


class _Sql:
    """Dialect differences, in one place."""

    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite

    def q(self, sql: str) -> str:
        """Placeholders: ``?`` in this module's SQL, ``%s`` for psycopg."""
        return sql if self.sqlite else sql.replace("?", "%s")

    def at(self, value: dt.datetime) -> object:
        """A time as the ``at`` columns store it (fixed-width UTC text sorts like time)."""
        return format_time(value) if self.sqlite else value.astimezone(dt.UTC)

    def read_at(self, value: object) -> dt.datetime:
        """A stored time back as an aware UTC datetime."""
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC)
        return parse_time(str(value))

    def day(self) -> str:
        """SQL for the UTC day of ``at``."""
        return "substr(at, 1, 10)" if self.sqlite else "(at AT TIME ZONE 'UTC')::date"


class SqlJournalStore:
    """Implements ``JournalWriter``, ``JournalQueries`` and ``JournalArchive`` in SQL."""

    def __init__(
        self,
        url: str,
        *,
        clock: Clock,
        signer: CheckpointSigner | None = None,
        checkpoint_every: int = 10_000,
        checkpoint_seconds: float = 60.0,
        group_wait: float = 0.002,
        group_max: int = 4096,
        create: bool = True,
        origin: str = "",
        wait_seconds: float = 10.0,
    ) -> None:
        self.url = url
        self._wait = wait_seconds
        self._clock = clock
        self._signer = signer
        self._every = checkpoint_every
        self._period = checkpoint_seconds
        self._group_wait = group_wait
        self._group_max = group_max
        self._sql = _Sql(is_sqlite(url))
        self._engine = self._make_engine(url)
        # One in-memory SQLite connection is shared by every thread: take turns on it.
        self._memory = self._sql.sqlite and sqlite_path(url) is None
        self._turn: contextlib.AbstractContextManager[object] = (
            threading.RLock() if self._memory else contextlib.nullcontext()
        )
        if create:
            self._create_schema()
        self._notes = self._upgrade_schema()
        self._origin = self._settle_origin(origin)
        self._inbox: queue.SimpleQueue[_Pending] = queue.SimpleQueue()  # a C queue, no lock
        # Entries awaited on an event loop, waiting for the end of the loop's turn.
        self._handover: dict[asyncio.AbstractEventLoop, list[_AwaitedPending]] = {}
        self._start_lock = threading.Lock()
        self._sql_cache: dict[tuple[str, int], str] = {}
        self._closing = False
        self._closed = False
        self._head: _Head | None = None
        self._thread: threading.Thread | None = None
        self.commits = 0  # transactions written: appends / commits is the group-commit factor
        self._maintainer: threading.Thread | None = None
        self._stopping = threading.Event()  # tells the maintenance thread to stop
        self._channel: WriterChannel | None = None  # appends of the serving loop, elsewhere

    # -- set-up -------------------------------------------------------------------------

    @staticmethod
    def _make_engine(url: str) -> Engine:
        engine = make_engine(url)
        if is_sqlite(url):
            event.listen(engine, "connect", _sqlite_journal_pragmas)
        return engine

    @contextlib.contextmanager
    def _conn(self) -> Iterator[Any]:
        """A DB-API connection from the pool (rolled back when it goes back)."""
        with self._turn:
            raw: PoolProxiedConnection = self._engine.raw_connection()
            try:
                yield raw.driver_connection
            finally:
                raw.close()

    def _begin(self, cur: Any) -> None:
        """Start a write transaction holding the journal's append lock."""
        if self._sql.sqlite:
            cur.execute("BEGIN IMMEDIATE")
        else:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK,))

    def _commit(self, conn: Any, cur: Any) -> None:
        if self._sql.sqlite:
            cur.execute("COMMIT")
        else:
            conn.commit()

    def _rollback(self, conn: Any, cur: Any) -> None:
        with contextlib.suppress(Exception):
            if self._sql.sqlite:
                if conn.in_transaction:
                    cur.execute("ROLLBACK")
            else:
                conn.rollback()

    def _create_schema(self) -> None:
        with self._conn() as conn:
            cur = conn.cursor()
            if self._sql.sqlite:
                # Set once, persistent in the file; every later connection inherits WAL.
                cur.execute("PRAGMA journal_mode=WAL")
                self._begin(cur)
                for stmt in sqlite_ddl():
                    cur.execute(stmt)
            else:
                cur.execute("SELECT to_regclass('journal_entries') IS NOT NULL")
                if cur.fetchone()[0]:
                    conn.rollback()
                    return  # created by its owner; the portal's role may not run DDL
                self._begin(cur)
                for stmt in postgres_ddl():
                    cur.execute(stmt)
            cur.execute(
                self._sql.q(
                    "INSERT INTO journal_meta (key, value) SELECT ?, ? WHERE NOT EXISTS "
                    "(SELECT 1 FROM journal_meta WHERE key = ?)"
                ),
                ("schema_version", SCHEMA_VERSION, "schema_version"),
            )
            cur.execute(
                "INSERT INTO journal_index_state (name, upto) SELECT 'indexed', 0 WHERE NOT "
                "EXISTS (SELECT 1 FROM journal_index_state WHERE name = 'indexed')"
            )
            self._commit(conn, cur)

    def grant_append_only(self, role: str) -> None:
        """PostgreSQL: let ``role`` (the portal's) read and append, nothing more."""
        if self._sql.sqlite:
            raise PolicyError("SQLite has no roles: protect the journal file itself")
        if not role.replace("_", "").isalnum():
            raise PolicyError(f"not a plain role name: {role!r}")
        with self._conn() as conn:
            cur = conn.cursor()
            for stmt in postgres_grants(role):
                cur.execute(stmt)
            conn.commit()

    def _upgrade_schema(self) -> bool:  # noqa: PLR0911 - one exit per state found
        """Give a journal created before checkpoints were published its new columns and table;
        False when they are missing and this connection may not add them (a PostgreSQL role
        that only appends: the journal's owner runs ``rempart journal init`` once)."""
        with self._conn() as conn:
            cur = conn.cursor()
            if self._sql.sqlite:
                cur.execute("PRAGMA table_info(journal_checkpoints)")
                columns = {row[1] for row in cur.fetchall()}
                if not columns:
                    return False  # no journal here (yet)
                cur.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                    "AND name = 'journal_cosignatures'"
                )
                missing = sqlite_upgrade(columns)
                if not missing and cur.fetchone():
                    return True
                try:
                    self._begin(cur)
                    for stmt in missing:
                        cur.execute(stmt)
                    for stmt in sqlite_ddl():  # the new table and its triggers, idempotent
                        cur.execute(stmt)
                    self._commit(conn, cur)
                except Exception:  # noqa: BLE001 - a read-only file: read it as it is
                    self._rollback(conn, cur)
                    log.warning("journal schema is older and could not be upgraded")
                    return False
                return True
            cur.execute(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = 'journal_checkpoints' "
                "AND column_name IN ('origin', 'note_signature')"
            )
            has_columns = int(cur.fetchone()[0]) == 2
            cur.execute("SELECT to_regclass('journal_cosignatures') IS NOT NULL")
            has_table = bool(cur.fetchone()[0])
            conn.rollback()
            if has_columns and has_table:
                return True
            try:
                self._begin(cur)
                for stmt in postgres_ddl() + postgres_upgrade():
                    cur.execute(stmt)
                conn.commit()
            except Exception:  # noqa: BLE001 - a role without DDL rights: read it as it is
                conn.rollback()
                log.warning(
                    "the journal's schema predates published checkpoints and this role may "
                    "not upgrade it: run `rempart journal init --journal URL` as its owner"
                )
                return False
            return True

    def _settle_origin(self, configured: str) -> str:
        """The log's origin line: the one recorded in ``journal_meta`` with the first published
        checkpoint (witnesses know a log by it, so it never changes afterwards), else
        ``configured``. Only signing records it: opening a journal to read it changes nothing."""
        with self._conn() as conn:
            cur = conn.cursor()
            try:
                cur.execute("SELECT value FROM journal_meta WHERE key = 'origin'")
                row = cur.fetchone()
            except Exception:  # noqa: BLE001 - no journal schema here: nothing to settle
                self._rollback(conn, cur)
                return configured
            self._rollback(conn, cur)
        if row is None:
            return configured
        stored = str(row[0])
        if configured and configured != stored:
            log.warning(
                "journal origin stays %r (recorded with its first published checkpoint), "
                "not the configured %r",
                stored,
                configured,
            )
        return stored

    @property
    def origin(self) -> str:
        """The log's origin line (empty: checkpoints are not published)."""
        return self._origin

    def signer_public_key(self) -> bytes | None:
        """The public key checkpoints are signed with now, if a signer is set."""
        return self._signer.public_key if self._signer is not None else None

    # -- keys ---------------------------------------------------------------------------

    def use_signer(self, signer: CheckpointSigner) -> None:
        """Sign checkpoints with ``signer`` from now on, and record its public key here."""
        self.register_key(signer.public_key, signer.key_id, note="checkpoint signing key")
        self._signer = signer

    def register_key(
        self, public_key: bytes, key_id: str, note: str, private_key: bytes | None = None
    ) -> None:
        """Record a public key (and, for a demo journal only, its private key)."""
        with self._conn() as conn:
            cur = conn.cursor()
            self._begin(cur)
            cur.execute(
                self._sql.q(
                    "INSERT INTO journal_keys (key_id, public_key, private_key, created_at, note) "
                    "SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS "
                    "(SELECT 1 FROM journal_keys WHERE key_id = ?)"
                ),
                (
                    key_id,
                    public_key,
                    private_key,
                    self._sql.at(self._clock.now()),
                    note,
                    key_id,
                ),
            )
            self._commit(conn, cur)

    def demo_private_key(self) -> bytes | None:
        """The private key a demo journal keeps in its own key table, if any."""
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute(
                "SELECT private_key FROM journal_keys WHERE private_key IS NOT NULL "
                "ORDER BY created_at LIMIT 1"
            )
            row = cur.fetchone()
            return bytes(row[0]) if row else None

    def public_keys(self) -> dict[str, bytes]:
        """Public keys recorded in the journal, by key id."""
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute("SELECT key_id, public_key FROM journal_keys")
            return {
                str(k): bytes(v) for k, v in cur.fetchall() if isinstance(v, bytes | memoryview)
            }

    # -- appending ----------------------------------------------------------------------

    def _prepare(self, entry: JournalEntry) -> _Prepared:
        at_text = format_time(entry.at)
        body = canonical_bytes(entry, at_text)
        persons = entry.persons
        return (
            body,
            hashlib.sha256(b"\x00" + body).digest(),
            at_text if self._sql.sqlite else entry.at,
            entry.agent_login,
            entry.org_id,
            entry.session_id,
            sorted(set(persons)) if len(persons) > 1 else list(persons),
        )

    def append(self, entries: Sequence[JournalEntry]) -> int:
        """Durably record the entries; return the last sequence number. Blocks until committed.

        Serialising and hashing happen here, in the caller's thread, while the writer thread
        waits on the disk: the GIL is free during an fsync.
        """
        if not entries:
            return self.head()[0]
        pending = _Pending([self._prepare(e) for e in entries])
        if self._closing:
            raise RuntimeError("the journal is closed")
        if self._thread is None:
            self.start()
        self._inbox.put(pending)
        # Released by the writer once the batch is committed. A writer that cannot commit in
        # time (its database down, full or locked) fails the request closed: the entry may
        # still be written later, the data never leaves without it.
        if not pending.lock.acquire(timeout=self._wait):
            raise _late()
        if pending.error is not None:
            raise pending.error
        return pending.last

    async def append_async(self, entries: Sequence[JournalEntry]) -> int:
        """``append`` for a caller on an event loop: the same durable commit, awaited without
        holding a thread; the entries are committed when this returns, as with ``append``."""
        if not entries:
            return self.head()[0]
        loop = asyncio.get_running_loop()
        channel = self._channel
        if channel is not None and channel.serves(loop):
            return await self._append_elsewhere(channel, entries, loop)
        pending = _AwaitedPending([self._prepare(e) for e in entries], loop)
        if self._closing:
            raise RuntimeError("the journal is closed")
        if self._thread is None:
            self.start()
        # Handed to the writer once per turn of the loop, with the other requests' entries of
        # that turn: one wake-up of the writer thread for all of them.
        waiting = self._handover.get(loop)
        if waiting is None:
            waiting = self._handover[loop] = []
            loop.call_soon(self._hand_over, loop)
        waiting.append(pending)
        # A timer, not ``wait_for(shield(...))``: the same fail-closed deadline for half the
        # event loop's work per request (no extra task, no shield future). A request whose
        # client hangs up is cancelled here; its entry, already handed over, is still written.
        await self._committed(pending.future, loop)
        if pending.error is not None:
            raise pending.error
        return pending.last

    async def _append_elsewhere(
        self,
        channel: WriterChannel,
        entries: Sequence[JournalEntry],
        loop: asyncio.AbstractEventLoop,
    ) -> int:
        """The same durable append, committed by the writer process: the same fail-closed
        deadline, and the answer only once the child acknowledged the commit."""
        return await self._committed(channel.submit([self._prepare(e) for e in entries]), loop)

    async def _committed(self, future: asyncio.Future[_T], loop: asyncio.AbstractEventLoop) -> _T:
        """Await a commit's future within ``journal_wait_seconds``; past it, fail closed."""
        timer = loop.call_later(self._wait, _expire, future)
        try:
            return await future
        except _Expired:
            raise _late() from None
        finally:
            timer.cancel()

    @property
    def signer(self) -> CheckpointSigner | None:
        """The checkpoint signer in use (the writer process signs with the same key)."""
        return self._signer

    def write_elsewhere(self, channel: WriterChannel) -> None:
        """Hand the serving loop's appends to ``channel`` (closed with this store)."""
        self._channel = channel

    def commit_prepared(self, requests: Sequence[Sequence[_Prepared]]) -> list[int]:
        """Commit prepared entries in one transaction (the writer process's side); the last
        sequence number of each request. No request: sign what no checkpoint covers yet."""
        batch = [_Pending.__new__(_Pending) for _ in requests]
        for pending, items in zip(batch, requests, strict=True):
            pending.items, pending.last, pending.error = list(items), 0, None
        self._write(batch)
        return [p.last for p in batch]

    def checkpoint_due_in(self) -> float | None:
        """Seconds until a timed checkpoint is due (None: none is)."""
        return self._checkpoint_due_in()

    def start_maintenance(self) -> None:
        """Only the maintenance thread (derived indexes, WAL copy): the writer process's."""
        with self._start_lock:
            if self._maintainer is None:
                self._maintainer = threading.Thread(
                    target=self._maintain, name="rempart-journal-index", daemon=True
                )
                self._maintainer.start()

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        for pending in self._handover.pop(loop, ()):
            self._inbox.put(pending)

    def _ensure_writer(self) -> None:
        if self._thread is None and not self._closing:
            self._thread = threading.Thread(
                target=self._run, name="rempart-journal-writer", daemon=True
            )
            self._thread.start()
            self._maintainer = threading.Thread(
                target=self._maintain, name="rempart-journal-index", daemon=True
            )
            self._maintainer.start()

    def _maintain(self) -> None:
        """Behind the writer: fill the derived indexes, then copy the WAL into the database
        (PASSIVE: never blocks the writer). Both run inside SQLite, without the GIL."""
        seen = -1
        while not self._stopping.wait(_MAINTAIN_EVERY):
            if self.commits == seen:
                continue
            seen = self.commits
            try:
                while self.index_pending() >= _INDEX_BATCH:
                    pass
                if self._sql.sqlite and not self._memory:
                    with self._conn() as conn:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # retried at the next tick
                log.warning("journal maintenance failed", exc_info=True)

    def index_pending(self, limit: int = _INDEX_BATCH) -> int:
        """Add up to ``limit`` entries past the watermark to the derived indexes; return how
        many. Safe to run from several processes: a batch holds the append lock."""
        q = self._sql.q
        ignore, conflict = (
            ("OR IGNORE ", "") if self._sql.sqlite else ("", " ON CONFLICT DO NOTHING")
        )
        with self._conn() as conn:
            cur = conn.cursor()
            if self._sql.sqlite:
                # Derived data, rebuilt from the entries after a crash: no fsync per batch.
                cur.execute("PRAGMA synchronous=NORMAL")
            try:
                self._begin(cur)
                upto = self._watermark(cur)
                cur.execute("SELECT max(seq) FROM journal_entries")
                head = int(cur.fetchone()[0] or 0)
                hi = min(head, upto + limit)
                if hi > upto:
                    for sql in _INDEX_SQL:
                        cur.execute(q(sql.format(ignore=ignore, conflict=conflict)), (upto, hi))
                    cur.execute(
                        q("UPDATE journal_index_state SET upto = ? WHERE name = 'indexed'"), (hi,)
                    )
                self._commit(conn, cur)
            except BaseException:
                self._rollback(conn, cur)
                raise
            finally:
                if self._sql.sqlite:
                    cur.execute("PRAGMA synchronous=FULL")
        return max(0, hi - upto)

    def catch_up_index(self) -> None:
        """Index everything appended so far (the maintenance commands, before a query)."""
        while self.index_pending() >= _INDEX_BATCH:
            pass

    def _watermark(self, cur: Any) -> int:
        cur.execute("SELECT upto FROM journal_index_state WHERE name = 'indexed'")
        row = cur.fetchone()
        # A damaged watermark indexes nothing: queries then read the entries themselves.
        return row[0] if row and isinstance(row[0], int) else 0

    def start(self) -> None:
        """Start the writer now (it also signs time-based checkpoints while idle)."""
        with self._start_lock:
            self._ensure_writer()

    def close(self) -> None:
        """Commit what is queued, sign a last checkpoint, stop the writer, release the pool."""
        with self._start_lock:
            if self._closed or self._closing:
                return
            self._closing = True
            thread = self._thread
        if self._channel is not None:  # its last batch, and its last checkpoint, first
            self._channel.close()
        if thread is not None:
            self._inbox.put(_STOP)
            thread.join()
        # A caller that raced past the closing check: refuse it rather than leave it waiting.
        while True:
            try:
                late = self._inbox.get_nowait()
            except queue.Empty:
                break
            if late is not _STOP:
                late.error = RuntimeError("the journal is closed")
                late.wake()
        if self._maintainer is not None:
            self._stopping.set()
            self._maintainer.join()
            with contextlib.suppress(Exception):
                self.catch_up_index()
            if self._sql.sqlite and not self._memory:
                with contextlib.suppress(Exception), self._conn() as conn:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._closed = True
        self._engine.dispose()

    def _take(self) -> list[_Pending] | None:
        """The next batch; [] when only a timed checkpoint is due; None when closing.

        Everything already queued goes in; then, for at most ``group_wait``, so does whatever
        keeps arriving (callers woken by the last commit coming back), so that one commit
        serves them all. A lone request waits one short gap at most.
        """
        inbox = self._inbox
        try:
            first = inbox.get(timeout=self._checkpoint_due_in())
        except queue.Empty:
            return []
        if first is _STOP:
            return None
        batch = [first]
        count = len(first.items)
        deadline = time.monotonic() + self._group_wait
        gap = self._group_wait / 4
        while count < self._group_max:
            try:
                p = inbox.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    p = inbox.get(timeout=min(remaining, gap))
                except queue.Empty:
                    break
            if p is _STOP:
                inbox.put(_STOP)  # seen again once this batch is written
                break
            batch.append(p)
            count += len(p.items)
        return batch

    def _checkpoint_due_in(self) -> float | None:
        head = self._head
        if head is None or self._signer is None or head.seq <= head.checkpoint_size:
            return None
        return max(0.0, head.checkpoint_mono + self._period - time.monotonic())

    def _run(self) -> None:
        # Entries a crash left unsigned are signed now, not at the first request after a
        # restart: until then, a deleted tail would leave no trace.
        if self._signer is not None:
            try:
                self._write([])
            except Exception:  # retried with the first batch
                self._head = None
                log.warning("journal: could not sign the entries found unsigned", exc_info=True)
        while True:
            batch = self._take()
            if batch is None:
                break
            try:
                self._write(batch)
            except BaseException as exc:  # handed to every waiting caller
                self._head = None  # re-read from the database next time
                log.exception("journal append failed")
                error = exc if isinstance(exc, RempartError) else unavailable(exc)
                for p in batch:
                    p.error = error
            finally:
                _wake_all(batch)
        # Closing: sign what is not yet covered, so a restart starts from a checkpoint.
        with contextlib.suppress(Exception):
            head = self._head
            if self._signer is not None and head is not None and head.seq > head.checkpoint_size:
                self._write([])

    def _write(self, batch: list[_Pending]) -> None:
        with self._conn() as conn:
            cur = conn.cursor()
            try:
                self._begin(cur)
                head = self._load_head(cur)
                seq, chain, frontier = head.seq, head.chain, head.frontier.copy()
                sha = hashlib.sha256
                stack = frontier.hashes
                entries: list[tuple[object, ...]] = []
                persons: list[tuple[int, str]] = []
                nodes: list[tuple[int, int, bytes]] = []
                add_entry, add_person = entries.append, persons.append
                for p in batch:
                    for body, leaf, at, agent, org, session, people in p.items:
                        seq += 1
                        chain = sha(chain + leaf).digest()
                        # The Merkle frontier, inlined (``Frontier.push``): once per entry.
                        h, m, level = leaf, seq, 0
                        while not m & 1:
                            h = sha(b"\x01" + stack.pop() + h).digest()
                            level += 1
                            m >>= 1
                            if level >= NODE_LEVEL:
                                nodes.append((level, (seq >> level) - 1, h))
                        stack.append(h)
                        add_entry((seq, at, agent, org, session, body, chain))
                        for ft_id in people:
                            add_person((seq, ft_id))
                    p.last = seq
                frontier.size = seq
                if entries:
                    self._insert_rows(cur, entries, persons, nodes)
                checkpoint_size, checkpoint_mono = head.checkpoint_size, head.checkpoint_mono
                now_mono = time.monotonic()
                if (
                    self._signer is not None
                    and seq > checkpoint_size
                    and (
                        seq - checkpoint_size >= self._every
                        or now_mono - checkpoint_mono >= self._period
                        or not batch
                    )
                ):
                    cp = self._sign(seq, frontier.root(), chain, CheckpointKind.PERIODIC)
                    self._insert_checkpoint(cur, cp)
                    checkpoint_size, checkpoint_mono = seq, now_mono
                self._commit(conn, cur)
            except BaseException:
                self._rollback(conn, cur)
                raise
        self.commits += 1
        self._head = _Head(seq, chain, frontier, checkpoint_size, checkpoint_mono)

    def _insert_rows(
        self,
        cur: Any,
        entries: list[tuple[object, ...]],
        persons: list[tuple[int, str]],
        nodes: list[tuple[int, int, bytes]],
    ) -> None:
        self._insert_many(
            cur, "journal_entries (seq, at, agent_login, org_id, session_id, body, chain)", entries
        )
        self._insert_many(cur, "journal_persons (seq, ft_id)", persons)
        self._insert_many(cur, "journal_nodes (level, idx, hash)", nodes)

    def _insert_many(self, cur: Any, into: str, rows: Sequence[tuple[object, ...]]) -> None:
        """Many rows in a few multi-row INSERTs, not one statement step per row.

        The driver releases the GIL around every step; under load each release can cost a
        wait behind dozens of request threads. A handful of steps per batch keeps the writer,
        which every request is waiting on, from queueing behind them.
        """
        i, n = 0, len(rows)
        for size in _CHUNKS:
            while n - i >= size:
                sql = self._values_sql(into, len(rows[0]), size)
                cur.execute(sql, [v for row in rows[i : i + size] for v in row])
                i += size

    def _values_sql(self, into: str, width: int, count: int) -> str:
        key = (into, count)
        sql = self._sql_cache.get(key)
        if sql is None:
            one = "(" + ", ".join(["?"] * width) + ")"
            sql = self._sql.q(f"INSERT INTO {into} VALUES " + ", ".join([one] * count))  # noqa: S608 - fixed text; values are bound
            self._sql_cache[key] = sql
        return sql

    def _load_head(self, cur: Any) -> _Head:
        """The head as stored; the cached frontier is reused when nobody else appended."""
        cur.execute("SELECT seq, chain FROM journal_entries ORDER BY seq DESC LIMIT 1")
        row = cur.fetchone()
        if row is None:
            base = self._purge_base(cur)
            seq, chain = (base.tree_size, base.chain_head) if base else (0, GENESIS)
        else:
            seq, chain = int(row[0]), bytes(row[1])
        cached = self._head
        if cached is not None and cached.seq == seq and cached.chain == chain:
            return cached
        frontier = Frontier.at(seq, lambda s, e: self._subtree(cur, s, e))
        cur.execute("SELECT max(tree_size) FROM journal_checkpoints")
        last = int(cur.fetchone()[0] or 0)
        # Entries nobody signed yet (a crash, another writer): the next batch signs them.
        return _Head(seq, chain, frontier, last, time.monotonic() if seq <= last else -math.inf)

    def _sign(self, size: int, root: bytes, chain: bytes, kind: CheckpointKind) -> Checkpoint:
        if self._signer is None:
            raise PolicyError("no journal signing key: set REMPART_JOURNAL_SIGNING_KEY")
        at = self._clock.now().astimezone(dt.UTC)
        cp = Checkpoint(size, root, chain, at, kind, self._signer.key_id)
        cp = replace(cp, signature=self._signer.sign(cp.signed_text()))
        if self._notes and self._origin:
            cp = replace(cp, origin=self._origin)
            cp = replace(cp, note_signature=self._signer.sign(cp.note_text().encode()))
        return cp

    def _insert_checkpoint(self, cur: Any, cp: Checkpoint) -> None:
        values: tuple[object, ...] = (
            cp.tree_size,
            cp.root,
            cp.chain_head,
            self._sql.at(cp.at),
            str(cp.kind),
            cp.key_id,
            cp.signature,
        )
        if self._notes:
            values += (cp.origin, cp.note_signature or None)
            if cp.origin:  # the first published checkpoint names the log for good
                cur.execute(
                    self._sql.q(
                        "INSERT INTO journal_meta (key, value) SELECT ?, ? WHERE NOT EXISTS "
                        "(SELECT 1 FROM journal_meta WHERE key = ?)"
                    ),
                    ("origin", cp.origin, "origin"),
                )
        cur.execute(
            self._sql.q(
                f"INSERT INTO journal_checkpoints ({self._checkpoint_columns()}) "  # noqa: S608 - fixed names
                f"VALUES ({', '.join(['?'] * len(values))})"
            ),
            values,
        )

    # -- Merkle subtrees ------------------------------------------------------------------

    def _subtree(self, cur: Any, start: int, end: int) -> bytes:
        """MTH of the perfect aligned range of leaf indexes ``[start, end)``."""
        n = end - start
        level = n.bit_length() - 1
        if level >= NODE_LEVEL:
            cur.execute(
                self._sql.q("SELECT hash FROM journal_nodes WHERE level = ? AND idx = ?"),
                (level, start >> level),
            )
            row = cur.fetchone()
            if row is not None and isinstance(row[0], bytes | memoryview):
                return bytes(row[0])
            if level > NODE_LEVEL:
                mid = start + n // 2
                return node_hash(self._subtree(cur, start, mid), self._subtree(cur, mid, end))
        cur.execute(
            self._sql.q(
                "SELECT seq, body FROM journal_entries WHERE seq > ? AND seq <= ? ORDER BY seq"
            ),
            (start, end),
        )
        leaves = []
        expected = start + 1
        for seq, body in cur.fetchall():
            if seq != expected or not isinstance(body, bytes | memoryview):
                raise JournalTampered(expected)
            leaves.append(leaf_hash(bytes(body)))
            expected += 1
        if expected != end + 1:
            raise JournalTampered(expected)
        return root_of(leaves)

    def subtree(self, start: int, end: int) -> bytes:
        """MTH of the perfect aligned range ``[start, end)`` of leaf indexes."""
        with self._conn() as conn:
            return self._subtree(conn.cursor(), start, end)

    # -- reading back --------------------------------------------------------------------

    def head(self) -> tuple[int, bytes]:
        """Last sequence number and its chain value."""
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute("SELECT seq, chain FROM journal_entries ORDER BY seq DESC LIMIT 1")
            row = cur.fetchone()
            if row is not None:
                return int(row[0]), bytes(row[1])
            base = self._purge_base(cur)
            return (base.tree_size, base.chain_head) if base else (0, GENESIS)

    def _decode(self, rows: Sequence[tuple[Any, Any]]) -> list[StoredEntry]:
        return [StoredEntry(int(seq), entry_from_canonical(bytes(body))) for seq, body in rows]

    def entry(self, seq: int) -> StoredEntry | None:
        """One entry by sequence number."""
        body = self.body(seq)
        return StoredEntry(seq, entry_from_canonical(body)) if body is not None else None

    def body(self, seq: int) -> bytes | None:
        """The canonical form of one entry."""
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute(self._sql.q("SELECT body FROM journal_entries WHERE seq = ?"), (seq,))
            row = cur.fetchone()
        if row is None:
            return None
        value = row[0]
        # A damaged row may hold a value of another type: its bytes, for the hash to refuse.
        return bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()

    def who_consulted(
        self, ft_id: str, offset: int, limit: int, *, by_agents_only: bool = False
    ) -> list[StoredEntry]:
        """Entries concerning a person, newest first: the entries not yet in the derived index
        (a fraction of a second's worth), then the index ``journal_by_person (ft_id, seq)``."""
        only = " AND e.agent_login <> ''" if by_agents_only else ""
        with self._conn() as conn:
            cur = conn.cursor()
            upto = self._watermark(cur)  # read first: the index only grows past it
            cur.execute(
                self._sql.q(
                    "SELECT e.seq, e.body FROM journal_persons p JOIN journal_entries e "  # noqa: S608 - fixed text; values are bound
                    f"ON e.seq = p.seq WHERE p.seq > ? AND p.ft_id = ?{only} "
                    "ORDER BY p.seq DESC"
                ),
                (upto, ft_id),
            )
            rows = cur.fetchall()
            newer = rows[offset : offset + limit]
            want = limit - len(newer)
            if want > 0:
                cur.execute(
                    self._sql.q(
                        "SELECT e.seq, e.body FROM journal_by_person b JOIN journal_entries e "  # noqa: S608 - fixed text; values are bound
                        f"ON e.seq = b.seq WHERE b.ft_id = ? AND b.seq <= ?{only} "
                        "ORDER BY b.seq DESC LIMIT ? OFFSET ?"
                    ),
                    (ft_id, upto, want, max(0, offset - len(rows))),
                )
                newer += cur.fetchall()
            found = self._decode(newer)
        # The index is a copy; only entries whose signed form names the person count.
        return [s for s in found if ft_id in s.entry.persons]

    def activity(
        self,
        since: dt.datetime,
        until: dt.datetime,
        *,
        agent_login: str = "",
        session_id: str = "",
        offset: int = 0,
        limit: int = 100,
    ) -> list[StoredEntry]:
        """What an agent (or one session) did in ``[since, until)``, oldest first."""
        window = (self._sql.at(since), self._sql.at(until))
        with self._conn() as conn:
            cur = conn.cursor()
            if not (agent_login or session_id):
                cur.execute(
                    self._sql.q(
                        "SELECT seq, body FROM journal_entries WHERE at >= ? AND at < ? "
                        "ORDER BY at, seq LIMIT ? OFFSET ?"
                    ),
                    (*window, limit, offset),
                )
                return self._decode(cur.fetchall())
            table, key, value = (
                ("journal_by_agent", "agent_login", agent_login)
                if agent_login
                else ("journal_by_session", "session_id", session_id)
            )
            upto = self._watermark(cur)
            cur.execute(
                self._sql.q(
                    f"SELECT e.at, e.seq, e.body FROM {table} b JOIN journal_entries e "  # noqa: S608
                    f"ON e.seq = b.seq WHERE b.{key} = ? AND b.at >= ? AND b.at < ? "
                    "AND b.seq <= ? ORDER BY b.at, b.seq LIMIT ?"
                ),
                (value, *window, upto, offset + limit),
            )
            rows = cur.fetchall()
            cur.execute(
                self._sql.q(
                    "SELECT at, seq, body FROM journal_entries WHERE seq > ? "  # noqa: S608
                    f"AND {key} = ? AND at >= ? AND at < ?"
                ),
                (upto, value, *window),
            )
            rows += cur.fetchall()
        rows.sort(key=lambda r: (self._sql.read_at(r[0]), r[1]))
        found = self._decode([(seq, body) for _, seq, body in rows[offset : offset + limit]])
        return [
            s
            for s in found
            if (not agent_login or s.entry.agent_login == agent_login)
            and (not session_id or s.entry.session_id == session_id)
        ]

    def scoped_entries(
        self,
        since: dt.datetime | None,
        until: dt.datetime | None,
        *,
        agent_logins: Sequence[str] = (),
        session_id: str = "",
        org_id: str = "",
        whole_window: bool = False,
    ) -> Iterator[tuple[int, bytes]]:
        """``(seq, canonical form)`` of the entries of these agents (or this session, or this
        organisation) in ``[since, until]``, streamed: read from the derived index up to its
        watermark, then the few newer entries directly; never a list in memory.
        ``whole_window``: every entry of the window (a network in doubt has no index; the
        caller filters on the canonical form)."""
        window, bounds = "", []
        if since is not None:
            window += " AND {t}.at >= ?"
            bounds.append(self._sql.at(since))
        if until is not None:
            window += " AND {t}.at <= ?"
            bounds.append(self._sql.at(until))
        with self._conn() as conn:
            upto = self._watermark(conn.cursor())
            queries: list[tuple[str, list[object]]] = []
            if agent_logins or session_id:
                table, key, values = (
                    ("journal_by_agent", "agent_login", list(dict.fromkeys(agent_logins)))
                    if agent_logins
                    else ("journal_by_session", "session_id", [session_id])
                )
                for value in values:
                    queries.append(
                        (
                            f"SELECT e.seq, e.body FROM {table} b JOIN journal_entries e "  # noqa: S608 - fixed names; values are bound
                            f"ON e.seq = b.seq WHERE b.{key} = ? AND b.seq <= ?"
                            + window.format(t="b"),
                            [value, upto, *bounds],
                        )
                    )
                    queries.append(
                        (
                            f"SELECT e.seq, e.body FROM journal_entries e WHERE e.seq > ? "  # noqa: S608 - fixed names; values are bound
                            f"AND e.{key} = ?" + window.format(t="e"),
                            [upto, value, *bounds],
                        )
                    )
            elif org_id:
                queries.append(
                    (
                        "SELECT e.seq, e.body FROM journal_entries e WHERE e.org_id = ?"  # noqa: S608 - fixed text; values are bound
                        + window.format(t="e"),
                        [org_id, *bounds],
                    )
                )
            elif whole_window:
                queries.append(
                    (
                        "SELECT e.seq, e.body FROM journal_entries e WHERE 1 = 1"  # noqa: S608 - fixed text; values are bound
                        + window.format(t="e"),
                        list(bounds),
                    )
                )
            for sql, params in queries:
                yield from self._stream(conn, self._sql.q(sql), params)

    def _stream(self, conn: Any, sql: str, params: Sequence[object]) -> Iterator[tuple[int, bytes]]:
        if self._sql.sqlite:
            for seq, body in conn.execute(sql, params):
                yield seq, body
            return
        # A server-side cursor: the rows come in batches, never all at once.
        with conn.cursor(name="rempart_journal_scoped") as cur:
            cur.itersize = 20_000
            cur.execute(sql, params)
            for seq, body in cur:
                yield int(seq), bytes(body)
        conn.rollback()

    def volumes(self, since: dt.datetime, until: dt.datetime) -> list[tuple[dt.date, str, int]]:
        """Entries per (UTC day, organisation) in ``[since, until)``."""
        day = self._sql.day()
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute(
                self._sql.q(
                    f"SELECT {day} AS day, org_id, count(*) FROM journal_entries "  # noqa: S608
                    "WHERE at >= ? AND at < ? GROUP BY 1, 2 ORDER BY 1, 2"
                ),
                (self._sql.at(since), self._sql.at(until)),
            )
            rows = cur.fetchall()
        return [
            (d if isinstance(d, dt.date) else dt.date.fromisoformat(d), org, int(n))
            for d, org, n in rows
        ]

    # -- verification, proofs, retention ---------------------------------------------------

    def _read_checkpoint(self, row: Sequence[Any]) -> Checkpoint:
        """A stored checkpoint; a damaged row reads back as one whose signature cannot hold
        (verification reports it), never as an exception."""
        size, root, chain, at, kind, key_id, sig = row[:7]
        origin, note_sig = (row[7], row[8]) if len(row) > 7 else ("", None)
        try:
            return Checkpoint(
                int(size),
                _blob(root),
                _blob(chain),
                self._sql.read_at(at),
                CheckpointKind(kind),
                str(key_id),
                _blob(sig),
                origin=str(origin or ""),
                note_signature=_blob(note_sig) if note_sig is not None else b"",
            )
        except (TypeError, ValueError, OverflowError):
            return Checkpoint(
                size if isinstance(size, int) else 0,
                b"",
                b"",
                dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
                CheckpointKind.PERIODIC,
                "damaged",
            )

    def _checkpoint_columns(self) -> str:
        base = "tree_size, root, chain_head, at, kind, key_id, signature"
        return base + ", origin, note_signature" if self._notes else base

    def _purge_base(self, cur: Any) -> Checkpoint | None:
        cur.execute(
            f"SELECT {self._checkpoint_columns()} FROM journal_checkpoints "  # noqa: S608
            "WHERE kind = 'purge' ORDER BY tree_size DESC, id DESC LIMIT 1"
        )
        row = cur.fetchone()
        return self._read_checkpoint(row) if row else None

    def purge_base(self) -> Checkpoint | None:
        """The retention boundary the remaining entries start after, if any."""
        with self._conn() as conn:
            return self._purge_base(conn.cursor())

    def checkpoints(self) -> list[Checkpoint]:
        """Every stored checkpoint, by tree size."""
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute(
                f"SELECT {self._checkpoint_columns()} FROM journal_checkpoints "  # noqa: S608
                "ORDER BY tree_size, id"
            )
            return [self._read_checkpoint(r) for r in cur.fetchall()]

    # -- publication: the latest checkpoint, its cosignatures ------------------------------

    def latest_published(self) -> Checkpoint | None:
        """The latest checkpoint signed in the C2SP note form, if any."""
        if not self._notes:
            return None
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute(
                f"SELECT {self._checkpoint_columns()} FROM journal_checkpoints "  # noqa: S608
                "WHERE note_signature IS NOT NULL AND origin <> '' "
                "ORDER BY tree_size DESC, id DESC LIMIT 1"
            )
            row = cur.fetchone()
        return self._read_checkpoint(row) if row else None

    def cosignatures(self, tree_size: int, root: bytes) -> list[Cosignature]:
        """The witnesses' cosignatures of the checkpoint of ``tree_size`` with ``root``,
        the latest of each witness key."""
        if not self._notes:
            return []
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute(
                self._sql.q(
                    "SELECT witness, key_hash, timestamp, signature FROM journal_cosignatures "
                    "WHERE tree_size = ? AND root = ? ORDER BY timestamp DESC, id DESC"
                ),
                (tree_size, root),
            )
            rows = cur.fetchall()
        latest: dict[tuple[str, bytes], Cosignature] = {}
        for witness, kh, ts, sig in rows:
            c = Cosignature(tree_size, root, str(witness), _blob(kh), int(ts), _blob(sig))
            latest.setdefault((c.witness, c.key_hash), c)
        return sorted(latest.values(), key=lambda c: (c.witness, c.key_hash))

    def add_cosignatures(self, cosignatures: Sequence[Cosignature]) -> None:
        """Record verified cosignatures (append-only, like everything here)."""
        if not cosignatures:
            return
        if not self._notes:
            raise PolicyError(
                "the journal's schema predates published checkpoints: run "
                "`rempart journal init --journal URL` as its owner"
            )
        now = self._sql.at(self._clock.now())
        with self._conn() as conn:
            cur = conn.cursor()
            try:
                self._begin(cur)
                for c in cosignatures:
                    cur.execute(
                        self._sql.q(
                            "INSERT INTO journal_cosignatures (tree_size, root, witness, "
                            "key_hash, timestamp, signature, received_at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)"
                        ),
                        (c.tree_size, c.root, c.witness, c.key_hash, c.timestamp, c.signature, now),
                    )
                self._commit(conn, cur)
            except BaseException:
                self._rollback(conn, cur)
                raise

    def nodes(self) -> dict[tuple[int, int], bytes]:
        """The stored perfect Merkle subtrees, by (level, index)."""
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute("SELECT level, idx, hash FROM journal_nodes")
            # A damaged row (a value of another type) counts as no node: verification then
            # reports the node it should have been as missing.
            return {
                (lv, i): bytes(h)
                for lv, i, h in cur.fetchall()
                if isinstance(lv, int) and isinstance(i, int) and isinstance(h, bytes | memoryview)
            }

    def rows(self, after: int) -> Iterator[tuple[int, bytes, bytes]]:
        """``(seq, canonical entry, chain)`` after ``after``, streamed in order."""
        with self._conn() as conn:
            # CAST: a value of another type written over a row (SQLite lets that happen) is
            # checked as the bytes it is, not raised as a TypeError.
            sql = (
                "SELECT seq, CAST(body AS BLOB), CAST(chain AS BLOB) FROM journal_entries "
                "WHERE seq > ? ORDER BY seq"
                if self._sql.sqlite
                else "SELECT seq, body, chain FROM journal_entries WHERE seq > %s ORDER BY seq"
            )
            if self._sql.sqlite:
                yield from conn.execute(sql, (after,))
            else:
                # A server-side cursor: a journal of millions of rows never sits in memory.
                with conn.cursor(name="rempart_journal_scan") as cur:
                    cur.itersize = 20_000
                    cur.execute(sql, (after,))
                    yield from cur
                conn.rollback()

    def index_mismatch(self, after: int) -> int | None:
        """The first entry whose query columns, person rows or derived index rows disagree with
        its canonical form (they are copies for the indexes; the hash covers only that form).

        Runs inside the database (SQLite releases the GIL meanwhile), so the caller can hash
        the chain in parallel.
        """
        if self._sql.sqlite:
            stmts = [
                # A body that is not JSON at all is a mismatch (and a broken chain), never a
                # "malformed JSON" error: the statement runs first as it is (one JSON parse per
                # entry), and on such an error again with each body checked to be JSON first.
                "SELECT min(e.seq) FROM journal_entries e WHERE e.seq > ? AND CASE WHEN "
                "{guard} THEN 1 ELSE "
                "json_extract(CAST(e.body AS TEXT), '$.at', '$.agent_login', '$.org_id', "
                "'$.session_id', '$.persons') IS NOT "
                # The expected array, built as text: no JSON parse of what the index holds.
                "(rtrim(json_array(e.at, e.agent_login, e.org_id, e.session_id), ']') || ',' "
                "|| coalesce('[\"' || (SELECT group_concat(p.ft_id, '\",\"') "
                "FROM journal_persons p WHERE p.seq = e.seq) || '\"]', '[]') || ']') "
                # The array texts can differ on escapes alone: confirm field by field.
                "AND (json_extract(CAST(e.body AS TEXT), '$.at') IS NOT e.at "
                "OR json_extract(CAST(e.body AS TEXT), '$.agent_login') IS NOT e.agent_login "
                "OR json_extract(CAST(e.body AS TEXT), '$.org_id') IS NOT e.org_id "
                "OR json_extract(CAST(e.body AS TEXT), '$.session_id') IS NOT e.session_id "
                "OR json_array_length(CAST(e.body AS TEXT), '$.persons') IS NOT "
                "(SELECT count(*) FROM journal_persons p WHERE p.seq = e.seq) "
                "OR EXISTS (SELECT 1 FROM journal_persons p WHERE p.seq = e.seq AND NOT EXISTS "
                "(SELECT 1 FROM json_each(CAST(e.body AS TEXT), '$.persons') j "
                "WHERE j.value = p.ft_id))) END",
            ]
        else:
            stmts = [
                "SELECT min(e.seq) FROM journal_entries e, "
                "LATERAL (SELECT convert_from(e.body, 'UTF8')::jsonb AS j) x WHERE e.seq > ? AND ("
                "(x.j->>'at')::timestamptz IS DISTINCT FROM e.at "
                "OR x.j->>'agent_login' IS DISTINCT FROM e.agent_login "
                "OR x.j->>'org_id' IS DISTINCT FROM e.org_id "
                "OR x.j->>'session_id' IS DISTINCT FROM e.session_id "
                "OR x.j->'persons' IS DISTINCT FROM coalesce((SELECT jsonb_agg(p.ft_id ORDER BY "
                "p.ft_id) FROM journal_persons p WHERE p.seq = e.seq), '[]'::jsonb))",
            ]
        stmts.append(
            "SELECT min(p.seq) FROM journal_persons p WHERE p.seq > ? AND NOT EXISTS "
            "(SELECT 1 FROM journal_entries e WHERE e.seq = p.seq)"
        )
        with self._conn() as conn:
            cur = conn.cursor()
            upto = self._watermark(cur)
            cur.execute("SELECT max(seq) FROM journal_entries")
            head = int(cur.fetchone()[0] or 0)
        found: list[int] = []
        if upto > max(head, after):
            found.append(max(head, after) + 1)  # the watermark claims entries that do not exist
        # Every durable row up to the watermark has its derived row...
        probes = [
            "SELECT min(p.seq) FROM journal_persons p WHERE p.seq > ? AND p.seq <= ? AND "
            "NOT EXISTS (SELECT 1 FROM journal_by_person b WHERE b.ft_id = p.ft_id "
            "AND b.seq = p.seq)",
            "SELECT min(e.seq) FROM journal_entries e WHERE e.seq > ? AND e.seq <= ? AND "
            "e.agent_login <> '' AND NOT EXISTS (SELECT 1 FROM journal_by_agent b WHERE "
            "b.agent_login = e.agent_login AND b.at = e.at AND b.seq = e.seq)",
            "SELECT min(e.seq) FROM journal_entries e WHERE e.seq > ? AND e.seq <= ? AND "
            "e.session_id <> '' AND NOT EXISTS (SELECT 1 FROM journal_by_session b WHERE "
            "b.session_id = e.session_id AND b.at = e.at AND b.seq = e.seq)",
        ]
        jobs = [(sql, (after,)) for sql in stmts] + [(sql, (after, upto)) for sql in probes]
        # Each statement on its own connection: SQLite runs them side by side, GIL released.
        workers = 1 if self._memory else len(jobs)
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            found += [v for v in pool.map(lambda job: self._guarded(*job), jobs) if v is not None]
        # ... and no derived row is there that the durable tables do not back (fewer rows
        # than durable ones were named by the probes above).
        for (table, key), durable in zip(DERIVED, self._durable_counts(after, upto), strict=True):
            derived = self._count(
                f"SELECT count(*) FROM {table} WHERE seq > ? AND seq <= ?",  # noqa: S608 - fixed names
                after,
                upto,
            )
            if derived > durable:
                found.append(self._first_unbacked(table, key, after, upto) or after + 1)
        return min(found, default=None)

    def _guarded(self, sql: str, params: tuple[int, ...]) -> int | None:
        """``_first`` of a statement with a ``{guard}`` against bodies that are not JSON:
        unguarded first, guarded only when SQLite meets such a body."""
        if "{guard}" not in sql:
            return self._first(sql, params)
        try:
            return self._first(sql.replace("{guard}", "0"), params)
        except Exception as exc:  # sqlite3.OperationalError: malformed JSON
            if "JSON" not in str(exc):
                raise
            guard = "NOT json_valid(CAST(e.body AS TEXT))"
            return self._first(sql.replace("{guard}", guard), params)

    def _first(self, sql: str, params: tuple[int, ...]) -> int | None:
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute(self._sql.q(sql), params)
            row = cur.fetchone()
        if not row or row[0] is None:
            return None
        # A sequence number of another type (a damaged row) sorts after every number:
        # blame the first entry checked.
        return row[0] if isinstance(row[0], int) else params[0] + 1

    def _count(self, sql: str, *params: int) -> int:
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute(self._sql.q(sql), params)
            return int(cur.fetchone()[0])

    def _durable_counts(self, after: int, upto: int) -> list[int]:
        """Rows each derived index must hold: those of the durable tables up to the mark."""
        window = "seq > ? AND seq <= ?"
        return [
            self._count(f"SELECT count(*) FROM journal_persons WHERE {window}", after, upto),  # noqa: S608 - fixed text
            self._count(
                f"SELECT count(*) FROM journal_entries WHERE {window} AND agent_login <> ''",  # noqa: S608 - fixed text
                after,
                upto,
            ),
            self._count(
                f"SELECT count(*) FROM journal_entries WHERE {window} AND session_id <> ''",  # noqa: S608 - fixed text
                after,
                upto,
            ),
        ]

    def _first_unbacked(self, table: str, key: str, after: int, upto: int) -> int | None:
        """The lowest seq of a derived row the durable tables do not back (the slow path)."""
        if table == "journal_by_person":
            back = "SELECT 1 FROM journal_persons p WHERE p.seq = b.seq AND p.ft_id = b.ft_id"
        else:
            back = (
                f"SELECT 1 FROM journal_entries e WHERE e.seq = b.seq AND e.{key} = b.{key} "  # noqa: S608 - fixed names
                "AND e.at = b.at"
            )
        return self._first(
            f"SELECT min(b.seq) FROM {table} b WHERE b.seq > ? AND b.seq <= ? "  # noqa: S608 - fixed names
            f"AND NOT EXISTS ({back})",
            (after, upto),
        )

    def checkpoint(self, kind: CheckpointKind = CheckpointKind.MANUAL) -> Checkpoint:
        """Sign and store a checkpoint of the journal as it is now."""
        with self._conn() as conn:
            cur = conn.cursor()
            try:
                self._begin(cur)
                head = self._load_head(cur)
                cp = self._sign(head.seq, head.frontier.root(), head.chain, kind)
                self._insert_checkpoint(cur, cp)
                self._commit(conn, cur)
            except BaseException:
                self._rollback(conn, cur)
                raise
        return cp

    def last_seq_before(self, at: dt.datetime) -> int:
        """The highest seq such that it and every entry before it are older than ``at``."""
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute(
                self._sql.q("SELECT min(seq) FROM journal_entries WHERE at >= ?"),
                (self._sql.at(at),),
            )
            first_kept = cur.fetchone()[0]
        if first_kept is None:
            return self.head()[0]
        return int(first_kept) - 1

    def purge(self, cut: int) -> Checkpoint:
        """Delete entries up to ``cut`` (a multiple of the node block) behind a signed purge
        checkpoint at ``cut``, in one transaction: the rest stays verifiable from it."""
        if cut % BLOCK:
            raise Conflict(f"the purge boundary must be a multiple of {BLOCK}")
        with self._conn() as conn:
            cur = conn.cursor()
            try:
                self._begin(cur)
                chain = self._purge_checks(cur, cut)
                frontier = Frontier.at(cut, lambda s, e: self._subtree(cur, s, e))
                cp = self._sign(cut, frontier.root(), chain, CheckpointKind.PURGE)
                self._insert_checkpoint(cur, cp)
                self._delete_up_to(cur, cut)
                self._commit(conn, cur)
            except BaseException:
                self._rollback(conn, cur)
                raise
        self._head = None
        return cp

    def _purge_checks(self, cur: Any, cut: int) -> bytes:
        """The chain value at ``cut``, once sure a purge up to it makes sense."""
        base = self._purge_base(cur)
        if base is not None and cut <= base.tree_size:
            raise Conflict(f"entries up to {base.tree_size} are already purged")
        cur.execute(self._sql.q("SELECT chain FROM journal_entries WHERE seq = ?"), (cut,))
        row = cur.fetchone()
        if row is None:
            raise JournalTampered(cut, f"entry {cut} is missing: cannot purge up to it")
        return bytes(row[0])

    def _delete_up_to(self, cur: Any, cut: int) -> None:
        if self._sql.sqlite:
            # Lifted and restored inside this transaction: no other connection sees a gap.
            for t in PURGEABLE:
                cur.execute(f"DROP TRIGGER {t}_no_delete")
            for t in PURGEABLE:
                cur.execute(f"DELETE FROM {t} WHERE seq <= ?", (cut,))  # noqa: S608 - fixed names
            for t in PURGEABLE:
                cur.execute(sqlite_trigger(t, "DELETE"))
        else:
            cur.execute("SELECT set_config('rempart.journal_purge_upto', %s, true)", (str(cut),))
            for t in PURGEABLE:
                cur.execute(f"DELETE FROM {t} WHERE seq <= %s", (cut,))  # noqa: S608

    # -- bulk loading (benchmarks, imports) -------------------------------------------------

    def bulk_append(
        self,
        entries: Iterator[JournalEntry],
        batch: int = 50_000,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Append many entries in large transactions, through the same hashing and checkpoint
        rules as ``append`` (a faster path for building big journals, not for live traffic)."""
        self.start()  # the WAL checkpointer must run during a bulk load too
        total = 0
        chunk: list[_Prepared] = []
        for e in entries:
            chunk.append(self._prepare(e))
            if len(chunk) >= batch:
                self._write([_Pending(chunk)])
                total += len(chunk)
                chunk = []
                if progress:
                    progress(total)
        if chunk:
            self._write([_Pending(chunk)])
            total += len(chunk)
        return total
