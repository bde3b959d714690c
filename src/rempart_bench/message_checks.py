"""How long "did this message come from you?" takes, genuine against not: the answer must not
tell them apart by its time (``POST /api/v1/citizen/messages/verify``).

    .venv/bin/python -m rempart_bench.message_checks --rounds 300
    .venv/bin/python -m rempart_bench.message_checks --db postgresql://postgres@127.0.0.1/bench

One in-process server (the app as ``rempart serve`` builds it, through Starlette's test
client, so that the network is not measured), a register of ``--messages`` entries, then
``--rounds`` rounds of one request of each kind (genuine, unknown, malformed, revoked),
interleaved so that the machine's ups and downs fall on every kind alike, each round from its
own client address so that no throttle steps in. Prints the medians and 95th percentiles.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from rempart.bootstrap import build_container
from rempart.db.migrate import upgrade
from rempart.messages.adapters.sql import SqlMessageRegister
from rempart.messages.model import Channel, OfficialMessage, display, new_reference
from rempart.settings import Settings
from rempart.web.app import create_app

CHECK = "/api/v1/citizen/messages/verify"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="", help="portal database URL (default: a new SQLite)")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--messages", type=int, default=5_000)
    args = parser.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp(prefix='rempart-checks-')}/rempart.db"
    upgrade(url)
    settings = Settings(demo=True, db_url=url)
    box = build_container(settings)
    register = SqlMessageRegister(box.db)
    now = dt.datetime.now(dt.UTC)
    references = []
    for n in range(args.messages):
        reference = new_reference()
        register.add(
            OfficialMessage(
                reference=reference,
                ft_id=f"{n % 10_000_000:07d}A",
                channel=Channel.EMAIL,
                subject="Votre code pour consulter les accès à votre dossier",
                content_hash="00" * 32,
                body="…",
                registered_at=now,
                sent_at=now,
                delivered_at=now,
            )
        )
        references.append(reference)
    revoked = references[-1]
    register.revoke(revoked, now)
    kinds: dict[str, Callable[[int], str]] = {
        "genuine": lambda i: display(references[i % (len(references) - 1)]),
        "unknown": lambda i: display(new_reference()),
        "malformed": lambda i: f"pas une référence {i}",
        "revoked": lambda i: display(revoked),
    }
    app = create_app(settings, container=box)
    times: dict[str, list[float]] = {k: [] for k in kinds}
    clients: dict[str, TestClient] = {}
    for r in range(args.rounds):
        for k, (kind, make) in enumerate(kinds.items()):
            address = f"10.{k}.{r // 250}.{r % 250 + 1}"
            client = clients.get(address) or TestClient(app, client=(address, 40000))
            clients[address] = client
            body = {"reference": make(r)}
            start = time.perf_counter()
            response = client.post(CHECK, json=body)
            times[kind].append(time.perf_counter() - start)
            assert response.status_code == 200, response.text
            assert response.json()["genuine"] is (kind == "genuine")
        clients.clear()
    box.close()
    backend = url.split(":", 1)[0]
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {backend}, "
        f"{args.messages} messages, {args.rounds} rounds"
    )
    print("| answer | median (ms) | p95 (ms) |")
    print("|---|---|---|")
    for kind, values in times.items():
        values.sort()
        p95 = values[int(len(values) * 0.95) - 1]
        print(f"| {kind} | {statistics.median(values) * 1000:.2f} | {p95 * 1000:.2f} |")


if __name__ == "__main__":
    main()
