"""``rempart journal verify`` only ever answers: whatever an intruder does to the rows of a
real journal file (a value changed, of the same type or another, a row deleted, a table cut
short, two rows swapped), verification reports a finding naming an entry, or "intact" when
nothing it relies on changed, and never a traceback (ASVS V16.4.2 logs protected from
modification, V16.5.1 errors without internals)."""

from __future__ import annotations

import base64
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rempart.cli.main import app as cli
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.integrity import Cosignature
from rempart.kernel.clock import ManualClock
from tests.factories import NOW
from tests.support.journal import SIGNER, read

PUBLIC_B64 = base64.b64encode(SIGNER.public_key).decode()
ENTRIES = 600  # two whole Merkle blocks of 256 and a part: stored nodes at two levels
# What verification relies on: any change to these is a finding. The others (the schema
# version, key notes, received cosignatures, the index watermark, checkpoint row ids) are
# bookkeeping; changing them must still never crash verification.
EVIDENCE = {
    "journal_entries": ["seq", "at", "agent_login", "org_id", "session_id", "body", "chain"],
    "journal_persons": ["seq", "ft_id"],
    "journal_nodes": ["level", "idx", "hash"],
    "journal_checkpoints": [
        "tree_size", "root", "chain_head", "at", "kind", "key_id", "signature", "origin",
        "note_signature",
    ],
    "journal_by_person": ["ft_id", "seq"],
    "journal_by_agent": ["agent_login", "at", "seq"],
    "journal_by_session": ["session_id", "at", "seq"],
}  # fmt: skip
BOOKKEEPING = {
    "journal_meta": ["key", "value"],
    "journal_keys": ["key_id", "public_key", "created_at", "note"],
    "journal_cosignatures": ["tree_size", "root", "witness", "key_hash", "timestamp"],
    "journal_index_state": ["upto"],
    "journal_checkpoints": ["id"],
}
WITH_SEQ = ["journal_entries", "journal_persons", "journal_by_person", "journal_by_agent"]


@pytest.fixture(scope="module")
def original() -> Iterator[Path]:
    """A real journal file: appends through the store, checkpoints every 100 entries in the
    C2SP form, one received cosignature, the derived indexes caught up."""
    folder = Path(tempfile.mkdtemp(prefix="rempart-journal-"))
    path = folder / "journal.db"
    store = SqlJournalStore(
        f"sqlite:///{path}",
        clock=ManualClock(NOW),
        checkpoint_every=100,
        origin="portal.example/journal",
    )
    store.use_signer(SIGNER)
    for i in range(ENTRIES):
        store.append([read(i, ft_id=f"{i % 37:07d}K")])
    cp = store.checkpoint()
    store.add_cosignatures(
        [Cosignature(cp.tree_size, cp.root, "w.example/1", bytes(4), 1, bytes(64))]
    )
    store.close()  # indexes caught up, WAL folded into the file
    yield path
    shutil.rmtree(folder, ignore_errors=True)


def rows(conn: sqlite3.Connection, table: str) -> list[tuple[object, ...]]:
    return conn.execute(f"SELECT * FROM {table}").fetchall()


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def changed(value: object, how: int, data: st.DataObject) -> object:  # noqa: PLR0911
    """Another value: a flipped byte, a changed character, a shifted number, another type."""
    if how == 0:  # another type altogether
        return data.draw(
            st.sampled_from(["x", 7, b"\x00", 3.5]).filter(lambda v: type(v) is not type(value))
        )
    if isinstance(value, bytes):
        if not value:
            return b"\x01"
        i = data.draw(st.integers(0, len(value) - 1))
        flip = data.draw(st.integers(1, 255))
        return value[:i] + bytes([value[i] ^ flip]) + value[i + 1 :]
    if isinstance(value, str):
        if not value:
            return "x"
        i = data.draw(st.integers(0, len(value) - 1))
        c = data.draw(st.characters(codec="utf-8").filter(lambda c: c != value[i]))
        return value[:i] + c + value[i + 1 :]
    if isinstance(value, int):
        return value + data.draw(st.integers(-5, 5).filter(bool))
    return "x"


