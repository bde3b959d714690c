"""Run the loopback OpenID Connect provider of ``tests/oidc_provider`` (node ``oidc-provider``)."""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

HERE = Path(__file__).resolve().parent.parent / "oidc_provider"
CLIENT_ID = "rempart"
CLIENT_SECRET = "test-secret-not-for-production"


def install() -> None:
    """``npm ci`` the provider once (from the npm registry) when node_modules is missing."""
    npm = shutil.which("npm")
    assert npm, "npm is needed for the OIDC tests (scripts/install-system.sh installs it)"
    with (HERE / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers install once
        if (HERE / "node_modules" / "oidc-provider").is_dir():
            return
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HERE,
            check=True,
            timeout=300,
        )


@contextmanager
def running_provider(redirect_uri: str) -> Iterator[str]:
    """Start the provider on a free loopback port; yield its issuer; stop it afterwards."""
    install()
    node = shutil.which("node")
    assert node, "node is needed for the OIDC tests"
    env = {
        "PATH": str(Path(node).parent),
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_REDIRECT_URI": redirect_uri,
    }
    proc = subprocess.Popen(
        [node, "provider.mjs"],
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, "the OIDC provider did not start"
        issuer = json.loads(line)["issuer"]
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=2)
                if r.status_code == 200 and r.json()["issuer"] == issuer:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the OIDC provider's discovery never answered"
            time.sleep(0.2)
        yield issuer
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def sign_in_at_provider(authorize_url: str, stop_at: str, login: str, acr: str) -> dict[str, str]:
    """Play the user at the provider (form posts, like a browser); return the callback query."""
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        url, method, data = authorize_url, "GET", None
        for _ in range(12):
            r = browser.request(method, url, data=data)
            if r.status_code in (302, 303):
                url, method, data = urljoin(url, r.headers["location"]), "GET", None
                if url.startswith(stop_at):
                    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
                continue
            assert r.status_code == 200, (r.status_code, r.text[:300])
            action = r.text.split('action="', 1)[1].split('"', 1)[0]
            url, method, data = urljoin(url, action), "POST", {"login": login, "acr": acr}
    raise AssertionError("the provider never redirected back")
