"""Operating the guard: Prometheus metrics, alerts pushed to a webhook and to syslog, and a
policy file refused with the line that is wrong.

ASVS 5.0: V16.3.x (security events raised where the SOC sees them), V16.4.3 (logs sent to a
separate system), V13.x (configuration validated at start).
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient

from rempart.bootstrap import build_container
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.kernel.errors import PolicyError
from rempart.settings import Settings
from tests.factories import World

AsAgent = Callable[..., TestClient]


def test_metrics_count_decisions_findings_and_alerts(as_agent: AsAgent, world: World) -> None:
    client = as_agent("ml.adv1")
    assert client.get(f"/api/v1/persons/{world.persons['youth'].ft_id}").status_code == 200
    for n in range(9):  # scattered unknown identifiers: not-found rate throttles
        client.get(f"/api/v1/persons/{9_000_000 - 97 * n:07d}A")
    r = client.get("/metrics")
    # TestClient's peer is "testclient", not loopback: refused without a token.
    assert r.status_code == 403


def test_metrics_from_loopback(container: object, world: World, clock: ManualClock) -> None:
    from rempart.web.app import create_app
    from rempart.web.deps import current_context
    from tests.conftest import context_for

    app = create_app(container.settings, container=container)  # type: ignore[attr-defined]
    app.dependency_overrides[current_context] = lambda: context_for(container, "ml.adv1", clock)  # type: ignore[arg-type]
    client = TestClient(app, client=("127.0.0.1", 5000))
    assert client.get(f"/api/v1/persons/{world.persons['youth'].ft_id}").status_code == 200
    for n in range(9):  # scattered unknown identifiers: the not-found rate throttles
        client.get(f"/api/v1/persons/{9_000_000 - 97 * n:07d}A")
    text = client.get("/metrics").text
    assert 'rempart_guard_decisions_total{action="allow"}' in text
    assert 'rempart_guard_findings_total{rule="guard:enumeration:not_found_rate"}' in text
    assert 'rempart_alerts_total{rule="guard:enumeration:not_found_rate"}' in text
    assert "rempart_guard_decision_seconds_bucket" in text


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.received = []
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts"
    server.shutdown()


def test_alerts_reach_the_webhook_and_syslog(tmp_path: Path, webhook: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    port = sock.getsockname()[1]
    from rempart.db.migrate import upgrade

    url = f"sqlite:///{tmp_path}/r.db"
    upgrade(url)
    box = build_container(
        Settings(
            demo=True,
            db_url=url,
            alert_webhook_url=webhook,
            alert_syslog=f"127.0.0.1:{port}",
        ),
        clock=ManualClock(dt.datetime(2026, 11, 16, 10, tzinfo=dt.UTC)),
        journal=MemoryJournal(),
    )
    from rempart.guard.alerts import Alert, Severity

    alert_id = box.alerts.raise_alert(
        Alert(
            at=dt.datetime(2026, 11, 16, 10, tzinfo=dt.UTC),
            rule="guard:canary:touched",
            severity=Severity.CRITICAL,
            explanation='A canary "record"] was requested.',
            action_taken="lock_account",
            agent_login="tm.x",
            org_id="TRA-1",
            evidence={"canary_touched": True},
        )
    )
    line = sock.recv(4096).decode()
    box.alerts.flush()  # type: ignore[attr-defined]
    box.close()
    sock.close()
    assert line.startswith("<82>1 2026-11-16T10:00:00.000000Z ")  # authpriv.crit
    assert f'[rempart@32473 id="{alert_id}" rule="guard:canary:touched"' in line
    assert 'agent="tm.x"' in line
    assert _Hook.received[0]["rule"] == "guard:canary:touched"
    assert _Hook.received[0]["id"] == alert_id
    assert _Hook.received[0]["evidence"] == {"canary_touched": True}


def test_policy_file_is_refused_at_start_naming_the_line(tmp_path: Path) -> None:
    policy = tmp_path / "guard.toml"
    policy.write_text("[budgets]\nagent_day_floor = 10\nagent_dya_ceiling = 50\n")
    with pytest.raises(
        PolicyError, match=r"guard\.toml: line 3: unknown key budgets\.agent_dya_ceiling"
    ):
        build_container(
            Settings(demo=True, db_url="sqlite://", policy_file=str(policy)),
            journal=MemoryJournal(),
        )
    policy.write_text("[detectors]\nnot_found_throttle = 30\nnot_found_lock = 20\n")
    with pytest.raises(PolicyError, match=r"line 2: detectors\.not_found_throttle"):
        build_container(
            Settings(demo=True, db_url="sqlite://", policy_file=str(policy)),
            journal=MemoryJournal(),
        )
