"""Run SQLite-converted Sigma rules over ECS events: a SIEM in a file, for tests and hunting.

The events are loaded flattened (``user.name`` is a column) into a table without declared
types, so every value keeps its own: text compares as text, numbers as numbers (a column
declared TEXT would compare ``'1000' < '500'``). Lists are stored as JSON text and booleans as
``true``/``false``, as the SQLite backend expects. Correlations run through the backend's
own plan executor (sliding windows, as the Sigma specification defines them).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from sigma.backends.sqlite.runtime import execute_plan

from rempart.siem.adapters.pysigma import SQLITE_TABLE
from rempart.siem.model import flatten
from rempart.siem.rules import ConvertedRule, Hit


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return value


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteEvents:
    """ECS events in an in-memory SQLite table, and the rules run over them."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:")
        self.columns: set[str] = set()
        self.db.execute(f"CREATE TABLE {SQLITE_TABLE} ({_quote('@timestamp')})")
        self.columns.add("@timestamp")
        self.count = 0

    def load(self, events: Iterable[dict[str, Any]]) -> int:
        """Add events (nested ECS objects); the number added."""
        n = 0
        for event in events:
            row = {k: _cell(v) for k, v in flatten(event).items()}
            for name in row.keys() - self.columns:
                self.db.execute(f"ALTER TABLE {SQLITE_TABLE} ADD COLUMN {_quote(name)}")
                self.columns.add(name)
            names = list(row)
            self.db.execute(
                # Column names are quoted identifiers; every value is bound.
                f"INSERT INTO {SQLITE_TABLE} ({', '.join(map(_quote, names))}) "  # noqa: S608
                f"VALUES ({', '.join('?' * len(names))})",
                [row[k] for k in names],
            )
            n += 1
        self.count += n
        return n

    def run(self, rule: ConvertedRule) -> list[Hit]:
        """Where ``rule`` fires: one hit per matching event, or per correlation window."""
        if rule.plan is not None:
            try:
                return self._correlation(rule)
            finally:
                # The backend's plan adds the columns it misses by itself: learn them, or the
                # next rule's ALTER TABLE would add one twice.
                self.columns = {
                    str(row[1]) for row in self.db.execute(f"PRAGMA table_info({SQLITE_TABLE})")
                }
        hits: list[Hit] = []
        for query in rule.queries:
            for name in _fields(query) - self.columns:
                self.db.execute(f"ALTER TABLE {SQLITE_TABLE} ADD COLUMN {_quote(name)}")
                self.columns.add(name)
            cur = self.db.execute(query)
            cols = [d[0] for d in cur.description]
            for values in cur:
                row = dict(zip(cols, values, strict=True))
                hits.append(_hit(rule, row, {}))
        return hits

    def _correlation(self, rule: ConvertedRule) -> list[Hit]:
        assert rule.plan is not None
        rows, _diagnostics = execute_plan(  # type: ignore[no-untyped-call]
            self.db, rule.plan, include_events=True
        )
        hits = []
        for row in rows:
            keys = row.get("group_keys") or {}
            groups = {str(k): v for k, v in keys.items()} if isinstance(keys, dict) else {}
            events = row.get("events") or []
            first = events[0] if events and isinstance(events[0], dict) else {}
            hits.append(_hit(rule, first, groups))
        return hits

    def close(self) -> None:
        """Drop the table."""
        self.db.close()


def _fields(query: str) -> set[str]:
    # The backend quotes field names with backticks; a rule may name a field no event has.
    parts = query.split("`")
    return {parts[i] for i in range(1, len(parts), 2) if parts[i] != "rowid"}


def _hit(rule: ConvertedRule, row: dict[str, Any], groups: dict[str, Any]) -> Hit:
    def get(name: str) -> str:
        value = groups.get(name, row.get(name))
        return "" if value is None else str(value)

    return Hit(
        rule_id=rule.rule_id,
        title=rule.title,
        level=rule.level,
        at=get("@timestamp"),
        user=get("user.name"),
        source_ip=get("source.ip"),
        group=tuple(sorted((k, str(v)) for k, v in groups.items())),
    )
