"""The in-process read bench: it runs on a copy of a ``read_path`` run's databases only, and
makes that copy's sessions current again without touching the original."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path

from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.guard.adapters.memory_containment import MemoryContainment
from rempart.guard.adapters.memory_profiles import MemoryProfileStore
from rempart.guard.adapters.memory_state import MemoryGuardState
from rempart.guard.service.inline import Guard
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.actors import Organisation, OrgKind, Role
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.exposure import Exposure, GuardRequest
from rempart.kernel.identifiers import ft_id_from_number
from rempart_bench.read_inproc import GuardRecorder, copy_and_refresh, pairs_of
from tests.factories import make_agent


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


def test_the_guard_recorder_replays_the_runs_decisions_without_its_database() -> None:
    profiles = MemoryProfileStore()
    live = Guard(
        MemoryGuardState(), profiles, MemoryContainment(), MemoryAlertStore(), MemoryJournal()
    )
    counted: list[int] = []

    def scope_size() -> int:  # the run's count (a query); the replay must not ask it again
        counted.append(1)
        return 40

    agent = make_agent(OrgKind.MISSION_LOCALE, {Role.ADVISOR}, login="ml.rec")
    ctx = RequestContext(
        agent=agent,
        org=Organisation(agent.org_id, OrgKind.MISSION_LOCALE, "ML", "00000000000000"),
        session_id="s1",
        client=ClientInfo("192.0.2.1", "Firefox", network="AS3215", country="FR"),
        now=dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC),
    )
    original = Guard.check
    recorder = GuardRecorder()
    for n in range(5):
        ft_id = ft_id_from_number(100 + n)
        at = dataclasses.replace(ctx, now=ctx.now + dt.timedelta(seconds=5 * n))
        live.check(at, GuardRequest(Exposure.READ, (ft_id,), (ft_id,), scope_size=scope_size))
    asked_in_the_run = len(counted)
    assert asked_in_the_run == 1  # once, then the guard kept it
    times = recorder.replay(rounds=2)
    assert Guard.check is original  # the run's recording is undone
    assert len(recorder.calls) == 5
    assert recorder.profiles is profiles
    assert len(times) == 2
    assert all(t > 0 for t in times)
    assert len(counted) == asked_in_the_run  # the replays answered from the run's figure
