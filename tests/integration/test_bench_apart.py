"""The bench stands beside the runtime: `rempart serve` never loads it, `rempart` still offers it.

The bench's commands reach ``rempart`` through the ``rempart.commands`` entry points of the
installed distribution: after a change of pyproject.toml, ``pip install -e .`` refreshes them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rempart_bench.cli.bench
from rempart.cli.main import COMMANDS_GROUP, app, contributed_commands

BENCH_ONLY = ("faker", "matplotlib", "rempart_bench")

SERVE_IMPORTS = """
import json, sys
import rempart.cli.main
from rempart.settings import Settings
from rempart.web.app import create_app

create_app(Settings(demo=True, db_url=sys.argv[1], journal_url=sys.argv[2]))
print(json.dumps(sorted(sys.modules)))
"""


def test_serve_imports_neither_the_bench_nor_faker_nor_matplotlib(tmp_path: Path) -> None:
    """The serving process (the CLI module and the app it builds) holds no bench code."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            SERVE_IMPORTS,
            f"sqlite:///{tmp_path / 'rempart.db'}",
            f"sqlite:///{tmp_path / 'journal.db'}",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "REMPART_DEMO": "1"},
        timeout=120,
    )
    modules = json.loads(result.stdout.splitlines()[-1])
    assert "rempart.web.app" in modules  # the app was really built in that process
    loaded = sorted(m for m in modules if m.split(".")[0] in BENCH_ONLY)
    assert loaded == []


def test_the_bench_contributes_its_commands_through_entry_points() -> None:
    """seed, demo-logins and bench are declared by the distribution, not imported by rempart."""
    declared = {name: ep.value for name, ep in contributed_commands().items()}
    assert {"seed", "demo-logins", "bench"} <= declared.keys(), (
        f"no {COMMANDS_GROUP} entry points: reinstall the package (pip install -e .)"
    )
    assert all(value.startswith("rempart_bench.") for value in declared.values())


def test_help_lists_the_runtime_and_the_bench_commands() -> None:
    """``rempart --help`` shows every command of the contract, the bench's included."""
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    listed = {line.strip("│ ").split(" ", 1)[0] for line in result.output.splitlines()}
    assert {"serve", "db", "journal", "jobs", "seed", "demo-logins", "bench"} <= listed


def test_an_unknown_command_is_still_refused() -> None:
    """A name neither the runtime nor an entry point declares is a usage error."""
    result = CliRunner().invoke(app, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_bench_report_without_matplotlib_says_so_in_one_line_before_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without the bench extra, ``--report`` is refused at once, naming what to install."""
    monkeypatch.setattr(rempart_bench.cli.bench, "can_plot", lambda: False)
    result = CliRunner().invoke(app, ["bench", "--quick", "--report", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "--report: the plot needs matplotlib, in the bench extra: pip install '.[bench]'"
    ]
    assert not (tmp_path / "r").exists()
