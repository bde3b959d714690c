"""``rempart incident report`` end to end: a seeded portal, a signed SQLite journal, the
draft (deadline = aware_at + 72 h), one letter per exposed person naming their own categories,
and an evidence pack that ``tools/verify_evidence.py`` accepts and rejects once any byte of it
changes (GDPR art. 33, 34; ASVS V16.4.2: the log's integrity can be shown to a third party)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update
from typer.testing import CliRunner

from rempart.cli.main import app
from rempart.db.schema.core import PersonRow
from rempart.journal.adapters.signing import Ed25519Signer
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.integrity import Cosignature, witness_key_hash
from rempart.journal.notes import COSIGNATURE_V1, cosignature_message, verifier_key
from rempart.kernel.clock import ManualClock
from rempart.kernel.tags import Decision
from rempart_bench.load import seed
from tests.factories import NOW
from tests.support.journal import SIGNER, read

ORIGIN = "rempart.test/journal"
WITNESS = "witness.test"
WITNESS_KEY = Ed25519Signer.from_raw(bytes(range(100, 132)))
ROOT = Path(__file__).resolve().parents[3]
VERIFY = ROOT / "tools" / "verify_evidence.py"
AWARE = NOW + dt.timedelta(hours=2)


@dataclasses.dataclass
class Portal:
    db: str
    journal: str
    people: list[str]


@pytest.fixture
def portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Portal:
    db = f"sqlite:///{tmp_path}/rempart.db"
    seed(db, 300, 3, NOW.date())
    engine = create_engine(db)
    with engine.connect() as conn:
        people = list(
            conn.execute(
                select(PersonRow.ft_id)
                .where(PersonRow.is_canary.is_(False))  # real people (the seed plants canaries)
                .order_by(PersonRow.id)
                .limit(40)
            ).scalars()
        )
    engine.dispose()
    journal = f"sqlite:///{tmp_path}/journal.db"
    monkeypatch.setenv(
        "REMPART_JOURNAL_SIGNING_KEY", base64.b64encode(SIGNER.private_raw()).decode()
    )
    return Portal(db, journal, people)


def attack(p: Portal, people: list[str], minutes: int = 0) -> None:
    store = SqlJournalStore(p.journal, clock=ManualClock(NOW))
    store.use_signer(SIGNER)
    entries = []
    for i, ft_id in enumerate(people):
        cats = ("contact", "identity", "nir") if i % 3 == 0 else ("identity", "status")
        entries.append(
            dataclasses.replace(
                read(i, at=NOW + dt.timedelta(minutes=minutes + i)),
                agent_login="thief",
                persons=(ft_id,),
                categories=cats,
            )
        )
        entries.append(
            dataclasses.replace(
                entries[-1], decision=Decision.NOT_FOUND, persons=("9999999Z",), categories=()
            )
        )
        entries.append(dataclasses.replace(read(i), agent_login="honest"))
    store.append(entries)
    store.close()


def run_report(p: Portal, out: Path) -> dict[str, object]:
    result = CliRunner().invoke(
        app,
        [
            "incident",
            "report",
            "--db",
            p.db,
            "--journal",
            p.journal,
            "--account",
            "thief",
            "--aware-at",
            AWARE.isoformat(),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads((out / "notification.json").read_text(encoding="utf-8"))


def verify(pack: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(VERIFY), str(pack), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_report_writes_the_draft_the_letters_and_a_verifiable_pack(
    portal: Portal, tmp_path: Path
) -> None:
    victims = portal.people[:12]
    attack(portal, victims)
    out = tmp_path / "report"
    draft = run_report(portal, out)
    for key in (
        "aware_at",
        "deadline",
        "started_at",
        "ended_at",
        "nature",
        "data_categories",
        "approximate_persons",
        "approximate_records",
        "sensitive_data",
        "likely_consequences",
        "measures_taken",
        "measures_proposed",
        "dpo_contact",
    ):
        assert key in draft, key
    assert draft["deadline"] == "2026-11-19T12:00:00.000000Z"  # aware_at + 72 h
    assert draft["aware_at"] == "2026-11-16T12:00:00.000000Z"
    assert draft["approximate_persons"] == 12
    assert draft["sensitive_data"] is True
    assert draft["kind"] == "initial"
    assert (out / "notification.txt").read_text(encoding="utf-8").startswith("NOTIFICATION")
    letters = sorted(p.stem for p in (out / "letters").iterdir())
    assert letters == sorted(victims)
    for i, ft_id in enumerate(victims):
        text = (out / "letters" / f"{ft_id}.txt").read_text(encoding="utf-8")
        assert ft_id in text
        assert ("numéro de sécurité sociale" in text) == (i % 3 == 0)
        assert ("situation d'inscription" in text) == (i % 3 != 0)
        assert "Référence : " in text
        assert "http" not in text  # no link to click
    pack = out / "evidence"
    ok = verify(pack, "--public-key", base64.b64encode(SIGNER.public_key).decode())
    assert ok.returncode == 0, ok.stdout
    assert ok.stdout.strip().splitlines()[-1].startswith("OK: 12 journal entries")


def test_the_pack_is_rejected_once_any_byte_changes(portal: Portal, tmp_path: Path) -> None:
    attack(portal, portal.people[:5])
    out = tmp_path / "report"
    run_report(portal, out)
    pack = out / "evidence"
    assert verify(pack).returncode == 0
    for f in sorted(pack.iterdir()):
        original = f.read_bytes()
        for where in (0, len(original) // 2, len(original) - 2):
            changed = bytearray(original)
            changed[where] = (changed[where] + 1) % 128 or 65
            f.write_bytes(bytes(changed))
            broken = verify(pack)
            assert broken.returncode != 0, (f.name, where)
            reason = broken.stdout.strip().splitlines()[-1]
            assert reason.startswith("FAIL: "), reason
        f.write_bytes(original)
    (pack / "extra.txt").write_text("slipped in")
    assert "not listed" in verify(pack).stdout.strip().splitlines()[-1]
    (pack / "extra.txt").unlink()
    assert verify(pack).returncode == 0
    wrong_key = base64.b64encode(bytes(32)).decode()
    assert verify(pack, "--public-key", wrong_key).returncode != 0


def test_a_second_report_with_new_figures_is_a_complementary_notification(
    portal: Portal, tmp_path: Path
) -> None:
    attack(portal, portal.people[:5])
    first = run_report(portal, tmp_path / "r1")
    again = run_report(portal, tmp_path / "r1-again")
    assert again["kind"] == "initial"  # nothing changed: no complement
    attack(portal, portal.people[5:9], minutes=100)
    second = run_report(portal, tmp_path / "r2")
    assert second["kind"] == "complementary"
    assert second["incident_id"] == first["incident_id"]
    assert second["approximate_persons"] == 9
    assert second["previous_figures"]["persons"] == 5  # type: ignore[index]


def test_a_published_journal_s_pack_is_consistent_with_what_the_witnesses_cosigned(
    portal: Portal, tmp_path: Path
) -> None:
    """The journal publishes C2SP checkpoints and a witness cosigned one of them; the pack's
    checkpoint, signed later, is proved consistent with it, and the cosignature verifies."""
    store = SqlJournalStore(portal.journal, clock=ManualClock(NOW), origin=ORIGIN)
    store.use_signer(SIGNER)
    store.append([dataclasses.replace(read(i), agent_login="honest") for i in range(7)])
    store.close()  # signs (and publishes) a checkpoint of 7 entries
    store = SqlJournalStore(portal.journal, clock=ManualClock(NOW), create=False)
    cosigned = store.latest_published()
    assert cosigned is not None
    assert cosigned.tree_size == 7
    timestamp = 1_780_000_000
    message = cosignature_message(timestamp, cosigned.note_text())
    store.add_cosignatures(
        [
            Cosignature(
                cosigned.tree_size,
                cosigned.root,
                WITNESS,
                witness_key_hash(WITNESS, WITNESS_KEY.public_key),
                timestamp,
                WITNESS_KEY.sign(message),
            )
        ]
    )
    store.close()
    attack(portal, portal.people[:6])  # later entries, under a later checkpoint
    out = tmp_path / "report"
    run_report(portal, out)
    pack = out / "evidence"
    proof = json.loads((pack / "consistency.json").read_text())
    assert proof["first"] == 7
    assert proof["second"] > 7
    assert proof["proof"]
    witness = verifier_key(WITNESS, COSIGNATURE_V1, WITNESS_KEY.public_key).text()
    trusted = base64.b64encode(SIGNER.public_key).decode()
    ok = verify(pack, "--public-key", trusted, "--witness-key", witness)
    assert ok.returncode == 0, ok.stdout
    assert "1 checked against the witness keys given" in ok.stdout
    other = verifier_key("other.witness", COSIGNATURE_V1, bytes(range(32))).text()
    assert "did not cosign" in verify(pack, "--witness-key", other).stdout.splitlines()[-1]
    for name in ("published_checkpoint.note", "consistency.json", "log_key.txt"):
        f = pack / name
        original = f.read_bytes()
        f.write_bytes(original.replace(b"7", b"8", 1))
        assert verify(pack).returncode != 0, name
        f.write_bytes(original)
    assert verify(pack).returncode == 0


def test_canaries_read_are_evidence_not_people_to_notify(portal: Portal, tmp_path: Path) -> None:
    """A canary the thief read gets no letter and is not counted among the people concerned;
    the draft says how many canaries were read, and their entries stay in the pack."""
    victims = portal.people[:6]
    engine = create_engine(portal.db)
    with engine.begin() as conn:
        conn.execute(update(PersonRow).where(PersonRow.ft_id == victims[0]).values(is_canary=True))
    engine.dispose()
    attack(portal, victims)
    out = tmp_path / "report"
    draft = run_report(portal, out)
    assert draft["approximate_persons"] == 5
    assert draft["canary_records_read"] == 1
    assert sorted(p.stem for p in (out / "letters").iterdir()) == sorted(victims[1:])
    ok = verify(out / "evidence", "--public-key", base64.b64encode(SIGNER.public_key).decode())
    assert ok.returncode == 0, ok.stdout
    assert ok.stdout.strip().splitlines()[-1].startswith("OK: 6 journal entries")
