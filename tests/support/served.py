"""A real ``rempart serve`` in a child process, on SQLite files, with advisers signed in over
HTTP: for the tests that need the server's own event loop, threads and SQLite locking."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyotp

from tests.support.signin import PASSWORD


def free_port() -> int:
    """A loopback port nobody listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Until the server answers, or fail with what it printed when it exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''!r}")
        try:
            httpx.get(f"{base}/openapi.json", timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.2)
        else:
            return
    raise AssertionError("server did not start")


@contextmanager
def serving(db: str, journal: str, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``rempart serve --insecure-http`` on a free port: (its base URL, its process)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REMPART_")} | env
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "rempart"),
            "serve",
            "--db",
            db,
            "--journal",
            journal,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--insecure-http",
        ],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_up(base, proc)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def sign_in(base: str, login: str, secret: str, *, timeout: float = 10.0) -> httpx.Client:
    """A client signed in with the password and a TOTP code; it sends the session's CSRF token."""
    client = httpx.Client(base_url=base, timeout=timeout, headers={"User-Agent": f"pytest {login}"})
    r = client.post("/api/v1/auth/login", json={"login": login, "password": PASSWORD})
    assert r.status_code == 200, r.text
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"challenge": r.json()["challenge"], "code": pyotp.TOTP(secret).now()},
    )
    assert r.status_code == 200, r.text
    client.headers["x-csrf-token"] = r.json()["csrf_token"]
    return client
