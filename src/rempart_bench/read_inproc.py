"""The record read and the 401, driven in process: the event loop's CPU per request, and with
``--stages`` the CPU of each stage of a read.

Over HTTP (``read_path``) the figures move with the machine's drift by a third from one run to
the next. Here the ASGI app is built as ``rempart serve`` builds it and called directly by
concurrent clients on uvloop, without sockets: what is left is the portal's own work on the
loop, which repeats within a few per cent, so that a change of a few microseconds shows.

    python -m rempart_bench.read_path --rounds 1 --duration 2 --workdir /tmp/rp
    python -m rempart_bench.read_inproc /tmp/rp/sqlite [--stages] [--without guard]

The directory is a ``read_path --workdir`` run's SQLite one (its databases and ``read.lua``,
which names the signed-in sessions and their people). It is copied first, and in the copy the
sessions are made current again (last seen, second factor proven, expiry), so that one
directory serves any number of runs. Bench only: never point it at a portal's own database.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import functools
import importlib
import re
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvloop

from rempart.cli.settings import load_settings
from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.guard.adapters.memory_containment import MemoryContainment
from rempart.guard.adapters.memory_state import MemoryGuardState
from rempart.guard.decisions import Verdict
from rempart.guard.ports import ProfileStore
from rempart.guard.service.inline import Guard
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.context import RequestContext
from rempart.kernel.exposure import GuardRequest
from rempart.web.app import create_app
from rempart_bench.ablation import PARTS

USER_AGENT = b"rempart-read-bench/1"  # the browser the bench's sessions were opened with


def pairs_of(workdir: Path) -> list[tuple[str, str]]:
    """(session cookie, ft_id) pairs, as ``read_path`` wrote them for wrk."""
    text = (workdir / "read.lua").read_text(encoding="utf-8")
    return re.findall(r'\{"([^"]+)", "([^"]+)"\}', text)


def copy_and_refresh(source: Path, into: Path) -> Path:
    """The bench databases copied, their sessions current again."""
    for name in ("rempart.db", "journal.db", "read.lua"):
        shutil.copy(source / name, into / name)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with sqlite3.connect(into / "rempart.db") as conn:
        conn.execute(
            "UPDATE sessions SET last_seen_at = ?, expires_at = ?, fresh_until = ?,"
            " ended_at = NULL, end_reason = ''",
            (
                now.isoformat(" "),
                (now + dt.timedelta(hours=8)).isoformat(" "),
                (now + dt.timedelta(minutes=10)).isoformat(" "),
            ),
        )
    return into


class Driver:
    """Calls the app as uvicorn would, counting the statuses it answers."""

    def __init__(self, app: Any, pairs: list[tuple[str, str]]) -> None:
        self.app = app
        self.pairs = pairs
        self.statuses: dict[int, int] = {}

    async def call(self, path: str, cookie: str | None) -> None:
        headers = [(b"host", b"127.0.0.1"), (b"user-agent", USER_AGENT)]
        if cookie:
            headers.append((b"cookie", b"rempart_session=" + cookie.encode()))
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000), "state": {},
        }  # fmt: skip

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.statuses[message["status"]] = self.statuses.get(message["status"], 0) + 1

        await self.app(scope, receive, send)

    async def run(self, kind: str, total: int, clients: int) -> float:
        """The loop's CPU per request, in µs, for ``total`` requests of ``kind``."""
        numbers = iter(range(total))

        async def client(c: int) -> None:
            for i in numbers:
                if kind == "read":
                    cookie, ft_id = self.pairs[(i * 7 + c) % len(self.pairs)]
                    await self.call(f"/api/v1/persons/{ft_id}", cookie)
                else:
                    await self.call("/api/v1/me", None)

        started = time.thread_time()
        await asyncio.gather(*(client(c) for c in range(clients)))
        return (time.thread_time() - started) / total * 1e6


# The stages of a read, timed around the callables that run them (``--stages``).
STAGES: dict[str, tuple[str, str]] = {
    "whole request": ("fastapi.applications", "FastAPI.__call__"),
    "session resumption": ("rempart.people.api.persons", "resolved_context"),
    "record read use case": ("rempart.people.service.consult", "consult_person_async"),
    "guard decision": ("rempart.guard.service.inline", "Guard.check"),
    "record to JSON": ("rempart.people.api.persons", "_record_response"),
}


def time_stages() -> dict[str, list[int]]:
    """Wrap each stage's callable; its (CPU ns, calls) accumulate in the returned dict. With one
    client and no journal wait no await interleaves another request, so a coroutine's CPU
    time between its start and its end is its own."""
    spent: dict[str, list[int]] = {}
    for name, (module, attr) in STAGES.items():
        owner: Any = importlib.import_module(module)
        *path, last = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, last)
        spent[name] = [0, 0]
        setattr(owner, last, _timed(original, spent[name]))
    return spent


