#!/usr/bin/env python3
"""Guarded record reads against one real ``rempart serve`` on SQLite, measured with wrk.

What it does, in one run:

1. seeds a demo SQLite database (``rempart seed``) in a work directory;
2. starts ``rempart serve --insecure-http`` on a free loopback port (guard on, the default;
   the journal in ``journal.db`` beside the database, durable before every answer);
3. signs in N advisers over HTTP (password, then TOTP), proves the second factor again once
   (a step-up: off hours and a new network ask for it, as a real adviser would), and takes
   a few people from each adviser's own portfolio (``GET /api/v1/portfolio``);
4. writes a wrk Lua script that rotates over the (session cookie, ft_id) pairs, sending the
   User-Agent the sessions were opened with (the session is bound to address and browser);
5. runs ``wrk --latency`` on (a) the guarded read ``GET /api/v1/persons/{ft_id}`` and (b) the
   cheapest refusal, ``GET /api/v1/me`` without a cookie (401), against the same server;
6. prints requests/s, p50 and p99 for each, the ratio, and the answers by status. A guarded
   read answered anything but 200 is not a read: more than ``--max-errors`` of them fails.

Budgets: every adviser re-reads only a handful of their own people, so the guard's budgets
(distinct people per hour/day, per agent, organisation and app) and its velocity detector see
the same few people again and are never the limit. The guard still runs its full decision on
every request; nothing is configured away. ``--policy`` can point to a TOML policy file
instead (then say so when quoting the figures).

Only the standard library, httpx and pyotp. Run it with the project's interpreter, e.g.
``PYTHONPATH=src .venv/bin/python read_path_bench.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyotp

from rempart.db.engine import make_engine
from rempart_bench.ablation import PARTS
from rempart_bench.bench import update_doc
from rempart_bench.cli.bench import machine

USER_AGENT = "rempart-read-bench/1"
COOKIE = "rempart_session"
READ_AGENT_KINDS = ("agency", "mission_locale", "cap_emploi")  # advisers follow people there
PERCENTILES = ("50", "75", "90", "99")


# -- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Set by --baseline-src for the baseline run: the server (and its seed) from another checkout.
_SERVER_SRC: list[str] = []
# Set by --without for its runs: the parts of the read the server runs without (bench only).
_WITHOUT: list[str] = []


def server_env() -> dict[str, str]:
    """The environment of ``rempart seed`` and ``rempart serve``."""
    env = dict(os.environ)
    if _SERVER_SRC:
        env["PYTHONPATH"] = _SERVER_SRC[0]
    return env


def rempart(*args: str) -> list[str]:
    return [sys.executable, "-m", "rempart", *args]


def seed(
    workdir: Path, db_url: str, persons: int, seed_value: int, history_days: int
) -> tuple[str, Path]:
    for old in workdir.glob("*.db*"):  # a fresh database each run: the bench's own files
        old.unlink()
    cred = workdir / "cred.json"
    cmd = rempart(
        "seed",
        "--db",
        db_url,
        "--persons",
        str(persons),
        "--seed",
        str(seed_value),
        "--credentials-out",
        str(cred),
    )
    if history_days:
        cmd += ["--history-days", str(history_days)]
    subprocess.run(  # noqa: S603 - our interpreter, our CLI
        cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=server_env()
    )
    return db_url, cred


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_server(
    db_url: str, journal_url: str, workdir: Path, env: dict[str, str], config: Path | None
) -> Server:
    port = free_port()
    cmd = rempart(
        "serve", "--db", db_url, "--journal", journal_url,
        "--host", "127.0.0.1", "--port", str(port), "--insecure-http",
    )  # fmt: skip
    if _WITHOUT:  # the same server with parts taken out, to measure them by subtraction
        cmd[1:3] = ["-m", "rempart_bench.ablation", ",".join(_WITHOUT)]
    if config is not None:
        cmd += ["--config", str(config)]
    log = workdir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our interpreter, our CLI, arguments built here
            cmd, env={**server_env(), **env}, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            httpx.get(url + "/api/v1/me", timeout=1.0)
            return Server(proc, url, log)
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not answer within 90 s")


# -- signed-in advisers -------------------------------------------------------------------------


@dataclass
class Reader:
    login: str
    cookie: str
    people: list[str] = field(default_factory=list)


def readers_of(cred: Path, today: dt.date) -> list[dict[str, str]]:
    agents = json.loads(cred.read_text(encoding="utf-8"))["agents"]
    return [
        a
        for a in agents
        if "advisor" in a["roles"]
        and a["org_kind"] in READ_AGENT_KINDS
        and dt.date.fromisoformat(a["training_valid_until"]) >= today
    ]


def sign_in(url: str, agent: dict[str, str], ids_per_agent: int) -> Reader | None:
    """Password, TOTP, one step-up; then a few people of the adviser's own portfolio."""
    with httpx.Client(base_url=url, timeout=15.0, headers={"user-agent": USER_AGENT}) as c:
        first = c.post(
            "/api/v1/auth/login", json={"login": agent["login"], "password": agent["password"]}
        )
        if first.status_code != 200:
            return None
        totp = pyotp.TOTP(agent["totp_secret"])
        step = int(time.time()) // 30
        second = c.post(
            "/api/v1/auth/mfa/totp",
            json={"challenge": first.json()["challenge"], "code": totp.at(step * 30)},
        )
        if second.status_code != 200:
            return None
        c.headers["x-csrf-token"] = second.json()["csrf_token"]
        # The next step's code is still inside the verifier's window, and not yet used.
        up = c.post("/api/v1/auth/step-up/totp", json={"code": totp.at((step + 1) * 30)})
        if up.status_code != 200:
            return None
        page = c.get("/api/v1/portfolio", params={"size": ids_per_agent})
        if page.status_code != 200:
            return None
        reader = Reader(agent["login"], c.cookies[COOKIE])
        for item in page.json()["items"]:
            if c.get(f"/api/v1/persons/{item['ft_id']}").status_code == 200:
                reader.people.append(item["ft_id"])
        return reader if reader.people else None


