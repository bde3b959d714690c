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

import contextlib
import datetime as dt
import hashlib
import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.pool import PoolProxiedConnection

from rempart.adapters.sql.engine import is_sqlite, make_engine, sqlite_path
from rempart.adapters.sql.journal_schema import (
    PURGEABLE,
    SCHEMA_VERSION,
    postgres_ddl,
    postgres_grants,
    sqlite_ddl,
    sqlite_trigger,
)
from rempart.domain.errors import Conflict, JournalTampered, PolicyError
from rempart.domain.journal import (
    JournalEntry,
    StoredEntry,
    canonical_bytes,
    entry_from_canonical,
    format_time,
    parse_time,
)
from rempart.domain.journal_integrity import (
    BLOCK,
    GENESIS,
    NODE_LEVEL,
    Checkpoint,
    CheckpointKind,
)
from rempart.domain.merkle import Frontier, leaf_hash, node_hash, root_of
from rempart.domain.ports import CheckpointSigner, Clock

log = logging.getLogger("rempart.journal")

_WHO = (
    "SELECT e.seq, e.body FROM journal_persons p JOIN journal_entries e ON e.seq = p.seq "
    "WHERE p.ft_id = ? ORDER BY p.seq DESC LIMIT ? OFFSET ?"
)
_WHO_BY_AGENTS = (
    "SELECT e.seq, e.body FROM journal_persons p JOIN journal_entries e ON e.seq = p.seq "
    "WHERE p.ft_id = ? AND e.agent_login <> '' ORDER BY p.seq DESC LIMIT ? OFFSET ?"
)

_CACHE_KIB = int(os.environ.get("REMPART_JOURNAL_CACHE_KIB", "131072"))  # per connection
_MMAP_BYTES = 1 << 30
_PG_LOCK = 0x52454D50  # "REMP": the advisory lock serialising appends across processes


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
    cur.close()
    dbapi_conn.isolation_level = None  # this store issues BEGIN/COMMIT itself


# An entry ready for the writer: (canonical form, leaf hash, at, agent_login, org_id,
# session_id, persons). A plain tuple: one is built per request, it must be cheap.
_Prepared = tuple[bytes, bytes, object, str, str, str, list[str]]


class _Pending:
    __slots__ = ("done", "error", "items", "last")

    def __init__(self, items: list[_Prepared]) -> None:
        self.items = items
        self.done = threading.Event()
        self.last = 0
        self.error: BaseException | None = None


