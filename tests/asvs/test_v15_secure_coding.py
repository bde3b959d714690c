"""ASVS 5.0 chapter V15, secure coding and architecture: locked and audited dependencies, no
test or bench code in the runtime, no redirect followed, no type juggling, no parameter
pollution."""

from __future__ import annotations

import re
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from rempart.guard.adapters.fanout import FanOutAlertSink
from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.guard.alerts import Alert, Severity
from tests.asvs.conftest import AgentClient
from tests.factories import NOW

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> str:
    return _normal(re.split(r"[\s<>=!~\[;]", spec.strip(), maxsplit=1)[0])


def test_the_lock_file_pins_every_dependency() -> None:
    """``requirements.lock`` pins one exact version of every package the project and its
    extras need, which is what CI installs and ``make check`` audits (ASVS V15.1.1, V15.1.2,
    V15.2.1)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_requirement_name(d) for d in project["dependencies"]}
    for extra in project.get("optional-dependencies", {}).values():
        wanted |= {_requirement_name(d) for d in extra}
    pinned: dict[str, str] = {}
    for raw in LOCK.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, _, version = line.partition("==")
        assert re.fullmatch(r"[\w.+!]+", version.split(";")[0].strip()), line
        pinned[_normal(name.split("[")[0])] = version
    assert wanted <= set(pinned), sorted(wanted - set(pinned))
    assert "rempart" not in pinned  # the project itself is installed from the work tree


def test_the_runtime_ships_no_test_or_bench_code() -> None:
    """The distribution's packages are the runtime and the bench, side by side; the runtime
    never imports the bench, faker or the test suite (import-linter holds it), and no test
    module lives under src/ (ASVS V15.2.3)."""
    assert not list((ROOT / "src").rglob("test_*.py"))
    assert not list((ROOT / "src").rglob("conftest.py"))
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    forbidden = [c for c in contracts if c.get("type") == "forbidden"]
    banned = {
        m for c in forbidden if "rempart" in c["source_modules"] for m in c["forbidden_modules"]
    }
    assert {"rempart_bench", "faker"} <= banned, banned


def test_outbound_http_follows_no_redirect() -> None:
    """An alert webhook answering with a redirect is not followed: alerts go where the
    settings say, never where a compromised endpoint points (ASVS V15.3.2)."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/hook":
                self.send_response(307)
                self.send_header("Location", "/elsewhere")
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        fanout = _fanout(f"http://127.0.0.1:{server.server_address[1]}/hook")
        fanout.flush()
        fanout.close()
    finally:
        server.shutdown()
    assert hits == ["/hook"]


def test_types_are_not_juggled(agent: AgentClient) -> None:
    """A number, a boolean or a list where a string is expected is refused, not converted
    (ASVS V15.3.5)."""
    client = agent("tm.dupont")
    for login in (123, True, ["tm.dupont"], {"$ne": ""}, None):
        r = client.post("/api/v1/auth/login", json={"login": login, "password": "x" * 12})
        assert r.status_code == 400, (login, r.status_code)


def test_repeated_parameters_are_validated_like_any(agent: AgentClient) -> None:
    """A repeated query parameter is read from one place only (its last value) and validated
    like any: repeating it cannot slip a value past the check (ASVS V15.3.7)."""
    client = agent("tm.dupont")
    assert client.get("/api/v1/portfolio?size=1&size=1000").status_code == 400
    ok = client.get("/api/v1/portfolio?size=1000&size=1")
    assert ok.status_code == 200
    assert len(ok.json()["items"]) <= 1


def _fanout(url: str) -> FanOutAlertSink:
    fanout = FanOutAlertSink(MemoryAlertStore(), webhook_url=url)
    fanout.raise_alert(
        Alert(at=NOW, rule="canary", severity=Severity.CRITICAL, explanation="a canary was read")
    )
    return fanout