def sign_in_readers(url: str, cred: Path, count: int, ids_per_agent: int) -> list[Reader]:
    out: list[Reader] = []
    for agent in readers_of(cred, dt.datetime.now(dt.UTC).date()):
        reader = sign_in(url, agent, ids_per_agent)
        if reader is not None:
            out.append(reader)
        if len(out) == count:
            break
    if not out:
        raise SystemExit("no adviser could sign in and read someone in their portfolio")
    return out


# -- wrk ----------------------------------------------------------------------------------------

LUA_COMMON = """
statuses = {}  -- a global: done() reads it from each thread
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, string.format('"%d": %d', k, v)) end
  io.write("STATUSES {" .. table.concat(parts, ", ") .. "}\\n")
end
"""

LUA_READ = """
local pairs_ = {
%(pairs)s
}
local n = 0

function init(args)
  n = tid * 7919  -- threads start at different places in the rotation
end

function request()
  n = n + 1
  local p = pairs_[(n %% #pairs_) + 1]
  return wrk.format("GET", "/api/v1/persons/" .. p[2], {
    ["Cookie"] = "%(cookie)s=" .. p[1],
    ["User-Agent"] = "%(ua)s",
  })
end
"""

LUA_401 = """
function request()
  return wrk.format("GET", "/api/v1/me", {["User-Agent"] = "%(ua)s"})
end
"""


def read_script(readers: list[Reader]) -> str:
    # Interleave advisers so that consecutive requests belong to different sessions.
    rows = []
    width = max(len(r.people) for r in readers)
    for i in range(width):
        for r in readers:
            if i < len(r.people):
                rows.append(f'  {{"{r.cookie}", "{r.people[i]}"}},')
    body = LUA_READ % {"pairs": "\n".join(rows), "cookie": COOKIE, "ua": USER_AGENT}
    return body + LUA_COMMON


def unauth_script() -> str:
    return LUA_401 % {"ua": USER_AGENT} + LUA_COMMON


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass
class WrkResult:
    name: str
    per_s: float
    requests: int
    percentiles_ms: dict[str, float]
    statuses: dict[int, int]
    socket_errors: str
    raw: str
    loop_busy: float = 0.0  # share of the run the server's event loop thread was on a CPU

    @property
    def p50(self) -> float:
        return self.percentiles_ms["50"]

    @property
    def p99(self) -> float:
        return self.percentiles_ms["99"]

    def count_not(self, status: int) -> int:
        return sum(v for k, v in self.statuses.items() if k != status)