@dataclass(slots=True)
class _Head:
    seq: int
    chain: bytes
    frontier: Frontier
    checkpoint_size: int
    checkpoint_mono: float


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
    ) -> None:
        self.url = url
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
        self._cond = threading.Condition()  # guards the queue; only the writer waits on it
        self._queue: deque[_Pending] = deque()
        self._queued = 0
        self._preparing = 0  # callers between entering ``append`` and queueing their entries
        self._closing = False
        self._closed = False
        self._head: _Head | None = None
        self._thread: threading.Thread | None = None
        self.commits = 0  # transactions written: appends / commits is the group-commit factor
        self._checkpointer: threading.Thread | None = None
        self._stopping = threading.Event()  # tells the checkpointer to stop

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
            return {k: bytes(v) for k, v in cur.fetchall()}

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
        with self._cond:
            self._preparing += 1
        try:
            pending = _Pending([self._prepare(e) for e in entries])
        except BaseException:
            with self._cond:
                self._preparing -= 1
            raise
        with self._cond:
            self._preparing -= 1
            if self._closing:
                raise RuntimeError("the journal is closed")
            self._queue.append(pending)
            self._queued += len(pending.items)
            self._ensure_writer()
            self._cond.notify()
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.last

    def _ensure_writer(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="rempart-journal-writer", daemon=True
            )
            self._thread.start()
            if self._sql.sqlite and not self._memory:
                self._checkpointer = threading.Thread(
                    target=self._checkpoint_wal, name="rempart-journal-wal", daemon=True
                )
                self._checkpointer.start()

    def _checkpoint_wal(self) -> None:
        """Copy the WAL into the database now and then, beside the writer (PASSIVE: never
        blocks it). SQLite does this work without the GIL, on another core."""
        seen = self.commits
        while not self._stopping.wait(0.25):
            if self.commits != seen:
                seen = self.commits
                try:
                    with self._conn() as conn:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except Exception:  # retried at the next tick
                    log.warning("journal WAL checkpoint failed", exc_info=True)

    def start(self) -> None:
        """Start the writer now (it also signs time-based checkpoints while idle)."""
        with self._cond:
            self._ensure_writer()

    def close(self) -> None:
        """Commit what is queued, sign a last checkpoint, stop the writer, release the pool."""
        with self._cond:
            if self._closed:
                return
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()
        if self._checkpointer is not None:
            self._stopping.set()
            self._checkpointer.join()
            with contextlib.suppress(Exception), self._conn() as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._closed = True
        self._engine.dispose()

    def _take(self) -> list[_Pending] | None:
        """The next batch; [] when only a timed checkpoint is due; None when closing."""
        with self._cond:
            while not self._queue:
                if self._closing:
                    return None
                timeout = self._checkpoint_due_in()
                if timeout is not None and timeout <= 0:
                    return []
                self._cond.wait(timeout)
            # Callers are still serialising their entries: wait for them, a bounded moment.
            if self._group_wait > 0 and self._preparing:
                deadline = time.monotonic() + self._group_wait
                while self._preparing and self._queued < self._group_max and not self._closing:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            batch: list[_Pending] = []
            count = 0
            while self._queue and (
                not batch or count + len(self._queue[0].items) <= self._group_max
            ):
                p = self._queue.popleft()
                batch.append(p)
                count += len(p.items)
            self._queued -= count
            return batch

    def _checkpoint_due_in(self) -> float | None:
        head = self._head
        if head is None or self._signer is None or head.seq <= head.checkpoint_size:
            return None
        return head.checkpoint_mono + self._period - time.monotonic()

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                break
            try:
                self._write(batch)
            except BaseException as exc:  # handed to every waiting caller
                self._head = None  # re-read from the database next time
                log.exception("journal append failed")
                for p in batch:
                    p.error = exc
            finally:
                for p in batch:
                    p.done.set()
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
        q = self._sql.q
        cur.executemany(
            q(
                "INSERT INTO journal_entries (seq, at, agent_login, org_id, session_id, body, "
                "chain) VALUES (?, ?, ?, ?, ?, ?, ?)"
            ),
            entries,
        )
        if persons:
            cur.executemany(q("INSERT INTO journal_persons (seq, ft_id) VALUES (?, ?)"), persons)
        if nodes:
            cur.executemany(
                q("INSERT INTO journal_nodes (level, idx, hash) VALUES (?, ?, ?)"), nodes
            )

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
        return replace(cp, signature=self._signer.sign(cp.signed_text()))

    def _insert_checkpoint(self, cur: Any, cp: Checkpoint) -> None:
        cur.execute(
            self._sql.q(
                "INSERT INTO journal_checkpoints (tree_size, root, chain_head, at, kind, key_id, "
                "signature) VALUES (?, ?, ?, ?, ?, ?, ?)"
            ),
            (
                cp.tree_size,
                cp.root,
                cp.chain_head,
                self._sql.at(cp.at),
                str(cp.kind),
                cp.key_id,
                cp.signature,
            ),
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
            if row is not None:
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
            if seq != expected:
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
            return bytes(row[0]) if row else None

    def who_consulted(
        self, ft_id: str, offset: int, limit: int, *, by_agents_only: bool = False
    ) -> list[StoredEntry]:
        """Entries concerning a person, newest first (index ``journal_persons (ft_id, seq)``)."""
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute(
                self._sql.q(_WHO_BY_AGENTS if by_agents_only else _WHO),
                (ft_id, limit, offset),
            )
            found = self._decode(cur.fetchall())
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
        where = ["at >= ?", "at < ?"]
        params: list[object] = [self._sql.at(since), self._sql.at(until)]
        if agent_login:
            where.insert(0, "agent_login = ?")
            params.insert(0, agent_login)
        if session_id:
            where.insert(0, "session_id = ?")
            params.insert(0, session_id)
        sql = (
            "SELECT seq, body FROM journal_entries WHERE "  # noqa: S608 - fixed fragments
            + " AND ".join(where)
            + " ORDER BY at, seq LIMIT ? OFFSET ?"
        )
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute(self._sql.q(sql), (*params, limit, offset))
            found = self._decode(cur.fetchall())
        return [
            s
            for s in found
            if (not agent_login or s.entry.agent_login == agent_login)
            and (not session_id or s.entry.session_id == session_id)
        ]

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
        size, root, chain, at, kind, key_id, sig = row
        return Checkpoint(
            int(size),
            bytes(root),
            bytes(chain),
            self._sql.read_at(at),
            CheckpointKind(kind),
            key_id,
            bytes(sig),
        )

    _CHECKPOINT_COLUMNS = "tree_size, root, chain_head, at, kind, key_id, signature"

    def _purge_base(self, cur: Any) -> Checkpoint | None:
        cur.execute(
            f"SELECT {self._CHECKPOINT_COLUMNS} FROM journal_checkpoints "  # noqa: S608
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
                f"SELECT {self._CHECKPOINT_COLUMNS} FROM journal_checkpoints "  # noqa: S608
                "ORDER BY tree_size, id"
            )
            return [self._read_checkpoint(r) for r in cur.fetchall()]

    def nodes(self) -> dict[tuple[int, int], bytes]:
        """The stored perfect Merkle subtrees, by (level, index)."""
        with self._conn() as conn:
            cur = conn.cursor()
            cur.execute("SELECT level, idx, hash FROM journal_nodes")
            return {(int(lv), int(i)): bytes(h) for lv, i, h in cur.fetchall()}

    def rows(self, after: int) -> Iterator[tuple[int, bytes, bytes]]:
        """``(seq, canonical entry, chain)`` after ``after``, streamed in order."""
        with self._conn() as conn:
            sql = self._sql.q(
                "SELECT seq, body, chain FROM journal_entries WHERE seq > ? ORDER BY seq"
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
        """The first entry whose query columns or person rows disagree with its canonical form.

        Runs as one statement inside the database (SQLite releases the GIL meanwhile), so the
        caller can hash the chain in parallel.
        """
        if self._sql.sqlite:
            stmts = [
                "SELECT min(e.seq) FROM journal_entries e WHERE e.seq > ? AND "
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
                "WHERE j.value = p.ft_id)))",
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
        found: list[int] = []
        with self._conn() as conn:
            cur = conn.cursor()
            for sql in stmts:
                cur.execute(self._sql.q(sql), (after,))
                row = cur.fetchone()
                if row and row[0] is not None:
                    found.append(int(row[0]))
        return min(found, default=None)

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
