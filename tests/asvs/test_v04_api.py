"""ASVS 5.0 chapter V4 (and V5.2.1), API and web service: bodies bounded before parsing."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_oversized_bodies_are_refused_before_parsing(anon: TestClient) -> None:
    """A body over the limit is a 413 problem, whether its length is declared, lied about or
    streamed in chunks, and the app never parses it (ASVS V5.2.1, V15.2.2)."""
    big = b'{"login": "' + b"a" * 70_000 + b'"}'
    declared = anon.post(
        "/api/v1/auth/login", content=big, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert declared.headers["content-type"].startswith("application/problem+json")

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(80):
            yield b"a" * 1000

    streamed = anon.post(
        "/api/v1/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    negative = anon.post("/api/v1/auth/login", content=b"{}", headers={"Content-Length": "-1"})
    assert negative.status_code in (400, 413)
