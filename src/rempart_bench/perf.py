"""Performance benches run by ``rempart bench``: the real server on loopback, the guard in
process, the journal on disk. Medians and ratios are measured side by side in one run."""

from __future__ import annotations

import datetime as dt
import gc
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

import httpx
import pyotp

from rempart.guard.adapters.memory_profiles import MemoryProfileStore
from rempart.guard.adapters.memory_state import MemoryGuardState
from rempart.guard.alerts import Alert
from rempart.guard.baselines import Baselines
from rempart.guard.service.inline import Guard
from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.adapters.signing import Ed25519Signer, checkpoint_checker
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.model import JournalEntry
from rempart.journal.service import audit as journal_audit
from rempart.kernel.actors import Agent, Organisation, OrgKind, Role
from rempart.kernel.clock import SystemClock
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.exposure import Exposure, GuardRequest
from rempart.kernel.identifiers import ft_id_from_number
from rempart.kernel.tags import Decision, Tag


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))] if s else 0.0


# -- the guard's decision, in process ----------------------------------------------------------


class _NoContainment:
    def revoke_session(self, session_id: str, reason: str) -> None:
        """Nothing to revoke in a micro-benchmark."""

    def lock_account(self, login: str, reason: str) -> None:
        """Nothing to lock in a micro-benchmark."""

    def suspend_org_app(self, org_id: str, app: str, reason: str) -> None:
        """Nothing to suspend in a micro-benchmark."""


@dataclass
class _Alerts:
    items: list[Alert] = field(default_factory=list)

    def raise_alert(self, alert: Alert) -> int:
        self.items.append(alert)
        return len(self.items)

    def alerts_since(self, since: dt.datetime | None, limit: int) -> list[Alert]:
        return self.items[-limit:]

    def counts_by_rule(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.items:
            out[a.rule] = out.get(a.rule, 0) + 1
        return out


def guard_latency(baselines: Baselines, calls: int = 20_000, seed: int = 1) -> dict[str, float]:
    """Time of one ``Guard.check`` on ordinary reads by many agents (in-memory state)."""
    profiles = MemoryProfileStore(baselines)
    # As the server does after loading its baselines (guard.wiring.refresh_baselines).
    gc.collect()
    gc.freeze()
    guard = Guard(MemoryGuardState(), profiles, _NoContainment(), _Alerts(), MemoryJournal())
    rng = Random(seed)
    org = Organisation("ORG-1", OrgKind.MISSION_LOCALE, "ML", "00000000000000")
    # Real profiles from the bench's history, so that every detector has a baseline to read.
    profiled = sorted(baselines.agents.values(), key=lambda p: p.login)[:200]
    agents = [
        Agent(i, p.login, "", "ORG-1", OrgKind.MISSION_LOCALE, frozenset({Role.ADVISOR}))
        for i, p in enumerate(profiled)
    ] or [Agent(0, "bench.agent", "", "ORG-1", OrgKind.MISSION_LOCALE, frozenset({Role.ADVISOR}))]
    networks = {p.login: next(iter(sorted(p.networks)), "AS:Orange/FR") for p in profiled}
    start = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)
    times: list[float] = []
    for n in range(calls):
        agent = agents[n % len(agents)]
        ctx = RequestContext(
            agent=agent,
            org=org,
            session_id=f"s{agent.id}",
            client=ClientInfo(
                "192.0.2.1", "bench", networks.get(agent.login, "AS:Orange/FR"), "FR"
            ),
            now=start + dt.timedelta(seconds=n * 0.05),
        )
        ft_id = ft_id_from_number(agent.id * 1000 + rng.randrange(15))
        req = GuardRequest(Exposure.READ, (ft_id,), (ft_id,))
        t = time.perf_counter_ns()
        guard.check(ctx, req)
        times.append((time.perf_counter_ns() - t) / 1000)
    return {
        "guard_decision_calls": calls,
        "guard_decision_p50_us": round(statistics.median(times), 1),
        "guard_decision_p99_us": round(_pct(times, 0.99), 1),
    }


# -- the journal on disk -----------------------------------------------------------------------


def journal_rates(workdir: Path, seconds: float = 5.0, threads: int = 32) -> dict[str, float]:
    """Sustained durable appends from concurrent writers, then ``verify`` over what was written."""
    path = workdir / "perf-journal" / "journal.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = Ed25519Signer.from_raw(os.urandom(32))
    store = SqlJournalStore(
        f"sqlite:///{path}", clock=SystemClock(), checkpoint_every=10_000, checkpoint_seconds=60.0
    )
    store.use_signer(signer)
    stop = threading.Event()
    counts = [0] * threads

    def writer(k: int) -> None:
        i = k
        while not stop.is_set():
            store.append(
                [
                    JournalEntry(
                        at=dt.datetime.now(dt.UTC),
                        tag=Tag.PORTAL_PERSON_READ,
                        decision=Decision.ALLOW,
                        agent_login=f"agent{k}",
                        org_id="ORG-1",
                        session_id=f"s{k}",
                        persons=(ft_id_from_number(i),),
                        categories=("identity",),
                    )
                ]
            )
            counts[k] += 1
            i += threads

    workers = [threading.Thread(target=writer, args=(k,), daemon=True) for k in range(threads)]
    for w in workers:
        w.start()
    time.sleep(1.0)
    n0, t0 = sum(counts), time.perf_counter()
    time.sleep(seconds)
    n1, t1 = sum(counts), time.perf_counter()
    stop.set()
    for w in workers:
        w.join()
    store.close()
    reader = SqlJournalStore(f"sqlite:///{path}", clock=SystemClock(), create=False)
    try:
        t = time.perf_counter()
        report = journal_audit.verify(
            reader, checkpoint_checker({signer.key_id: signer.public_key}), indexes=False
        )
        verify_seconds = time.perf_counter() - t
    finally:
        reader.close()
    shutil.rmtree(path.parent, ignore_errors=True)
    return {
        "journal_append_per_s": round((n1 - n0) / (t1 - t0)),
        "journal_append_threads": threads,
        "journal_verify_per_s": round(report.entries / max(verify_seconds, 1e-9)),
        "journal_verify_entries": report.entries,
        "journal_intact": report.ok,
    }


