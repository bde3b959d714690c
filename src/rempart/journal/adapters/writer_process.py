"""The journal's writer in a process of its own (``journal_writer = "process"``, SQLite).

Why: on one SQLite host the event loop answers every read, and a writer *thread* shares the
interpreter's lock with it. Measured with ``read_path --without journal-thread``: with the
thread beside it the loop is on a CPU 81–92 % of the time, without it 100 %, and the hand-off
costs about half a 401's worth of work per read, more than the commit's SQL. A child process
holds no lock the loop needs: the loop writes each request's prepared entries to a pipe and
reads the child's acknowledgements from another, registered on the loop itself.

What does not change: an entry is acknowledged only once its transaction is committed
(``synchronous=FULL``), so an answer still never leaves before its entry is durable; a request
whose acknowledgement does not come in time fails closed (503). The child writes through the
same ``SqlJournalStore._write`` (chain, Merkle frontier, signed checkpoints) as the thread does,
and the parent's own writer thread stays for synchronous callers (worker threads, the CLI):
two writers of one file take turns on SQLite's write lock, and each reloads the head the other
moved. If the child dies, its pending requests fail closed and later appends go through the
parent's own writer again.

The pipes carry length-prefixed frames of integers and byte strings, decoded field by field (no
deserializer that could build objects): a private channel between a process and the child it
started, never a network. The child is this interpreter running this module, a fixed argument
list without a shell; its configuration, the signing key included, goes through the pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import select
import signal
import struct
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from rempart.journal.adapters.signing import Ed25519Signer
from rempart.journal.adapters.sql import SqlJournalStore, unavailable
from rempart.kernel.clock import SystemClock
from rempart.kernel.errors import JournalUnavailable

log = logging.getLogger("rempart.journal")

_HEADER = struct.Struct("!I")
_NUMBER = struct.Struct("!q")
_READ = 1 << 20
_CHILD = (sys.executable, "-m", "rempart.journal.adapters.writer_process")

Field = int | bytes
Prepared = tuple[bytes, bytes, str, str, str, str, list[str]]  # SqlJournalStore._prepare, SQLite


def _frame(fields: Sequence[Field]) -> bytes:
    """A list of fields, each an integer or a byte string, length-prefixed."""
    parts = [_HEADER.pack(len(fields))]
    for f in fields:
        if isinstance(f, int):
            parts += [b"i", _NUMBER.pack(f)]
        else:
            parts += [b"b", _HEADER.pack(len(f)), f]
    body = b"".join(parts)
    return _HEADER.pack(len(body)) + body


def _fields(body: bytes) -> list[Field]:
    (count,), at = _HEADER.unpack_from(body, 0), _HEADER.size
    out: list[Field] = []
    for _ in range(count):
        kind, at = body[at : at + 1], at + 1
        if kind == b"i":
            out.append(_NUMBER.unpack_from(body, at)[0])
            at += _NUMBER.size
        elif kind == b"b":
            (size,) = _HEADER.unpack_from(body, at)
            at += _HEADER.size
            out.append(body[at : at + size])
            at += size
        else:
            raise TypeError("not a journal writer frame")
    return out


def _frames(buffer: bytearray) -> list[list[Field]]:
    """Take the whole frames off the front of ``buffer``."""
    out, at = [], 0
    while len(buffer) - at >= _HEADER.size:
        (size,) = _HEADER.unpack_from(buffer, at)
        if len(buffer) - at - _HEADER.size < size:
            break
        start = at + _HEADER.size
        out.append(_fields(bytes(buffer[start : start + size])))
        at = start + size
    del buffer[:at]
    return out


def _text(field: Field) -> str:
    if not isinstance(field, bytes):
        raise TypeError("not a journal writer frame")
    return field.decode()


def _number(field: Field) -> int:
    if not isinstance(field, int):
        raise TypeError("not a journal writer frame")
    return field


def _request(request: int, items: Sequence[Sequence[object]]) -> bytes:
    """One request's prepared entries: its number, how many, then each entry's fields."""
    fields: list[Field] = [request, len(items)]
    for body, leaf, at, agent, org, session, persons in items:
        if not (isinstance(body, bytes) and isinstance(leaf, bytes) and isinstance(persons, list)):
            raise TypeError("a prepared SQLite journal entry was expected")
        fields += [body, leaf, str(at).encode(), str(agent).encode(), str(org).encode()]
        fields += [str(session).encode(), len(persons), *(str(p).encode() for p in persons)]
    return _frame(fields)


def _entries(fields: list[Field]) -> tuple[int, list[Prepared]]:
    """``_request`` read back."""
    request, count, i = _number(fields[0]), _number(fields[1]), 2
    items: list[Prepared] = []
    for _ in range(count):
        body, leaf = fields[i], fields[i + 1]
        if not (isinstance(body, bytes) and isinstance(leaf, bytes)):
            raise TypeError("not a journal writer frame")
        at, agent, org, session = (_text(f) for f in fields[i + 2 : i + 6])
        people = _number(fields[i + 6])
        persons = [_text(f) for f in fields[i + 7 : i + 7 + people]]
        items.append((body, leaf, at, agent, org, session, persons))
        i += 7 + people
    return request, items


@dataclass(frozen=True, slots=True)
class WriterConfig:
    """What the child needs to open the same journal and sign as the parent does."""

    url: str
    checkpoint_every: int
    checkpoint_seconds: float
    origin: str
    private_key: bytes | None  # the checkpoint signer's raw Ed25519 key (None: no signing)


class WriterProcess:
    """The parent's side: start the child, hand it prepared entries, settle the futures."""

    def __init__(self, config: WriterConfig) -> None:
        self._config = config
        self._proc: subprocess.Popen[bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[int]] = {}
        self._out: list[bytes] = []  # this turn's requests
        self._unsent = bytearray()  # what the pipe did not take yet
        self._in = bytearray()
        self.failed = False

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the child and read its acknowledgements on ``loop`` (the serving loop)."""
        c = self._config
        self._proc = subprocess.Popen(  # noqa: S603 - a fixed argument list, no shell
            _CHILD,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        # The configuration first, on the same pipe: the key never appears in an argument list.
        config: list[Field] = [
            c.url.encode(),
            c.checkpoint_every,
            round(c.checkpoint_seconds * 1000),
        ]
        config += [c.origin.encode(), c.private_key or b""]
        self._proc.stdin.write(_frame(config))
        os.set_blocking(self._proc.stdout.fileno(), False)
        # Never a blocking write on the loop: a stalled child (its lock held, its disk full)
        # fills the pipe, and the requests then fail closed at their deadline, the server
        # still answering everything else.
        os.set_blocking(self._proc.stdin.fileno(), False)
        loop.add_reader(self._proc.stdout.fileno(), self._on_acks)
        self._loop = loop

    def serves(self, loop: asyncio.AbstractEventLoop) -> bool:
        """True when appends from ``loop`` go through the child."""
        return loop is self._loop and not self.failed

    def submit(self, items: Sequence[tuple[object, ...]]) -> asyncio.Future[int]:
        """Hand prepared entries over; the future gets their last sequence number once they
        are committed. One write to the pipe per turn of the loop, for every request of it."""
        loop = self._loop
        assert loop is not None
        request = next(self._ids)
        future: asyncio.Future[int] = loop.create_future()
        self._waiting[request] = future
        if not self._out:
            loop.call_soon(self._flush)
        self._out.append(_request(request, items))
        return future

    def _flush(self) -> None:
        self._unsent += b"".join(self._out)
        self._out = []
        self._send()

    def _send(self) -> None:
        """Write what the pipe takes now; wait for it to drain for the rest."""
        proc, loop = self._proc, self._loop
        if proc is None or proc.stdin is None or loop is None or self.failed:
            return
        fd = proc.stdin.fileno()
        try:
            sent = os.write(fd, self._unsent) if self._unsent else 0
        except BlockingIOError:
            sent = 0
        except OSError:
            self._fail("the journal writer process is gone")
            return
        del self._unsent[:sent]
        if self._unsent:
            loop.add_writer(fd, self._send)
        else:
            loop.remove_writer(fd)

    def _on_acks(self) -> None:
        proc = self._proc
        assert proc is not None
        assert proc.stdout is not None
        try:
            chunk = os.read(proc.stdout.fileno(), _READ)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._fail("the journal writer process stopped")
            return
        self._in += chunk
        for acks in _frames(self._in):
            for request, last in zip(acks[::2], acks[1::2], strict=True):
                future = self._waiting.pop(_number(request), None)
                if future is not None and not future.done():
                    if _number(last) < 0:  # the child could not commit that batch
                        future.set_exception(_unavailable())
                    else:
                        future.set_result(_number(last))

    def _fail(self, why: str) -> None:
        """Fail every waiting request closed; later appends use the parent's own writer."""
        if self.failed:
            return
        self.failed = True
        log.error("%s: its pending requests fail closed, appends go through the thread", why)
        self._unwatch()
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(_unavailable())

    def _unwatch(self) -> None:
        """Take the child's pipes off the loop (it may already be closed)."""
        proc, loop = self._proc, self._loop
        if loop is None or proc is None:
            return
        if proc.stdout is not None:
            with contextlib.suppress(Exception):
                loop.remove_reader(proc.stdout.fileno())
        if proc.stdin is not None:
            with contextlib.suppress(Exception):
                loop.remove_writer(proc.stdin.fileno())

    def close(self, timeout: float = 30.0) -> None:
        """Let the child finish what it was given and sign a last checkpoint, then stop it."""
        proc = self._proc
        if proc is None:
            return
        self._unsent += b"".join(self._out)
        self._out = []
        self.failed = True
        self._unwatch()
        with contextlib.suppress(OSError):
            if proc.stdin is not None:
                os.set_blocking(proc.stdin.fileno(), True)
                proc.stdin.write(bytes(self._unsent))  # what was handed over still goes
                proc.stdin.close()  # end of input: the child writes, signs and exits
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self._proc = None


