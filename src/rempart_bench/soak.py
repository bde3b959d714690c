"""The soak: two ``rempart serve`` replicas on PostgreSQL and Redis under a steady mixed load,
while their dependencies fail one after the other.

Everything runs on loopback, in a work directory, on servers this run starts itself: a private
PostgreSQL cluster (``initdb``/``pg_ctl``, on a free port, as the ``postgres`` user when run as
root) whose journal database lives in a tablespace on a small ``tmpfs``, and a private
``redis-server`` (append-only file, fsync at every write, as production must run it). Nothing
touches another PostgreSQL or Redis on the machine.

The load (sign-ins, record reads, portfolio lists, the account manager's lists and four-eyes
requests, one adviser reading new people until their exposure budget stops them) runs through
every phase; each answer is recorded with the phase it was sent in. The phases:

``baseline``; ``redis_restart`` (Redis stopped, then started again); ``postgres_restart``
(``pg_ctl restart``); ``replica_kill`` (one replica SIGKILLed, then started again; the load
balancer's part is played by the clients: a refused connection goes to the other replica);
``journal_disk_full`` (the journal's tablespace filled to the last byte, then freed);
``journal_stall`` (another session holds the journal's append lock, so its writer cannot
commit); ``final``.

What must hold, checked at the end (the run fails otherwise):

- no answer is a 5xx other than the documented 503 problem (``guard_unavailable``,
  ``journal_unavailable``, ``database_unavailable``);
- every record or list served (a 200) has its journal entry: per agent and person, the journal
  holds at least as many ``allow`` entries as answers were served;
- after each fault, data reads succeed again on both replicas by themselves, within the
  phase's recovery time;
- the adviser whose budget was exhausted before the first fault is served no new person after
  it, whatever restarted in between (no budget forgotten);
- the journal verifies (``rempart journal verify``) at the end.

``make soak`` runs it; ``--scale`` shortens every phase for a quick run while developing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pyotp

from rempart_bench.bench import update_doc
from rempart_bench.cli.bench import machine

USER_AGENT = "rempart-soak/1"
COOKIE = "rempart_session"
DOCUMENTED_503 = frozenset({"guard_unavailable", "journal_unavailable", "database_unavailable"})
# The advisory lock the journal's writer takes for every append (journal/adapters/sql.py).
JOURNAL_APPEND_LOCK = 0x52454D50
BUDGET = 25  # distinct people per agent per day and hour, in the soak's policy file
POLICY = f"""[budgets]
agent_day_floor = {BUDGET}
agent_day_ceiling = {BUDGET}
agent_hour_floor = {BUDGET}
agent_hour_ceiling = {BUDGET}
off_hours_factor = 1.0
scope_budget_ceiling = 0

