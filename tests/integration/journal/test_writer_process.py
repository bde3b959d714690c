"""The journal's writer process (``journal_writer = "process"``): the serving loop's appends are
committed by a child process, acknowledged only once durable, beside the parent's own writer
thread for synchronous callers; a dead child fails its requests closed and the parent's writer
takes over (ASVS 5.0 V16.3.2 access logged before the data leaves, V16.4.2 tamper-evident
logs, V16.5.3 fail closed)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rempart.journal.adapters import writer_process as wp
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.adapters.writer_process import WriterConfig, WriterProcess
from rempart.journal.service import audit as journal_audit
from rempart.kernel.clock import SystemClock
from rempart.kernel.errors import JournalUnavailable
from tests.support import aio
from tests.support.journal import SIGNER, TRUST, read


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/journal.db"


@pytest.fixture
def store(url: str) -> Iterator[SqlJournalStore]:
    s = SqlJournalStore(url, clock=SystemClock(), wait_seconds=5.0)
    s.use_signer(SIGNER)
    s.start()
    yield s
    s.close()


def _process(url: str, store: SqlJournalStore, loop: asyncio.AbstractEventLoop) -> WriterProcess:
    process = WriterProcess(WriterConfig(url, 10_000, 60.0, store.origin, SIGNER.private_raw()))
    process.start(loop)
    store.write_elsewhere(process)
    return process


def _verified(url: str) -> int:
    """The journal as a fresh reader finds it: verified whole, and its number of entries."""
    reader = SqlJournalStore(url, clock=SystemClock(), create=False)
    try:
        reader.catch_up_index()
        report = journal_audit.verify(reader, TRUST)
        assert report.ok, report.problems
        return report.entries
    finally:
        reader.close()


def test_the_loops_appends_are_committed_by_the_child_beside_the_threads(
    url: str, store: SqlJournalStore
) -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        process = _process(url, store, loop)
        # 40 requests of one turn of the loop, and synchronous appends from a thread meanwhile
        # (the parent's writer thread): two writers of one file, taking turns.
        reads = [store.append_async([read(n)]) for n in range(40)]
        threaded = loop.run_in_executor(
            None, lambda: [store.append([read(100 + n)]) for n in range(5)]
        )
        lasts = list(await asyncio.gather(*reads))
        lasts += await threaded
        process.close()
        return lasts

    lasts = aio.run(main())
    assert sorted(lasts) == sorted(set(lasts)), "every append got a sequence number of its own"
    assert max(lasts) == 45
    assert _verified(url) == 45  # chain, Merkle nodes, checkpoints and index rows


def test_an_acknowledged_entry_is_in_the_file_before_the_answer(
    url: str, store: SqlJournalStore
) -> None:
    async def main() -> None:
        process = _process(url, store, asyncio.get_running_loop())
        last = await store.append_async([read(1, ft_id="0000001K")])
        # Another connection, opened now, already finds it: committed, not merely queued.
        reader = SqlJournalStore(url, clock=SystemClock(), create=False)
        try:
            assert reader.head()[0] == last == 1
            assert [e.entry.persons for e in reader.who_consulted("0000001K", 0, 10)] == [
                ("0000001K",)
            ]
        finally:
            reader.close()
        process.close()

    aio.run(main())


def test_a_dead_child_fails_its_requests_closed_then_the_thread_takes_over(
    url: str, store: SqlJournalStore
) -> None:
    async def main() -> int:
        loop = asyncio.get_running_loop()
        process = _process(url, store, loop)
        await store.append_async([read(1)])
        child = process._proc  # the test plays the crash
        assert child is not None
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        # No acknowledgement will come: refused, never taken for written.
        with pytest.raises(JournalUnavailable):
            await store.append_async([read(2)])
        assert not process.serves(loop)
        last = await store.append_async([read(99)])  # the parent's writer thread commits it
        process.close()
        return last

    last = aio.run(main())
    assert last >= 2
    assert _verified(url) == last


def test_closing_lets_the_child_finish_and_sign_what_it_wrote(
    url: str, store: SqlJournalStore
) -> None:
    async def main() -> None:
        process = _process(url, store, asyncio.get_running_loop())
        await asyncio.gather(*(store.append_async([read(n)]) for n in range(7)))
        process.close()

    aio.run(main())
    reader = SqlJournalStore(url, clock=SystemClock(), create=False)
    try:
        assert max(cp.tree_size for cp in reader.checkpoints()) == 7  # signed at the end
    finally:
        reader.close()


def test_frames_carry_prepared_entries_exactly_and_refuse_anything_else() -> None:
    """What crosses the pipe is read back field by field: the same entries, and a frame that
    is not one of ours is refused rather than interpreted."""

    items = [
        (
            b'{"a":1}',
            bytes(32),
            "2026-12-01T10:00:00.000000Z",
            "ml.adv",
            "ML-1",
            "s1",
            ["0000001K"],
        ),
        (b"{}", bytes(range(32)), "2026-12-01T10:00:01.000000Z", "", "", "", []),
    ]
    buffer = bytearray(wp._request(7, items) + wp._request(8, items[:1]))
    frames = wp._frames(buffer)
    assert buffer == b""
    assert [wp._entries(f) for f in frames] == [(7, items), (8, items[:1])]
    partial = bytearray(wp._request(9, items)[:-3])
    assert wp._frames(partial) == []  # not whole yet: kept for the next read
    with pytest.raises(TypeError):
        wp._fields(b"\x00\x00\x00\x01x")


def test_a_stalled_child_fails_requests_closed_and_never_blocks_the_loop(url: str) -> None:
    """Another session holds the journal's write lock: the child cannot commit, the pipe fills
    up, and still the loop keeps turning and every request fails closed at its deadline; once
    the lock is released, appends commit again."""
    store = SqlJournalStore(url, clock=SystemClock(), wait_seconds=1.0)
    store.use_signer(SIGNER)
    store.start()

    async def main() -> tuple[list[object], int, float, bool]:
        loop = asyncio.get_running_loop()
        process = _process(url, store, loop)
        await store.append_async([read(1)])
        other = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        beat = asyncio.create_task(ticker())
        started = time.monotonic()
        # Far more than a pipe holds (64 KiB): the parent must wait for it to drain.
        results = await asyncio.gather(
            *(store.append_async([read(n)]) for n in range(2, 600)), return_exceptions=True
        )
        waited = time.monotonic() - started
        beat.cancel()
        other.execute("ROLLBACK")
        other.close()
        recovered = False
        for _ in range(30):  # the child works through its backlog, then answers again
            try:
                recovered = await store.append_async([read(9999)]) > 1
                break
            except JournalUnavailable:
                continue
        process.close()
        return results, ticks, waited, recovered

    try:
        results, ticks, waited, recovered = aio.run(main())
    finally:
        store.close()
    assert all(isinstance(r, JournalUnavailable) for r in results)
    assert waited < 10, "every request got its answer at its deadline, not later"
    assert ticks >= 30, "the loop kept turning while the requests waited"
    assert recovered, "appends commit again once the lock is released"
    assert _verified(url) >= 2


def test_the_child_outlives_a_group_sigterm_and_stops_when_its_parent_closes(
    url: str, store: SqlJournalStore
) -> None:
    """A service manager's SIGTERM (or a Ctrl-C) reaches every process of the group: the child
    goes on committing until the parent, stopping in order, closes its input."""

    async def main() -> int:
        process = _process(url, store, asyncio.get_running_loop())
        await store.append_async([read(1)])
        child = process._proc  # the test plays the service manager
        assert child is not None
        os.kill(child.pid, signal.SIGTERM)
        os.kill(child.pid, signal.SIGINT)
        await asyncio.sleep(0.2)
        assert child.poll() is None
        last = await store.append_async([read(2)])
        process.close()
        assert child.returncode == 0
        return last

    assert aio.run(main()) == 2
    assert _verified(url) == 2
