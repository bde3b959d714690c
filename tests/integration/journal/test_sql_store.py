"""The journal in its own database, on SQLite and PostgreSQL: durable group-committed appends,
append-only tables, tamper detection, queries, retention, inclusion proofs (ASVS V16.2.1,
V16.2.2, V16.3.2, V16.4.2 logs cannot be modified, V16.4.3 logs kept apart from the portal)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from rempart.cli.main import app as cli
from rempart.db.engine import normalise_url
from rempart.journal.adapters.signing import Ed25519Signer, checkpoint_checker
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.adapters.sql_schema import TABLES
from rempart.journal.integrity import BLOCK, CheckpointKind, Cosignature
from rempart.journal.model import JournalEntry, canonical_bytes
from rempart.journal.service import audit as journal_audit
from rempart.journal.service import publication
from rempart.journal.wiring import open_journal
from rempart.kernel.clock import ManualClock
from rempart.kernel.errors import PolicyError
from rempart.kernel.tags import Decision, Tag
from rempart.settings import Settings
from tests.factories import NOW
from tests.support import transparency

ROOT = Path(__file__).resolve().parents[3]
SIGNER = Ed25519Signer.from_raw(bytes(range(32)))
TRUST = checkpoint_checker({SIGNER.key_id: SIGNER.public_key})
PUBLIC_B64 = base64.b64encode(SIGNER.public_key).decode()
PRIVATE_B64 = base64.b64encode(SIGNER.private_raw()).decode()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def journal_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty journal database: an SQLite file, and PostgreSQL when configured."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/journal.db"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def open_store(journal_url: str, clock: ManualClock) -> Iterator[Callable[..., SqlJournalStore]]:
    """Opens stores on the test journal (signing with the test key); closes them afterwards."""
    opened: list[SqlJournalStore] = []

    def make(**options: object) -> SqlJournalStore:
        store = SqlJournalStore(journal_url, clock=clock, **options)  # type: ignore[arg-type]
        store.use_signer(SIGNER)
        opened.append(store)
        return store

    yield make
    for s in opened:
        s.close()


@pytest.fixture
def store(open_store: Callable[..., SqlJournalStore]) -> SqlJournalStore:
    return open_store(checkpoint_every=50)


def read(n: int, *, at: dt.datetime = NOW, agent: str = "", ft_id: str = "") -> JournalEntry:
    return JournalEntry(
        at=at,
        tag=Tag.PORTAL_PERSON_READ,
        decision=Decision.ALLOW,
        agent_login=agent or f"agent{n % 4}",
        agent_roles=("advisor",),
        org_id=f"ORG-{n % 3}",
        session_id=f"sess-{n % 6}",
        client_address="192.0.2.7",
        network="AS:TEST/FR",
        user_agent="pytest",
        persons=(ft_id or f"{n % 10:07d}K",),
        categories=("contact", "identity"),
        purpose="employment_support",
        reason="assigned",
    )


def raw(url: str) -> object:
    """A plain connection to the journal database, as its owner (or an intruder) would hold."""
    return create_engine(normalise_url(url), isolation_level="AUTOCOMMIT").connect()


def intrude(url: str, *statements: str) -> None:
    """Run SQL with the journal owner's rights: drops a trigger first if it says so."""
    conn = raw(url)
    try:
        for s in statements:
            conn.execute(text(s))  # type: ignore[attr-defined]
    finally:
        conn.close()  # type: ignore[attr-defined]


def drop_protection(url: str, table: str) -> str:
    if url.startswith("sqlite"):
        return f"DROP TRIGGER IF EXISTS {table}_no_update; DROP TRIGGER IF EXISTS {table}_no_delete"
    return f"DROP TRIGGER {table}_append_only ON {table}"


def as_intruder(url: str, table: str, statement: str) -> None:
    intrude(url, *drop_protection(url, table).split("; "), statement)


# -- appending ---------------------------------------------------------------------------------


def test_appends_get_contiguous_sequence_numbers_and_read_back(store: SqlJournalStore) -> None:
    assert store.append([read(1)]) == 1
    assert store.append([read(2), read(3, ft_id="0000042K")]) == 3
    assert store.head()[0] == 3
    back = store.entry(3)
    assert back is not None
    assert back.entry == read(3, ft_id="0000042K")
    assert [s.seq for s in store.who_consulted("0000042K", 0, 10)] == [3]