[detectors]
machine_gap_seconds = 0.05
"""
# The budget is exactly BUDGET: no larger day-one allowance for an agent's scope (the seed has
# no history), no off-hours shrinking; and the adviser held at their budget reads at the
# soak's pace without the machine-pace step-up (their reads are what is measured).
REQUEST_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the private PostgreSQL ----------------------------------------------------------------------


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if found:
        return found[-1].parent
    which = shutil.which("pg_ctl")
    if which:
        return Path(which).parent
    raise SystemExit("soak: no PostgreSQL server binaries (pg_ctl) on this machine")


class Postgres:
    """A PostgreSQL cluster of our own: its data directory, port and socket in the work dir."""

    def __init__(self, workdir: Path, disk_mb: int) -> None:
        self.bin = _pg_bin()
        self.port = free_port()
        self.data = workdir / "pg"
        self.socket = workdir / "pgsock"
        self.logfile = workdir / "pgsock" / "postgres.log"  # a directory the server may write
        self.disk = workdir / "journal-disk"
        self.disk_mb = disk_mb
        self.filler = self.disk / "filler"
        self._mounted = False
        self.user = "postgres" if os.geteuid() == 0 else ""

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return subprocess.run(  # noqa: S603 - our own binaries and arguments
            [*prefix, *cmd], check=check, capture_output=True, text=True
        )

    def _own(self, path: Path) -> None:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self) -> None:
        for d in (self.data, self.socket, self.disk):
            d.mkdir(parents=True, exist_ok=True)
            self._own(d)
        self._mount()
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        self._pg_ctl("start")
        with self.admin() as c:
            tablespace = self.disk / "ts"
            tablespace.mkdir(exist_ok=True)
            self._own(tablespace)
            c.execute(f"CREATE TABLESPACE journal_disk LOCATION '{tablespace}'")
            c.execute("CREATE DATABASE portal")
            c.execute("CREATE DATABASE journal TABLESPACE journal_disk")

    def _mount(self) -> None:
        """A small filesystem of its own for the journal's tablespace, so that filling it
        fills nothing else (tmpfs: needs root, which the soak's other steps need too)."""
        uid = pwd.getpwnam(self.user).pw_uid if self.user else os.getuid()
        done = subprocess.run(  # noqa: S603 - fixed arguments
            [
                shutil.which("mount") or "/bin/mount", "-t", "tmpfs",
                "-o", f"size={self.disk_mb}m,mode=0700,uid={uid}", "tmpfs", str(self.disk),
            ],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(
                "soak: cannot mount a size-limited tmpfs for the journal's disk "
                f"({done.stderr.strip()}); run it as root"
            )
        self._mounted = True

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = (
            f"-p {self.port} -k {self.socket} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile),
            "-o", options, "-w", "-t", "60", action, *extra,
        )  # fmt: skip

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop",
            check=False,
        )  # fmt: skip
        if self._mounted:
            umount = shutil.which("umount") or "/bin/umount"
            subprocess.run([umount, str(self.disk)], check=False, capture_output=True)  # noqa: S603
            self._mounted = False

    def url(self, db: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def admin(self, db: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(self.url(db), autocommit=True, connect_timeout=5)

    def fill_disk(self) -> int:
        """Write a file into the journal's filesystem until it is full; returns its size."""
        written = 0
        chunk = b"\0" * (1 << 20)
        with self.filler.open("wb", buffering=0) as f:
            while True:
                try:
                    written += f.write(chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
        # The last partial megabyte too: not one page left for a new journal row.
        with self.filler.open("ab", buffering=0) as f, contextlib.suppress(OSError):
            while True:
                written += f.write(b"\0" * 4096)
        return written

    def free_disk(self) -> None:
        self.filler.unlink(missing_ok=True)


class Redis:
    """A redis-server of our own, with its append-only file in the work dir."""

    def __init__(self, workdir: Path, appendonly: str = "yes") -> None:
        self.port = free_port()
        self.appendonly = appendonly
        self.dir = workdir / "redis"
        self.dir.mkdir(exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise SystemExit("soak: no redis-server on this machine")
        with (self.dir / "redis.log").open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - our own arguments
                [
                    exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                    "--appendonly", self.appendonly, "--appendfsync", "always", "--save", "",
                    "--protected-mode", "yes",
                ],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("soak: redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: Redis flushes its append-only file and exits
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


# -- the replicas --------------------------------------------------------------------------------


def rempart(*args: str) -> list[str]:
    return [sys.executable, "-m", "rempart", *args]


class Replica:
    """One ``rempart serve``, restartable on the same port."""

    def __init__(self, name: str, workdir: Path, cmd: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.cmd = [*cmd, "--port", str(self.port)]
        self.env = env
        self.logfile = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.logfile.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - our interpreter, our CLI
                self.cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.logfile.read_text(errors="replace")[-3000:]
                raise SystemExit(f"soak: replica {self.name} exited:\n{tail}")
            try:
                httpx.get(self.url + "/api/v1/me", timeout=1.0)
            except httpx.HTTPError:
                time.sleep(0.2)
            else:
                return
        raise SystemExit(f"soak: replica {self.name} did not answer within 90 s")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what a crashed host looks like."""
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- what the load saw ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """One request the load sent, and what came back (status 0: no answer, connection lost)."""

    at: float
    phase: str
    replica: str
    op: str
    status: int
    code: str = ""
    agent: str = ""
    served: tuple[str, ...] = ()  # the people whose data a 200 carried
    problem: bool = True  # an error answer was problem+json


@dataclass
class Recorder:
    phase: str = "setup"
    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)


DATA_OPS = frozenset({"read", "list", "budget_read"})


class Client:
    """One signed-in agent's client, sending to either replica like a load balancer would."""

    def __init__(self, agent: dict[str, Any], replicas: list[Replica], rec: Recorder) -> None:
        self.agent = agent
        self.replicas = replicas
        self.rec = rec
        # Each agent at its own loopback address (127.0.0.0/8 is all loopback): agents sit at
        # different desks, and the sign-in throttle per address sees them apart.
        transport = httpx.HTTPTransport(local_address=address_of(agent["login"]))
        self.http = httpx.Client(
            timeout=REQUEST_TIMEOUT, headers={"user-agent": USER_AGENT}, transport=transport
        )
        self.turn = 0
        self.csrf = ""
        self.people: list[str] = []

    def close(self) -> None:
        self.http.close()

    def send(self, op: str, method: str, path: str, **kw: Any) -> httpx.Response | None:
        """Send to the next replica; a refused connection goes to the other one."""
        self.turn += 1
        headers = {"x-csrf-token": self.csrf} if self.csrf and method != "GET" else {}
        for attempt in range(2):
            replica = self.replicas[(self.turn + attempt) % len(self.replicas)]
            phase, at = self.rec.phase, time.time()
            try:
                r = self.http.request(method, replica.url + path, headers=headers, **kw)
            except httpx.HTTPError as exc:
                self.rec.add(Answer(at, phase, replica.name, op, 0, type(exc).__name__))
                if isinstance(exc, httpx.ConnectError):
                    continue
                return None
            self.rec.add(_answer(at, phase, replica.name, op, r, self.agent["login"]))
            return r
        return None

    def sign_in(self, op: str = "sign_in") -> bool:
        """Password, TOTP (a code never used before), and a step-up as the read bench does."""
        self.http.cookies.clear()
        self.csrf = ""
        first = self.send(
            op, "POST", "/api/v1/auth/login",
            json={"login": self.agent["login"], "password": self.agent["password"]},
        )  # fmt: skip
        if first is None or first.status_code != 200:
            return False
        totp = pyotp.TOTP(self.agent["totp_secret"])
        step = _next_step(self.agent["login"])
        second = self.send(
            op, "POST", "/api/v1/auth/mfa/totp",
            json={"challenge": first.json()["challenge"], "code": totp.at(step * 30)},
        )  # fmt: skip
        if second is None or second.status_code != 200:
            return False
        self.csrf = second.json()["csrf_token"]
        up = self.send(
            op, "POST", "/api/v1/auth/step-up/totp", json={"code": totp.at((step + 1) * 30)}
        )
        return up is not None and up.status_code == 200


_STEPS_LOCK = threading.Lock()
_ADDRESSES: dict[str, str] = {}


def address_of(login: str) -> str:
    """The agent's own loopback address, the same for the whole run."""
    with _STEPS_LOCK:
        if login not in _ADDRESSES:
            n = len(_ADDRESSES) + 2
            _ADDRESSES[login] = f"127.0.{n // 250}.{n % 250 + 2}"
        return _ADDRESSES[login]


_STEPS: dict[str, int] = {}


def _next_step(login: str) -> int:
    """A TOTP step this agent has not used yet (a code is good once; the step-up takes the
    next step's code); waits when the agent signed in less than a minute ago."""
    while True:
        with _STEPS_LOCK:
            now = int(time.time()) // 30
            last = _STEPS.get(login, -10)
            if now > last + 1:
                _STEPS[login] = now + 1
                return now
        time.sleep(1)


def _answer(at: float, phase: str, replica: str, op: str, r: httpx.Response, agent: str) -> Answer:
    code = ""
    served: tuple[str, ...] = ()
    problem = True
    if r.status_code >= 400:
        problem = r.headers.get("content-type", "").startswith("application/problem+json")
        with contextlib.suppress(ValueError):
            code = str(r.json().get("code", ""))
    elif r.status_code == 200 and op in DATA_OPS:
        body = r.json()
        if "items" in body:
            served = tuple(str(i["ft_id"]) for i in body["items"])
        elif "ft_id" in body:
            served = (str(body["ft_id"]),)
    return Answer(at, phase, replica, op, r.status_code, code, agent, served, problem)


# -- the load ------------------------------------------------------------------------------------


@dataclass
class Load:
    """The steady mixed load: a few workers, each its own kind of agent, until ``stop``."""

    replicas: list[Replica]
    agents: list[dict[str, Any]]
    rec: Recorder
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    budget_agent: str = ""
    # The people an adviser follows, read from the portal's database (listing them through the
    # API would expose them, and count against the very budget being measured).
    people_of: Callable[[str], list[str]] = field(default=lambda _login: [])
    # Set once the adviser held at their budget has been refused: the faults start after it.
    exhausted: threading.Event = field(default_factory=threading.Event)

    def start(self, readers: int) -> None:
        today = dt.datetime.now(dt.UTC).date().isoformat()
        valid = [a for a in self.agents if (a.get("training_valid_until") or today) >= today]
        advisers = [a for a in valid if "advisor" in a["roles"]]
        trainers = [a for a in valid if "training_manager" in a["roles"]]
        managers = [a for a in valid if "account_manager" in a["roles"]]
        probe = next((a for a in advisers if a["org_kind"] == "agency"), None)
        people = [a for a in advisers + trainers if a is not probe][:readers]
        gov = next((a for a in managers if a["org_kind"] == "agency"), None)
        signers = [a for a in managers if a is not gov][:24]
        if probe is None or gov is None or len(people) < readers or len(signers) < 4:
            raise SystemExit("soak: the seed has too few advisers or account managers")
        self.budget_agent = probe["login"]
        work: list[tuple[str, Callable[..., None], tuple[Any, ...]]] = [
            ("budget", self._budget_reader, (probe,)),
            ("signins", self._sign_ins, (signers,)),
            ("governance", self._governance, (gov,)),
        ]
        work += [(f"reader{i}", self._reader, (a,)) for i, a in enumerate(people)]
        for name, target, args in work:
            t = threading.Thread(target=self._guarded, args=(target, *args), name=name, daemon=True)
            t.start()
            self.threads.append(t)

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=REQUEST_TIMEOUT + 10)

    def _guarded(self, target: Callable[..., None], *args: Any) -> None:
        try:
            target(*args)
        except Exception as exc:  # noqa: BLE001 - a worker's bug must show, not end the soak
            log(f"worker {threading.current_thread().name} stopped: {exc!r}")

    def _signed_in(self, c: Client) -> None:
        while not self.stop.is_set() and not c.sign_in():
            self.stop.wait(1.0)

    def _reader(self, agent: dict[str, Any]) -> None:
        """An adviser at work: lists their portfolio, opens the records of a few people."""
        c = Client(agent, self.replicas, self.rec)
        self._signed_in(c)
        n = 0
        while not self.stop.is_set():
            n += 1
            if n % 10 == 1 or not c.people:
                r = c.send("list", "GET", "/api/v1/portfolio", params={"size": 5})
                if r is not None and r.status_code == 200:
                    c.people = [i["ft_id"] for i in r.json()["items"]] or c.people
            elif c.people:
                r = c.send("read", "GET", f"/api/v1/persons/{c.people[n % len(c.people)]}")
            else:
                r = c.send("me", "GET", "/api/v1/me")
            if r is not None and r.status_code == 401:
                self._signed_in(c)
            self.stop.wait(0.05)
        c.close()

    def _sign_ins(self, agents: list[dict[str, Any]]) -> None:
        """Sign-ins all along: each agent in turn signs in, reads who they are, signs out."""
        i = 0
        while not self.stop.is_set():
            c = Client(agents[i % len(agents)], self.replicas, self.rec)
            i += 1
            if c.sign_in():
                c.send("me", "GET", "/api/v1/me")
                c.send("logout", "POST", "/api/v1/auth/logout")
            c.close()
            self.stop.wait(1.0)

    def _governance(self, manager: dict[str, Any]) -> None:
        """An account manager: the accounts, the pending requests, now and then a new one."""
        c = Client(manager, self.replicas, self.rec)
        self._signed_in(c)
        n = 0
        while not self.stop.is_set():
            n += 1
            if n % 3 == 0:
                r = c.send("governance", "GET", "/api/v1/accounts/requests")
            elif n % 20 == 0:
                r = c.send(
                    "governance", "POST", "/api/v1/accounts",
                    json={"login": f"soak.{os.getpid()}.{n}", "email": f"soak{n}@example.fr",
                          "roles": ["advisor"]},
                )  # fmt: skip
            else:
                r = c.send("governance", "GET", "/api/v1/accounts")
            if r is not None and r.status_code == 401:
                self._signed_in(c)
            self.stop.wait(0.2)
        c.close()

    def _budget_reader(self, agent: dict[str, Any]) -> None:
        """An adviser who opens the records of their own people one after the other until the
        guard stops them, then asks again for the first one refused, now and then: it must
        never be served again today, whatever restarted in between."""
        c = Client(agent, self.replicas, self.rec)
        self._signed_in(c)
        people = self.people_of(agent["login"])
        log(f"budget: {agent['login']} follows {len(people)} people, budget {BUDGET}")
        n = 0
        exhausted = False
        while not self.stop.is_set() and n < len(people):
            r = c.send("budget_read", "GET", f"/api/v1/persons/{people[n]}")
            if r is not None and r.status_code == 401:
                self._signed_in(c)
            elif r is not None and r.status_code == 429:
                exhausted = True  # the same person again next time
                self.exhausted.set()
            elif r is not None and r.status_code in (200, 404):
                n += 1  # served, or not in scope after all: the next one
            # Past the budget, slowly: the guard revokes a session that keeps hammering.
            self.stop.wait(15.0 if exhausted else 0.1)
        c.close()


# -- the phases ----------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    fault: Callable[[], None] | None
    heal: Callable[[], None] | None
    fault_seconds: float
    recovery_seconds: float
    back_at: float = 0.0  # when the dependency was back (time.time())
    note: str = ""


class Stall:
    """Holds the journal's append lock from another session: its writer cannot commit."""

    def __init__(self, pg: Postgres) -> None:
        self.pg = pg
        self.conn: psycopg.Connection[Any] | None = None

    def hold(self) -> None:
        self.conn = self.pg.admin("journal")
        self.conn.execute("SELECT pg_advisory_lock(%s)", (JOURNAL_APPEND_LOCK,))

    def release(self) -> None:
        if self.conn is not None:
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (JOURNAL_APPEND_LOCK,))
            self.conn.close()
            self.conn = None


def phases(pg: Postgres, redis: Redis, replicas: list[Replica], scale: float) -> list[Phase]:
    stall = Stall(pg)
    filled: dict[str, int] = {}

    def fill() -> None:
        filled["bytes"] = pg.fill_disk()

    def kill() -> None:
        replicas[0].kill()

    s = scale
    return [
        Phase("baseline", None, None, max(40 * s, 20), 0, note="none"),
        Phase(
            "redis_restart", redis.stop, redis.start, 20 * s, 30 * s,
            note="Redis stopped (SIGTERM), started again on its append-only file",
        ),
        Phase(
            "postgres_restart", pg.restart, None, 0, 30 * s,
            note="PostgreSQL restarted (`pg_ctl restart -m fast`)",
        ),
        Phase(
            "replica_kill", kill, replicas[0].start, 10 * s, 30 * s,
            note="replica a SIGKILLed, started again",
        ),
        Phase(
            "journal_disk_full", fill, pg.free_disk, 20 * s, 30 * s,
            note="the journal tablespace's tmpfs filled to the last byte, then freed",
        ),
        Phase(
            "journal_stall", stall.hold, stall.release, 20 * s, 30 * s,
            note="the journal's append lock held by another session",
        ),
        Phase("final", None, None, 20 * s, 0, note="none"),
    ]  # fmt: skip


def run_phases(plan: list[Phase], rec: Recorder, ready: threading.Event) -> None:
    """The phases in turn; the first fault waits (two minutes at most) until the adviser held
    at their budget has been refused, so that the budget is known before anything fails."""
    for p in plan:
        if p.fault is not None and not ready.is_set():
            log("waiting for the adviser's budget to be exhausted")
            ready.wait(120)
        rec.phase = p.name
        log(f"phase {p.name}")
        if p.fault is not None:
            p.fault()
        time.sleep(p.fault_seconds)
        if p.heal is not None:
            p.heal()
        p.back_at = time.time()
        time.sleep(p.recovery_seconds)


# -- the checks (pure: the unit tests run them on made-up answers) -------------------------------


@dataclass
class Verdict:
    failures: list[str] = field(default_factory=list)
    per_phase: dict[str, dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


def check_answers(answers: list[Answer]) -> list[str]:
    """Every 5xx is the documented 503 problem; every error answer is problem+json."""
    out: list[str] = []
    bad = Counter(
        (a.phase, a.status, a.code)
        for a in answers
        if a.status >= 500 and not (a.status == 503 and a.code in DOCUMENTED_503)
    )
    out += [f"{n} answers {s} {c or '(no code)'} in {p}" for (p, s, c), n in bad.items()]
    plain = Counter(a.phase for a in answers if a.status >= 400 and not a.problem)
    out += [f"{n} error answers not problem+json in {p}" for p, n in plain.items()]
    return out


def check_journaled(answers: list[Answer], journaled: Counter[tuple[str, str]]) -> list[str]:
    """Per agent and person, at least as many ``allow`` entries as answers that served them."""
    served: Counter[tuple[str, str]] = Counter()
    for a in answers:
        if a.status == 200:
            for ft_id in a.served:
                served[(a.agent, ft_id)] += 1
    missing = {k: n - journaled[k] for k, n in served.items() if journaled[k] < n}
    if not missing:
        return []
    sample = ", ".join(f"{agent}/{ft_id} (-{n})" for (agent, ft_id), n in list(missing.items())[:5])
    return [f"{sum(missing.values())} served answers without a journal entry: {sample}"]


def check_recovery(answers: list[Answer], plan: list[Phase], replicas: list[str]) -> dict[str, Any]:
    """For each fault, how long after the dependency was back each replica served data again."""
    out: dict[str, Any] = {}
    for p in plan:
        if p.fault is None:
            continue
        seconds: dict[str, float | None] = {}
        for name in replicas:
            firsts = [
                a.at
                for a in answers
                if a.replica == name and a.op in DATA_OPS and a.status == 200 and a.at >= p.back_at
            ]
            seconds[name] = round(min(firsts) - p.back_at, 2) if firsts else None
        out[p.name] = seconds
    return out


def check_budget(
    answers: list[Answer], agent: str, first_fault_at: float
) -> tuple[list[str], dict[str, Any]]:
    """The adviser was stopped by their budget before the first fault, and no new person was
    served to them after it."""
    mine = sorted((a for a in answers if a.agent == agent), key=lambda a: a.at)
    before = {f for a in mine if a.at < first_fault_at and a.status == 200 for f in a.served}
    exhausted = any(a.code == "budget_exhausted" and a.at < first_fault_at for a in mine)
    after = {f for a in mine if a.at >= first_fault_at and a.status == 200 for f in a.served}
    new = sorted(after - before)
    refused_after = sum(1 for a in mine if a.at >= first_fault_at and a.code == "budget_exhausted")
    tried_after = Counter(
        a.status for a in mine if a.at >= first_fault_at and a.op == "budget_read"
    )
    figures = {
        "agent": agent,
        "people_before_first_fault": len(before),
        "exhausted_before_first_fault": exhausted,
        "refused_after": refused_after,
        "new_people_after": len(new),
        "tries_after": {str(k): v for k, v in sorted(tried_after.items())},
    }
    failures = []
    if not exhausted:
        failures.append(f"{agent}'s budget was not exhausted before the first fault")
    if not refused_after:
        # Not one refusal for the budget after the faults: the check above proved nothing.
        failures.append(f"{agent} was never refused for the budget after the first fault")
    if new:
        failures.append(f"{len(new)} new people served to {agent} after the first fault: {new[:5]}")
    return failures, figures


def per_phase(answers: list[Answer], plan: list[Phase]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    by_phase: dict[str, list[Answer]] = defaultdict(list)
    for a in answers:
        by_phase[a.phase].append(a)
    for p in plan:
        mine = by_phase.get(p.name, [])
        statuses = Counter(a.status for a in mine)
        out[p.name] = {
            "answers": sum(n for s, n in statuses.items() if s),
            "no_answer": statuses.get(0, 0),
            "data_served": sum(1 for a in mine if a.status == 200 and a.op in DATA_OPS),
            "sign_ins": sum(1 for a in mine if a.op == "sign_in" and a.status == 200),
            "statuses": {str(s): n for s, n in sorted(statuses.items()) if s},
            "503_codes": dict(Counter(a.code for a in mine if a.status == 503)),
            "other_5xx": sum(1 for a in mine if a.status >= 500 and a.status != 503),
        }
    return out


def journal_allows(pg: Postgres) -> Counter[tuple[str, str]]:
    """Per (agent, person): the journal's ``allow`` entries."""
    counts: Counter[tuple[str, str]] = Counter()
    with pg.admin("journal") as c:
        rows = c.execute(
            "SELECT e.agent_login, p.ft_id, e.body FROM journal_entries e "
            "JOIN journal_persons p ON p.seq = e.seq"
        ).fetchall()
    for agent, ft_id, body in rows:
        raw = bytes(body) if not isinstance(body, bytes | str) else body
        if json.loads(raw).get("decision") == "allow":
            counts[(str(agent), str(ft_id))] += 1
    return counts


# -- the run -------------------------------------------------------------------------------------


@contextlib.contextmanager
def services(workdir: Path, disk_mb: int, aof: str) -> Iterator[tuple[Postgres, Redis]]:
    pg = Postgres(workdir, disk_mb)
    redis = Redis(workdir, aof)
    try:
        pg.start()
        redis.start()
        yield pg, redis
    finally:
        redis.stop()
        pg.stop()


def soak(args: argparse.Namespace, workdir: Path) -> tuple[Verdict, dict[str, Any]]:
    with services(workdir, args.disk_mb, args.redis_appendonly) as (pg, redis):
        log(f"PostgreSQL on {pg.port} (journal tablespace on a {args.disk_mb} MB tmpfs), "
            f"Redis on {redis.port}")  # fmt: skip
        cred = workdir / "cred.json"
        subprocess.run(  # noqa: S603 - our interpreter, our CLI
            rempart(
                "seed", "--db", pg.url("portal"), "--persons", str(args.persons), "--seed", "1",
                "--credentials-out", str(cred),
            ),
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        policy = workdir / "policy.toml"
        policy.write_text(POLICY, encoding="utf-8")
        env = {
            **os.environ,
            "REMPART_REDIS_URL": redis.url,
            "REMPART_REDIS_PREFIX": f"soak{os.getpid()}:",
            "REMPART_POLICY_FILE": str(policy),
            "REMPART_JOURNAL_WAIT_SECONDS": str(args.journal_wait),
        }
        cmd = rempart(
            "serve", "--db", pg.url("portal"), "--journal", pg.url("journal"),
            "--host", "127.0.0.1", "--insecure-http",
        )  # fmt: skip
        replicas = [Replica(name, workdir, cmd, env) for name in ("a", "b")]
        try:
            return _soak(args, pg, redis, replicas, cred, env)
        finally:
            for r in replicas:
                r.stop()


def _soak(
    args: argparse.Namespace,
    pg: Postgres,
    redis: Redis,
    replicas: list[Replica],
    cred: Path,
    env: dict[str, str],
) -> tuple[Verdict, dict[str, Any]]:
    for r in replicas:
        r.start()
    agents = json.loads(cred.read_text(encoding="utf-8"))["agents"]
    rec = Recorder()
    load = Load(replicas, agents, rec, people_of=lambda login: followed_by(pg, login))
    plan = phases(pg, redis, replicas, args.scale)
    try:
        load.start(args.readers)
        run_phases(plan, rec, load.exhausted)
    finally:
        load.join()
        rec.phase = "after"
    answers = list(rec.answers)
    verdict = Verdict()
    verdict.failures += check_answers(answers)
    verdict.failures += check_journaled(answers, journal_allows(pg))
    recovery = check_recovery(answers, plan, [r.name for r in replicas])
    for p in plan:
        for name, seconds in recovery.get(p.name, {}).items():
            if seconds is None or seconds > p.recovery_seconds:
                verdict.failures.append(
                    f"replica {name} did not serve data again within {p.recovery_seconds:.0f}"
                    f" s after {p.name}"
                )
    first_fault = next(p for p in plan if p.fault is not None)
    fault_start = min((a.at for a in answers if a.phase == first_fault.name), default=time.time())
    budget_failures, budget = check_budget(answers, load.budget_agent, fault_start)
    verdict.failures += budget_failures
    verified = subprocess.run(  # noqa: S603 - our interpreter, our CLI
        rempart("journal", "verify", "--journal", pg.url("journal")),
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    if verified.returncode != 0:
        verdict.failures.append(f"journal verify: {verified.stdout.strip()[-300:]}")
    verdict.per_phase = per_phase(answers, plan)
    verdict.totals = {
        "answers": sum(1 for a in answers if a.status),
        "no_answer": sum(1 for a in answers if not a.status),
        "data_served": sum(1 for a in answers if a.status == 200 and a.op in DATA_OPS),
        "journal_entries": journal_size(pg),
    }
    details = {
        "recovery_seconds": recovery,
        "budget": budget,
        "journal_verify": verified.stdout.strip().splitlines()[-1:] or [""],
        "phases": [
            {
                "name": p.name,
                "fault_seconds": p.fault_seconds,
                "recovery_seconds": p.recovery_seconds,
                "note": p.note,
            }
            for p in plan
        ],
    }
    return verdict, details


def followed_by(pg: Postgres, login: str) -> list[str]:
    """The ft_ids of the people assigned to ``login`` today."""
    with pg.admin("portal") as c:
        rows = c.execute(
            "SELECT p.ft_id FROM assignments a JOIN persons p ON p.id = a.person_id "
            "JOIN agents g ON g.id = a.agent_id WHERE g.login = %s "
            "AND a.start_date <= current_date "
            "AND (a.end_date IS NULL OR a.end_date >= current_date) ORDER BY p.ft_id",
            (login,),
        ).fetchall()
    return [str(r[0]) for r in rows]


def journal_size(pg: Postgres) -> int:
    """How many entries the journal holds."""
    with pg.admin("journal") as c:
        row = c.execute("SELECT count(*) FROM journal_entries").fetchone()
    return int(row[0]) if row else 0


def markdown(verdict: Verdict, details: dict[str, Any], command: str, seconds: float) -> str:
    """The soak's section of docs/benchmarks.md: one row per phase."""
    lines = [
        "## Soak: two replicas, their dependencies failing under load",
        "",
        f"`{command}` on {machine()}: {seconds:.0f} s in all. Two `rempart serve` replicas on a",
        "private PostgreSQL 15 (portal and journal databases; the journal's in a tablespace on a",
        "tmpfs of its own) and a private Redis (append-only file, fsync always), both on loopback",
        "ports of their own; a steady load of sign-ins, record reads, portfolio lists and an",
        "account manager's lists and four-eyes requests, each agent at its own loopback address,",
        "spread over both replicas (a refused connection is sent to the other one, as a load",
        f"balancer would); budget {BUDGET} people per agent per day; the journal's wait",
        f"{details.get('journal_wait', '?')} s. An answer counts in the phase its request was sent",
        'in. "Back": seconds from the dependency\'s return to the first record served again by',
        "each replica.",
        "",
        "| phase | fault | fault (s) | answers | no answer | data served | sign-ins | 503 by code "
        "| other 5xx | back on a, b (s) |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    notes = {p["name"]: p for p in details["phases"]}
    for name, row in verdict.per_phase.items():
        rec = details["recovery_seconds"].get(name)
        back = ", ".join("-" if v is None else f"{v:.1f}" for v in rec.values()) if rec else ""
        codes = ", ".join(f"{c} {n}" for c, n in row["503_codes"].items()) or "0"
        lines.append(
            f"| {name} | {notes[name]['note']} | {notes[name]['fault_seconds']:.0f} "
            f"| {row['answers']} | {row['no_answer']} | {row['data_served']} | {row['sign_ins']} "
            f"| {codes} | {row['other_5xx']} | {back} |"
        )
    b = details["budget"]
    t = verdict.totals
    lines += [
        "",
        f"Totals: {t['answers']} answers, {t['data_served']} records or lists served, "
        f"{t['no_answer']} requests without an answer (mostly connections refused by the killed "
        "replica, each sent again to the other one).",
        f"Budget: the adviser held at the budget was served {b['people_before_first_fault']} "
        f"people and refused before the first fault; after it, {b['refused_after']} more "
        f"refusals and {b['new_people_after']} new people served. (With `--redis-appendonly no`, "
        "a Redis that forgets on restart, the same check fails: new people are served.)",
        f"Journal: {t['journal_entries']} entries; every served answer has its `allow` "
        f"entry: {'yes' if not any('journal entry' in f for f in verdict.failures) else 'NO'}; "
        f"`rempart journal verify`: {details['journal_verify'][0]}",
        "",
        "Result: "
        + ("every check holds." if verdict.ok else "FAILED: " + "; ".join(verdict.failures)),
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "soak")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every phase's length")
    p.add_argument("--persons", type=int, default=3000)
    p.add_argument("--readers", type=int, default=6, help="advisers reading all along")
    p.add_argument("--disk-mb", type=int, default=256, help="the journal's tmpfs")
    p.add_argument("--journal-wait", type=float, default=3.0, help="REMPART_JOURNAL_WAIT_SECONDS")
    p.add_argument(
        "--redis-appendonly",
        choices=["yes", "no"],
        default="yes",
        help="no: a Redis that forgets on restart (the budget check must then fail)",
    )
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--doc", type=Path, help="update the soak section of this markdown file")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="rempart-soak-"))
    workdir.chmod(0o755)  # the postgres user walks into it
    started = time.monotonic()
    try:
        verdict, details = soak(args, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    details["journal_wait"] = args.journal_wait
    seconds = time.monotonic() - started
    command = (
        "make soak" if args.scale == 1.0 else f"python -m rempart_bench.soak --scale {args.scale}"
    )
    report = {
        "ok": verdict.ok,
        "failures": verdict.failures,
        "totals": verdict.totals,
        "per_phase": verdict.per_phase,
        **details,
        "seconds": round(seconds, 1),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.doc:
        update_doc(args.doc, markdown(verdict, details, command, seconds), command, marker="soak")
    log("all checks hold" if verdict.ok else "FAILED:\n  " + "\n  ".join(verdict.failures))
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
