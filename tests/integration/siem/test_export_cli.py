"""``rempart journal export --format ecs`` on a real journal (SQLite and PostgreSQL): the file
a shipper reads, its window, its follower's cursor, and its errors.

ASVS 5.0: V16.4.3 (security events sent to a separate monitoring system), V16.4.1 (what an
agent or a client typed cannot forge a line: each event is one JSON object on one line).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli.main import app as cli
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.kernel.clock import ManualClock
from tests.factories import NOW
from tests.support.journal import SIGNER, read


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlJournalStore]:
    """A journal of six consultations an hour apart, the last one with a forged-line attempt."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/journal.db"
    else:
        url = str(request.getfixturevalue("fresh_postgres_url"))
    store = SqlJournalStore(url, clock=ManualClock(NOW), create=True)
    store.use_signer(SIGNER)
    for h in range(5):
        store.append([read(h, at=NOW + dt.timedelta(hours=h))])
    sneaky = replace(read(5, at=NOW + dt.timedelta(hours=5)), user_agent='x"}\n{"forged":1')
    store.append([sneaky])
    yield store
    store.close()


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_exports_every_entry_as_one_json_object_per_line(
    journal: SqlJournalStore, tmp_path: Path
) -> None:
    out = tmp_path / "events.jsonl"
    result = CliRunner().invoke(
        cli, ["journal", "export", "--journal", journal.url, "--format", "ecs", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    events = lines(out)
    assert len(events) == 6
    assert all(e["event"]["dataset"] == "rempart.journal" for e in events)  # type: ignore[index]
    assert not any("forged" in e for e in events)
    assert events[-1]["user_agent"] == {"original": 'x"}\n{"forged":1'}


def test_since_and_until_bound_the_export(journal: SqlJournalStore, tmp_path: Path) -> None:
    out = tmp_path / "window.jsonl"
    since = (NOW + dt.timedelta(hours=1)).isoformat()
    until = (NOW + dt.timedelta(hours=3)).isoformat()
    args = ["journal", "export", "--journal", journal.url, "--format", "ecs"]
    result = CliRunner().invoke(cli, [*args, "--since", since, "--until", until, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [e["rempart"]["journal"]["seq"] for e in lines(out)] == [2, 3]  # type: ignore[index]


def test_a_cursor_file_makes_a_second_run_export_only_what_is_new(
    journal: SqlJournalStore, tmp_path: Path
) -> None:
    cursor, out = tmp_path / "cursor", tmp_path / "events.jsonl"
    args = ["journal", "export", "--journal", journal.url, "--cursor", str(cursor)]
    assert CliRunner().invoke(cli, [*args, "--out", str(out)]).exit_code == 0
    assert cursor.read_text().strip() == "6"
    journal.append([read(9, at=NOW + dt.timedelta(hours=6))])
    again = tmp_path / "again.jsonl"
    assert CliRunner().invoke(cli, [*args, "--out", str(again)]).exit_code == 0
    assert [e["rempart"]["journal"]["seq"] for e in lines(again)] == [7]  # type: ignore[index]


def test_bad_input_is_refused_with_a_message(journal: SqlJournalStore, tmp_path: Path) -> None:
    base = ["journal", "export", "--journal", journal.url, "--out", str(tmp_path / "x")]
    wrong_format = CliRunner().invoke(cli, [*base, "--format", "csv"])
    assert wrong_format.exit_code == 2
    assert "the only format is ecs" in wrong_format.output
    bad_time = CliRunner().invoke(cli, [*base, "--since", "yesterday"])
    assert bad_time.exit_code == 2
    assert "RFC 3339" in bad_time.output
    missing = CliRunner().invoke(
        cli, ["journal", "export", "--journal", f"sqlite:///{tmp_path}/none.db", "--out", "-"]
    )
    assert missing.exit_code == 2
    assert "no journal at" in missing.output
    assert "Traceback" not in missing.output


def _follower(url: str, out: Path, cursor: Path) -> subprocess.Popen[bytes]:
    command = "from rempart.cli.main import app; app()"
    args = ["journal", "export", "--journal", url, "--out", str(out), "--follow"]
    return subprocess.Popen(
        [sys.executable, "-c", command, *args, "--poll-seconds", "0.1", "--cursor", str(cursor)],
        stderr=subprocess.PIPE,
    )


def _wait_for(out: Path, n: int) -> list[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (out.exists() and len(lines(out)) >= n):
        time.sleep(0.05)
    return [e["rempart"]["journal"]["seq"] for e in lines(out)]  # type: ignore[index]


def test_follow_appends_entries_as_the_journal_grows(tmp_path: Path) -> None:
    """The streaming mode a log shipper tails: a separate process, the journal appended to
    while it runs, every new entry in the file within a few polls; stopped by SIGTERM (as
    systemd does) it saves its cursor, and a new follower goes on without repeating a line."""
    url = f"sqlite:///{tmp_path}/journal.db"
    store = SqlJournalStore(url, clock=ManualClock(NOW), create=True)
    store.use_signer(SIGNER)
    store.append([read(0)])
    out, cursor = tmp_path / "follow.jsonl", tmp_path / "cursor"
    follower = _follower(url, out, cursor)
    try:
        assert _wait_for(out, 1) == [1]
        store.append([read(1), read(2)])
        assert _wait_for(out, 3) == [1, 2, 3]
        follower.terminate()
        assert follower.wait(timeout=10) == 0
        assert cursor.read_text().strip() == "3"
        store.append([read(3)])
        follower = _follower(url, out, cursor)
        assert _wait_for(out, 4) == [1, 2, 3, 4]
    finally:
        follower.terminate()
        follower.wait(timeout=10)
        store.close()
