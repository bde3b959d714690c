"""The read-path bench's subtraction: a server started through ``rempart_bench.ablation``
runs without the part named, says so, and refuses a part it does not know."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_it_serves_as_rempart_does_and_says_what_it_runs_without() -> None:
    done = _run("-m", "rempart_bench.ablation", "guard,journal-wait", "serve", "--help")
    assert done.returncode == 0, done.stderr
    assert "--insecure-http" in done.stdout  # ``rempart serve``'s own options
    assert "BENCH ONLY: this server runs without guard, journal-wait" in done.stderr


def test_an_unknown_part_is_refused() -> None:
    done = _run("-m", "rempart_bench.ablation", "scope", "serve")
    assert done.returncode != 0
    assert "usage:" in done.stderr


@pytest.mark.parametrize(
    ("part", "probe", "expected"),
    [
        (
            "guard",
            "from rempart.guard.service.inline import Guard; "
            "print(Guard.check(None, None, None).action)",
            "allow",
        ),
        (
            "journal-wait",
            "from rempart.journal.adapters.sql import SqlJournalStore as S; "
            "import asyncio; print(asyncio.run(S.append_async(S.__new__(S), [])))",
            "0",
        ),
    ],
)
def test_each_part_is_taken_out(part: str, probe: str, expected: str) -> None:
    done = _run("-c", f"from rempart_bench import ablation; ablation.PARTS[{part!r}](); {probe}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(expected)