def _timed(original: Callable[..., Any], into: list[int]) -> Callable[..., Any]:
    if asyncio.iscoroutinefunction(original):

        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time_ns()
            try:
                return await original(*args, **kwargs)
            finally:
                into[0] += time.thread_time_ns() - started
                into[1] += 1

        return timed_async

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time_ns()
        try:
            return original(*args, **kwargs)
        finally:
            into[0] += time.thread_time_ns() - started
            into[1] += 1

    return timed


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workdir", type=Path, help="a `read_path --workdir` run's sqlite directory")
    ap.add_argument("--reads", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3, help="the median is kept")
    ap.add_argument("--without", action="append", default=[], choices=sorted(PARTS))
    ap.add_argument(
        "--stages", action="store_true", help="one client, no journal wait: each stage's CPU"
    )
    ap.add_argument(
        "--replay-guard",
        action="store_true",
        help="then the run's guard decisions again, alone, on fresh guards (µs each)",
    )
    args = ap.parse_args(argv)
    if not (args.workdir / "read.lua").exists():
        raise SystemExit(f"{args.workdir}: no read.lua (run `read_path --workdir` first)")
    without = [*args.without, *(["journal-wait"] if args.stages else [])]
    for part in dict.fromkeys(without):
        PARTS[part]()
    spent = time_stages() if args.stages else None
    recorder = GuardRecorder() if args.replay_guard else None
    clients = 1 if args.stages else args.clients
    with tempfile.TemporaryDirectory(prefix="rempart-inproc-") as tmp:
        work = copy_and_refresh(args.workdir, Path(tmp))
        settings = load_settings(
            f"sqlite:///{work / 'rempart.db'}", f"sqlite:///{work / 'journal.db'}", [], True, None
        )
        app = create_app(settings)
        driver = Driver(app, pairs_of(work))
        figures = uvloop.run(_measure(app, driver, args.reads, clients, args.rounds, spent))
    read, unauth = figures
    print(
        f"read {read:.1f} µs, 401 {unauth:.1f} µs of the loop's CPU per request "
        f"({clients} client{'s' if clients > 1 else ''}; without {', '.join(without) or '-'}); "
        f"ratio {unauth / read:.3f}; statuses {driver.statuses}"
    )
    if spent is not None:
        for name, (ns, calls) in spent.items():
            print(f"  {name:22s} {ns / max(calls, 1) / 1000:7.1f} µs  ({calls} calls)")
    if recorder is not None:
        times = recorder.replay()
        print(
            f"guard decisions replayed alone: median {statistics.median(times):.1f} µs, "
            f"min {min(times):.1f} µs over {len(recorder.calls):,} decisions x {len(times)}"
        )


class _Once:
    """A request's scope count, as the run computed it (the replay must not query a database
    the run has closed): called again, it answers the same figure."""

    def __init__(self, count: Callable[[], int]) -> None:
        self._count: Callable[[], int] | None = count
        self._value = 0

    def __call__(self) -> int:
        if self._count is not None:
            self._value, self._count = self._count(), None
        return self._value


class GuardRecorder:
    """Notes every ``Guard.check`` of the run (its context and request) and the guard's
    baselines; ``replay`` makes the same decisions again, in order, on fresh guards."""

    def __init__(self) -> None:
        self.calls: list[tuple[RequestContext, GuardRequest]] = []
        self.profiles: ProfileStore | None = None
        self._check = Guard.check
        recorder, original = self, Guard.check

        def check(guard: Guard, ctx: RequestContext, req: GuardRequest) -> Verdict:
            recorder.profiles = recorder.profiles or guard.profiles
            if req.scope_size is not None:
                req = dataclasses.replace(req, scope_size=_Once(req.scope_size))
            recorder.calls.append((ctx, req))
            return original(guard, ctx, req)

        Guard.check = check  # type: ignore[method-assign,assignment]

    def replay(self, rounds: int = 7) -> list[float]:
        """µs per decision of each round (memory state, the run's baselines)."""
        Guard.check = self._check  # type: ignore[method-assign]
        assert self.profiles is not None, "the run made no decision"
        out = []
        for _ in range(rounds):
            guard = Guard(
                MemoryGuardState(), self.profiles, MemoryContainment(), MemoryAlertStore(),
                MemoryJournal(),
            )  # fmt: skip
            started = time.perf_counter()
            for ctx, req in self.calls:
                guard.check(ctx, req)  # a refusal is a decision like any other
            out.append((time.perf_counter() - started) / len(self.calls) * 1e6)
        return out


async def _measure(
    app: Any,
    driver: Driver,
    reads: int,
    clients: int,
    rounds: int,
    spent: dict[str, list[int]] | None,
) -> tuple[float, float]:
    lifespan: Callable[[Any], Any] = app.router.lifespan_context
    async with lifespan(app):
        await driver.run("read", 300, clients)  # warm: connections, caches, the guard's state
        await driver.run("401", 300, clients)
        if spent is not None:
            for figures in spent.values():
                figures[:] = [0, 0]
        driver.statuses.clear()
        read = [await driver.run("read", reads, clients) for _ in range(rounds)]
        # The stages of the reads only (a 401 also enters FastAPI).
        frozen = {name: list(figures) for name, figures in (spent or {}).items()}
        unauth = [await driver.run("401", 2 * reads, clients) for _ in range(rounds)]
    if spent is not None:
        spent.update(frozen)
    return statistics.median(read), statistics.median(unauth)


if __name__ == "__main__":
    main()
