"""``rempart serve`` refuses to start on a bad guard policy, naming the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli.main import app
from rempart.db.migrate import upgrade


def test_serve_refuses_a_bad_policy_file_naming_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/rempart.db"
    upgrade(url)
    policy = tmp_path / "guard.toml"
    policy.write_text("# thresholds\n[detectors]\nnot_found_lock = -1\n")
    monkeypatch.setenv("REMPART_DEMO", "true")
    monkeypatch.setenv("REMPART_POLICY_FILE", str(policy))
    result = CliRunner().invoke(app, ["serve", "--db", url, "--port", "1"])
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "refusing to start" in out
    assert "guard.toml: line 3: detectors.not_found_lock must not be negative" in out