# -- the real server on loopback ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        """Stop the server."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_server(db_url: str, journal_url: str, env: dict[str, str], log: Path) -> Server:
    """``rempart serve`` in a subprocess on a free loopback port; waits until it answers."""
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "rempart",
        "serve",
        "--db",
        db_url,
        "--journal",
        journal_url,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--insecure-http",
    ]
    with log.open("wb") as out:
        # Our own interpreter running our own CLI, with arguments built here.
        proc = subprocess.Popen(  # noqa: S603
            cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            httpx.get(url + "/openapi.json", timeout=1.0)
            return Server(proc, url)
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start in 60 s")


@dataclass(frozen=True, slots=True)
class Reader:
    login: str
    password: str
    totp_secret: str
    people: tuple[str, ...]


def _signed_in(url: str, r: Reader) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=10.0, headers={"user-agent": "rempart-bench"})
    first = c.post("/api/v1/auth/login", json={"login": r.login, "password": r.password}).json()
    totp = pyotp.TOTP(r.totp_secret)
    second = c.post(
        "/api/v1/auth/mfa/totp", json={"challenge": first["challenge"], "code": totp.now()}
    )
    second.raise_for_status()
    csrf = second.json()["csrf_token"]
    c.headers["x-csrf-token"] = csrf
    # Prove the second factor again (off hours and a new network ask for it): the step-up
    # window then covers the measurement.
    step = int(time.time()) // 30 + 1
    c.post("/api/v1/auth/step-up/totp", json={"code": totp.at(step * 30)})
    return c


def read_load(url: str, readers: list[Reader], seconds: float) -> dict[str, float]:
    """Concurrent readers, each re-reading their own people: requests/s and latencies."""
    clients = [_signed_in(url, r) for r in readers]
    stop = threading.Event()
    lat: list[list[float]] = [[] for _ in readers]
    errors = [0] * len(readers)

    def loop(k: int) -> None:
        rng = Random(k)
        c, people = clients[k], readers[k].people
        while not stop.is_set():
            t = time.perf_counter()
            resp = c.get(f"/api/v1/persons/{rng.choice(people)}")
            lat[k].append((time.perf_counter() - t) * 1000)
            if resp.status_code != 200:
                errors[k] += 1

    threads = [threading.Thread(target=loop, args=(k,), daemon=True) for k in range(len(readers))]
    for th in threads:
        th.start()
    time.sleep(seconds)
    stop.set()
    for th in threads:
        th.join()
    for c in clients:
        c.close()
    all_lat = [x for sub in lat for x in sub]
    return {
        "requests": len(all_lat),
        "per_s": round(len(all_lat) / seconds, 1),
        "p50_ms": round(statistics.median(all_lat), 2) if all_lat else 0.0,
        "p95_ms": round(_pct(all_lat, 0.95), 2),
        "p99_ms": round(_pct(all_lat, 0.99), 2),
        "non_200": sum(errors),
    }


def read_throughput(
    db: Path, journal: Path, signing_key: str, readers: list[Reader], seconds: float, rounds: int
) -> dict[str, Any]:
    """Guard on and off side by side: alternate rounds on fresh copies, compare medians."""
    results: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
    work = Path(tempfile.mkdtemp(prefix="perf-", dir=db.parent))
    try:
        for _ in range(rounds):
            for mode in ("on", "off"):
                d = Path(tempfile.mkdtemp(dir=work))
                shutil.copy(db, d / db.name)
                shutil.copy(journal, d / journal.name)
                env = {
                    "REMPART_GUARD_MODE": mode,
                    "REMPART_JOURNAL_SIGNING_KEY": signing_key,
                    "REMPART_ARGON2_TIME_COST": "1",
                    "REMPART_ARGON2_MEMORY_KIB": "1024",
                    "REMPART_ARGON2_PARALLELISM": "1",
                    "REMPART_JOBS_INTERVAL_SECONDS": "0",
                }
                server = start_server(
                    f"sqlite:///{d / db.name}",
                    f"sqlite:///{d / journal.name}",
                    env,
                    d / "server.log",
                )
                try:
                    results[mode].append(read_load(server.url, readers, seconds))
                finally:
                    server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {m: statistics.median(r["per_s"] for r in rs) for m, rs in results.items()}
    return {
        "read_rounds": rounds,
        "read_seconds_per_round": seconds,
        "read_clients": len(readers),
        "read_per_s_guard_on": med["on"],
        "read_per_s_guard_off": med["off"],
        "read_ratio_on_off": round(med["on"] / med["off"], 3) if med["off"] else None,
        "read_p50_ms_guard_on": statistics.median(r["p50_ms"] for r in results["on"]),
        "read_p99_ms_guard_on": statistics.median(r["p99_ms"] for r in results["on"]),
        "read_p50_ms_guard_off": statistics.median(r["p50_ms"] for r in results["off"]),
        "read_p99_ms_guard_off": statistics.median(r["p99_ms"] for r in results["off"]),
        "read_non_200": sum(r["non_200"] for rs in results.values() for r in rs),
    }
