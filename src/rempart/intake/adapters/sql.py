"""``SqlIntakeStore``: the import's bulk loader on SQLite or PostgreSQL.

Speed without giving up the checks: rows go to the driver in batches (``executemany``) as
hand-written ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` statements, whose ``WHERE`` keeps
a row that has not changed untouched (a second run of the same files writes nothing). One
connection for the whole import: its scratch tables list the relations each file names, so
that the imported relations the file no longer lists can be ended (never deleted) at the end.

On SQLite the connection gets a large page cache; durability stays the portal's (WAL,
``synchronous=NORMAL``): this is real data.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from rempart.db.schema.core import AgentRow
from rempart.db.schema.intake import ImportBatchRow
from rempart.intake.model import (
    COLUMNS,
    AgentRowIn,
    ImportFile,
    OrgRow,
    PersonRowIn,
    RelationRowIn,
    TrainingRowIn,
)
from rempart.intake.ports import AgentRef, Upserted
from rempart.kernel.actors import OrgKind, Role
from rempart.kernel.identifiers import FT_ID_LETTERS

IN_CHUNK = 900  # bound parameters per IN (...) on SQLite
SQLITE_CACHE_KIB = 256 * 1024

_PERSON_COLUMNS = COLUMNS[ImportFile.PERSONS][1:]  # the file's columns after its natural key

_SEEN = {
    ImportFile.ENROLMENTS: "intake_seen_enrolments",
    ImportFile.ASSIGNMENTS: "intake_seen_assignments",
}


def _chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqlIntakeStore:
    """Implements ``IntakeStore`` through one connection of ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._conn: Connection | None = None
        self._cur: Any = None
        self._canaries = True  # until start() finds the register holds none

    # --- the connection --------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return sql if self.sqlite else sql.replace("?", "%s")

    def _date(self, day: dt.date | None) -> Any:
        # SQLAlchemy keeps SQLite dates as ISO text; PostgreSQL takes the date itself.
        if day is None:
            return None
        return day.isoformat() if self.sqlite else day

    def _bool(self, value: bool) -> Any:
        return int(value) if self.sqlite else value

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("the import's connection is not open: call start() first")
        return self._conn

    def start(self) -> None:
        """Open the connection, tune it, create the scratch tables."""
        self._conn = self.engine.connect()
        if self.sqlite:
            self._conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            self._conn.exec_driver_sql("PRAGMA temp_store=FILE")
        self._cur = self._conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self._cur.execute(
            self._sql("SELECT 1 FROM persons WHERE is_canary = ? LIMIT 1"), [self._bool(True)]
        )
        self._canaries = self._cur.fetchone() is not None
        big = "INTEGER" if self.sqlite else "BIGINT"
        for table in _SEEN.values():
            self._cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {table} (a {big} NOT NULL, b {big} NOT NULL,"
                " PRIMARY KEY (a, b))"
            )

    def _end_transaction(self, *, commit: bool) -> None:
        # Statements go both through SQLAlchemy and straight to the driver's cursor: end the
        # transaction on both, or the driver's part would outlive a no-op SQLAlchemy commit.
        dbapi = self.conn.connection.dbapi_connection
        assert dbapi is not None
        if commit:
            self.conn.commit()
            dbapi.commit()
        else:
            self.conn.rollback()
            dbapi.rollback()

    def checkpoint(self) -> None:
        """Commit what was written so far."""
        self._end_transaction(commit=True)

    def finish(self, *, keep: bool) -> None:
        """Commit or roll back, drop the scratch tables, close."""
        try:
            self._end_transaction(commit=keep)
            for table in _SEEN.values():
                self._cur.execute(f"DROP TABLE IF EXISTS {table}")
            self._end_transaction(commit=True)
        finally:
            if self._cur is not None:
                self._cur.close()
                self._cur = None
            self.conn.close()
            self._conn = None

    def _many(self, sql: str, params: Sequence[Sequence[Any]]) -> int:
        if not params:
            return 0
        self._cur.executemany(self._sql(sql), params)
        return int(self._cur.rowcount or 0)

    def _where_in(self, sql: str, values: Sequence[Any], *extra: Any) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` whose ``{in}`` placeholder is bound to ``values``, by chunks."""
        out: list[tuple[Any, ...]] = []
        for chunk in _chunks(list(values)):
            marks = ",".join("?" * len(chunk))
            self._cur.execute(self._sql(sql.format(**{"in": marks})), [*chunk, *extra])
            out.extend(self._cur.fetchall())
        return out

    def _changed(self, table: str, columns: Sequence[str]) -> str:
        """The ``WHERE`` of an upsert: at least one column differs from the incoming row."""
        if self.sqlite:
            return " OR ".join(f"{table}.{c} IS NOT excluded.{c}" for c in columns)
        mine = ", ".join(f"{table}.{c}" for c in columns)
        theirs = ", ".join(f"excluded.{c}" for c in columns)
        return f"({mine}) IS DISTINCT FROM ({theirs})"

    def begin_batch(self, ran_by: str, source: str, at: dt.datetime) -> int:
        """Record the start of a run; return its batch number."""
        row = self.conn.execute(
            insert(ImportBatchRow)
            .values(
                started_at=at, ran_by=ran_by[:128], source=source[:500], counts="{}", rejected=0
            )
            .returning(ImportBatchRow.id)
        ).scalar_one()
        return int(row)

    def end_batch(
        self, batch_id: int, counts: dict[str, object], rejected: int, at: dt.datetime
    ) -> None:
        """Record what the run did."""
        self.conn.execute(
            update(ImportBatchRow)
            .where(ImportBatchRow.id == batch_id)
            .values(finished_at=at, counts=json.dumps(counts, sort_keys=True), rejected=rejected)
        )

    # --- references ------------------------------------------------------------------------

    def organisation_kinds(self, ids: Collection[str]) -> dict[str, OrgKind]:
        """The kind of each existing organisation among ``ids``."""
        rows = self._where_in("SELECT id, kind FROM organisations WHERE id IN ({in})", list(ids))
        return {r[0]: OrgKind(r[1]) for r in rows}

    def agents(self, logins: Collection[str]) -> dict[str, AgentRef]:
        """The existing accounts among ``logins``."""
        rows = self._where_in(
            "SELECT a.login, a.id, a.org_id, o.kind, a.roles FROM agents a"
            " JOIN organisations o ON o.id = a.org_id WHERE a.login IN ({in})",
            list(logins),
        )
        return {
            r[0]: AgentRef(
                int(r[1]), r[2], OrgKind(r[3]), frozenset(Role(x) for x in r[4].split() if x)
            )
            for r in rows
        }

    def person_ids(self, ft_ids: Collection[str]) -> dict[str, int]:
        """Ids of the real people among ``ft_ids``."""
        rows = self._where_in(
            "SELECT ft_id, id FROM persons WHERE ft_id IN ({in}) AND is_canary = ?",
            list(ft_ids),
            self._bool(False),
        )
        return {r[0]: int(r[1]) for r in rows}

    def training_orgs(self, ids: Collection[int]) -> dict[int, str]:
        """The training body of each existing training among ``ids``."""
        rows = self._where_in("SELECT id, org_id FROM trainings WHERE id IN ({in})", list(ids))
        return {int(r[0]): r[1] for r in rows}

    # --- upserts ---------------------------------------------------------------------------

    def _existing(self, sql: str, keys: Sequence[Any]) -> set[Any]:
        return {r[0] for r in self._where_in(sql, keys)}

    def upsert_organisations(self, rows: Sequence[OrgRow]) -> Upserted:
        """Organisations by id."""
        keys = [r.id for r in rows]
        before = self._existing("SELECT id FROM organisations WHERE id IN ({in})", keys)
        cols = ("kind", "name", "siret", "region")
        changed = self._many(
            "INSERT INTO organisations (id, kind, name, siret, region) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in cols)
            + " WHERE "
            + self._changed("organisations", cols),
            [(r.id, str(r.kind), r.name, r.siret, r.region) for r in rows],
        )
        inserted = len(set(keys) - before)
        return Upserted(inserted, changed - inserted)

    def upsert_agents(
        self, rows: Sequence[tuple[AgentRowIn, frozenset[Role]]], at: dt.datetime
    ) -> Upserted:
        """Accounts by login; a new one must enrol before it reads anything."""
        # Few rows: SQLAlchemy Core keeps the stored times in the format the adapters read.
        logins = [r.login for r, _ in rows]
        existing = {
            row.login: row
            for chunk in _chunks(logins)
            for row in self.conn.execute(select(AgentRow).where(AgentRow.login.in_(chunk)))
        }
        new: list[dict[str, object]] = []
        updated = 0
        for row, roles in rows:
            role_text = " ".join(sorted(str(r) for r in roles))
            found = existing.get(row.login)
            if found is None:
                new.append(
                    {
                        "login": row.login,
                        "email": row.email,
                        "org_id": row.org_id,
                        "roles": role_text,
                        "active": True,
                        "created_at": at,
                        "end_date": row.end_date,
                        "training_valid_until": row.training_valid_until,
                        "enrolment_pending": True,
                    }
                )
                continue
            values = {
                "email": row.email,
                "org_id": row.org_id,
                "roles": role_text,
                "end_date": row.end_date,
                "training_valid_until": row.training_valid_until,
            }
            if any(getattr(found, k) != v for k, v in values.items()):
                self.conn.execute(update(AgentRow).where(AgentRow.id == found.id).values(values))
                updated += 1
        if new:
            self.conn.execute(insert(AgentRow), new)
        return Upserted(len(new), updated, tuple(str(n["login"]) for n in new))

    def _move_canaries_aside(self, ft_ids: Sequence[str]) -> None:
        """A canary holding an ft_id the agency now gives a real person takes a fresh one."""
        if not self._canaries:
            return
        clash = self._where_in(
            "SELECT id FROM persons WHERE ft_id IN ({in}) AND is_canary = ?",
            list(ft_ids),
            self._bool(True),
        )
        for (person_id,) in clash:
            while True:
                fresh = f"{secrets.randbelow(10**7):07d}{secrets.choice(FT_ID_LETTERS)}"
                self._cur.execute(self._sql("SELECT 1 FROM persons WHERE ft_id = ?"), [fresh])
                if self._cur.fetchone() is None:
                    break
            self._cur.execute(
                self._sql("UPDATE persons SET ft_id = ? WHERE id = ?"), [fresh, person_id]
            )

    def upsert_persons(self, rows: Sequence[PersonRowIn]) -> Upserted:
        """People by ft_id; last activity starts at the latest registration event."""
        keys = [r.ft_id for r in rows]
        self._move_canaries_aside(keys)
        before = self._existing("SELECT ft_id FROM persons WHERE ft_id IN ({in})", keys)
        d = self._date
        cols = ", ".join(_PERSON_COLUMNS)
        changed = self._many(
            f"INSERT INTO persons (ft_id, {cols}, last_activity_date, is_canary)"
            f" VALUES ({', '.join('?' * (len(_PERSON_COLUMNS) + 3))})"
            " ON CONFLICT (ft_id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in _PERSON_COLUMNS)
            + " WHERE "
            + self._changed("persons", _PERSON_COLUMNS),
            [
                (
                    r.ft_id,
                    r.kind,
                    r.nir,
                    r.last_name,
                    r.first_name,
                    d(r.birth_date),
                    r.email,
                    r.phone,
                    r.address_line,
                    r.postcode,
                    r.city,
                    r.registration_status,
                    d(r.registration_date),
                    d(r.deregistration_date),
                    d(r.rqth_since),
                    d(r.deregistration_date or r.registration_date),
                    self._bool(False),
                )
                for r in rows
            ],
        )
        inserted = len(set(keys) - before)
        return Upserted(inserted, changed - inserted)

    def upsert_trainings(self, rows: Sequence[TrainingRowIn]) -> Upserted:
        """Trainings by id."""
        keys = [r.id for r in rows]
        before = self._existing("SELECT id FROM trainings WHERE id IN ({in})", keys)
        cols = ("org_id", "title", "start_date", "end_date")
        d = self._date
        changed = self._many(
            "INSERT INTO trainings (id, org_id, title, start_date, end_date) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in cols)
            + " WHERE "
            + self._changed("trainings", cols),
            [(r.id, r.org_id, r.title, d(r.start_date), d(r.end_date)) for r in rows],
        )
        if changed and not self.sqlite:
            # Explicit ids do not advance the sequence; the portal's own inserts follow them.
            self._cur.execute(
                "SELECT setval(pg_get_serial_sequence('trainings', 'id'),"
                " GREATEST((SELECT MAX(id) FROM trainings), 1))"
            )
        inserted = len(set(keys) - before)
        return Upserted(inserted, changed - inserted)

    def _pairs_existing(
        self, sql: str, rows: Sequence[tuple[int, int, str, RelationRowIn]]
    ) -> set[tuple[int, int]]:
        persons = sorted({p for _, p, _, _ in rows})
        return {(int(r[0]), int(r[1])) for r in self._where_in(sql, persons)}

    def upsert_enrolments(self, rows: Sequence[tuple[int, int, str, RelationRowIn]]) -> Upserted:
        """Enrolments by (training, person); they become the agency's (imported)."""
        before = self._pairs_existing(
            "SELECT training_id, person_id FROM enrolments WHERE person_id IN ({in})", rows
        )
        # The agency's file is its prescription: an enrolment it lists is confirmed.
        cols = ("org_id", "start_date", "end_date", "imported", "confirmed")
        d = self._date
        changed = self._many(
            "INSERT INTO enrolments"
            " (training_id, person_id, org_id, start_date, end_date, imported, confirmed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (training_id, person_id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in cols)
            + " WHERE "
            + self._changed("enrolments", cols),
            [
                (t, p, org, d(r.start_date), d(r.end_date), self._bool(True), self._bool(True))
                for t, p, org, r in rows
            ],
        )
        self.mark_listed(ImportFile.ENROLMENTS, [(t, p) for t, p, _, _ in rows])
        inserted = len({(t, p) for t, p, _, _ in rows} - before)
        return Upserted(inserted, changed - inserted)

    def upsert_assignments(self, rows: Sequence[tuple[int, int, str, RelationRowIn]]) -> Upserted:
        """The agency's assignments by (adviser, person)."""
        before = self._pairs_existing(
            "SELECT agent_id, person_id FROM assignments WHERE imported AND person_id IN ({in})",
            rows,
        )
        cols = ("org_id", "start_date", "end_date")
        d = self._date
        changed = self._many(
            "INSERT INTO assignments (agent_id, person_id, org_id, start_date, end_date, imported)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (agent_id, person_id) WHERE imported"
            " DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in cols)
            + " WHERE "
            + self._changed("assignments", cols),
            [
                (a, p, org, d(r.start_date), d(r.end_date), self._bool(True))
                for a, p, org, r in rows
            ],
        )
        self.mark_listed(ImportFile.ASSIGNMENTS, [(a, p) for a, p, _, _ in rows])
        inserted = len({(a, p) for a, p, _, _ in rows} - before)
        return Upserted(inserted, changed - inserted)

    # --- relations the agency no longer lists ----------------------------------------------

    def mark_listed(self, file: ImportFile, pairs: Collection[tuple[int, int]]) -> None:
        """Remember these relations as listed by ``file``."""
        self._many(
            f"INSERT INTO {_SEEN[file]} (a, b) VALUES (?, ?) ON CONFLICT DO NOTHING",
            list(pairs),
        )

    def end_unlisted(self, file: ImportFile, today: dt.date) -> list[tuple[str, int]]:
        """End the running imported relations ``file`` no longer lists, as of yesterday."""
        table, a = (
            ("enrolments", "training_id")
            if file is ImportFile.ENROLMENTS
            else ("assignments", "agent_id")
        )
        running = (
            "end_date >= ?"
            if file is ImportFile.ENROLMENTS
            else "(end_date IS NULL OR end_date >= ?)"
        )
        where = (
            f" FROM {table} WHERE imported AND {running} AND NOT EXISTS (SELECT 1 FROM"
            f" {_SEEN[file]} s WHERE s.a = {table}.{a} AND s.b = {table}.person_id)"
        )
        self._cur.execute(
            self._sql(f"SELECT org_id, COUNT(*){where} GROUP BY org_id"), [self._date(today)]
        )
        per_org = [(r[0], int(r[1])) for r in self._cur.fetchall()]
        if per_org:
            yesterday = today - dt.timedelta(days=1)
            self._cur.execute(
                self._sql(f"UPDATE {table} SET end_date = ? WHERE id IN (SELECT id{where})"),
                [self._date(yesterday), self._date(today)],
            )
        return per_org