def main_thread_cpu(pid: int) -> float:
    """CPU seconds the server's main thread (the event loop) has used so far."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def run_wrk(
    name: str, url: str, script: Path, threads: int, connections: int, seconds: int
) -> WrkResult:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    out = done.stdout
    per_s = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    pcts = {
        m.group(1): _ms(m.group(2))
        for m in re.finditer(r"^\s+(\d+)%\s+([\d.]+\w+)\s*$", out, re.MULTILINE)
        if m.group(1) in PERCENTILES
    }
    st = re.search(r"^STATUSES (\{.*\})$", out, re.MULTILINE)
    statuses = {int(k): v for k, v in json.loads(st.group(1)).items()} if st else {}
    sock = re.search(r"Socket errors:.*$", out, re.MULTILINE)
    return WrkResult(name, per_s, requests, pcts, statuses, sock.group(0) if sock else "", out)


# -- reporting ----------------------------------------------------------------------------------


def journal_count(journal_url: str) -> int:
    engine = make_engine(journal_url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM journal_entries").scalar_one())
    finally:
        engine.dispose()


def sessions_alive(url: str, readers: list[Reader]) -> int:
    alive = 0
    with httpx.Client(base_url=url, timeout=10.0, headers={"user-agent": USER_AGENT}) as c:
        for r in readers:
            c.cookies.clear()
            try:
                answer = c.get("/api/v1/me", headers={"cookie": f"{COOKIE}={r.cookie}"})
            except httpx.TransportError:  # a stalled server: its sessions count as lost
                continue
            if answer.status_code == 200:
                alive += 1
    return alive


# -- PostgreSQL: a pair of fresh databases per run -----------------------------------------------


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[tuple[str, str]]:
    """A portal and a journal database, new on ``server_url`` and dropped afterwards."""
    name = f"rempart_rp_{uuid.uuid4().hex[:10]}"
    admin = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    base = server_url.rsplit("/", 1)[0]
    try:
        with admin.connect() as c:
            for db in (name, name + "_journal"):
                c.exec_driver_sql(f'CREATE DATABASE "{db}"')
        yield f"{base}/{name}", f"{base}/{name}_journal"
    finally:
        with admin.connect() as c:
            for db in (name, name + "_journal"):
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.dispose()


# -- where the server's time goes (py-spy) --------------------------------------------------------

STAGES = (
    ("HTTP, routing, dependencies, middleware", r"."),
    ("session resumption", r"^resume \("),
    ("data gate", r"ensure_may_access_data"),
    ("person and relations", r"person_by_ft_id|relations \(rempart"),
    ("scope policy and record", r"decide \(rempart/people/scope|render_record|_extras"),
    ("guard decision", r"Guard\.admit|Guard\.check"),
    ("journal entry (serialise, hash, hand over)", r"append_async|SqlJournalStore\.append "),
)


def py_spy() -> str | None:
    """py-spy, on the PATH or installed beside this interpreter (the bench extra)."""
    beside = Path(sys.executable).parent / "py-spy"
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


def profile_server(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes]:
    """Sample the server's threads with py-spy while the guarded reads run."""
    spy = py_spy() or "py-spy"
    return subprocess.Popen(  # noqa: S603 - our profiler, our server's pid
        [spy, "record", "--pid", str(pid), "--rate", "200", "--duration", str(seconds),
         "--format", "raw", "--threads", "--nonblocking", "-o", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def profile_summary(path: Path) -> dict[str, object]:
    """Shares of the event loop's busy samples per stage, and of each thread's samples."""
    rows = []
    for line_ in path.read_text(encoding="utf-8").splitlines():
        stack, _, count = line_.rpartition(" ")
        if not count.isdigit():  # a line py-spy cut short when it stopped
            continue
        rows.append((stack.split(";"), int(count)))
    total = sum(n for _, n in rows) or 1
    threads: dict[str, int] = {}
    for frames, n in rows:
        name = re.sub(r"\s*\(\d+\)", "", frames[0]).replace("thread ", "").strip(": ")
        threads[name] = threads.get(name, 0) + n
    # The request path runs on the event loop (local stores) or in its worker threads.
    loop = [(f, n) for f, n in rows if _serves_requests(f[0]) and not _idle(f)]
    busy = sum(n for _, n in loop) or 1
    stages: dict[str, float] = {}
    claimed = 0
    for name, pattern in STAGES[1:]:
        rx = re.compile(pattern)
        share = sum(n for f, n in loop if any(rx.search(x) for x in f[1:]))
        stages[name] = round(share / busy, 3)
        claimed += share
    stages[STAGES[0][0]] = round(max(0, busy - claimed) / busy, 3)
    return {
        "samples": total,
        "threads": {
            k: round(v / total, 3) for k, v in sorted(threads.items(), key=lambda kv: -kv[1])
        },
        "request_threads_busy": round(busy / total, 3),
        "request_stages": stages,
    }


def _serves_requests(thread: str) -> bool:
    return "MainThread" in thread or "AnyIO worker" in thread


_WAITING = ("select (selectors", "run_forever (", "run_until_complete (", "Runner.run (", "wait (")


def _idle(frames: list[str]) -> bool:
    """A sample whose innermost Python frame is the loop (or a worker) waiting for work."""
    return frames[-1].startswith(_WAITING) or "_worker (anyio" in frames[-1]


# -- one run --------------------------------------------------------------------------------------


@dataclass
class Run:
    portal: str
    read: WrkResult  # the round of median ratio
    unauth: WrkResult
    rounds: list[tuple[float, float]]  # (guarded reads/s, 401/s) of each round, in order
    read_requests: int  # guarded reads sent in all rounds
    read_non_200: int  # and those answered anything but 200
    alive: int
    readers: int
    pairs: int
    journaled: int
    profile: dict[str, object] | None


def measure(args: argparse.Namespace, workdir: Path, db_url: str, journal_url: str) -> Run:
    """Seed, serve, sign in, and run wrk on the guarded read then on the 401, one server."""
    env = dict(kv.split("=", 1) for kv in args.env)
    _, cred = seed(workdir, db_url, args.persons, args.seed, args.history_days)
    server = start_server(db_url, journal_url, workdir, env, args.config)
    try:
        readers = sign_in_readers(server.url, cred, args.agents, args.ids_per_agent)
        read_lua, unauth_lua = workdir / "read.lua", workdir / "unauth.lua"
        read_lua.write_text(read_script(readers), encoding="utf-8")
        unauth_lua.write_text(unauth_script(), encoding="utf-8")
        before = journal_count(journal_url)
        wrk = (args.threads, args.connections)
        if args.warmup:
            run_wrk("warm-up", server.url, read_lua, *wrk, args.warmup)
        spy = None
        if args.profile:
            spy = profile_server(
                server.proc.pid, max(1, args.duration - 2), workdir / "profile.txt"
            )
        # Reads then 401s, ``--rounds`` times: this machine's speed drifts from one minute to
        # the next, so each ratio is taken from two runs back to back, and the median kept.
        rounds: list[tuple[WrkResult, WrkResult]] = []
        for i in range(args.rounds):
            cpu, started = main_thread_cpu(server.proc.pid), time.monotonic()
            read = run_wrk("guarded read", server.url, read_lua, *wrk, args.duration)
            read.loop_busy = (main_thread_cpu(server.proc.pid) - cpu) / (time.monotonic() - started)
            if spy is not None and i == 0:
                spy.wait(timeout=60)
            unauth = run_wrk("401 /me", server.url, unauth_lua, *wrk, args.duration)
            rounds.append((read, unauth))
        by_ratio = sorted(rounds, key=lambda r: r[0].per_s / r[1].per_s if r[1].per_s else 0.0)
        read, unauth = by_ratio[(len(by_ratio) - 1) // 2]
        alive = sessions_alive(server.url, readers)
        journaled = journal_count(journal_url) - before
    finally:
        server.stop()
    profile = None
    if args.profile and (workdir / "profile.txt").exists():
        profile = profile_summary(workdir / "profile.txt")
    pairs = sum(len(r.people) for r in readers)
    portal = "PostgreSQL" if db_url.startswith("postgresql") else "SQLite"
    per_s = [(r.per_s, u.per_s) for r, u in rounds]
    sent = sum(r.requests for r, _ in rounds)
    not_200 = sum(r.count_not(200) for r, _ in rounds)
    return Run(
        portal, read, unauth, per_s, sent, not_200, alive, len(readers), pairs, journaled, profile
    )


def figures(run: Run, args: argparse.Namespace) -> dict[str, object]:
    """The run as JSON."""
    ratio = run.read.per_s / run.unauth.per_s if run.unauth.per_s else 0.0
    return {
        "portal": run.portal,
        "read_per_s": run.read.per_s,
        "read_p50_ms": run.read.p50,
        "read_p99_ms": run.read.p99,
        "read_us": round(1e6 / run.read.per_s) if run.read.per_s else None,
        "server_loop_busy": round(run.read.loop_busy, 3),
        "read_requests": run.read_requests,
        "read_statuses": run.read.statuses,
        "unauth_per_s": run.unauth.per_s,
        "unauth_p50_ms": run.unauth.p50,
        "unauth_p99_ms": run.unauth.p99,
        "ratio": round(ratio, 3),
        "rounds": [
            {"read_per_s": r, "unauth_per_s": u, "ratio": round(r / u, 3) if u else 0.0}
            for r, u in run.rounds
        ],
        "read_non_200": run.read_non_200,
        "sessions_alive": run.alive,
        "advisers": run.readers,
        "pairs": run.pairs,
        "journal_entries": run.journaled,
        "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s --latency",
        "profile": run.profile,
    }


def markdown(results: list[dict[str, object]], command: str, machine: str) -> str:
    """The benchmarks.md section for these runs."""
    out = [
        "### Guarded record reads against the same server's 401, side by side",
        "",
        f"Command: `{command}`. Machine: {machine}.",
        "",
        "Each row is the round of median ratio among its rounds (guarded reads for the duration,"
        " then the 401 for as long, on the same server); the ratios of every round follow."
        ' "One read" is the inverse of the read rate; "event loop on CPU" is the share of'
        " that round the server's main thread spent on a CPU (its utime and stime in /proc):"
        ' near 100 %, the loop\'s work is the limit. A row "without" a part is the same server'
        " with that part taken out (``--without``, bench only): the difference is its cost.",
        "",
        "| portal | guarded reads/s | p50 | p99 | 401/s (same server) | ratio | every round's"
        " ratio | non-200 reads | one read | event loop on CPU |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in results:
        rounds = f["rounds"]
        assert isinstance(rounds, list)
        every = ", ".join(format(r["ratio"], ".2f") for r in rounds)
        out.append(
            f"| {f['portal']} | {f['read_per_s']:,.0f} | {f['read_p50_ms']:.1f} ms "
            f"| {f['read_p99_ms']:.1f} ms | {f['unauth_per_s']:,.0f} | {f['ratio']:.2f} "
            f"| {every} "
            f"| {f['read_non_200']} of {f['read_requests']:,} "
            f"| {f['read_us']} µs | {f['server_loop_busy']:.0%} |"
        )
    for f in results:
        prof = f.get("profile")
        if not isinstance(prof, dict):
            continue
        out += [
            "",
            f"Where the server's time goes on {f['portal']} (py-spy, {prof['samples']:,} "
            "samples of the server's threads during the guarded reads):",
            "",
        ]
        threads = prof["threads"]
        assert isinstance(threads, dict)
        out.append("threads: " + ", ".join(f"{k} {v:.0%}" for k, v in list(threads.items())[:4]))
        out += [
            "",
            f"the request path (event loop and its worker threads) is "
            f"{prof['request_threads_busy']:.0%} of the samples; of its time:",
            "",
        ]
        stages = prof["request_stages"]
        assert isinstance(stages, dict)
        out += [f"- {k}: {v:.0%}" for k, v in sorted(stages.items(), key=lambda kv: -kv[1])]
    return "\n".join(out)


def report(results: list[dict[str, object]], max_errors: float) -> bool:
    """Print the runs; True when too many guarded reads were not answered 200."""
    failed = False
    for f in results:
        print(
            f"{f['portal']:<10} guarded read {f['read_per_s']:>8.1f}/s"
            f" p50 {f['read_p50_ms']:.2f} ms p99 {f['read_p99_ms']:.2f} ms"
            f" | 401 {f['unauth_per_s']:>8.1f}/s | ratio {f['ratio']:.3f}"
            f" | rounds {' '.join(str(r['ratio']) for r in f['rounds'])}"  # type: ignore[attr-defined]
            f" | non-200 reads {f['read_non_200']}"
            f" | loop on CPU {f['server_loop_busy']:.0%}"
            f" | sessions alive {f['sessions_alive']}/{f['advisers']}"
        )
        if f["profile"]:
            print("   profile:", json.dumps(f["profile"]["request_stages"]))  # type: ignore[index]
        share = int(f["read_non_200"]) / max(1, int(f["read_requests"]))  # type: ignore[call-overload]
        failed |= share > max_errors
    return failed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", type=Path, help="kept afterwards (default: a temporary one)")
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--history-days", type=int, default=0)
    ap.add_argument("--agents", type=int, default=32, help="signed-in advisers")
    ap.add_argument("--ids-per-agent", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    ap.add_argument("--warmup", type=int, default=3, help="seconds of guarded reads first")
    ap.add_argument(
        "--rounds", type=int, default=3, help="reads-then-401 pairs; the median ratio is kept"
    )
    ap.add_argument("--max-errors", type=float, default=0.01, help="share of non-200 reads")
    ap.add_argument("--config", type=Path, help="KEY=value settings file for `rempart serve`")
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    ap.add_argument("--postgres", help="also run with the portal and journal on this server")
    ap.add_argument("--profile", action="store_true", help="sample the server with py-spy")
    ap.add_argument(
        "--baseline-src",
        type=Path,
        help="first run the same measure (SQLite) against the server of another checkout's src/",
    )
    ap.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="then the same measure (SQLite) with this server setting added (repeatable)",
    )
    ap.add_argument(
        "--without",
        action="append",
        default=[],
        choices=sorted(PARTS),
        help="then the same measure (SQLite) without this part of the read (repeatable)",
    )
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--doc", type=Path, help="markdown file whose read-path section is replaced")
    return ap.parse_args(argv)


def side_runs(args: argparse.Namespace, workdir: Path, done: int) -> list[dict[str, object]]:
    """The same measure on SQLite with a setting added (``--also``), then without a part of
    the read (``--without``): each its own seed and server, right after the main run."""
    variants: list[tuple[str, str, list[str], list[str]]] = [
        (f"SQLite, {kv}", f"also-{done + i}", [kv], []) for i, kv in enumerate(args.also)
    ]
    variants += [(f"SQLite without {part}", f"without-{part}", [], [part]) for part in args.without]
    out: list[dict[str, object]] = []
    for label, name, env, without in variants:
        run_dir = workdir / name
        run_dir.mkdir(exist_ok=True)
        db_url, journal_url = (f"sqlite:///{run_dir / n}" for n in ("rempart.db", "journal.db"))
        _WITHOUT[:] = without
        try:
            extra = argparse.Namespace(**{**vars(args), "env": [*args.env, *env]})
            run = figures(measure(extra, run_dir, db_url, journal_url), args)
        finally:
            _WITHOUT.clear()
        run["portal"] = label
        out.append(run)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    if args.profile and py_spy() is None:
        raise SystemExit("--profile needs py-spy (pip install '.[bench]')")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="read-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, object]] = []
    if args.baseline_src:
        base_dir = workdir / "baseline"
        base_dir.mkdir(exist_ok=True)
        _SERVER_SRC.append(str(args.baseline_src.resolve()))
        db_url, journal_url = (f"sqlite:///{base_dir / n}" for n in ("rempart.db", "journal.db"))
        baseline = figures(measure(args, base_dir, db_url, journal_url), args)
        baseline["portal"] = "SQLite, before"
        results.append(baseline)
        _SERVER_SRC.clear()
    sqlite_dir = workdir / "sqlite"
    sqlite_dir.mkdir(exist_ok=True)
    runs = [
        (
            "sqlite",
            f"sqlite:///{sqlite_dir / 'rempart.db'}",
            f"sqlite:///{sqlite_dir / 'journal.db'}",
        )
    ]
    for _kind, db_url, journal_url in runs:
        results.append(figures(measure(args, sqlite_dir, db_url, journal_url), args))
    results += side_runs(args, workdir, len(results))
    if args.postgres:
        pg_dir = workdir / "postgres"
        pg_dir.mkdir(exist_ok=True)
        with fresh_postgres(args.postgres) as (db_url, journal_url):
            results.append(figures(measure(args, pg_dir, db_url, journal_url), args))
    failed = report(results, args.max_errors)
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine(), "runs": results}, indent=1) + "\n", encoding="utf-8"
        )
    if args.doc:
        command = "python -m rempart_bench.read_path " + " ".join(
            argv if argv is not None else sys.argv[1:]
        )
        update_doc(args.doc, markdown(results, command, machine()), command, marker="read-path")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        print("FAIL: more guarded reads than allowed were not answered 200", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
