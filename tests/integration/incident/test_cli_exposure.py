"""``rempart incident exposure`` on an SQLite journal: the contract's file, and the access
journaled (ASVS V16.2.1: reading the victims' list is itself recorded)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from typer.testing import CliRunner

from rempart.cli.main import app
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.kernel.clock import ManualClock
from rempart.kernel.tags import Decision, Tag
from tests.factories import NOW
from tests.support.journal import SIGNER, read


def _journal(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/journal.db"
    store = SqlJournalStore(url, clock=ManualClock(NOW))
    store.use_signer(SIGNER)
    store.append(
        [
            dataclasses.replace(
                read(i, at=NOW + dt.timedelta(minutes=i)),
                agent_login="thief" if i % 2 else "honest",
                decision=Decision.ALLOW if i % 5 else Decision.NOT_FOUND,
            )
            for i in range(40)
        ]
    )
    store.close()
    return url


def test_exposure_writes_the_contract_file_and_journals_the_access(tmp_path: Path) -> None:
    url = _journal(tmp_path)
    out = tmp_path / "exposure.json"
    since = (NOW + dt.timedelta(minutes=10)).isoformat()
    result = CliRunner().invoke(
        app,
        [
            "incident",
            "exposure",
            "--journal",
            url,
            "--account",
            "thief",
            "--since",
            since,
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    # read(i) reads person i % 10; the thief's allowed reads from minute 10: odd i, i % 5 != 0.
    expected = sorted({f"{i % 10:07d}K" for i in range(10, 40) if i % 2 and i % 5})
    assert [p["ft_id"] for p in doc["persons"]] == expected
    assert doc["total_persons"] == len(expected)
    assert doc["by_category"]["contact"] == len(expected)
    assert doc["window"]["since"] == "2026-11-16T10:10:00.000000Z"
    store = SqlJournalStore(url, clock=ManualClock(NOW), create=False)
    try:
        last = store.entry(store.head()[0])
    finally:
        store.close()
    assert last is not None
    assert last.entry.tag is Tag.INCIDENT_EXPOSURE_COMPUTED
    assert last.entry.details["persons"] == len(expected)
    assert last.entry.persons == ()  # a digest of the list, not a copy of it


def test_bad_selectors_and_times_are_refused_plainly(tmp_path: Path) -> None:
    url = _journal(tmp_path)
    runner = CliRunner()
    for args in (
        ["--journal", url],
        ["--journal", url, "--account", "a", "--org", "ORG-1"],
        ["--journal", url, "--account", "a", "--since", "yesterday"],
        ["--journal", url, "--account", "a", "--since", "2026-11-16T10:00:00"],
    ):
        result = runner.invoke(app, ["incident", "exposure", *args, "--json", str(tmp_path / "x")])
        assert result.exit_code == 2, args
        assert "Traceback" not in result.output
    result = runner.invoke(
        app,
        [
            "incident",
            "exposure",
            "--journal",
            f"sqlite:///{tmp_path}/none.db",
            "--account",
            "a",
            "--json",
            str(tmp_path / "x"),
        ],
    )
    assert result.exit_code == 2
