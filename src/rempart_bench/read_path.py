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
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyotp

USER_AGENT = "rempart-read-bench/1"
COOKIE = "rempart_session"
READ_AGENT_KINDS = ("agency", "mission_locale", "cap_emploi")  # advisers follow people there
PERCENTILES = ("50", "75", "90", "99")


# -- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rempart(*args: str) -> list[str]:
    return [sys.executable, "-m", "rempart", *args]


def seed(workdir: Path, persons: int, seed_value: int, history_days: int) -> tuple[str, Path]:
    for old in workdir.glob("*.db*"):  # a fresh database each run: the bench's own files
        old.unlink()
    db_url = f"sqlite:///{workdir / 'rempart.db'}"
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
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
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


def start_server(db_url: str, workdir: Path, env: dict[str, str], config: Path | None) -> Server:
    port = free_port()
    cmd = rempart(
        "serve", "--db", db_url, "--host", "127.0.0.1", "--port", str(port), "--insecure-http"
    )
    if config is not None:
        cmd += ["--config", str(config)]
    log = workdir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our interpreter, our CLI, arguments built here
            cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
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

    @property
    def p50(self) -> float:
        return self.percentiles_ms["50"]

    @property
    def p99(self) -> float:
        return self.percentiles_ms["99"]

    def count_not(self, status: int) -> int:
        return sum(v for k, v in self.statuses.items() if k != status)


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


def journal_count(journal: Path) -> int:
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM journal_entries").fetchone()[0])


def sessions_alive(url: str, readers: list[Reader]) -> int:
    alive = 0
    with httpx.Client(base_url=url, timeout=10.0, headers={"user-agent": USER_AGENT}) as c:
        for r in readers:
            c.cookies.clear()
            if c.get("/api/v1/me", headers={"cookie": f"{COOKIE}={r.cookie}"}).status_code == 200:
                alive += 1
    return alive


def line(r: WrkResult) -> str:
    return (
        f"{r.name:<14} {r.per_s:>9.1f} req/s   p50 {r.p50:>7.2f} ms   p99 {r.p99:>7.2f} ms   "
        f"requests {r.requests}   statuses {dict(sorted(r.statuses.items()))}"
        + (f"   {r.socket_errors}" if r.socket_errors else "")
    )


def main(argv: list[str] | None = None) -> int:
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
    ap.add_argument("--max-errors", type=float, default=0.01, help="share of non-200 reads")
    ap.add_argument("--config", type=Path, help="KEY=value settings file for `rempart serve`")
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="read-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(kv.split("=", 1) for kv in args.env)

    db_url, cred = seed(workdir, args.persons, args.seed, args.history_days)
    server = start_server(db_url, workdir, env, args.config)
    try:
        readers = sign_in_readers(server.url, cred, args.agents, args.ids_per_agent)
        pairs = sum(len(r.people) for r in readers)
        read_lua, unauth_lua = workdir / "read.lua", workdir / "unauth.lua"
        read_lua.write_text(read_script(readers), encoding="utf-8")
        unauth_lua.write_text(unauth_script(), encoding="utf-8")
        print(f"server {server.url}, {len(readers)} advisers signed in, {pairs} (cookie, ft_id)")
        journal = workdir / "journal.db"
        before = journal_count(journal)
        wrk = (args.threads, args.connections)
        if args.warmup:
            run_wrk("warm-up", server.url, read_lua, *wrk, args.warmup)
        read = run_wrk("guarded read", server.url, read_lua, *wrk, args.duration)
        unauth = run_wrk("401 /me", server.url, unauth_lua, *wrk, args.duration)
        alive = sessions_alive(server.url, readers)
        journaled = journal_count(journal) - before
    finally:
        server.stop()

    ratio = read.per_s / unauth.per_s if unauth.per_s else 0.0
    bad_reads = read.count_not(200)
    bad_share = bad_reads / read.requests if read.requests else 1.0
    print(line(read))
    print(line(unauth))
    print(f"ratio guarded/401 = {ratio:.3f}")
    print(
        f"non-200 reads: {bad_reads} ({bad_share:.2%}); 401 path non-401: {unauth.count_not(401)}"
    )
    print(f"sessions still alive after the run: {alive}/{len(readers)}")
    print(f"journal entries written during the runs: {journaled} (warm-up included)")
    figures = {
        "read_per_s": read.per_s,
        "read_p50_ms": read.p50,
        "read_p99_ms": read.p99,
        "read_requests": read.requests,
        "read_statuses": read.statuses,
        "unauth_per_s": unauth.per_s,
        "unauth_p50_ms": unauth.p50,
        "unauth_p99_ms": unauth.p99,
        "ratio": round(ratio, 3),
        "read_non_200": bad_reads,
        "sessions_alive": alive,
        "advisers": len(readers),
        "pairs": pairs,
        "journal_entries": journaled,
        "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s --latency",
    }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    if bad_share > args.max_errors or unauth.count_not(401):
        print(
            f"FAIL: {bad_reads} of {read.requests} guarded reads were not 200 "
            f"(limit {args.max_errors:.0%}): {read.statuses}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
