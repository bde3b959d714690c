"""``rempart serve`` with one part of the record read taken out, to measure what it costs.

The read-path bench (``read_path --without PART``) runs its server through this module: the
same server, the same workload, the same machine a minute later, with one part removed. The
difference in guarded reads/s is that part's share of the read, measured rather than inferred
from a sampling profile (whose stacks, cut short under load, blur the attribution).

Never a way to run Rempart: a server started here answers reads that the guard did not check,
or whose consultation was not made durable. It exists for the bench's subtraction only, and
says so on its first line of output.

    python -m rempart_bench.ablation PART[,PART...] serve --db ... (as ``rempart serve``)
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from rempart.cli.main import app
from rempart.guard.decisions import Verdict, combine
from rempart.guard.service.inline import Guard
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.model import JournalEntry
from rempart.kernel.context import RequestContext
from rempart.kernel.exposure import GuardRequest


def _no_guard() -> None:
    """Every guard check answers "allow" without looking: no detectors, no budgets."""
    allow = combine([])

    def check(_self: Guard, _ctx: RequestContext, _req: GuardRequest) -> Verdict:
        return allow

    Guard.check = check  # type: ignore[method-assign,assignment]


def _no_journal_wait() -> None:
    """Entries are serialised and hashed as for the journal, then dropped: the answer waits
    for no commit (what is left is the cost of building the entry)."""

    async def append_async(self: SqlJournalStore, entries: Sequence[JournalEntry]) -> int:
        for entry in entries:
            self._prepare(entry)
        return 0

    SqlJournalStore.append_async = append_async  # type: ignore[method-assign]


def _no_journal_sql() -> None:
    """The writer thread takes each batch as usual but sleeps 1 ms instead of writing it (the
    length of a commit on this machine): the hand-off to the writer and back, without SQL."""

    def write(_self: SqlJournalStore, batch: list[Any]) -> None:
        time.sleep(0.001)
        for pending in batch:
            pending.last = 0

    SqlJournalStore._write = write  # type: ignore[method-assign,assignment]


def _no_journal_thread() -> None:
    """Entries are serialised and hashed, then the answer waits 1 ms on a timer of the event
    loop instead of the writer thread's commit: a wait of the same length, with no second
    thread (what is left of the journal's cost once the hand-off to the writer is gone)."""

    async def append_async(self: SqlJournalStore, entries: Sequence[JournalEntry]) -> int:
        for entry in entries:
            self._prepare(entry)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        loop.call_later(0.001, done.set_result, None)
        await done
        return 0

    SqlJournalStore.append_async = append_async  # type: ignore[method-assign]


PARTS: dict[str, Callable[[], None]] = {
    "guard": _no_guard,
    "journal-wait": _no_journal_wait,
    "journal-sql": _no_journal_sql,
    "journal-thread": _no_journal_thread,
}


def main(argv: list[str]) -> None:
    if not argv or any(p not in PARTS for p in argv[0].split(",")):
        raise SystemExit(f"usage: python -m rempart_bench.ablation {'|'.join(PARTS)} serve ...")
    parts = argv[0].split(",")
    for part in parts:
        PARTS[part]()
    print(f"BENCH ONLY: this server runs without {', '.join(parts)}", file=sys.stderr, flush=True)
    app(argv[1:], prog_name="rempart")


if __name__ == "__main__":
    main(sys.argv[1:])