def where(names: list[str], row: tuple[object, ...]) -> tuple[str, list[object]]:
    """A condition matching exactly this row (NULLs with IS)."""
    return " AND ".join(f"{n} IS ?" for n in names), list(row)


def mutate(path: Path, data: st.DataObject) -> bool:
    """Apply one intrusion; return True when it touches what verification relies on."""
    conn = sqlite3.connect(path)
    try:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        kind = data.draw(st.sampled_from(["value", "value", "delete", "truncate", "swap"]))
        if kind == "value":
            pool = data.draw(st.sampled_from(["evidence", "evidence", "evidence", "bookkeeping"]))
            tables = EVIDENCE if pool == "evidence" else BOOKKEEPING
            table = data.draw(st.sampled_from(sorted(tables)))
            column = data.draw(st.sampled_from(tables[table]))
            names = columns(conn, table)
            found = rows(conn, table)
            assume(found)
            row = data.draw(st.sampled_from(found))
            old = row[names.index(column)]
            new = changed(old, data.draw(st.integers(0, 3)), data)
            assume(new != old)
            cond, params = where(names, row)
            try:
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE {cond}", [new, *params])
            except sqlite3.IntegrityError:
                assume(False)  # the schema itself refuses it (a duplicate key, a NULL)
            relied_on = pool == "evidence"
        elif kind == "delete":
            table = data.draw(st.sampled_from([t for t in EVIDENCE if t != "journal_checkpoints"]))
            names = columns(conn, table)
            row = data.draw(st.sampled_from(rows(conn, table)))
            cond, params = where(names, row)
            conn.execute(f"DELETE FROM {table} WHERE {cond}", params)
            relied_on = True
        elif kind == "truncate":
            table = data.draw(st.sampled_from(WITH_SEQ))
            keep = data.draw(st.integers(0, ENTRIES - 1))
            conn.execute(f"DELETE FROM {table} WHERE seq > ?", (keep,))
            relied_on = True
        else:  # two entries swapped: their bodies, or their places in the sequence
            a, b = sorted(
                data.draw(st.lists(st.integers(1, ENTRIES), min_size=2, max_size=2, unique=True))
            )
            if data.draw(st.booleans()):
                ba, bb = (
                    conn.execute("SELECT body FROM journal_entries WHERE seq = ?", (s,)).fetchone()[
                        0
                    ]
                    for s in (a, b)
                )
                assume(ba != bb)
                conn.execute("UPDATE journal_entries SET body = ? WHERE seq = ?", (bb, a))
                conn.execute("UPDATE journal_entries SET body = ? WHERE seq = ?", (ba, b))
            else:
                conn.execute("UPDATE journal_entries SET seq = -1 WHERE seq = ?", (a,))
                conn.execute("UPDATE journal_entries SET seq = ? WHERE seq = ?", (a, b))
                conn.execute("UPDATE journal_entries SET seq = ? WHERE seq = -1", (b,))
            relied_on = True
        conn.commit()
    finally:
        conn.close()
    return relied_on


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_damage_to_a_real_journal_is_a_finding_never_a_traceback(
    original: Path, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory(prefix="rempart-mutated-") as folder:
        path = Path(folder) / "journal.db"
        shutil.copyfile(original, path)
        relied_on = mutate(path, data)
        result = CliRunner().invoke(
            cli, ["journal", "verify", "--journal", f"sqlite:///{path}", "--public-key", PUBLIC_B64]
        )
    output = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in output
    assert result.exit_code in (0, 1), output
    if relied_on:
        assert result.exit_code == 1, output
        assert re.fullmatch(r"first bad entry: \d+", result.stdout.strip().splitlines()[-1])


def test_the_untouched_journal_verifies(original: Path) -> None:
    result = CliRunner().invoke(
        cli, ["journal", "verify", "--journal", f"sqlite:///{original}", "--public-key", PUBLIC_B64]
    )
    assert result.exit_code == 0, result.stdout + result.stderr
