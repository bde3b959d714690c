"""The portal and a witness side by side, as two processes: the witness cosigns while the
journal grows honestly, its cosignature is served beside the checkpoint, and a rewritten tail
(by someone holding the signing key itself) is refused with an alert; the witness's state then
makes ``journal verify --checkpoint`` fail (ASVS V16.4.2 logs that cannot be modified
unnoticed, V16.4.3 logs sent to a separate system)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rempart.db.migrate import upgrade
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.kernel.clock import SystemClock
from tests.support import transparency
from tests.support.journal import SIGNER, cut_tail, read
from tests.support.served import free_port

ORIGIN = "portal.example.fr/journal"
RAMPART = str(Path(sys.executable).parent / "rempart")
PUBLIC_B64 = base64.b64encode(SIGNER.public_key).decode()


def rempart(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RAMPART, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def append(journal_url: str, start: int, count: int, *, agent: str = "") -> None:
    """Entries written through a second writer on the same journal (as a replica would)."""
    store = SqlJournalStore(journal_url, clock=SystemClock(), signer=SIGNER, origin=ORIGIN)
    try:
        for i in range(start, start + count):
            store.append([read(i, agent=agent)])
        store.checkpoint()
    finally:
        store.close()


def rewrite_tail(path: Path, keep: int) -> None:
    """The strongest intruder: database access *and* the signing key. The entries after
    ``keep`` are deleted with what covered them, then different ones appended and signed."""
    cut_tail(path, keep)  # the appending and signing come after, in the test


@pytest.mark.slow
def test_a_witness_beside_the_portal_catches_a_rewritten_tail(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/rempart.db"
    journal_path = tmp_path / "journal.db"
    journal_url = f"sqlite:///{journal_path}"
    upgrade(db)
    append(journal_url, 0, 500)

    key_file, state = tmp_path / "witness.key", tmp_path / "witness.state"
    made = rempart("witness", "keygen", "--name", "dpo.example.fr/w1", "--key-file", str(key_file))
    assert made.returncode == 0, made.stderr
    witness_vkey = made.stdout.strip()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMPART_")}
    env |= {
        "REMPART_GUARD_MODE": "off",
        "REMPART_DEMO": "true",
        "REMPART_JOURNAL_SIGNING_KEY": base64.b64encode(SIGNER.private_raw()).decode(),
        "REMPART_JOURNAL_WITNESSES": witness_vkey,
    }
    serve = ["serve", "--db", db, "--journal", journal_url, "--host", "127.0.0.1"]
    server = subprocess.Popen(
        [RAMPART, *serve, "--port", str(port), "--insecure-http"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                if httpx.get(f"{base}/api/v1/journal/key", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the portal did not start"
            time.sleep(0.2)
        log_key = httpx.get(f"{base}/api/v1/journal/key").text.strip()
        witness = [
            "witness", "run", "--once", "--log", base, "--log-key", log_key,
            "--key-file", str(key_file), "--state", str(state),
        ]  # fmt: skip

        # Fetched from the running server, checked by the independent reader.
        first = httpx.get(f"{base}/api/v1/journal/checkpoint").content
        _, m, old_root = transparency.checkpoint(transparency.verified_text(first, log_key))
        assert m == 500

        ran = rempart(*witness)
        assert ran.returncode == 0, ran.stderr
        served = httpx.get(f"{base}/api/v1/journal/checkpoint").content
        assert transparency.cosigned_at(served, witness_vkey) > 0
        assert transparency.verified_text(served, log_key) == first[: first.index(b"\n\n") + 1]

        append(journal_url, 500, 100)  # the journal grows honestly
        second = httpx.get(f"{base}/api/v1/journal/checkpoint").content
        _, n, new_root = transparency.checkpoint(transparency.verified_text(second, log_key))
        assert n == 600
        proof = httpx.get(
            f"{base}/api/v1/journal/consistency", params={"first": m, "second": n}
        ).json()["proof"]
        assert transparency.consistent(
            m, n, old_root, new_root, [base64.b64decode(p) for p in proof]
        )
        ran = rempart(*witness)
        assert ran.returncode == 0, ran.stderr
        honest_state = state.read_bytes()

        # Someone with the database *and* the key rewrites entries 551.. and signs anew.
        rewrite_tail(journal_path, 550)
        append(journal_url, 550, 150, agent="someone.else")
        forged = httpx.get(f"{base}/api/v1/journal/checkpoint").content
        assert transparency.checkpoint(transparency.verified_text(forged, log_key))[1] == 700

        ran = rempart(*witness)
        assert ran.returncode == 1
        assert "REFUSED" in ran.stderr
        alerts = [json.loads(line) for line in (tmp_path / "witness.state.alerts").open()]
        assert [a["rule"] for a in alerts] == ["witness:journal:rewritten"]
        assert alerts[0]["severity"] == "critical"
        assert alerts[0]["evidence"]["last_cosigned"] == honest_state.decode()
        assert state.read_bytes() == honest_state  # the witness keeps the honest checkpoint
        assert witness_vkey.split("+")[0].encode() not in (
            httpx.get(f"{base}/api/v1/journal/checkpoint").content
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    # The witness's state, kept outside the journal, shows the journal no longer proves it.
    checked = rempart(
        "journal", "verify", "--journal", journal_url, "--public-key", PUBLIC_B64,
        "--checkpoint", str(state),
    )  # fmt: skip
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "Traceback" not in checked.stdout + checked.stderr
    # Blamed after the last checkpoint that still holds (the one the first 500 were signed at).
    assert checked.stdout.strip().splitlines()[-1] == "first bad entry: 501", checked.stdout
