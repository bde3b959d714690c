"""The guard's counters behave the same in memory and in Redis (shared by replicas)."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from rempart.guard.adapters.memory_state import MemoryGuardState
from rempart.guard.adapters.redis_state import RedisGuardState
from rempart.guard.ports import GuardState
from rempart.guard.state import Window
from tests.support.redis import redis_or_skip
from tests.support.served import free_port


@pytest.fixture(params=["memory", "redis"])
def state(request: pytest.FixtureRequest) -> Iterator[GuardState]:
    if request.param == "memory":
        yield MemoryGuardState()
        return
    s = RedisGuardState(redis_or_skip(), prefix=f"rempart:test:{uuid.uuid4().hex}:")
    yield s
    for key in s.client.scan_iter(s.prefix + "*"):
        s.client.delete(key)
    s.close()


def test_admit_counts_distinct_people_once(state: GuardState) -> None:
    w = [Window("agent:a:hour", 3600, 3)]
    assert state.admit(w, ["p1"], 0).admitted
    again = state.admit(w, ["p1"], 1)
    assert again.admitted
    assert again.new_members == 0
    assert again.counts == (1,)
    assert state.admit(w, ["p2", "p3"], 2).counts == (3,)
    refused = state.admit(w, ["p4"], 3)
    assert not refused.admitted
    assert refused.blocked == 0
    assert refused.retry_after == 3600 + 1 - 3  # p1, last read at t=1, leaves at t=3601
    assert state.admit(w, ["p2"], 4).admitted  # re-reading an exposed person costs nothing


def test_window_slides(state: GuardState) -> None:
    w = [Window("agent:b:hour", 100, 2)]
    assert state.admit(w, ["p1", "p2"], 0).admitted
    assert not state.admit(w, ["p3"], 50).admitted
    assert state.admit(w, ["p3"], 101).admitted
    assert state.distinct("agent:b:hour", 100, 101) == 1


def test_any_window_refuses_and_nothing_is_added(state: GuardState) -> None:
    windows = [Window("agent:c:day", 86400, 10), Window("org:x:day", 86400, 2)]
    assert state.admit(windows, ["p1", "p2"], 0).admitted
    refused = state.admit(windows, ["p3"], 1)
    assert not refused.admitted
    assert refused.blocked == 1
    assert state.distinct("agent:c:day", 86400, 2) == 2


def test_events_and_recent(state: GuardState) -> None:
    assert [state.count_event("nf:a", 60, t) for t in (0, 1, 2)] == [1, 2, 3]
    assert state.count_event("nf:a", 60, 61.5) == 2
    assert state.push_recent("ids:a", 5, 3) == (5,)
    state.push_recent("ids:a", 6, 3)
    state.push_recent("ids:a", 7, 3)
    assert state.push_recent("ids:a", 8, 3) == (6, 7, 8)
    state.put("k", "v", 100, now=1000)
    assert state.get("k", now=1050) == "v"
    assert state.get("k", now=1101) is None
    assert state.get("missing", now=0) is None


def test_a_redis_without_append_only_file_is_told_apart(tmp_path: Path) -> None:
    """A Redis that would forget every budget on restart is named at start (the soak restarts
    one with its append-only file and checks that no budget is forgotten)."""
    exe = shutil.which("redis-server")
    if exe is None:
        redis_or_skip()  # the same rule as the other Redis tests: skipped, or failed in CI
        pytest.skip("no redis-server binary")
    results = {}
    for aof in ("yes", "no"):
        port = free_port()
        proc = subprocess.Popen(
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
             "--appendonly", aof, "--save", ""],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            state = RedisGuardState(f"redis://127.0.0.1:{port}/0")
            deadline = time.monotonic() + 10
            while (found := state.forgets_on_restart()) is None and time.monotonic() < deadline:
                time.sleep(0.05)
            results[aof] = found
            state.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    assert results == {"yes": False, "no": True}
    assert RedisGuardState("redis://127.0.0.1:1/0").forgets_on_restart() is None
