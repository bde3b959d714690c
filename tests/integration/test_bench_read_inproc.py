"""The in-process read bench: it runs on a copy of a ``read_path`` run's databases only, and
makes that copy's sessions current again without touching the original."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from rempart_bench.read_inproc import copy_and_refresh, pairs_of


def test_a_directory_without_a_read_path_run_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rempart_bench.read_inproc", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "no read.lua (run `read_path --workdir` first)" in done.stderr


def test_the_copy_is_refreshed_and_the_original_left_alone(tmp_path: Path) -> None:
    source, copy = tmp_path / "run", tmp_path / "copy"
    source.mkdir()
    copy.mkdir()
    with sqlite3.connect(source / "rempart.db") as conn:
        conn.execute(
            "CREATE TABLE sessions (last_seen_at TEXT, expires_at TEXT, fresh_until TEXT,"
            " ended_at TEXT, end_reason TEXT)"
        )
        conn.execute("INSERT INTO sessions VALUES ('2020-01-01', '2020-01-02', NULL, '2020', 'x')")
    (source / "journal.db").write_bytes(b"")
    (source / "read.lua").write_text('local pairs_ = {\n  {"tok-en_1", "0000016V"},\n}\n')
    copy_and_refresh(source, copy)
    assert pairs_of(copy) == [("tok-en_1", "0000016V")]
    with sqlite3.connect(copy / "rempart.db") as conn:
        seen, expires, fresh, ended, reason = conn.execute("SELECT * FROM sessions").fetchone()
    assert seen > "2026"
    assert expires > seen
    assert fresh > seen
    assert ended is None
    assert reason == ""
    with sqlite3.connect(source / "rempart.db") as conn:
        assert conn.execute("SELECT ended_at FROM sessions").fetchone() == ("2020",)
