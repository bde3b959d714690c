"""The production sample of docs/operations.md, run: two ``rempart serve`` replicas with
``deploy/rempart.conf`` on PostgreSQL (portal and journal apart) and Redis, behind nginx with
``deploy/nginx/rempart-proxy.conf``; and ``serve`` refusing to start, naming what is missing.

ASVS V13.1.1 (the deployment's parts and their configuration documented), V13.4.6 (no
default secrets or demo mode in production), V16.5.3 (a missing control stops the start).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from rempart.cli.main import app as cli
from rempart.cli.readiness import production_problems
from rempart.cli.settings import load_settings
from rempart.db.migrate import upgrade
from rempart.journal.adapters.signing import Ed25519Signer
from rempart.kernel.identifiers import make_siret
from tests.conftest import postgres_or_skip
from tests.support.redis import redis_or_skip
from tests.support.served import free_port

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "deploy" / "rempart.conf"
PROXY = ROOT / "deploy" / "nginx" / "rempart-proxy.conf"


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """Two fresh PostgreSQL databases: the portal's and the journal's."""
    base = postgres_or_skip()
    admin = create_engine(
        base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    names = [f"rempart_ops_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    with admin.connect() as c:
        for name in names:
            c.execute(text(f'CREATE DATABASE "{name}"'))
    root = base.rsplit("/", 1)[0]
    try:
        yield f"{root}/{names[0]}", f"{root}/{names[1]}"
    finally:
        with admin.connect() as c:
            for name in names:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def clean_environment() -> Iterator[None]:
    """``--config`` files land in the process environment (``load_settings``): put it back."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def production(
    clean_environment: None,  # first: restored last, after monkeypatch's own undo
    databases: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """The sample's settings pointed at this machine's services, secrets in the environment
    (as the sample says), a migrated portal with its agency and first administrators."""
    portal, journal = databases
    redis_url = redis_or_skip()
    env = {
        "REMPART_REDIS_URL": redis_url,
        "REMPART_REDIS_PREFIX": f"ops{uuid.uuid4().hex[:8]}:",
        "REMPART_SMTP_HOST": "127.0.0.1",
        "REMPART_SMTP_PORT": str(free_port()),
        "REMPART_PUBLIC_URL": "https://rempart.test",
        "REMPART_TRUSTED_PROXIES": '["127.0.0.1/32"]',
        "REMPART_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/hook",
        "REMPART_ALERT_SYSLOG": "",
        "REMPART_SECRET_KEY": "ops-test-" + "x" * 40,
        "REMPART_JOURNAL_SIGNING_KEY": base64.b64encode(
            Ed25519Signer.generate().private_raw()
        ).decode(),
        "REMPART_METRICS_TOKEN": "ops-metrics-token-" + "y" * 20,
        "REMPART_ARGON2_MEMORY_KIB": "19456",
        "REMPART_JOBS_INTERVAL_SECONDS": "0",
        "REMPART_GUARD_BASELINES_AT_START": "false",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    upgrade(portal)
    agency = tmp_path / "agency"
    agency.mkdir()
    (agency / "organisations.csv").write_text(
        "id,kind,name,siret,region\n"
        f"AG-NAT,agency,Direction générale,{make_siret('1300000000001')},National\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    base = ["--db", portal, "--journal", journal, "--config", str(SAMPLE)]
    loaded = runner.invoke(cli, ["import", *base, str(agency)])
    assert loaded.exit_code == 0, loaded.output
    made = runner.invoke(
        cli,
        [
            "admin", "bootstrap", *base, "--org", "AG-NAT",
            "--admin", "nat.one:nat.one@agency.example",
            "--admin", "nat.two:nat.two@agency.example",
        ],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return {**env, "portal": portal, "journal": journal}


def replica(prod: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMPART_")}
    env |= {k: v for k, v in prod.items() if k.startswith("REMPART_")}
    cmd = [
        sys.executable, "-m", "rempart", "serve", "--config", str(SAMPLE),
        "--db", prod["portal"], "--journal", prod["journal"],
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_for(url: str, proc: subprocess.Popen[bytes] | None, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(log.read_text(errors="replace")[-3000:])
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer: {log.read_text(errors='replace')[-3000:]}")


@pytest.mark.postgres
def test_the_sample_configuration_is_complete(production: dict[str, str]) -> None:
    settings = load_settings(production["portal"], production["journal"], [], False, SAMPLE)
    assert not settings.demo
    assert production_problems(settings) == []


@pytest.mark.postgres
def test_serve_refuses_to_start_in_production_naming_what_is_missing(
    production: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REMPART_REDIS_URL", "")
    monkeypatch.delenv("REMPART_METRICS_TOKEN")
    result = CliRunner().invoke(
        cli,
        ["serve", "--config", str(SAMPLE), "--db", production["portal"], "--journal",
         production["journal"], "--port", "1"],
    )  # fmt: skip
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "refusing to start in production" in out
    assert "REMPART_REDIS_URL" in out
    assert "REMPART_METRICS_TOKEN" in out
    assert "REMPART_SMTP_HOST" not in out  # only what is missing is named
    # On SQLite, without administrators, with the demo's plain http: each named.
    sqlite = f"sqlite:///{tmp_path}/solo.db"
    upgrade(sqlite)
    for key in ("REMPART_JOURNAL_URL", "REMPART_DB_URL"):
        monkeypatch.delenv(key, raising=False)
    result = CliRunner().invoke(cli, ["serve", "--db", sqlite, "--insecure-http", "--port", "1"])
    out = " ".join(result.output.split())
    assert result.exit_code == 2
    for named in (
        "REMPART_DB_URL",
        "REMPART_JOURNAL_URL",
        "--insecure-http",
        "national administrator",
    ):
        assert named in out, named


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_two_replicas_behind_nginx_answer_and_survive_one_going_down(
    production: dict[str, str], tmp_path: Path
) -> None:
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"replica{i}.log" for i in (1, 2)]
    procs = [replica(production, port, log) for port, log in zip(ports, logs, strict=True)]
    nginx = None
    try:
        for port, proc, log in zip(ports, procs, logs, strict=True):
            wait_for(f"http://127.0.0.1:{port}/api/v1/journal/key", proc, log)
        front = free_port()
        conf = tmp_path / "nginx.conf"
        upstream = "\n".join(
            f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;" for p in ports
        )
        conf.write_text(
            f"""
daemon off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    upstream rempart {{
{upstream}
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{front};
        include {PROXY};
    }}
}}
""",
            encoding="utf-8",
        )
        nginx_log = tmp_path / "nginx.out"
        with nginx_log.open("wb") as out:
            nginx = subprocess.Popen(
                ["nginx", "-p", str(tmp_path), "-c", str(conf)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{front}/api/v1/journal/key"
        wait_for(url, nginx, nginx_log)
        keys = {httpx.get(url, timeout=5).text for _ in range(6)}
        assert len(keys) == 1  # both replicas sign with the one journal key
        # A client's own X-Forwarded-For is replaced by the proxy, never passed on.
        r = httpx.get(url, headers={"X-Forwarded-For": "203.0.113.66"}, timeout=5)
        assert r.status_code == 200
        # One replica down: the proxy sends everything to the other.
        procs[0].terminate()
        procs[0].wait(timeout=20)
        assert all(httpx.get(url, timeout=5).status_code == 200 for _ in range(6))
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
