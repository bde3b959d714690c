"""WebAuthn with a software authenticator: registration, sign-in, step-up, the privileged rule.

ASVS 5.0 V6.3.3 (phishing-resistant factor for privileged roles), V7.5.1 (re-authentication
before changing factors); user verification and the signature counter are enforced.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from rempart.bootstrap import Container, build_container
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.kernel.tags import Tag
from rempart.web.app import create_app
from tests.factories import standard_world
from tests.support.authenticator import SoftAuthenticator
from tests.support.signin import (
    PUBLIC_URL,
    approve_first_key,
    auth_settings,
    client_for,
    give_credentials,
    key_proof,
    key_sign_in,
    register,
    sign_in,
    totp_code,
    totp_proof,
)

LOGIN = "/api/v1/auth/login"


@pytest.fixture(params=[False, True], ids=["demo-rule", "webauthn-only"])
def box(
    request: pytest.FixtureRequest, db_url: str, clock: ManualClock, journal: MemoryJournal
) -> Iterator[Container]:
    settings = auth_settings(db_url, webauthn_only_for_privileged=request.param)
    c = build_container(settings, clock=clock, journal=journal)  # type: ignore[arg-type]
    yield c
    c.close()


@pytest.fixture
def app(box: Container) -> FastAPI:
    standard_world(box.engine)
    return create_app(box.settings, container=box)


def test_register_then_sign_in_then_step_up_with_a_key(
    app: FastAPI, box: Container, clock: ManualClock, journal: MemoryJournal
) -> None:
    """A trainer registers a key after TOTP, then signs in and steps up with it."""
    tm = give_credentials(box.engine, "tm.dupont")
    c = client_for(app)
    csrf = sign_in(c, tm, clock)
    key = SoftAuthenticator(PUBLIC_URL)
    r = register(c, csrf, key, totp_proof(c, csrf, tm, clock, "webauthn_register"))
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "YubiKey"
    assert Tag.AUTH_FACTOR_ADDED in [e.tag for e in journal.entries]
    factors = c.get("/api/v1/auth/factors").json()
    assert [k["name"] for k in factors["webauthn"]] == ["YubiKey"]
    browser = client_for(app, address="198.51.100.30")
    r = key_sign_in(browser, tm, key)
    assert r.status_code == 200, r.text
    assert browser.get("/api/v1/me").json()["login"] == "tm.dupont"
    assert journal.entries[-1].details["method"] == "password+webauthn"
    csrf2 = r.json()["csrf_token"]
    clock.advance(10 * 60)
    h = {"X-CSRF-Token": csrf2}
    begin = browser.post("/api/v1/auth/step-up/webauthn/begin", headers=h).json()
    r = browser.post(
        "/api/v1/auth/step-up/webauthn/finish",
        json={"challenge": begin["challenge"], "credential": key.get(begin["options"])},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert "fresh_until" in r.json()


def test_a_cloned_key_and_a_key_without_user_verification_are_refused(
    app: FastAPI, box: Container, clock: ManualClock, journal: MemoryJournal
) -> None:
    """The signature counter must grow; user verification (PIN, biometrics) is required."""
    tm = give_credentials(box.engine, "tm.dupont")
    c = client_for(app)
    csrf = sign_in(c, tm, clock)
    no_uv = SoftAuthenticator(PUBLIC_URL, user_verified=False)
    r = register(c, csrf, no_uv, totp_proof(c, csrf, tm, clock, "webauthn_register"))
    assert r.status_code == 401
    key = SoftAuthenticator(PUBLIC_URL)
    proof = totp_proof(c, csrf, tm, clock, "webauthn_register")
    assert register(c, csrf, key, proof).status_code == 201
    assert key_sign_in(client_for(app, address="198.51.100.31"), tm, key).status_code == 200
    clone = client_for(app, address="198.51.100.32")
    r = key_sign_in(clone, tm, key, count_step=0)  # same counter again: a copy of the key
    assert (r.status_code, r.json()["code"]) == (401, "unauthenticated")
    assert journal.entries[-1].tag is Tag.AUTH_MFA_FAILED
    key.user_verified = False
    r = key_sign_in(client_for(app, address="198.51.100.33"), tm, key)
    assert r.status_code == 401
    phished = SoftAuthenticator("https://rempart-login.example")  # a look-alike site's origin
    phished.credential_id, phished.key, phished.rp_id = key.credential_id, key.key, key.rp_id
    phished.sign_count, phished.user_handle = key.sign_count + 5, key.user_handle
    r = key_sign_in(client_for(app, address="198.51.100.34"), tm, phished)
    assert r.status_code == 401


def test_privileged_roles_use_the_key_only_when_required(
    app: FastAPI, box: Container, clock: ManualClock
) -> None:
    """With the setting on, an account manager with TOTP only gets an enrol-only session."""
    am = give_credentials(box.engine, "am.dupont")
    webauthn_only = bool(box.settings.webauthn_only_for_privileged)
    c = client_for(app)
    r = c.post(LOGIN, json={"login": am.login, "password": am.password})
    assert r.json()["methods"] == ["totp"]
    r = c.post(
        "/api/v1/auth/mfa/totp",
        json={"challenge": r.json()["challenge"], "code": totp_code(am, clock)},
    )
    assert r.status_code == 200
    csrf = r.json()["csrf_token"]
    me = c.get("/api/v1/me")
    if not webauthn_only:
        assert me.status_code == 200
        return
    assert (me.status_code, me.json()["code"]) == (403, "forbidden")
    key = SoftAuthenticator(PUBLIC_URL)
    proof = totp_proof(c, csrf, am, clock, "webauthn_register")
    r = c.post(  # password + TOTP alone: not for a privileged account's first key
        "/api/v1/auth/webauthn/register/begin",
        headers={"X-CSRF-Token": csrf, "X-Factor-Proof": proof},
    )
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    approve_first_key(box, am.login)
    proof = totp_proof(c, csrf, am, clock, "webauthn_register")
    assert register(c, csrf, key, proof).status_code == 201
    browser = client_for(app, address="198.51.100.35")
    r = browser.post(LOGIN, json={"login": am.login, "password": am.password})
    assert r.json()["methods"] == ["webauthn"]
    r = browser.post(
        "/api/v1/auth/mfa/totp",
        json={"challenge": r.json()["challenge"], "code": totp_code(am, clock, 1)},
    )
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    clock.advance(30)
    r = key_sign_in(browser, am, key)
    assert r.status_code == 200
    assert browser.get("/api/v1/me").status_code == 200
    h = {"X-CSRF-Token": r.json()["csrf_token"]}
    r = browser.post("/api/v1/auth/step-up/totp", json={"code": totp_code(am, clock, 1)}, headers=h)
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")


def test_the_last_factor_cannot_be_removed(
    app: FastAPI, box: Container, clock: ManualClock
) -> None:
    """Removing factors needs a proof made for it and never leaves the account without one."""
    tm = give_credentials(box.engine, "tm.dupont")
    c = client_for(app)
    csrf = sign_in(c, tm, clock)
    h = {"X-CSRF-Token": csrf}
    key = SoftAuthenticator(PUBLIC_URL)
    proof = totp_proof(c, csrf, tm, clock, "webauthn_register")
    key_id = register(c, csrf, key, proof).json()["id"]
    proved = {**h, "X-Factor-Proof": totp_proof(c, csrf, tm, clock, "totp_remove")}
    assert c.delete("/api/v1/auth/factors/totp", headers=proved).status_code == 204
    proved = {**h, "X-Factor-Proof": key_proof(c, csrf, key, "webauthn_remove")}
    r = c.delete(f"/api/v1/auth/factors/webauthn/{key_id}", headers=proved)
    assert (r.status_code, r.json()["code"]) == (409, "conflict")
    proved = {**h, "X-Factor-Proof": key_proof(c, csrf, key, "webauthn_remove")}
    assert c.delete("/api/v1/auth/factors/webauthn/999999", headers=proved).status_code == 404
    proved = {**h, "X-Factor-Proof": key_proof(c, csrf, key, "totp_enrol")}
    enrol = c.post("/api/v1/auth/totp/enrol/begin", headers=proved).json()
    assert enrol["otpauth_uri"].startswith("otpauth://totp/")
    import pyotp

    code = pyotp.TOTP(enrol["secret"]).at(clock.now())
    r = c.post(
        "/api/v1/auth/totp/enrol/finish",
        json={"challenge": enrol["challenge"], "code": code},
        headers=h,
    )
    assert r.status_code == 204
    proved = {**h, "X-Factor-Proof": key_proof(c, csrf, key, "webauthn_remove")}
    assert c.delete(f"/api/v1/auth/factors/webauthn/{key_id}", headers=proved).status_code == 204
    assert c.get("/api/v1/auth/factors").json()["totp"] == {"enrolled": True}
