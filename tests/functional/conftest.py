"""The functional tests' end-of-run line: what the fuzzer sent, when it ran."""

from __future__ import annotations

import pytest

from tests.support.fuzz import TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line with the fuzzer's figures (in this process: ``make fuzz`` runs in one)."""
    if TALLY.total:
        r = TALLY.report()
        terminalreporter.write_line(
            f"fuzz: {r['requests']} requests in {r['seconds']} s {r['per_phase']}, "
            f"{r['server_errors']} 5xx, {r['outside_spec']} outside the spec, "
            f"sign-ins {sum(TALLY.sign_ins.values())}",
            bold=True,
        )