def test_concurrent_appends_are_grouped_into_few_commits(store: SqlJournalStore) -> None:
    threads, per_thread = 24, 40
    results: dict[int, list[tuple[int, JournalEntry]]] = {}

    def work(t: int) -> None:
        mine = []
        for i in range(per_thread):
            e = read(t * 1000 + i, agent=f"t{t}")
            mine.append((store.append([e]), e))
        results[t] = mine

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seqs = sorted(seq for r in results.values() for seq, _ in r)
    assert seqs == list(range(1, threads * per_thread + 1))  # contiguous from 1, none shared
    for r in results.values():
        for seq, e in r:
            stored = store.entry(seq)
            assert stored is not None
            assert stored.entry == e  # each caller got the number of its own entry
    # Group commit: far fewer transactions than appends (each of which waited for its commit).
    assert store.commits < threads * per_thread / 2
    report = journal_audit.verify(store, TRUST)
    assert report.ok, report.problems


def test_two_writers_on_one_journal_keep_one_chain(
    open_store: Callable[..., SqlJournalStore],
) -> None:
    # Two replicas (or a replica and a maintenance command) appending to the same journal.
    a, b = open_store(checkpoint_every=30), open_store(checkpoint_every=30)

    def work(s: SqlJournalStore, k: int) -> None:
        for i in range(150):
            s.append([read(k * 1000 + i)])

    workers = [threading.Thread(target=work, args=(s, k)) for k, s in enumerate([a, b, a, b])]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert a.head()[0] == 600
    report = journal_audit.verify(a, TRUST)
    assert report.ok, report.problems
    assert report.entries == 600


def test_checkpoints_every_n_entries_and_at_close(
    open_store: Callable[..., SqlJournalStore],
) -> None:
    store = open_store(checkpoint_every=10, checkpoint_seconds=3600)
    for i in range(25):
        store.append([read(i)])
    assert [c.tree_size for c in store.checkpoints()] == [10, 20]
    store.close()
    assert [c.tree_size for c in store.checkpoints()] == [10, 20, 25]  # signed on the way out


def test_checkpoints_every_t_seconds_when_idle(open_store: Callable[..., SqlJournalStore]) -> None:
    store = open_store(checkpoint_every=1000, checkpoint_seconds=0.2)
    for i in range(5):
        store.append([read(i)])
    for _ in range(100):
        if [c.tree_size for c in store.checkpoints()][-1:] == [5]:
            break
        threading.Event().wait(0.05)
    assert [c.tree_size for c in store.checkpoints()][-1] == 5


# -- append-only ---------------------------------------------------------------------------------


A_COLUMN = {
    "journal_meta": "value",
    "journal_entries": "agent_login",
    "journal_persons": "ft_id",
    "journal_nodes": "hash",
    "journal_checkpoints": "kind",
    "journal_keys": "note",
    "journal_cosignatures": "witness",
    "journal_by_person": "ft_id",
    "journal_by_agent": "agent_login",
    "journal_by_session": "session_id",
}


@pytest.mark.parametrize("table", TABLES)
def test_every_table_refuses_update_and_delete(store: SqlJournalStore, table: str) -> None:
    for i in range(BLOCK + 5):  # enough to fill every table, Merkle nodes included
        store.append([read(i)])
    store.catch_up_index()  # the derived indexes too
    store.add_cosignatures([Cosignature(5, bytes(32), "w.example/1", bytes(4), 1, bytes(64))])
    column = A_COLUMN[table]
    for statement in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"):
        with pytest.raises(Exception, match="append-only"):
            intrude(store.url, statement)
    if not store.url.startswith("sqlite"):
        with pytest.raises(Exception, match="append-only"):
            intrude(store.url, f"TRUNCATE {table}")


# -- tamper evidence -----------------------------------------------------------------------------


def _test_clock_period() -> dict[str, str]:
    """These journals are written by the test clock, weeks behind the wall clock, with the
    store still open: a checkpoint period that long keeps their newest, not yet signed
    entries from being reported as left uncovered (a test of its own covers that)."""
    lag = dt.datetime.now(dt.UTC) - NOW
    return {"REMPART_JOURNAL_CHECKPOINT_SECONDS": str(lag.total_seconds() + 86_400)}