def _unavailable() -> JournalUnavailable:
    return unavailable(RuntimeError("the journal writer process did not commit"))


# -- the child ---------------------------------------------------------------------------------


def run_child(stdin: int = 0, stdout: int = 1) -> None:
    """Read batches on ``stdin`` until it closes; commit each, acknowledge on ``stdout``."""
    buffer = bytearray()
    frames: list[list[Field]] = []
    while not frames:
        chunk = os.read(stdin, _READ)
        if not chunk:
            return
        buffer += chunk
        frames = _frames(buffer)
    url, every, millis, origin, private_key = frames[0]
    pending = [_entries(f) for f in frames[1:]]
    store = SqlJournalStore(
        _text(url),
        clock=SystemClock(),
        create=False,
        origin=_text(origin),
        checkpoint_every=_number(every),
        checkpoint_seconds=_number(millis) / 1000,
    )
    if isinstance(private_key, bytes) and private_key:
        store.use_signer(Ed25519Signer.from_raw(private_key))
    store.start_maintenance()  # the derived indexes follow what this process commits
    open_ = True
    while open_:
        if not pending:
            ready, _, _ = select.select([stdin], [], [], store.checkpoint_due_in())
            if not ready:  # a timed checkpoint is due and nothing came
                store.commit_prepared([])
                continue
        # Everything that came while the last batch was being committed goes in this one.
        while select.select([stdin], [], [], 0)[0]:
            chunk = os.read(stdin, _READ)
            if not chunk:
                open_ = False
                break
            buffer += chunk
        pending += [_entries(f) for f in _frames(buffer)]
        if not pending:
            continue
        batch, pending = pending, []
        try:
            lasts = store.commit_prepared([items for _, items in batch])
        except Exception:
            log.exception("journal writer process: a batch failed")
            lasts = [-1] * len(batch)
        acks: list[Field] = []
        for (request, _), last in zip(batch, lasts, strict=True):
            acks += [request, last]
        os.write(stdout, _frame(acks))
    with contextlib.suppress(Exception):
        store.commit_prepared([])  # sign what no checkpoint covers yet
    store.close()


if __name__ == "__main__":
    # Stopped by its parent only, through the end of its input: a Ctrl-C in a terminal or a
    # service manager's SIGTERM to the whole group would otherwise cut a batch short while the
    # parent is still answering; the parent, stopping, closes the pipe, and the child then
    # finishes its batch, signs it and exits (also when the parent is killed outright).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    run_child()
