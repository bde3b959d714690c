"""Browser tests: a real ``rempart serve`` on loopback, driven by Debian's Chromium (Playwright).

One seeded demo database (``rempart seed``), one server subprocess started with
``--insecure-http`` and ``REMPART_PUBLIC_URL=http://localhost:PORT`` (WebAuthn's relying party
is ``localhost``: browsers refuse IP addresses as RP ids), its mail going to an aiosmtpd server
inside the test process. Chromium is the system's (``apt-get install chromium``), never one
downloaded by Playwright. Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support.browser import Demo, Inbox
from tests.support.served import free_port

CHROMIUM = Path(os.environ.get("REMPART_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]
REQUIRE_SERVICES = os.environ.get("REMPART_REQUIRE_SERVICES") == "1"
PERSONS = 2000


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rempart serve exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"rempart serve did not answer: {log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; in CI (REMPART_REQUIRE_SERVICES=1) its absence fails the run."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run scripts/install-system.sh (apt-get install chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, chromium: Path) -> Iterator[Demo]:
    """Seed a small demo population, start an SMTP sink and ``rempart serve``."""
    root = tmp_path_factory.mktemp("browser-demo")
    db_path = root / "rempart.db"
    creds = root / "credentials.json"
    rempart = str(Path(sys.executable).with_name("rempart"))
    subprocess.run(
        [
            rempart,
            "seed",
            "--db",
            f"sqlite:///{db_path}",
            "--persons",
            str(PERSONS),
            "--seed",
            "7",
            "--credentials-out",
            str(creds),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    inbox = Inbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    port = free_port()
    base_url = f"http://localhost:{port}"
    env = {
        **os.environ,
        "REMPART_PUBLIC_URL": base_url,
        "REMPART_SMTP_HOST": "127.0.0.1",
        "REMPART_SMTP_PORT": str(smtp_port),
        "REMPART_JOBS_INTERVAL_SECONDS": "0",
        # Demo mode allows cheaper hashes; the seed's are upgraded at first sign-in.
        "REMPART_ARGON2_TIME_COST": "1",
        "REMPART_ARGON2_MEMORY_KIB": "8192",
        "REMPART_ARGON2_PARALLELISM": "1",
    }
    log_path = root / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                rempart,
                "serve",
                "--db",
                f"sqlite:///{db_path}",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--insecure-http",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/", proc, log_path)
        agents = json.loads(creds.read_text(encoding="utf-8"))["agents"]
        yield Demo(base_url, db_path, agents, inbox, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        controller.stop()


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Any]:
    """Chromium, headless, launched from the system's binary."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_context(browser: Any, demo: Demo) -> Iterator[Any]:
    """Factory of fresh browser contexts (one per person in a scenario), closed afterwards."""
    opened: list[Any] = []

    def make() -> Any:
        context = browser.new_context(
            base_url=demo.base_url, locale="fr-FR", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(15_000)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()
