"""No data leaves whose consultation is not durably journaled: a real server, real sign-ins,
concurrent reads, then SIGKILL; every 200 a client received has its entry in the journal, and
the journal still verifies (ASVS V16.3.2 access to sensitive data logged, V16.4.2 logs that
cannot be modified, V16.5.3 fail closed: no entry, no data)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from rempart.db.engine import make_engine
from rempart.db.migrate import upgrade, write_meta
from rempart.journal.adapters.signing import checkpoint_checker
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.service import audit as journal_audit
from rempart.kernel.clock import SystemClock
from rempart.kernel.tags import Decision, Tag
from tests.factories import standard_world
from tests.support.served import serving, sign_in
from tests.support.signin import give_credentials

# Each agent and the people in their scope.
READERS = {
    "tm.dupont": ["trainee", "trainee_ended"],
    "ml.adv1": ["youth"],
    "cap.adv": ["cap_person"],
    "ag.adv": ["agency_person"],
}


def _children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux): the journal's writer process, when it runs one."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _wait_gone(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status").read_text() if Path(f"/proc/{pid}").exists() else ""
        if "State:\tZ" in status:  # exited, not yet reaped by its new parent
            return
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("writer", ["thread", "process"])
def test_every_response_received_has_its_entry_after_sigkill(tmp_path: Path, writer: str) -> None:
    db = f"sqlite:///{tmp_path}/rempart.db"
    journal_url = f"sqlite:///{tmp_path}/journal.db"
    upgrade(db)
    engine = make_engine(db)
    world = standard_world(engine)
    write_meta(engine, "demo", "true")  # serve runs in demo mode: generated journal key
    secrets = {login: give_credentials(engine, login).totp_secret for login in READERS}
    engine.dispose()

    # This test is about the journal, not the guard.
    env = {"REMPART_GUARD_MODE": "off", "REMPART_JOURNAL_WRITER": writer}
    with serving(db, journal_url, **env) as (base, proc):
        clients = {login: sign_in(base, login, secret) for login, secret in secrets.items()}
        ok: Counter[tuple[str, str]] = Counter()
        lock = threading.Lock()
        stop = threading.Event()

        def hammer(login: str, names: list[str]) -> None:
            client = clients[login]
            i = 0
            while not stop.is_set():
                ft_id = world.persons[names[i % len(names)]].ft_id
                i += 1
                try:
                    r = client.get(f"/api/v1/persons/{ft_id}")
                except httpx.TransportError:
                    return  # the server is gone
                if r.status_code == 200:
                    assert r.json()["ft_id"] == ft_id
                    with lock:
                        ok[(login, ft_id)] += 1

        threads = [
            threading.Thread(target=hammer, args=(login, names))
            for login, names in READERS.items()
            for _ in range(4)  # 16 concurrent readers
        ]
        for t in threads:
            t.start()
        time.sleep(3.0)
        with lock:
            before_kill = sum(ok.values())
        children = _children(proc.pid)
        assert (len(children) == 1) is (writer == "process")
        os.kill(proc.pid, signal.SIGKILL)  # no shutdown, no flush: the process just dies
        proc.wait(timeout=10)
        for child in children:  # an orphaned writer process finishes its batch, then exits
            _wait_gone(child)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        for c in clients.values():
            c.close()

    assert before_kill > 50, "too few reads to mean anything"
    print(f"reads answered 200 before the kill: {before_kill}, in all: {sum(ok.values())}")
    store = SqlJournalStore(journal_url, clock=SystemClock(), create=False)
    try:
        recorded: Counter[tuple[str, str]] = Counter()
        for seq, body, _ in store.rows(0):
            stored = store.entry(seq)
            assert stored is not None
            e = stored.entry
            if e.tag is Tag.PORTAL_PERSON_READ and e.decision is Decision.ALLOW:
                for ft_id in e.persons:
                    recorded[(e.agent_login, ft_id)] += 1
            assert body  # every row has its canonical form
        for key, received in ok.items():
            assert recorded[key] >= received, (key, received, recorded[key])
        assert sum(recorded.values()) >= sum(ok.values())
        report = journal_audit.verify(store, checkpoint_checker(store.public_keys()))
        assert report.ok, report.problems
        print(f"reads journaled: {sum(recorded.values())}; journal of {report.entries} verifies")
    finally:
        store.close()