def _run_verify(url: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["journal", "verify", "--journal", url, "--public-key", PUBLIC_B64],
        env=_test_clock_period(),
    )
    return result.exit_code, result.stdout


def test_verify_passes_then_names_an_altered_row(store: SqlJournalStore) -> None:
    for i in range(120):
        store.append([read(i)])
    code, out = _run_verify(store.url)
    assert code == 0, out
    assert "journal intact: 120 entries" in out
    forged = canonical_bytes(read(57, agent="someone.else"))
    hexed = forged.hex()
    literal = f"X'{hexed}'" if store.url.startswith("sqlite") else f"'\\x{hexed}'::bytea"
    as_intruder(
        store.url, "journal_entries", f"UPDATE journal_entries SET body = {literal} WHERE seq = 57"
    )
    code, out = _run_verify(store.url)
    assert code == 1
    assert out.strip().splitlines()[-1] == "first bad entry: 57"


def test_verify_names_a_deleted_row(store: SqlJournalStore) -> None:
    for i in range(120):
        store.append([read(i)])
    as_intruder(store.url, "journal_entries", "DELETE FROM journal_entries WHERE seq = 88")
    code, out = _run_verify(store.url)
    assert code == 1
    assert out.strip().splitlines()[-1] == "first bad entry: 88"


def test_verify_names_a_hidden_consultation(store: SqlJournalStore) -> None:
    # An intruder hides their read of person 0000003K from "who consulted my file".
    for i in range(40):
        store.append([read(i)])
    assert [s.seq for s in store.who_consulted("0000003K", 0, 10)] == [34, 24, 14, 4]
    as_intruder(
        store.url,
        "journal_persons",
        "DELETE FROM journal_persons WHERE seq = 24",
    )
    code, out = _run_verify(store.url)
    assert code == 1
    assert out.strip().splitlines()[-1] == "first bad entry: 24"


def test_verify_names_a_consultation_hidden_from_the_derived_index(
    store: SqlJournalStore,
) -> None:
    for i in range(40):
        store.append([read(i)])
    store.catch_up_index()
    assert [s.seq for s in store.who_consulted("0000003K", 0, 10)] == [34, 24, 14, 4]
    as_intruder(
        store.url,
        "journal_by_person",
        "DELETE FROM journal_by_person WHERE seq = 14",
    )
    assert [s.seq for s in store.who_consulted("0000003K", 0, 10)] == [34, 24, 4]  # hidden...
    code, out = _run_verify(store.url)
    assert code == 1  # ... but not from verify
    assert out.strip().splitlines()[-1] == "first bad entry: 14"


@pytest.mark.parametrize("table", ["journal_by_agent", "journal_by_session"])
def test_verify_names_an_activity_hidden_from_the_derived_index(
    store: SqlJournalStore, table: str
) -> None:
    for i in range(40):
        store.append([read(i)])
    store.catch_up_index()
    key = "agent_login" if table == "journal_by_agent" else "session_id"
    as_intruder(store.url, table, f"UPDATE {table} SET {key} = 'elsewhere' WHERE seq = 17")
    code, out = _run_verify(store.url)
    assert code == 1
    assert out.strip().splitlines()[-1] == "first bad entry: 17"


def test_verify_names_a_forged_derived_index_row(store: SqlJournalStore) -> None:
    for i in range(40):
        store.append([read(i)])
    store.catch_up_index()
    # A row claiming that entry 5 (which names 0000004K) concerns 0000003K.
    as_intruder(
        store.url,
        "journal_by_person",
        "INSERT INTO journal_by_person (ft_id, seq) VALUES ('0000003K', 5)",
    )
    assert 5 not in [s.seq for s in store.who_consulted("0000003K", 0, 10)]  # never shown
    code, out = _run_verify(store.url)
    assert code == 1
    assert out.strip().splitlines()[-1] == "first bad entry: 5"


def test_queries_are_complete_before_and_after_the_index_catches_up(
    open_store: Callable[..., SqlJournalStore],
) -> None:
    store = open_store(checkpoint_every=1000)
    store._stopping.set()  # no maintenance pass: everything stays in the unindexed tail
    for i in range(30):
        store.append([read(i, at=NOW + dt.timedelta(minutes=i))])
    window = (NOW, NOW + dt.timedelta(days=1))

    def answers() -> tuple[list[int], ...]:
        return (
            [s.seq for s in store.who_consulted("0000005K", 0, 2)],
            [s.seq for s in store.who_consulted("0000005K", 2, 10)],
            [s.seq for s in store.activity(*window, agent_login="agent1", offset=1, limit=3)],
            [s.seq for s in store.activity(*window, session_id="sess-2")],
        )

    before = answers()
    assert before == ([26, 16], [6], [6, 10, 14], [3, 9, 15, 21, 27])
    assert store.index_pending(limit=12) == 12  # half indexed: each answer spans both parts
    assert answers() == before
    store.catch_up_index()
    assert answers() == before


