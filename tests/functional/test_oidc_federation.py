"""Federated sign-in against a real OpenID Connect provider on loopback (node oidc-provider).

ASVS 5.0: V6.8.1/V10.5.2 (identities keyed by issuer and sub), V6.8.2 (signed ID token),
V6.8.4 (acr checked by Rempart), V10.1.2/V10.2.1 (state, nonce, PKCE bound to the browser),
V10.5.1 (nonce), V10.5.3 (issuer metadata), V10.5.4 (audience).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from rempart.bootstrap import Container, build_container
from rempart.db.schema.core import AgentRow
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.kernel.tags import Tag
from rempart.web.app import create_app
from tests.factories import standard_world
from tests.support.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    running_provider,
    sign_in_at_provider,
)
from tests.support.signin import (
    PUBLIC_URL,
    auth_settings,
    client_for,
    give_credentials,
    privileged_sign_in,
)

CALLBACK = f"{PUBLIC_URL}/api/v1/auth/oidc/callback"
pytestmark = pytest.mark.xdist_group("oidc_provider")  # one provider, one worker


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with running_provider(CALLBACK) as iss:
        yield iss


@pytest.fixture(params=[False, True], ids=["demo-rule", "webauthn-only"])
def box(
    request: pytest.FixtureRequest,
    issuer: str,
    db_url: str,
    clock: ManualClock,
    journal: MemoryJournal,
) -> Iterator[Container]:
    settings = auth_settings(
        db_url,
        oidc_issuer=issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        webauthn_only_for_privileged=request.param,
    )
    c = build_container(settings, clock=clock, journal=journal)  # type: ignore[arg-type]
    standard_world(c.engine)
    yield c
    c.close()


@pytest.fixture
def app(box: Container) -> FastAPI:
    return create_app(box.settings, container=box)


def link(
    app: FastAPI, box: Container, clock: ManualClock, login: str, issuer: str, sub: str
) -> None:
    """An administrator links the identity beforehand, over HTTP, to an account that went
    through four eyes (requested by one person, approved by another: issue 7)."""
    with box.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE agents SET created_by = (SELECT id FROM agents WHERE login = 'ag.sec'), "
                "approved_by = (SELECT id FROM agents WHERE login = 'ag.admin') WHERE login = :l"
            ),
            {"l": login},
        )
    admin = client_for(app, address="198.51.100.60")
    csrf = privileged_sign_in(admin, give_credentials(box.engine, "ag.admin"), clock, box)
    r = admin.post(
        f"/api/v1/admin/accounts/{login}/identities",
        json={"issuer": issuer, "subject": sub},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text


def start(client: TestClient) -> tuple[str, dict[str, list[str]]]:
    r = client.get("/api/v1/auth/oidc/login", follow_redirects=False)
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    return location, parse_qs(urlsplit(location).query)


def finish(client: TestClient, query: dict[str, str]) -> object:
    return client.get("/api/v1/auth/oidc/callback", params=query, follow_redirects=False)


def test_linked_identity_signs_in_with_mfa_level(
    app: FastAPI, box: Container, issuer: str, clock: ManualClock, journal: MemoryJournal
) -> None:
    """Code + PKCE (S256), state and nonce of 43 characters, acr requested as essential."""
    link(app, box, clock, "tm.dupont", issuer, "sub-tm-dupont")
    c = client_for(app)
    url, params = start(c)
    assert url.startswith(f"{issuer}/auth")
    assert params["code_challenge_method"] == ["S256"]
    assert len(params["code_challenge"][0]) >= 43
    assert len(params["state"][0]) >= 32
    assert len(params["nonce"][0]) >= 32
    assert '"essential":true' in params["claims"][0]
    assert "eidas2" in params["claims"][0]
    query = sign_in_at_provider(url, PUBLIC_URL, "sub-tm-dupont", "eidas2")
    assert query["iss"] == issuer
    r = finish(c, query)
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    assert c.get("/api/v1/me").json()["login"] == "tm.dupont"
    assert journal.entries[-1].tag is Tag.AUTH_LOGIN_SUCCEEDED
    assert journal.entries[-1].details["method"] == "oidc:eidas2"
    csrf = c.get("/api/v1/auth/session").json()["csrf_token"]
    assert c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    # The authorization response is single-use.
    assert finish(c, query).status_code == 401  # type: ignore[attr-defined]


def test_weaker_acr_is_refused_on_the_server(
    app: FastAPI, box: Container, issuer: str, clock: ManualClock, journal: MemoryJournal
) -> None:
    """ASVS V6.8.4: the provider returned eidas1 (password only): 403, no session."""
    link(app, box, clock, "tm.dupont", issuer, "sub-weak")
    c = client_for(app)
    url, _ = start(c)
    r = finish(c, sign_in_at_provider(url, PUBLIC_URL, "sub-weak", "eidas1"))
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")  # type: ignore[attr-defined]
    assert "rempart_session" not in c.cookies
    assert journal.entries[-1].reason == "authentication level too weak"
    assert c.get("/api/v1/me").status_code == 401


def test_privileged_account_needs_hardware_level_when_required(
    app: FastAPI, box: Container, issuer: str, clock: ManualClock
) -> None:
    """An account manager through the federation needs eidas3 when WebAuthn-only is on."""
    link(app, box, clock, "am.dupont", issuer, "sub-am")
    c = client_for(app)
    url, _ = start(c)
    r = finish(c, sign_in_at_provider(url, PUBLIC_URL, "sub-am", "eidas2"))
    expected = 403 if box.settings.webauthn_only_for_privileged else 303
    assert r.status_code == expected  # type: ignore[attr-defined]
    c2 = client_for(app, address="198.51.100.61")
    url, _ = start(c2)
    assert finish(c2, sign_in_at_provider(url, PUBLIC_URL, "sub-am", "eidas3")).status_code == 303  # type: ignore[attr-defined]


def test_unknown_identity_is_refused_and_creates_no_account(
    app: FastAPI, box: Container, issuer: str, journal: MemoryJournal
) -> None:
    """Federation never creates an account (Dec 2025); the (issuer, sub) pair must be linked."""

    def agents() -> int:
        with box.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(AgentRow)).scalar_one())

    before = agents()
    c = client_for(app)
    url, _ = start(c)
    r = finish(
        c, sign_in_at_provider(url, PUBLIC_URL, "tm.dupont", "eidas3")
    )  # a login, not a link
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")  # type: ignore[attr-defined]
    assert agents() == before
    assert journal.entries[-1].reason == "federated identity not linked"


def test_response_must_return_to_the_browser_that_started(
    app: FastAPI, box: Container, issuer: str, clock: ManualClock
) -> None:
    """ASVS V10.1.2: a response delivered to another browser (no binding cookie) is refused."""
    link(app, box, clock, "tm.dupont", issuer, "sub-bound")
    c = client_for(app)
    url, _ = start(c)
    query = sign_in_at_provider(url, PUBLIC_URL, "sub-bound", "eidas2")
    victim = client_for(app, address="198.51.100.62")
    r = finish(victim, query)
    assert (r.status_code, r.json()["code"]) == (400, "invalid_request")  # type: ignore[attr-defined]
    bad = dict(query, state="x" * 43)
    assert finish(c, bad).status_code == 401  # type: ignore[attr-defined]
    wrong_iss = dict(query, iss="http://127.0.0.1:1")
    c2 = client_for(app, address="198.51.100.63")
    url, _ = start(c2)
    q2 = sign_in_at_provider(url, PUBLIC_URL, "sub-bound", "eidas2")
    assert finish(c2, dict(q2, iss=wrong_iss["iss"])).status_code == 401  # type: ignore[attr-defined]
