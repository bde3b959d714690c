"""ASVS 5.0 chapter V3, web frontend security: answers that cannot be rendered out of their
context, no cross-origin reads, the headers on every kind of answer, and only own scripts."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.asvs.conftest import AgentClient

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "rempart" / "web" / "ui" / "templates"


def test_api_answers_cannot_render_as_pages(anon: TestClient, agent: AgentClient) -> None:
    """API answers, successes and problems alike, are JSON with nosniff and a CSP that runs
    nothing, so a browser sent straight to one never renders it as a page (ASVS V3.2.1)."""
    for r in (anon.get("/api/v1/me"), agent("tm.dupont").get("/api/v1/portfolio")):
        kind = r.headers["content-type"]
        assert kind.startswith(("application/json", "application/problem+json")), kind
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'self'" in r.headers["content-security-policy"]


def test_no_cross_origin_reads_are_allowed(anon: TestClient, agent: AgentClient) -> None:
    """No answer grants another origin the right to read it, preflight or not: Rempart sends
    no Access-Control-Allow-Origin at all (ASVS V3.4.2)."""
    evil = {"Origin": "https://evil.example"}
    answers = [
        agent("tm.dupont").get("/api/v1/portfolio", headers=evil),
        anon.get("/api/v1/me", headers=evil),
        anon.options(
            "/api/v1/auth/login", headers={**evil, "Access-Control-Request-Method": "POST"}
        ),
    ]
    for r in answers:
        assert not any(h.startswith("access-control-") for h in r.headers), r.headers
    assert answers[2].status_code == 405


def test_every_answer_carries_the_security_headers(anon: TestClient, agent: AgentClient) -> None:
    """Pages, JSON, problems, static files and refusals before routing all carry nosniff, the
    no-referrer policy and frame-ancestors 'none' (ASVS V3.4.4, V3.4.5, V3.4.6)."""
    answers = {
        "page": anon.get("/"),
        "json": agent("tm.dupont").get("/api/v1/portfolio"),
        "problem": anon.get("/api/v1/persons/0412345K"),
        "not found": anon.get("/nowhere"),
        "static": anon.get("/static/css/rempart.css"),
        "too large": anon.post("/api/v1/auth/login", content=b"x" * 70_000),
        "method": anon.request("TRACE", "/"),
    }
    for name, r in answers.items():
        assert r.headers.get("x-content-type-options") == "nosniff", name
        assert r.headers.get("referrer-policy") == "no-referrer", name
        assert "frame-ancestors 'none'" in r.headers.get("content-security-policy", ""), name


def test_pages_load_only_their_own_supported_scripts() -> None:
    """Templates load scripts only from /static (own code and the vendored, pinned htmx), embed
    no plugin or frame, and every page that loads htmx turns its history cache and eval off
    (ASVS V3.7.1, V14.2.3)."""
    script_src = re.compile(r"<script[^>]*\bsrc=\"([^\"]+)\"")
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for src in script_src.findall(text):
            assert src.startswith("/static/"), (template, src)
        assert not re.search(r"<(object|embed|applet|iframe)\b", text), template
        if "htmx.min.js" in text:
            assert '"historyCacheSize":0' in text, template
            assert '"allowEval":false' in text, template
