"""Checkpoints kept outside the journal: exported for archiving, then checked against it by
``journal verify --checkpoint``; a journal with no checkpoint over old entries is a finding
(ASVS V16.4.2 logs that cannot be modified unnoticed, V16.4.3 logs kept on a separate
system)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli.main import app as cli
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.adapters.witness import Ed25519Cosigner
from rempart.journal.notes import (
    Note,
    NoteSignature,
    cosignature_bytes,
    cosignature_message,
    parse_note,
)
from rempart.kernel.clock import ManualClock
from tests.factories import NOW
from tests.support import transparency
from tests.support.journal import SIGNER, cut_tail, read

PUBLIC_B64 = base64.b64encode(SIGNER.public_key).decode()
ORIGIN = "portal.example/journal"
# The journal's verifier key, written out from the signed-note spec.
_KEY_ID = hashlib.sha256(ORIGIN.encode() + b"\n" + bytes([1]) + SIGNER.public_key).digest()[:4]
WITNESS = Ed25519Cosigner.generate("dpo.example/w")
VKEY = f"{ORIGIN}+{_KEY_ID.hex()}+{base64.b64encode(bytes([1]) + SIGNER.public_key).decode()}"


def journal(path: Path, entries: int, *, every: int = 50, at: dt.datetime = NOW) -> str:
    url = f"sqlite:///{path}"
    store = SqlJournalStore(url, clock=ManualClock(at), checkpoint_every=every, origin=ORIGIN)
    store.use_signer(SIGNER)
    for i in range(entries):
        store.append([read(i, at=at)])
    store.close()  # signs what is left
    return url


def verify(url: str, *checkpoints: Path) -> tuple[int, str]:
    args = ["journal", "verify", "--journal", url, "--public-key", PUBLIC_B64]
    for c in checkpoints:
        args += ["--checkpoint", str(c)]
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout


def export(url: str, target: Path) -> None:
    args = ["journal", "checkpoint", "--export", str(target), "--journal", url]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.stdout + result.stderr


def test_export_writes_the_latest_checkpoint_a_c2sp_reader_accepts(tmp_path: Path) -> None:
    url = journal(tmp_path / "journal.db", 120)
    target = tmp_path / "archived.txt"
    export(url, target)
    origin, size, _ = transparency.checkpoint(transparency.verified_text(target.read_bytes(), VKEY))
    assert (origin, size) == (ORIGIN, 120)
    code, out = verify(url, target)
    assert code == 0, out
    assert "1 checkpoint(s) kept outside it" in out


def test_a_tail_cut_below_an_exported_checkpoint_fails_verify(tmp_path: Path) -> None:
    """The attack of issue 13: the newest entries deleted together with the checkpoint that
    covered them and the index watermark set back. The journal alone looks intact; the
    checkpoint archived earlier says where it was cut."""
    path = tmp_path / "journal.db"
    url = journal(path, 500)
    archived = tmp_path / "archived.txt"
    export(url, archived)
    cut_tail(path, 450)  # checkpoints every 50: the one at 450 still holds
    code, out = verify(url)
    assert code == 0, out  # what the journal alone can tell
    code, out = verify(url, archived)
    assert code == 1
    assert "its tail was cut" in " ".join(out.split())
    assert out.strip().splitlines()[-1] == "first bad entry: 451"


def test_a_rewritten_journal_fails_against_a_checkpoint_kept_outside(tmp_path: Path) -> None:
    """Rewritten by someone holding the signing key, who re-signs every checkpoint after the
    entries changed. A checkpoint archived with a witness's cosignature dates it: stored
    checkpoints signed later are not trusted to say where the rewrite starts."""
    path = tmp_path / "journal.db"
    url = journal(path, 300)
    archived, cosigned = tmp_path / "archived.txt", tmp_path / "cosigned.txt"
    export(url, archived)
    note = parse_note(archived.read_bytes())
    seen = int((NOW + dt.timedelta(minutes=1)).timestamp())
    mark = WITNESS.sign(cosignature_message(seen, note.text))
    line = NoteSignature(WITNESS.name, bytes(4), cosignature_bytes(seen, mark))
    cosigned.write_bytes(Note(note.text, (*note.signatures, line)).encode())
    cut_tail(path, 200)
    later = ManualClock(NOW + dt.timedelta(hours=1))
    store = SqlJournalStore(url, clock=later, checkpoint_every=50, origin=ORIGIN)
    store.use_signer(SIGNER)
    for i in range(200, 320):
        store.append([read(i, agent="someone.else")])
    store.close()
    assert verify(url)[0] == 0  # re-signed: the journal alone cannot tell
    code, out = verify(url, cosigned)
    assert code == 1
    assert "no longer prove" in out
    assert out.strip().splitlines()[-1] == "first bad entry: 201"
    # Undated, the archive can only be blamed after the last stored checkpoint below it that
    # holds, re-signed or not (every 50 entries here: 250).
    code, out = verify(url, archived)
    assert code == 1
    assert out.strip().splitlines()[-1] == "first bad entry: 251"


@pytest.mark.parametrize("content", [b"", b"not a note\n\n", b"\xff\xfe", "forged"])
def test_a_checkpoint_file_that_is_not_one_of_ours_is_refused_clearly(
    tmp_path: Path, content: bytes | str
) -> None:
    url = journal(tmp_path / "journal.db", 10)
    bad = tmp_path / "bad.txt"
    if content == "forged":
        export(url, bad)
        content = bad.read_bytes().replace(b"\n10\n", b"\n11\n")
    bad.write_bytes(content)  # type: ignore[arg-type]
    result = CliRunner().invoke(
        cli,
        [
            "journal",
            "verify",
            "--journal",
            url,
            "--public-key",
            PUBLIC_B64,
            "--checkpoint",
            str(bad),
        ],
    )
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert "bad.txt" in result.stderr


def test_old_entries_without_any_checkpoint_are_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    url = journal(path, 40, every=1000)  # one checkpoint, at close
    cut_tail(path, 40)  # drops the protections, deletes nothing
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM journal_checkpoints")
    code, out = verify(url)
    assert code == 1
    assert "no checkpoint covers them" in out
    assert out.strip().splitlines()[-1] == "first bad entry: 1"
    # Fresh entries (younger than the checkpoint period) are not: the writer signs them soon.
    fresh = journal(tmp_path / "fresh.db", 5, every=1000, at=dt.datetime.now(dt.UTC))
    with sqlite3.connect(tmp_path / "fresh.db") as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DELETE FROM journal_checkpoints")
    code, out = verify(fresh)
    assert code == 0, out


def test_a_journal_from_before_publication_upgrades_and_its_old_checkpoints_still_verify(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.db"
    url = f"sqlite:///{path}"
    old = SqlJournalStore(url, clock=ManualClock(NOW), checkpoint_every=50)  # no origin
    old.use_signer(SIGNER)
    for i in range(120):
        old.append([read(i)])
    old.close()
    with sqlite3.connect(path) as conn:  # the schema as it was before publication
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("ALTER TABLE journal_checkpoints DROP COLUMN note_signature")
        conn.execute("ALTER TABLE journal_checkpoints DROP COLUMN origin")
        conn.execute("DROP TABLE journal_cosignatures")
    assert verify(url)[0] == 0
    store = SqlJournalStore(url, clock=ManualClock(NOW), checkpoint_every=50, origin=ORIGIN)
    store.use_signer(SIGNER)
    assert store.latest_published() is None  # nothing was published before
    store.append([read(120)])
    store.checkpoint()
    store.close()
    code, out = verify(url)
    assert code == 0, out
    target = tmp_path / "archived.txt"
    export(url, target)
    _, size, _ = transparency.checkpoint(transparency.verified_text(target.read_bytes(), VKEY))
    assert size == 121
