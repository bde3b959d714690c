"""Benchmark of the access journal on SQLite: durable appends, verification, "who consulted X".

    .venv/bin/python -m rempart_bench.journal_bench append --threads 64 --seconds 20
    .venv/bin/python -m rempart_bench.journal_bench append --loops 1 --tasks 512 --seconds 20
    .venv/bin/python -m rempart_bench.journal_bench build --entries 10000000 --path /tmp/j/j.db
    .venv/bin/python -m rempart_bench.journal_bench verify --path /tmp/j/j.db
    .venv/bin/python -m rempart_bench.journal_bench who --path /tmp/j/j.db --queries 2000

``append`` measures what live traffic gets: many threads, each appending one entry at a time and
waiting for it to be durable (WAL, synchronous=FULL), grouped into commits by the writer thread;
with ``--tasks``, requests on event loops instead (what ``rempart serve`` runs: each request
awaits ``append_async`` of its one entry, handed to the writer once per turn of the loop).
``build`` fills a big journal through the store's bulk path (same hashing, chain, Merkle nodes,
signed checkpoints and indexes, larger transactions). Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from rempart.journal.adapters.signing import Ed25519Signer, checkpoint_checker
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.model import JournalEntry
from rempart.journal.service import audit as journal_audit
from rempart.kernel.clock import SystemClock
from rempart.kernel.identifiers import ft_id_from_number
from rempart.kernel.tags import Decision, Tag

SIGNER = Ed25519Signer.from_raw(bytes(range(32)))
TAGS = [Tag.PORTAL_PERSON_READ] * 8 + [Tag.PORTAL_PERSON_LOOKUP, Tag.PORTAL_SESSION_ROSTER]
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def machine() -> str:
    """A one-line description of the machine and how busy it is."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = 0
    return (
        f"{os.cpu_count()} CPUs ({cpu or platform.processor()}), "
        f"{mem_kb / 1024 / 1024:.1f} GiB RAM, "
        f"Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )


def entry(rng: random.Random, i: int, persons: int, at: dt.datetime) -> JournalEntry:
    """A plausible entry: one of 5,000 agents in 500 organisations reads one of ``persons``."""
    agent = rng.randrange(5000)
    tag = TAGS[i % len(TAGS)]
    many = tag is Tag.PORTAL_SESSION_ROSTER
    people = (
        tuple(ft_id_from_number(rng.randrange(1, persons + 1)) for _ in range(12))
        if many
        else (ft_id_from_number(rng.randrange(1, persons + 1)),)
    )
    return JournalEntry(
        at=at,
        tag=tag,
        decision=Decision.ALLOW,
        agent_login=f"agent{agent:05d}",
        agent_roles=("training_manager",) if agent % 3 else ("advisor",),
        org_id=f"TRA-{agent % 500:04d}",
        session_id=f"s{agent:05d}{i // 5000:06d}",
        client_address=f"198.51.{agent % 256}.{i % 256}",
        network="AS:Orange/FR",
        user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
        persons=people,
        categories=("contact", "identity", "training"),
        purpose="training_follow_up",
        reason="enrolled",
    )


def open_store(path: Path, **options: object) -> SqlJournalStore:
    """A journal store on an SQLite file, signing with the bench's fixed key."""
    store = SqlJournalStore(f"sqlite:///{path}", clock=SystemClock(), **options)  # type: ignore[arg-type]
    store.use_signer(SIGNER)
    return store


def bench_append(args: argparse.Namespace) -> None:  # noqa: PLR0915 - one measure, in order
    """Sustained durable appends from concurrent threads, then their verification."""
    path = Path(args.path) if args.path else Path(tempfile.mkdtemp(prefix="bench-")) / "journal.db"
    store = open_store(path, checkpoint_every=10_000, checkpoint_seconds=60.0)
    stop = threading.Event()
    args.threads = max(args.threads, args.loops) if args.tasks else args.threads
    latencies: list[list[float]] = [[] for _ in range(args.threads)]
    counts = [0] * args.threads

    # Entries are built beforehand: this measures the journal, not the entry generator.
    now = dt.datetime.now(dt.UTC)
    pools = [
        [entry(random.Random(k), k + j * args.threads, 1_000_000, now) for j in range(500)]
        for k in range(args.threads)
    ]

    def writer(k: int) -> None:
        mine = latencies[k]
        pool = pools[k]
        i = 0
        while not stop.is_set():
            e = pool[i % 500]
            i += 1
            t = time.perf_counter()
            store.append([e])
            mine.append(time.perf_counter() - t)
            counts[k] += 1

    async def request(k: int, pool: list[JournalEntry], mine: list[float]) -> None:
        i = k
        while not stop.is_set():
            e = pool[i % 500]
            i += 1
            t = time.perf_counter()
            await store.append_async([e])
            mine.append(time.perf_counter() - t)
            counts[k % args.threads] += 1

    def event_loop(k: int) -> None:
        async def run() -> None:
            tasks = [request(k, pools[k], latencies[k]) for _ in range(args.tasks)]
            await asyncio.gather(*tasks)

        asyncio.run(run())

    if args.tasks:
        threads = [threading.Thread(target=event_loop, args=(k,)) for k in range(args.loops)]
        callers = f"{args.loops} event loop(s) x {args.tasks} concurrent requests"
    else:
        threads = [threading.Thread(target=writer, args=(k,)) for k in range(args.threads)]
        callers = f"{args.threads} threads"
    print(f"machine: {machine()}")
    start = store.head()[0]
    print(
        f"append: {callers}, {args.seconds} s, WAL + synchronous=FULL, {path} "
        f"({start:,} entries already)"
    )
    for t in threads:
        t.start()
    time.sleep(args.warmup)
    n0, c0, t0, cpu0 = sum(counts), store.commits, time.perf_counter(), time.process_time()
    time.sleep(args.seconds)
    n1, c1, t1, cpu1 = sum(counts), store.commits, time.perf_counter(), time.process_time()
    stop.set()
    for t in threads:
        t.join()
    store.close()
    lat = sorted(x for sub in latencies for x in sub)
    rate = (n1 - n0) / (t1 - t0)
    print(
        f"append: {rate:,.0f} durable entries/s sustained over {t1 - t0:.1f} s "
        f"({n1 - n0:,} entries in {c1 - c0:,} commits, "
        f"{(n1 - n0) / max(1, c1 - c0):.1f} per commit)"
    )
    cpu = (cpu1 - cpu0) / max(1, n1 - n0)
    print(
        f"append CPU: {cpu * 1e6:.1f} µs of this process's CPU time per durable entry "
        f"(callers, writer, SQLite), that is {1 / cpu:,.0f} entries per second of CPU"
    )
    print(
        f"append latency: p50 {lat[len(lat) // 2] * 1000:.2f} ms, "
        f"p99 {lat[int(len(lat) * 0.99)] * 1000:.2f} ms, max {lat[-1] * 1000:.1f} ms"
    )
    if not start:  # a big existing journal's verification is measured on its own
        verify(path, quiet=False)


def entries_for_build(n: int, persons: int, seed: int) -> Iterator[JournalEntry]:
    """``n`` entries spread in order over a year."""
    rng = random.Random(seed)
    step = dt.timedelta(seconds=365 * 86400 / max(n, 1))  # a year of traffic, in order
    for i in range(n):
        yield entry(rng, i, persons, START + step * i)


def bench_build(args: argparse.Namespace) -> None:
    """Fill (or complete) a big journal through the bulk path."""
    path = Path(args.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(path, checkpoint_every=100_000, checkpoint_seconds=3600.0)
    have = store.head()[0]
    todo = args.entries - have
    print(f"machine: {machine()}")
    print(f"build: {path}: {have:,} entries, adding {todo:,} (about {args.persons:,} people)")
    t = time.perf_counter()
    last = [t]

    def progress(done: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 30:
            last[0] = now
            print(f"  {have + done:,} entries, {done / (now - t):,.0f}/s", flush=True)

    rng_seed = have  # resuming continues the same kind of traffic
    written = store.bulk_append(
        entries_for_build(todo, args.persons, rng_seed), batch=50_000, progress=progress
    )
    store.close()
    seconds = time.perf_counter() - t
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    print(
        f"build: {written:,} entries in {seconds:,.0f} s ({written / max(seconds, 1e-9):,.0f}/s), "
        f"{size / 2**30:.2f} GiB on disk"
    )


def verify(path: Path, quiet: bool = False, indexes: bool = True) -> None:
    """Verify a journal file and print the rate (exit 1 on a broken one unless ``quiet``)."""
    store = SqlJournalStore(f"sqlite:///{path}", clock=SystemClock(), create=False)
    try:
        t, cpu = time.perf_counter(), time.process_time()
        report = journal_audit.verify(
            store, checkpoint_checker({SIGNER.key_id: SIGNER.public_key}), indexes=indexes
        )
        seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    finally:
        store.close()
    what = "chain, Merkle nodes, checkpoints, signatures" + (", index rows" if indexes else "")
    print(
        f"verify ({what}): {report.entries:,} entries in {seconds:.1f} s = "
        f"{report.entries / seconds:,.0f} entries/s, "
        f"{'intact' if report.ok else report.problems[:3]}; CPU {cpu:.1f} s "
        f"({cpu / max(1, report.entries) * 1e6:.1f} µs per entry)"
    )
    if not quiet and not report.ok:
        sys.exit(1)


def bench_verify(args: argparse.Namespace) -> None:
    """Verification rate, with and without the index cross-checks."""
    print(f"machine: {machine()}")
    verify(Path(args.path), indexes=True)
    verify(Path(args.path), indexes=False)


def bench_who(args: argparse.Namespace) -> None:
    """Latency of "who consulted X", first page, for random people."""
    path = Path(args.path)
    store = SqlJournalStore(f"sqlite:///{path}", clock=SystemClock(), create=False)
    head = store.head()[0]
    rng = random.Random(7)
    print(f"machine: {machine()}")
    # Who consulted X, first page of 20: X drawn among the people the journal names.
    people = [ft_id_from_number(rng.randrange(1, args.persons + 1)) for _ in range(args.queries)]
    for ft_id in people[:50]:  # warm the connection pool, not the data
        store.who_consulted(ft_id, 0, 21)
    times = []
    found = 0
    for ft_id in people:
        t = time.perf_counter()
        page = store.who_consulted(ft_id, 0, 21)
        times.append(time.perf_counter() - t)
        found += len(page)
    store.close()
    times.sort()
    print(
        f"who consulted X ({head:,} entries, {args.queries:,} random people, first page of 20, "
        f"{found / len(people):.1f} entries each): p50 {statistics.median(times) * 1000:.2f} ms, "
        f"p99 {times[int(len(times) * 0.99)] * 1000:.2f} ms, max {times[-1] * 1000:.2f} ms"
    )


def main() -> None:
    """Run the sub-benchmark named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("append", help="sustained durable appends from concurrent threads")
    p.add_argument("--threads", type=int, default=64)
    p.add_argument("--tasks", type=int, default=0, help="requests per event loop (0: threads)")
    p.add_argument("--loops", type=int, default=1, help="event loops, with --tasks")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--path", help="journal file, new or existing (default: a new temporary one)")
    p.set_defaults(run=bench_append)
    p = sub.add_parser("build", help="fill a big journal through the bulk path")
    p.add_argument("--entries", type=int, default=10_000_000)
    p.add_argument("--persons", type=int, default=1_000_000)
    p.add_argument("--path", required=True)
    p.set_defaults(run=bench_build)
    p = sub.add_parser("verify", help="verification rate")
    p.add_argument("--path", required=True)
    p.set_defaults(run=bench_verify)
    p = sub.add_parser("who", help='"who consulted X" latency')
    p.add_argument("--path", required=True)
    p.add_argument("--persons", type=int, default=1_000_000)
    p.add_argument("--queries", type=int, default=2000)
    p.set_defaults(run=bench_who)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
