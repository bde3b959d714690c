"""Device Bound Session Credentials end to end: a browser holding its key (``DbscBrowser``,
ES256 with ``cryptography``) registers, refreshes and moves; a copy of its cookies replayed
without the key gets nothing, from any address (ASVS V7.1.3, V7.2.1: sessions bound to the
device; the July 2025 infostealer copied cookies and User-Agent)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rempart.bootstrap import Container, build_container
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.kernel.tags import Tag
from rempart.web.app import create_app
from tests.factories import World, standard_world
from tests.support.dbsc import DbscBrowser, es256_jwt, public_jwk
from tests.support.signin import Account, auth_settings, client_for, give_credentials, totp_code

REGISTER = "/api/v1/auth/dbsc/register"
REFRESH = "/api/v1/auth/dbsc/refresh"
OFFICE = "198.51.100.7"


@pytest.fixture
def box(db_url: str, clock: ManualClock, journal: MemoryJournal) -> Iterator[Container]:
    c = build_container(auth_settings(db_url), clock=clock, journal=journal)  # type: ignore[arg-type]
    yield c
    c.close()


@pytest.fixture
def world(box: Container) -> World:
    return standard_world(box.engine)


@pytest.fixture
def app(box: Container, world: World) -> FastAPI:
    return create_app(box.settings, container=box)


@pytest.fixture
def tm(box: Container, world: World) -> Account:
    return give_credentials(box.engine, "tm.dupont")


def _sign_in(client: TestClient, account: Account, clock: ManualClock) -> httpx.Response:
    r = client.post(
        "/api/v1/auth/login", json={"login": account.login, "password": account.password}
    )
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"challenge": r.json()["challenge"], "code": totp_code(account, clock)},
    )
    assert r.status_code == 200, r.text
    return r


def _bound_browser(app: FastAPI, tm: Account, clock: ManualClock) -> DbscBrowser:
    browser = DbscBrowser(client_for(app, address=OFFICE), clock)
    browser.register_from(_sign_in(browser.client, tm, clock))
    return browser


def _copy(app: FastAPI, browser: DbscBrowser, address: str, *, bound: bool = True) -> TestClient:
    """What an infostealer takes: every cookie and the User-Agent, not the key."""
    thief = client_for(app, address=address)
    for name in ("rempart_session", *(["rempart_bound"] if bound else [])):
        value = browser.client.cookies.get(name)
        assert value
        thief.cookies.set(name, value, domain="testserver.local")
    return thief


def _nothing(r: httpx.Response, world: World) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    for person in world.persons.values():
        assert person.ft_id not in r.text
        assert person.last_name not in r.text
    assert "tm.dupont" not in r.text


def test_sign_in_offers_registration_and_the_browser_binds_and_refreshes(
    app: FastAPI, tm: Account, clock: ManualClock, journal: MemoryJournal, world: World
) -> None:
    """Registration, then the bound cookie renewed by signed refreshes for hours of work."""
    browser = DbscBrowser(client_for(app, address=OFFICE), clock)
    answer = _sign_in(browser.client, tm, clock)
    config = browser.register_from(answer)
    assert config["refresh_url"] == REFRESH
    assert config["credentials"] == [
        {
            "type": "cookie",
            "name": "rempart_bound",
            "attributes": "Path=/; Secure; HttpOnly; SameSite=Strict",
        }
    ]
    trainee = world.persons["trainee"].ft_id
    assert browser.request("GET", f"/api/v1/persons/{trainee}").status_code == 200
    for _ in range(4):  # sixteen minutes of work, a request every four
        clock.advance(240)
        assert browser.request("GET", "/api/v1/portfolio").status_code == 200
    assert browser.refreshes >= 2
    tags = [e.tag for e in journal.entries]
    assert Tag.AUTH_DEVICE_BOUND in tags
    assert tags.count(Tag.AUTH_DEVICE_REFRESHED) == browser.refreshes


@pytest.mark.parametrize("address", [OFFICE, "198.51.100.8", "203.0.113.9"])
def test_a_replay_without_the_key_exposes_nothing_from_any_address(
    app: FastAPI,
    tm: Account,
    clock: ManualClock,
    journal: MemoryJournal,
    world: World,
    address: str,
) -> None:
    """Both cookies and the User-Agent copied, replayed from the office itself, the next address
    and another network: nothing once the bound cookie ended, nothing without it, nothing from
    another address even while it lives; refreshing needs the key, another key is refused."""
    browser = _bound_browser(app, tm, clock)
    trainee = world.persons["trainee"].ft_id
    paths = ("/api/v1/me", "/api/v1/portfolio", f"/api/v1/persons/{trainee}")
    if address != OFFICE:  # the live bound cookie is worthless away from its address
        thief = _copy(app, browser, address)
        for path in paths:
            _nothing(thief.get(path), world)
    session_only = _copy(app, browser, address, bound=False)
    for path in paths:
        _nothing(session_only.get(path), world)
    clock.advance(6 * 60)  # the copy reaches the thief's server; the bound cookie has ended
    thief = _copy(app, browser, address)
    for path in paths:
        _nothing(thief.get(path), world)
    # Refresh with a key of the thief's own: refused, journaled.
    sid = {"Sec-Secure-Session-Id": browser.session_id}
    challenge = thief.post(REFRESH, headers=sid)
    assert challenge.status_code == 403
    c = challenge.headers["Secure-Session-Challenge"].split('"')[1]
    own = ec.generate_private_key(ec.SECP256R1())
    forged = es256_jwt(own, {"alg": "ES256", "typ": "dbsc+jwt", "jwk": public_jwk(own)}, {"jti": c})
    _nothing(thief.post(REFRESH, headers={**sid, "Secure-Session-Response": forged}), world)
    unsigned = forged.rsplit(".", 1)[0] + "."
    _nothing(thief.post(REFRESH, headers={**sid, "Secure-Session-Response": unsigned}), world)
    for path in paths:
        _nothing(thief.get(path), world)
    assert Tag.AUTH_DEVICE_REFUSED in [e.tag for e in journal.entries]
    # The owner, with the key, goes on.
    assert browser.request("GET", f"/api/v1/persons/{trainee}").status_code == 200


def test_a_signed_refresh_is_good_once(
    app: FastAPI, tm: Account, clock: ManualClock, world: World
) -> None:
    """A captured signed answer replayed (even from the office) gets no new cookie."""
    browser = _bound_browser(app, tm, clock)
    sid = {"Sec-Secure-Session-Id": browser.session_id}
    c = browser.client.post(REFRESH, headers=sid).headers["Secure-Session-Challenge"].split('"')[1]
    answer = es256_jwt(browser.key, {"alg": "ES256", "typ": "dbsc+jwt"}, {"jti": c})
    ok = browser.client.post(REFRESH, headers={**sid, "Secure-Session-Response": answer})
    assert ok.status_code == 200
    thief = _copy(app, browser, OFFICE, bound=False)
    _nothing(thief.post(REFRESH, headers={**sid, "Secure-Session-Response": answer}), world)
    clock.advance(6 * 60)  # and a challenge older than its few minutes is refused too
    late = (
        browser.client.post(REFRESH, headers=sid).headers["Secure-Session-Challenge"].split('"')[1]
    )
    clock.advance(6 * 60)
    stale = es256_jwt(browser.key, {"alg": "ES256", "typ": "dbsc+jwt"}, {"jti": late})
    _nothing(browser.client.post(REFRESH, headers={**sid, "Secure-Session-Response": stale}), world)


def test_the_key_moves_the_session_and_a_step_up_does_not(
    app: FastAPI, tm: Account, clock: ManualClock, world: World
) -> None:
    """The owner's browser on a new line: its cookie stops there, a signed refresh from the new
    address moves the session; a TOTP code alone never moves a device-bound session."""
    browser = _bound_browser(app, tm, clock)
    moved = DbscBrowser(client_for(app, address="203.0.113.50"), clock, key=browser.key)
    moved.session_id, moved.refresh_url = browser.session_id, browser.refresh_url
    for name in ("rempart_session", "rempart_bound"):
        moved.client.cookies.set(
            name, browser.client.cookies.get(name) or "", domain="testserver.local"
        )
    assert moved.client.get("/api/v1/portfolio").status_code == 401
    clock.advance(31)
    r = moved.client.post("/api/v1/auth/step-up/totp", json={"code": totp_code(tm, clock)})
    assert r.status_code == 401
    assert moved.refresh().status_code == 200
    assert moved.request("GET", "/api/v1/portfolio").status_code == 200


def test_bad_registrations_are_refused(app: FastAPI, tm: Account, clock: ManualClock) -> None:
    """Wrong challenge, no signature, another algorithm, a second key: refused; the first wins."""
    client = client_for(app, address=OFFICE)
    answer = _sign_in(client, tm, clock)
    challenge = answer.headers["Secure-Session-Registration"].split('challenge="')[1].rstrip('"')
    key = ec.generate_private_key(ec.SECP256R1())
    head = {"alg": "ES256", "typ": "dbsc+jwt", "jwk": public_jwk(key)}
    wrong = es256_jwt(key, head, {"jti": "not-the-challenge"})
    none_alg = es256_jwt(key, {**head, "alg": "none"}, {"jti": challenge})
    for bad in (wrong, none_alg, wrong.rsplit(".", 1)[0] + ".", "garbage", ""):
        r = client.post(REGISTER, headers={"Secure-Session-Response": bad})
        assert r.status_code == 401, r.text
    good = es256_jwt(key, head, {"jti": challenge})
    away = client_for(app, address="203.0.113.9")
    away.cookies.set(
        "rempart_session", client.cookies.get("rempart_session") or "", domain="testserver.local"
    )
    assert away.post(REGISTER, headers={"Secure-Session-Response": good}).status_code == 401
    assert client.post(REGISTER, headers={"Secure-Session-Response": good}).status_code == 200
    other = ec.generate_private_key(ec.SECP256R1())
    again = es256_jwt(other, {**head, "jwk": public_jwk(other)}, {"jti": challenge})
    r = client.post(REGISTER, headers={"Secure-Session-Response": again})
    assert r.status_code in (401, 409)
    assert client.get("/api/v1/portfolio").status_code == 200


def test_without_registration_the_session_keeps_its_address_binding(
    app: FastAPI, tm: Account, clock: ManualClock
) -> None:
    """A browser without DBSC ignores the header: the exact-address binding holds alone."""
    client = client_for(app, address=OFFICE)
    _sign_in(client, tm, clock)
    assert client.get("/api/v1/portfolio").status_code == 200
    clock.advance(dt.timedelta(minutes=6).total_seconds())
    assert client.get("/api/v1/portfolio").status_code == 200
    thief = client_for(app, address="198.51.100.8")
    thief.cookies.set(
        "rempart_session", client.cookies.get("rempart_session") or "", domain="testserver.local"
    )
    assert thief.get("/api/v1/portfolio").json()["code"] == "step_up_required"
