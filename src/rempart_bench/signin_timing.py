"""How long a wrong sign-in takes: an unknown login against a known one whose stored hash was
made with other argon2 parameters (seeded, imported, before a change of cost). The answer's
time must not tell them apart (2026 penetration test, finding 4: 13 ms against 318 ms).

    .venv/bin/python -m rempart_bench.signin_timing --rounds 300
    .venv/bin/python -m rempart_bench.signin_timing --rounds 300 --before   # the old verify

One in-process server (the app as ``rempart serve`` builds it, through Starlette's test
client, so that the network is not measured) with today's argon2 cost (the settings'
defaults unless ``--memory-kib``/``--time-cost`` say otherwise), ``rounds / 3 + 1`` accounts
whose hashes were made with the demo seed's parameters and as many with today's, then
``--rounds`` rounds of one wrong password of each kind (unknown login, known login with a
foreign hash, known login with today's hash), interleaved so that the machine's ups and downs
fall on every kind alike; each request from its own client address and each account tried at
most three times, so that no throttle steps in. ``--before`` swaps in the verification as it
was before the fix (the stored hash alone), for the side-by-side figures.

Then ``--flood`` requests at once (24 by default, as in the penetration test) from one
address and from as many addresses: how many argon2 verifications ran at the same time, what
they answered, and the process's peak resident memory (``--unbounded``: the same floods with
no bound on argon2 work, for comparison).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from typing import Any

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import insert

from rempart.bootstrap import Container, build_container
from rempart.db.migrate import upgrade
from rempart.db.schema.core import AgentRow, OrganisationRow
from rempart.settings import Settings
from rempart.signin.adapters.passwords import Argon2PasswordHasher
from rempart.web.app import create_app

LOGIN = "/api/v1/auth/login"
PASSWORD = "Quatre chevaux blancs sautent la haie 2026"  # noqa: S105 - the bench's accounts
WRONG = "pas le bon mot de passe du tout"  # what every timed request sends
TRIES_PER_ACCOUNT = 3  # the account throttle's free failures


class VerifyAsBefore(Argon2PasswordHasher):
    """The verification before the fix: the stored hash alone, at its own parameters."""

    def verify(self, stored: str | None, password: str) -> bool:
        """As it was: a dummy only for an unknown login."""
        target = stored if stored and stored.startswith("$argon2") else None
        return self._check(target or self._dummy, password) and target is not None


class Concurrency:
    """Counts the argon2 verifications running at once (wraps the hasher)."""

    def __init__(self, inner: Argon2PasswordHasher) -> None:
        self.inner = inner
        self.running = 0
        self.peak = 0
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        """As the inner hasher."""
        return self.inner.hash(password)

    def needs_rehash(self, stored: str) -> bool:
        """As the inner hasher."""
        return self.inner.needs_rehash(stored)

    def verify(self, stored: str | None, password: str) -> bool:
        """As the inner hasher, counted."""
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            return self.inner.verify(stored, password)
        finally:
            with self._lock:
                self.running -= 1


def _accounts(box: Container, prefix: str, count: int, password_hash: str) -> list[str]:
    logins = [f"{prefix}{n:04d}" for n in range(count)]
    now = dt.datetime.now(dt.UTC)
    with box.engine.begin() as conn:
        conn.execute(
            insert(AgentRow),
            [
                {
                    "login": login,
                    "email": f"{login}@example.fr",
                    "org_id": "FOR-0001",
                    "roles": "training_manager",
                    "active": True,
                    "created_at": now - dt.timedelta(days=400),
                    "password_hash": password_hash,
                    "totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                }
                for login in logins
            ],
        )
    return logins


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)]


def _flood(app: Any, concurrency: Concurrency, count: int, *, one_address: bool) -> str:
    codes: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(count)
    concurrency.peak = 0

    def one(i: int) -> None:
        address = "10.9.9.9" if one_address else f"10.8.{i // 250}.{i % 250 + 1}"
        client = TestClient(app, client=(address, 40000))
        start.wait()
        r = client.post(LOGIN, json={"login": f"flood{i:04d}", "password": WRONG})
        with lock:
            codes.append(r.status_code)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counted = ", ".join(f"{codes.count(c)} × {c}" for c in sorted(set(codes)))
    return f"{counted}; at most {concurrency.peak} argon2 verifications at once"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument(
        "--time-cost", type=int, default=Settings.model_fields["argon2_time_cost"].default
    )
    parser.add_argument(
        "--memory-kib", type=int, default=Settings.model_fields["argon2_memory_kib"].default
    )
    parser.add_argument(
        "--parallelism", type=int, default=Settings.model_fields["argon2_parallelism"].default
    )
    parser.add_argument("--before", action="store_true", help="the verification before the fix")
    parser.add_argument("--flood", type=int, default=24)
    parser.add_argument(
        "--unbounded", action="store_true", help="no bound on argon2 work (the floods' baseline)"
    )
    args = parser.parse_args()
    url = f"sqlite:///{tempfile.mkdtemp(prefix='rempart-signin-timing-')}/rempart.db"
    defaults = Settings.model_fields
    upgrade(url)
    settings = Settings(
        demo=True,
        db_url=url,
        argon2_time_cost=args.time_cost,
        argon2_memory_kib=args.memory_kib,
        argon2_parallelism=args.parallelism,
        argon2_max_concurrent=64 if args.unbounded else defaults["argon2_max_concurrent"].default,
        argon2_max_per_address=(
            64 if args.unbounded else defaults["argon2_max_per_address"].default
        ),
    )
    box = build_container(settings)
    kind = VerifyAsBefore if args.before else Argon2PasswordHasher
    hasher = kind(args.time_cost, args.memory_kib, args.parallelism)
    concurrency = Concurrency(hasher)
    box = replace(box, auth=replace(box.auth, hasher=concurrency))
    with box.engine.begin() as conn:
        conn.execute(
            insert(OrganisationRow).values(
                id="FOR-0001", kind="training_body", name="Formations Bench", siret="1" * 14
            )
        )
    per_kind = args.rounds // TRIES_PER_ACCOUNT + 1
    seeded = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # as `rempart seed`
    foreign = _accounts(box, "foreign", per_kind, seeded.hash(PASSWORD))
    current = _accounts(box, "current", per_kind, hasher.hash(PASSWORD))
    app = create_app(settings, container=box)
    series: dict[str, list[float]] = {"unknown login": [], "known, foreign hash": []}
    series["known, today's hash"] = []
    answers: dict[str, set[int]] = {k: set() for k in series}
    for r in range(args.rounds):
        logins = {
            "unknown login": f"nobody{r:05d}",
            "known, foreign hash": foreign[r // TRIES_PER_ACCOUNT],
            "known, today's hash": current[r // TRIES_PER_ACCOUNT],
        }
        for k, (name, login) in enumerate(logins.items()):
            client = TestClient(app, client=(f"10.{k}.{r // 250}.{r % 250 + 1}", 40000))
            start = time.perf_counter()
            response = client.post(LOGIN, json={"login": login, "password": WRONG})
            series[name].append(time.perf_counter() - start)
            answers[name].add(response.status_code)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    one = _flood(app, concurrency, args.flood, one_address=True)
    many = _flood(app, concurrency, args.flood, one_address=False)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    box.close()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"argon2id t={args.time_cost} m={args.memory_kib} KiB p={args.parallelism}, "
        f"seeded hashes t=1 m=1024 KiB p=1, {args.rounds} rounds, "
        f"{'verification before the fix' if args.before else 'this verification'}, "
        f"{'argon2 work unbounded' if args.unbounded else 'argon2 work bounded'}"
    )
    print("| wrong password for | median (ms) | p5 (ms) | p95 (ms) | answers |")
    print("|---|---|---|---|---|")
    for name, values in series.items():
        print(
            f"| {name} | {statistics.median(values) * 1000:.1f} | "
            f"{_percentile(values, 0.05) * 1000:.1f} | {_percentile(values, 0.95) * 1000:.1f} | "
            f"{', '.join(str(c) for c in sorted(answers[name]))} |"
        )
    print(f"{args.flood} sign-ins at once from one address: {one}")
    print(f"{args.flood} sign-ins at once from {args.flood} addresses: {many}")
    print(
        f"peak resident memory: {rss_before // 1024} MiB before the floods, "
        f"{rss_after // 1024} MiB after"
    )


if __name__ == "__main__":
    main()