def test_verify_catches_a_forged_checkpoint_signature(store: SqlJournalStore) -> None:
    for i in range(120):
        store.append([read(i)])
    bad = "X'00'" if store.url.startswith("sqlite") else "'\\x00'::bytea"
    as_intruder(
        store.url,
        "journal_checkpoints",
        f"UPDATE journal_checkpoints SET signature = {bad} WHERE tree_size = 100",
    )
    code, out = _run_verify(store.url)
    assert code == 1
    assert out.strip().splitlines()[-1] == "first bad entry: 100"


def test_verify_without_a_trust_anchor_says_so(store: SqlJournalStore) -> None:
    store.append([read(1)])
    result = CliRunner().invoke(
        cli, ["journal", "verify", "--journal", store.url], env=_test_clock_period()
    )
    assert result.exit_code == 0
    assert "trust anchor" in result.stderr


# -- proofs --------------------------------------------------------------------------------------


def test_inclusion_proof_checks_with_the_standalone_verifier(
    store: SqlJournalStore, tmp_path: Path
) -> None:
    for i in range(333):
        store.append([read(i)])
    result = CliRunner().invoke(cli, ["journal", "prove", "123", "--journal", store.url])
    assert result.exit_code == 0, result.stdout
    proof = json.loads(result.stdout)
    assert proof["seq"] == 123
    assert proof["tree_size"] == 300  # the latest checkpoint covering it
    assert proof["entry"]["agent_login"] == "agent2"  # read(122)
    path = tmp_path / "proof.json"
    path.write_text(result.stdout)
    tool = [sys.executable, str(ROOT / "tools" / "verify_inclusion.py")]
    ok = subprocess.run(
        [*tool, str(path), "--public-key", PUBLIC_B64], capture_output=True, check=False
    )
    assert ok.returncode == 0, ok.stdout
    assert ok.stdout.startswith(b"OK: entry 123")
    # The same proof on stdin, a tampered entry, and the wrong key all fail.
    assert (
        subprocess.run(tool, input=path.read_bytes(), capture_output=True, check=False).returncode
        == 0
    )
    forged = dict(proof)
    forged["entry_canonical"] = proof["entry_canonical"].replace("agent2", "agent1")
    forged["entry"] = json.loads(forged["entry_canonical"])
    bad = subprocess.run(tool, input=json.dumps(forged).encode(), capture_output=True, check=False)
    assert bad.returncode == 1
    assert b"inclusion path" in bad.stdout
    other_key = base64.b64encode(Ed25519Signer.generate().public_key).decode()
    wrong = subprocess.run(
        [*tool, str(path), "--public-key", other_key], capture_output=True, check=False
    )
    assert wrong.returncode == 1


def test_a_fresh_entry_needs_a_checkpoint_before_it_can_be_proved(store: SqlJournalStore) -> None:
    for i in range(51):
        store.append([read(i)])
    with pytest.raises(Exception, match="not covered"):
        journal_audit.prove(store, 51)
    store.checkpoint(CheckpointKind.MANUAL)
    assert journal_audit.prove(store, 51)["tree_size"] == 51


# -- queries ------------------------------------------------------------------------------------


def test_who_consulted_activity_and_volumes(store: SqlJournalStore) -> None:
    day1 = NOW - dt.timedelta(days=1)
    for i in range(30):
        store.append([read(i, at=day1 + dt.timedelta(minutes=i))])
    for i in range(30, 45):
        store.append([read(i, at=NOW + dt.timedelta(minutes=i))])
    who = store.who_consulted("0000005K", 0, 2)
    assert [s.seq for s in who] == [36, 26]  # newest first, paged
    assert [s.seq for s in store.who_consulted("0000005K", 2, 10)] == [16, 6]
    acts = store.activity(
        day1, day1 + dt.timedelta(minutes=10), agent_login="agent2", offset=0, limit=100
    )
    assert [s.seq for s in acts] == [3, 7]
    by_session = store.activity(NOW, NOW + dt.timedelta(days=1), session_id="sess-0")
    assert [s.seq for s in by_session] == [31, 37, 43]
    vols = store.volumes(day1 - dt.timedelta(hours=12), NOW + dt.timedelta(days=1))
    assert vols == [
        (day1.date(), "ORG-0", 10),
        (day1.date(), "ORG-1", 10),
        (day1.date(), "ORG-2", 10),
        (NOW.date(), "ORG-0", 5),
        (NOW.date(), "ORG-1", 5),
        (NOW.date(), "ORG-2", 5),
    ]


