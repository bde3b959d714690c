"""SQLite has one writer, and a local portal serves its requests on the event loop: requests
that write at the same time must all be answered, none left waiting on a lock that the event
loop itself would have to release (ASVS V15.4.3, a level-3 requirement: locks are used so that
no thread gets stuck waiting on another; V16.5.3: no stall turns into a failure).

Every session below is due for a touch (its last activity is older than the touch interval),
so each read writes; notes are written at the same time through a route that runs in a worker
thread. Before the unit of work was settled before every wait, two of these at once stalled
the whole server for SQLite's busy timeout and failed one of them."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest

from rempart.db.engine import make_engine
from rempart.db.migrate import upgrade, write_meta
from tests.factories import standard_world
from tests.support.served import serving, sign_in
from tests.support.signin import give_credentials

READERS = {
    "tm.dupont": "trainee",
    "ml.adv1": "youth",
    "cap.adv": "cap_person",
    "ag.adv": "agency_person",
}
ROUNDS = 4


def make_every_session_due_for_a_touch(path: Path) -> None:
    """Last activity a minute ago: past the touch interval, well within the idle timeout."""
    a_minute_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).replace(tzinfo=None)
    with sqlite3.connect(path, timeout=10) as conn:
        conn.execute(
            "UPDATE sessions SET last_seen_at = ? WHERE ended_at IS NULL",
            (a_minute_ago.isoformat(sep=" "),),
        )


@pytest.mark.slow
def test_concurrent_writers_are_all_answered(tmp_path: Path) -> None:
    db_path = tmp_path / "rempart.db"
    db = f"sqlite:///{db_path}"
    upgrade(db)
    engine = make_engine(db)
    world = standard_world(engine)
    write_meta(engine, "demo", "true")
    secrets = {login: give_credentials(engine, login).totp_secret for login in READERS}
    engine.dispose()
    with serving(db, f"sqlite:///{tmp_path}/journal.db", REMPART_GUARD_MODE="off") as (base, _):
        # Far longer than any answer takes; a stalled server shows as a 5xx, not a timeout.
        clients = {login: sign_in(base, login, s, timeout=60.0) for login, s in secrets.items()}
        youth = world.persons["youth"].ft_id
        answers: list[tuple[str, int]] = []
        lock = threading.Lock()

        def read(login: str, go: threading.Barrier) -> None:
            ft_id = world.persons[READERS[login]].ft_id
            go.wait()
            status = clients[login].get(f"/api/v1/persons/{ft_id}").status_code
            with lock:
                answers.append(("read", status))

        def write_note(go: threading.Barrier) -> None:
            go.wait()
            status = (
                clients["ml.adv1"]
                .post(f"/api/v1/persons/{youth}/notes", json={"text": "Rendez-vous fixé"})
                .status_code
            )
            with lock:
                answers.append(("note", status))

        try:
            for _ in range(ROUNDS):
                make_every_session_due_for_a_touch(db_path)
                jobs = [
                    *((read, (login,)) for login in READERS),
                    (write_note, ()),
                    (write_note, ()),
                ]
                go = threading.Barrier(len(jobs))
                threads = [threading.Thread(target=f, args=(*args, go)) for f, args in jobs]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(timeout=120)
        finally:
            for c in clients.values():
                c.close()
    assert len(answers) == ROUNDS * (len(READERS) + 2)
    assert sorted(set(answers)) == [("note", 201), ("read", 200)], answers
