"""ASVS 5.0 chapter V14, data protection: every category of personal data classified and
documented, no secret in a URL, nothing kept in the browser's storage."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from rempart.kernel.categories import DataCategory

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "rempart" / "web" / "ui" / "static"
# OAuth 2.0 returns the authorization code in the redirect's query (RFC 6749 §4.1.2): single
# use, minutes long, and worthless without this server's PKCE verifier and client secret.
OAUTH_REDIRECT = ("/api/v1/auth/oidc/callback", "code")
SECRET_NAMES = re.compile(r"pass|token|secret|^code$|challenge|csrf|otp|cookie", re.I)


def test_every_category_has_a_documented_protection_level() -> None:
    """Each data category the journal records has a row in the classification: its level,
    who may read it and how long it is kept (ASVS V14.1.1, V14.1.2)."""
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    section = doc.split("## Data classification", 1)[1].split("\n## ", 1)[0]
    rows = {
        line.split("|")[1].strip(" `") for line in section.splitlines() if line.startswith("| `")
    }
    assert {str(c) for c in DataCategory} <= rows, {str(c) for c in DataCategory} - rows


def test_no_secret_travels_in_a_url(app: FastAPI) -> None:
    """No route takes a password, token, code or session in its path or query: they travel
    in bodies and headers, which no proxy log or browser history keeps (ASVS V14.2.1)."""
    spec: dict[str, Any] = app.openapi()
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for parameter in op.get("parameters", []):
                if (path, parameter["name"]) == OAUTH_REDIRECT:
                    continue
                if parameter["in"] in ("path", "query"):
                    assert not SECRET_NAMES.search(parameter["name"]), (method, path, parameter)


def test_scripts_keep_nothing_in_browser_storage() -> None:
    """The own scripts use no localStorage, sessionStorage, IndexedDB or cookies; htmx's
    history cache is turned off where it is loaded (tests/asvs/test_v03_frontend.py)
    (ASVS V14.3.3)."""
    for script in (STATIC / "js").glob("*.js"):
        text = script.read_text(encoding="utf-8")
        assert not re.search(r"localStorage|sessionStorage|indexedDB|document\.cookie", text), (
            script
        )