# -- retention ------------------------------------------------------------------------------------


def test_retention_purges_behind_a_signed_checkpoint_and_the_rest_verifies(
    store: SqlJournalStore, clock: ManualClock
) -> None:
    old = NOW - dt.timedelta(days=400)
    for i in range(700):
        store.append([read(i, at=old + dt.timedelta(minutes=i))])
    for i in range(700, 760):
        store.append([read(i, at=NOW - dt.timedelta(days=10))])
    before = NOW - dt.timedelta(days=365)
    result = journal_audit.purge(store, store, TRUST, before, NOW)
    assert result.cut == 2 * BLOCK  # whole blocks only: 512 of the 700 old entries
    assert result.checkpoint is not None
    assert result.checkpoint.kind is CheckpointKind.PURGE
    assert store.entry(512) is None
    assert store.entry(513) is not None
    assert store.who_consulted("0000001K", 0, 1000)[-1].seq > 512
    report = journal_audit.verify(store, TRUST)
    assert report.ok, report.problems
    assert report.base == 512
    # The purge itself is journaled; a proof of a kept entry still checks.
    last = store.entry(store.head()[0])
    assert last is not None
    assert last.entry.tag is Tag.JOURNAL_RETENTION_PURGED
    store.checkpoint(CheckpointKind.MANUAL)
    proof = journal_audit.prove(store, 600)
    assert proof["tree_size"] == 761
    # Tampering after a purge is still caught at its entry.
    as_intruder(store.url, "journal_entries", "DELETE FROM journal_entries WHERE seq = 513")
    assert journal_audit.verify(store, TRUST).first_bad == 513
    # Nothing more to purge with the same cut-off.
    assert (
        journal_audit.purge(store, store, TRUST, before, NOW, verify_first=False).checkpoint is None
    )


def test_retention_refuses_to_purge_a_journal_that_does_not_verify(store: SqlJournalStore) -> None:
    for i in range(600):
        store.append([read(i, at=NOW - dt.timedelta(days=500))])
    as_intruder(store.url, "journal_entries", "DELETE FROM journal_entries WHERE seq = 5")
    with pytest.raises(Exception, match="first bad entry: 5"):
        journal_audit.purge(store, store, TRUST, NOW - dt.timedelta(days=365), NOW)


