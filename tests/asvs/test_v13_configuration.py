"""ASVS 5.0 chapter V13, configuration: documented destinations, no default secret, secrets
that never print, and nothing served that a production server should not serve."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from rempart.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
OUTBOUND = [
    "db_url",
    "journal_url",
    "redis_url",
    "smtp_host",
    "oidc_issuer",
    "alert_webhook_url",
    "alert_syslog",
]


def test_every_outbound_setting_is_documented() -> None:
    """Each service Rempart connects to is named by one setting, and each such setting is in
    the communications inventory: the settings are the allowlist of destinations
    (ASVS V13.1.1, V13.2.4, V13.2.5)."""
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    section = doc.split("## Communications", 1)[1].split("\n## ", 1)[0]
    for name in OUTBOUND:
        assert name in Settings.model_fields, name
        assert f"REMPART_{name.upper()}" in section, name


def test_default_secrets_are_refused_outside_demo_mode() -> None:
    """Outside demo mode the shipped secret key is refused: no deployment runs with a
    credential everyone knows (ASVS V13.2.3)."""
    with pytest.raises(ValidationError, match="REMPART_SECRET_KEY"):
        Settings(demo=False)
    Settings(demo=False, secret_key=SecretStr("a real secret from the vault, 40 chars"))


def test_secrets_never_show_in_settings_output() -> None:
    """Printing, logging or dumping the settings shows no secret value (ASVS V13.3.1)."""
    values = {
        "secret_key": "s3cret-key-value-from-the-vault-0001",
        "oidc_client_secret": "oidc-client-secret-value-0002",
        "metrics_token": "metrics-token-value-0003",
        "journal_signing_key": "c2lnbmluZy1rZXktdmFsdWUtMDAwNA==",
    }
    settings = Settings(demo=False, **{k: SecretStr(v) for k, v in values.items()})
    shown = " ".join([repr(settings), str(settings), settings.model_dump_json()])
    for value in values.values():
        assert value not in shown


def test_no_source_control_debug_listing_trace_or_docs(app: FastAPI, anon: TestClient) -> None:
    """No source-control folder, directory listing, traversal, TRACE, interactive API docs or
    debug page is served; an error says nothing of the code (ASVS V13.4.1, V13.4.2, V13.4.3,
    V13.4.4, V13.4.5)."""
    assert app.debug is False
    for path in (
        "/.git/config",
        "/.git/HEAD",
        "/static/",
        "/static/../pyproject.toml",
        "/static/%2e%2e/%2e%2e/settings.py",
        "/docs",
        "/redoc",
        "/.env",
    ):
        r = anon.get(path)
        assert r.status_code == 404, (path, r.status_code)
        assert "Traceback" not in r.text
        assert 'File "' not in r.text
    trace = anon.request("TRACE", "/")
    assert trace.status_code == 405
    assert "Traceback" not in trace.text
