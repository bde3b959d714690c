"""`make test` runs what the machine can: services found by probing, skips summed up in one line."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests import conftest


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: a connection to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


def test_a_missing_postgres_or_redis_is_named_by_its_address(closed_port: int) -> None:
    where = f"127.0.0.1:{closed_port}"
    assert conftest._postgres_problem(f"postgresql://postgres@{where}/test") == (
        f"no server at {where}"
    )
    assert conftest._redis_problem(f"redis://{where}/0") == f"no server at {where}"


def test_the_local_server_is_used_only_when_nothing_is_set(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    variable = "REMPART_TEST_SOMETHING_URL"
    monkeypatch.delenv(variable, raising=False)
    assert conftest._resolve(variable, "local://", lambda _: None) is None
    assert conftest.os.environ[variable] == "local://"

    monkeypatch.delenv(variable)
    assert conftest._resolve(variable, "local://", lambda _: "no server at here") == (
        "no server at here"
    )
    assert variable not in conftest.os.environ

    monkeypatch.setenv(variable, "explicit://")
    assert conftest._resolve(variable, "local://", lambda _: "never asked") is None
    assert conftest.os.environ[variable] == "explicit://"

    monkeypatch.setenv(variable, "")
    assert conftest._resolve(variable, "local://", lambda _: None) == f"{variable} is empty"


def _skipped(nodeid: str, message: str, *markers: str) -> pytest.TestReport:
    return pytest.TestReport(
        nodeid=nodeid,
        location=("x.py", 1, nodeid),
        keywords=dict.fromkeys(markers, 1),
        outcome="skipped",
        longrepr=("x.py", 1, f"Skipped: {message}"),
        when="setup",
    )


def test_the_skips_are_summed_up_in_one_line_per_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "POSTGRES_PROBLEM", "no server at 127.0.0.1:5432")
    monkeypatch.setattr(conftest, "REDIS_PROBLEM", "no server at 127.0.0.1:6379")
    reports = [
        *(_skipped(f"t.py::pg[{i}]", "PostgreSQL tests: …", "postgres") for i in range(3)),
        _skipped("t.py::pg[0]", "PostgreSQL tests: …", "postgres"),  # setup and call: once
        _skipped("t.py::state[redis]", "Redis tests need REMPART_TEST_REDIS_URL"),
        _skipped("b.py::page", "/usr/bin/chromium is missing", "browser"),
        _skipped("b.py::other", "/usr/bin/chromium is missing", "browser"),
    ]
    assert conftest.skipped_summary(reports) == (
        "skipped: 3 PostgreSQL tests (no server at 127.0.0.1:5432), "
        "2 browser tests (/usr/bin/chromium is missing), "
        "1 Redis test (no server at 127.0.0.1:6379)"
    )
    assert conftest.skipped_summary([]) == "skipped: none"