def test_retention_from_the_command_line(store: SqlJournalStore) -> None:
    for i in range(300):
        store.append([read(i, at=NOW - dt.timedelta(days=800))])
    store.append([read(301, at=NOW)])
    store.close()
    result = CliRunner(env={"REMPART_JOURNAL_SIGNING_KEY": PRIVATE_B64}).invoke(
        cli, ["journal", "purge", "--journal", store.url, "--retention-months", "12", "--yes"]
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "purged entries 1..256" in result.stdout
    code, out = _run_verify(store.url)
    assert code == 0, out
    assert "purged by retention" in out


# -- keys ----------------------------------------------------------------------------------------


def test_demo_mode_keeps_a_generated_key_in_the_journal_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(demo=True, db_url=f"sqlite:///{tmp_path}/rempart.db")
    first = open_journal(settings, ManualClock(NOW))
    first.append([read(1)])
    first.close()
    again = open_journal(settings, ManualClock(NOW))
    again.append([read(2)])
    again.close()
    assert "demo mode" in caplog.text
    keys = again.public_keys()
    assert len(keys) == 1  # the same generated key both times
    report = journal_audit.verify(again, checkpoint_checker(keys))
    assert report.ok


def test_outside_demo_mode_a_missing_signing_key_refuses_to_start(tmp_path: Path) -> None:
    settings = Settings(
        demo=False,
        secret_key="x" * 40,  # type: ignore[arg-type]
        db_url=f"sqlite:///{tmp_path}/rempart.db",
    )
    with pytest.raises(PolicyError, match="REMPART_JOURNAL_SIGNING_KEY"):
        open_journal(settings, ManualClock(NOW))
    keyed = Settings(
        demo=False,
        secret_key="x" * 40,  # type: ignore[arg-type]
        db_url=f"sqlite:///{tmp_path}/rempart.db",
        journal_signing_key=PRIVATE_B64,  # type: ignore[arg-type]
    )
    store = open_journal(keyed, ManualClock(NOW))
    store.append([read(1)])
    store.close()
    assert journal_audit.verify(store, TRUST).ok


def test_init_creates_the_schema_and_refuses_roles_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new/journal.db"
    made = CliRunner().invoke(cli, ["journal", "init", "--journal", url])
    assert made.exit_code == 0, made.stdout + made.stderr
    assert _run_verify(url)[0] == 0  # an empty journal is intact
    refused = CliRunner().invoke(cli, ["journal", "init", "--journal", url, "--grant", "portal"])
    assert refused.exit_code == 2
    assert "no roles" in refused.stderr
    missing = CliRunner().invoke(cli, ["journal", "verify", "--journal", f"sqlite:///{tmp_path}/x"])
    assert missing.exit_code == 2


# -- PostgreSQL: the portal's role may only read and append ---------------------------------


@pytest.mark.postgres
def test_postgres_portal_role_may_only_insert_and_select(fresh_postgres_url: str) -> None:
    owner = SqlJournalStore(fresh_postgres_url, clock=ManualClock(NOW))  # creates the schema
    owner.use_signer(SIGNER)
    owner.append([read(1)])
    owner.close()
    role = f"rempart_portal_{uuid.uuid4().hex[:8]}"
    intrude(fresh_postgres_url, f"CREATE ROLE {role} LOGIN")
    granted = CliRunner().invoke(
        cli, ["journal", "init", "--journal", fresh_postgres_url, "--grant", role]
    )
    assert granted.exit_code == 0, granted.stdout + granted.stderr
    assert "may only read and append" in granted.stdout
    try:
        portal_url = fresh_postgres_url.replace("postgres@", f"{role}@", 1)
        portal = SqlJournalStore(portal_url, clock=ManualClock(NOW))
        portal.use_signer(SIGNER)
        assert portal.append([read(2)]) == 2
        portal.close()
        for statement in (
            "UPDATE journal_entries SET org_id = 'x'",
            "DELETE FROM journal_entries",
            "TRUNCATE journal_entries",
            "SELECT set_config('rempart.journal_purge_upto', '99', false); "
            "DELETE FROM journal_entries",
        ):
            with pytest.raises(Exception, match="permission denied"):
                intrude(portal_url, *statement.split("; "))
        assert journal_audit.verify(owner, TRUST).ok
    finally:
        intrude(
            fresh_postgres_url,
            f"REASSIGN OWNED BY {role} TO postgres",
            f"DROP OWNED BY {role}",
            f"DROP ROLE {role}",
        )


# -- publication (C2SP checkpoints, cosignatures, consistency proofs) --------------------------


def test_published_checkpoints_cosignatures_and_proofs_on_either_database(
    open_store: Callable[..., SqlJournalStore],
) -> None:
    store = open_store(checkpoint_every=100, origin="portal.example/journal")
    for i in range(300):
        store.append([read(i)])
    first = store.checkpoint()
    for i in range(300, 555):
        store.append([read(i)])
    second = store.checkpoint()
    assert store.origin == "portal.example/journal"
    assert store.latest_published() == second
    vkey = publication.log_verifier_key(store)
    text = transparency.verified_text(publication.checkpoint_note(store), vkey)
    assert transparency.checkpoint(text) == ("portal.example/journal", 555, second.root)
    proof = publication.consistency_proof(store, first.tree_size, second.tree_size)
    assert transparency.consistent(300, 555, first.root, second.root, proof)
    cosig = Cosignature(555, second.root, "w.example/1", bytes(4), 1_790_000_000, bytes(64))
    store.add_cosignatures([cosig])
    assert store.cosignatures(555, second.root) == [cosig]
    assert store.cosignatures(300, first.root) == []
    report = journal_audit.verify(store, TRUST)
    assert report.ok, report.problems
