"""Benchmarks of incident response: the exposure of one account in a big journal, and composing
the letters of a Kairos-sized incident.

    python -m rempart_bench.incident_bench build --entries 10000000 --path /tmp/ib/journal.db
    python -m rempart_bench.incident_bench exposure --path /tmp/ib/journal.db
    python -m rempart_bench.incident_bench postgres --entries 2000000 --url postgresql://...
    python -m rempart_bench.incident_bench letters --persons 340000

``build`` writes a journal through the store's own schema with direct bulk inserts (one
transaction per 100,000 entries, synchronous off, the derived indexes filled once at the end in
key order): the same canonical entries, chain and Merkle nodes as live appends, one signed
checkpoint at the end, built in minutes instead of the bulk path's 40. Among ``--entries``
entries of 5,000 agents reading 1,000,000 people, one account (``attacker.kairos``) reads
``--victims`` distinct people over three days (a record each, then 1,000 pages of its
portfolio, and guesses that find nobody), interleaved with everyone else's traffic.

``exposure`` runs ``rempart incident exposure``'s computation on it (the same code) several
times and prints every run and the median. ``postgres`` loads the same kind of journal into
PostgreSQL (COPY) and measures the same query there. ``letters`` composes the article 34 letters
of an exposure of ``--persons`` people into files, planning each one in an SQLite outbox.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import io
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

from rempart.db.migrate import open_portal_database, upgrade
from rempart.db.uow import Database
from rempart.incident.adapters.sql import SqlIncidents, SqlOutbox
from rempart.incident.documents import Contacts
from rempart.incident.model import Exposure, Incident, PersonExposure, Selector, Window
from rempart.incident.service.exposure import compute_exposure
from rempart.incident.service.report import compose_letters
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.integrity import GENESIS, NODE_LEVEL, CheckpointKind
from rempart.journal.merkle import Frontier
from rempart.journal.model import JournalEntry, canonical_bytes, format_time
from rempart.kernel.clock import SystemClock
from rempart.kernel.identifiers import ft_id_from_number, make_nir
from rempart.kernel.tags import Decision, Tag
from rempart.people.model import Person, PersonKind, PostalAddress, RegistrationStatus
from rempart_bench.journal_bench import SIGNER, machine

ATTACKER = "attacker.kairos"
START = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
SPAN = dt.timedelta(days=60)  # the journal's traffic
ATTACK_FROM = START + dt.timedelta(days=40)
ATTACK_SPAN = dt.timedelta(days=3)
BATCH = 100_000
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


def _attack(victims: int, rng: random.Random) -> list[JournalEntry]:
    """The attacker's entries: a record per victim, portfolio pages, guesses finding nobody."""
    people = rng.sample(range(1, 1_000_001), victims)
    out: list[JournalEntry] = []
    base = JournalEntry(
        at=ATTACK_FROM,
        tag=Tag.PORTAL_PERSON_READ,
        decision=Decision.ALLOW,
        agent_login=ATTACKER,
        agent_roles=("training_manager",),
        org_id="TRA-0038",
        session_id="s-attacker",
        client_address="45.146.165.7",
        network="AS:Stark/RU",
        user_agent=UA,
        categories=("contact", "identity", "training"),
        purpose="training_follow_up",
        reason="enrolment",
    )
    for n in people:
        out.append(_with(base, persons=(ft_id_from_number(n),)))
    for page in range(0, len(people), 100):
        chunk = tuple(ft_id_from_number(n) for n in people[page : page + 100])
        out.append(
            _with(base, tag=Tag.PORTAL_PORTFOLIO_LIST, persons=chunk, categories=("identity",))
        )
    for _ in range(victims // 5):
        out.append(
            _with(
                base,
                decision=Decision.NOT_FOUND,
                persons=(ft_id_from_number(rng.randrange(1_000_001, 9_999_999)),),
                categories=(),
            )
        )
    rng.shuffle(out)
    return out


def _with(base: JournalEntry, **changes: Any) -> JournalEntry:
    return dataclasses.replace(base, **changes)


def _someone(rng: random.Random, i: int, at: dt.datetime) -> JournalEntry:
    agent = rng.randrange(5000)
    roster = i % 10 == 9
    people = tuple(
        ft_id_from_number(rng.randrange(1, 1_000_001)) for _ in range(12 if roster else 1)
    )
    return JournalEntry(
        at=at,
        tag=Tag.PORTAL_SESSION_ROSTER if roster else Tag.PORTAL_PERSON_READ,
        decision=Decision.ALLOW if i % 17 else Decision.NOT_FOUND,
        agent_login=f"agent{agent:05d}",
        agent_roles=("training_manager",) if agent % 3 else ("advisor",),
        org_id=f"TRA-{agent % 500:04d}",
        session_id=f"s{agent:05d}{i // 5000:06d}",
        client_address=f"198.51.{agent % 256}.{i % 256}",
        network="AS:Orange/FR",
        user_agent=UA,
        persons=people,
        categories=("identity", "training") if roster else ("contact", "identity", "training"),
        purpose="training_follow_up",
        reason="enrolment",
    )


def entries(total: int, victims: int, seed: int) -> Iterator[JournalEntry]:
    """``total`` entries in time order; the attacker's spread over its three days."""
    rng = random.Random(seed)
    attack = _attack(victims, rng)
    others = total - len(attack)
    step = SPAN / total
    a_from = int((ATTACK_FROM - START) / step)
    a_to = max(int((ATTACK_FROM + ATTACK_SPAN - START) / step), a_from + len(attack))
    # Positions of the attacker's entries among all, inside its window.
    slots = set(rng.sample(range(a_from, a_to), len(attack)))
    k = 0
    for i in range(others + len(attack)):
        at = START + step * i
        if i in slots:
            e = attack[k]
            k += 1
            yield _with(e, at=at)
        else:
            yield _someone(rng, i, at)


def build(path: Path, total: int, victims: int, seed: int) -> None:  # noqa: PLR0915 - one pass
    """Write the journal with direct bulk inserts through the store's schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = SqlJournalStore(f"sqlite:///{path}", clock=SystemClock())
    store.use_signer(SIGNER)
    store.close()
    t0 = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-2000000")
    chain, frontier, seq = GENESIS, Frontier(), 0
    rows: list[tuple[object, ...]] = []
    persons: list[tuple[int, str]] = []
    nodes: list[tuple[int, int, bytes]] = []
    sha = hashlib.sha256

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO journal_entries VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT INTO journal_persons VALUES (?, ?)", persons)
        conn.executemany("INSERT INTO journal_nodes VALUES (?, ?, ?)", nodes)
        conn.execute("COMMIT")
        rows.clear()
        persons.clear()
        nodes.clear()

    for e in entries(total, victims, seed):
        seq += 1
        at = format_time(e.at)
        body = canonical_bytes(e, at)
        leaf = sha(b"\x00" + body).digest()
        chain = sha(chain + leaf).digest()
        for level, idx, h in frontier.push(leaf):
            if level >= NODE_LEVEL:
                nodes.append((level, idx, h))
        rows.append((seq, at, e.agent_login, e.org_id, e.session_id, body, chain))
        persons.extend((seq, p) for p in sorted(set(e.persons)))
        if len(rows) >= BATCH:
            flush()
            if seq % 1_000_000 == 0:
                print(f"  {seq:,} entries, {time.perf_counter() - t0:,.0f} s", flush=True)
    if rows:
        flush()
    t1 = time.perf_counter()
    conn.execute("BEGIN")
    # The derived indexes, filled once in key order (what the maintenance thread does in
    # batches behind live appends), then the watermark.
    conn.execute(
        "INSERT INTO journal_by_person (ft_id, seq) SELECT ft_id, seq FROM journal_persons "
        "ORDER BY ft_id, seq"
    )
    conn.execute(
        "INSERT INTO journal_by_agent (agent_login, at, seq) SELECT agent_login, at, seq "
        "FROM journal_entries WHERE agent_login <> '' ORDER BY agent_login, at, seq"
    )
    conn.execute(
        "INSERT INTO journal_by_session (session_id, at, seq) SELECT session_id, at, seq "
        "FROM journal_entries WHERE session_id <> '' ORDER BY session_id, at, seq"
    )
    conn.execute("UPDATE journal_index_state SET upto = ? WHERE name = 'indexed'", (seq,))
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    store = SqlJournalStore(f"sqlite:///{path}", clock=SystemClock(), create=False)
    store.use_signer(SIGNER)
    cp = store.checkpoint(CheckpointKind.MANUAL)
    store.close()
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    print(
        f"build: {seq:,} entries in {t1 - t0:,.0f} s, indexes in {time.perf_counter() - t1:,.0f} s,"
        f" {size / 2**30:.2f} GiB; checkpoint at {cp.tree_size:,}"
    )


def measure(store: SqlJournalStore, runs: int, label: str) -> None:
    """The exposure of the attacker, ``runs`` times; every run, then the median."""
    selector, window = Selector.of([ATTACKER]), Window()
    times, cpu = [], []
    found: Exposure | None = None
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        found = compute_exposure(store, selector, window)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    assert found is not None
    print(
        f"exposure ({label}): {len(found.persons):,} people, {len(found.entries):,} entries "
        f"served, {found.records:,} records; runs "
        + ", ".join(f"{s:.2f}" for s in times)
        + f" s; median {statistics.median(times):.2f} s wall, "
        f"{statistics.median(cpu):.2f} s CPU (this process); load average "
        f"{os.getloadavg()[0]:.2f}"
    )


def drop_cache(path: Path) -> None:
    """Evict the journal's files from the page cache (no root needed): the next read is cold."""
    for f in path.parent.glob(path.name + "*"):
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def bench_exposure(args: argparse.Namespace) -> None:
    """Exposure of the attacker in the SQLite journal: once from a cold page cache, then warm."""
    print(f"machine: {machine()}")
    path = Path(args.path)
    drop_cache(path)
    store = SqlJournalStore(f"sqlite:///{path}", clock=SystemClock(), create=False)
    try:
        head = store.head()[0]
        measure(store, 1, f"SQLite, {head:,} entries, cold page cache")
        measure(store, args.runs, f"SQLite, {head:,} entries, warm")
    finally:
        store.close()


def bench_randread(args: argparse.Namespace) -> None:
    """Random page reads from a cold page cache: what a journal too big for memory costs per
    entry fetched (the input of the 100-million-entry estimate)."""
    print(f"machine: {machine()}")
    path = Path(args.path)
    drop_cache(path)
    size = path.stat().st_size
    rng = random.Random(5)
    offsets = [rng.randrange(size // 8192) * 8192 for _ in range(args.reads)]
    fd = os.open(path, os.O_RDONLY)
    try:
        t = time.perf_counter()
        for off in offsets:
            os.pread(fd, 8192, off)
        seconds = time.perf_counter() - t
    finally:
        os.close(fd)
    print(
        f"random 8 KiB reads, cold: {args.reads:,} in {seconds:.2f} s = "
        f"{seconds / args.reads * 1e6:.0f} us each ({size / 2**30:.1f} GiB file)"
    )


def bench_postgres(args: argparse.Namespace) -> None:
    """The same kind of journal in PostgreSQL (COPY), the same query."""
    print(f"machine: {machine()}")
    store = SqlJournalStore(args.url, clock=SystemClock())
    store.close()
    t0 = time.perf_counter()
    with psycopg.connect(args.url) as conn:
        conn.execute("SET synchronous_commit = off")
        seq = 0
        chain = GENESIS
        buf_e, buf_p = io.StringIO(), io.StringIO()

        def flush() -> None:
            with conn.cursor() as cur:
                with cur.copy(
                    "COPY journal_entries (seq, at, agent_login, org_id, session_id, body, chain)"
                    " FROM STDIN"
                ) as copy:
                    copy.write(buf_e.getvalue())
                with cur.copy("COPY journal_persons (seq, ft_id) FROM STDIN") as copy:
                    copy.write(buf_p.getvalue())
            conn.commit()
            buf_e.seek(0)
            buf_e.truncate()
            buf_p.seek(0)
            buf_p.truncate()

        for e in entries(args.entries, args.victims, args.seed):
            seq += 1
            body = canonical_bytes(e)
            chain = hashlib.sha256(chain + hashlib.sha256(b"\x00" + body).digest()).digest()
            buf_e.write(
                f"{seq}\t{format_time(e.at)}\t{e.agent_login}\t{e.org_id}\t{e.session_id}\t"
                f"\\\\x{body.hex()}\t\\\\x{chain.hex()}\n"
            )
            for p in sorted(set(e.persons)):
                buf_p.write(f"{seq}\t{p}\n")
            if seq % BATCH == 0:
                flush()
        flush()
        t1 = time.perf_counter()
        conn.execute(
            "INSERT INTO journal_by_person (ft_id, seq) SELECT ft_id, seq FROM journal_persons"
        )
        conn.execute(
            "INSERT INTO journal_by_agent (agent_login, at, seq) SELECT agent_login, at, seq "
            "FROM journal_entries WHERE agent_login <> ''"
        )
        conn.execute(
            "INSERT INTO journal_by_session (session_id, at, seq) SELECT session_id, at, seq "
            "FROM journal_entries WHERE session_id <> ''"
        )
        conn.execute("UPDATE journal_index_state SET upto = %s WHERE name = 'indexed'", (seq,))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    print(
        f"postgres load: {seq:,} entries in {t1 - t0:,.0f} s, indexes "
        f"{time.perf_counter() - t1:,.0f} s"
    )
    store = SqlJournalStore(args.url, clock=SystemClock(), create=False)
    try:
        measure(store, args.runs, f"PostgreSQL, {seq:,} entries")
    finally:
        store.close()


class _People:
    """Synthetic people for the letters (the portal's store would give the same fields)."""

    def person_by_ft_id(self, ft_id: str) -> Person | None:
        n = int(ft_id[:7])
        return Person(
            id=n,
            ft_id=ft_id,
            kind=PersonKind.JOB_SEEKER,
            nir=make_nir(f"1850175{n % 1000:03d}{n % 1000:03d}"),
            last_name=f"Nom{n}",
            first_name=f"Prénom{n}",
            birth_date=dt.date(1985, 1, 1),
            email=f"p{n}@example.fr" if n % 10 else "",
            phone="0600000000",
            address=PostalAddress(f"{n} rue de la Paix", "38000", "Grenoble"),
            registration_status=RegistrationStatus.REGISTERED,
            registration_date=dt.date(2025, 1, 1),
            deregistration_date=None,
            last_activity_date=dt.date(2026, 6, 1),
        )


def bench_letters(args: argparse.Namespace) -> None:
    """Compose (and plan) the letters of a ``--persons`` exposure."""
    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="letters-", dir=args.dir))
    try:
        url = f"sqlite:///{work}/rempart.db"
        upgrade(url)
        engine = open_portal_database(url)
        db = Database(engine)
        exposure = Exposure(Window())
        cats = ({"identity", "contact", "training"}, {"identity", "contact", "nir", "status"})
        for n in range(1, args.persons + 1):
            f = ft_id_from_number(n)
            exposure.persons[f] = PersonExposure(
                f, set(cats[n % 2]), "2025-07-01T08:00:00.000000Z", "2025-07-03T18:00:00.000000Z"
            )
        incidents = SqlIncidents(db)
        incident = incidents.add(
            Incident(
                0,
                "Kairos",
                START,
                "bench",
                Selector.of([ATTACKER]),
                Window(),
                START,
            )
        )
        t = time.perf_counter()
        n = compose_letters(
            _People(),
            SqlOutbox(db),
            Contacts(),
            incident,
            exposure.sorted_persons(),
            work / "letters",
        )
        seconds = time.perf_counter() - t
        size = sum(p.stat().st_size for p in (work / "letters").iterdir())
        print(
            f"letters: {n:,} composed, planned and written in {seconds:.1f} s "
            f"({n / seconds:,.0f}/s), {size / 2**20:.0f} MiB"
        )
        engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    """Run the sub-benchmark named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="a big journal with one attacking account")
    p.add_argument("--entries", type=int, default=10_000_000)
    p.add_argument("--victims", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--path", required=True)
    p.set_defaults(run=lambda a: build(Path(a.path), a.entries, a.victims, a.seed))
    p = sub.add_parser("exposure", help="the attacker's exposure, SQLite")
    p.add_argument("--path", required=True)
    p.add_argument("--runs", type=int, default=5)
    p.set_defaults(run=bench_exposure)
    p = sub.add_parser("randread", help="random page reads from a cold page cache")
    p.add_argument("--path", required=True)
    p.add_argument("--reads", type=int, default=100_000)
    p.set_defaults(run=bench_randread)
    p = sub.add_parser("postgres", help="load into PostgreSQL and measure the same")
    p.add_argument("--url", required=True)
    p.add_argument("--entries", type=int, default=2_000_000)
    p.add_argument("--victims", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--runs", type=int, default=5)
    p.set_defaults(run=bench_postgres)
    p = sub.add_parser("letters", help="compose a Kairos-sized incident's letters")
    p.add_argument("--persons", type=int, default=340_000)
    p.add_argument("--dir", default=None)
    p.set_defaults(run=bench_letters)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
