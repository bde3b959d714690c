"""Sign-in over HTTP: password then TOTP, sessions, CSRF, binding, throttling, lock, events.

ASVS 5.0 requirements named per test; the contract is shared/API.md's sign-in section.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from rempart.bootstrap import Container, build_container
from rempart.db.schema.core import AgentRow
from rempart.db.schema.signin import RecoveryCodeRow, SessionRow
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import ACCOUNT_THROTTLE
from rempart.web.app import create_app
from tests.factories import World, standard_world
from tests.support.signin import (
    UA,
    Account,
    auth_settings,
    client_for,
    give_credentials,
    sign_in,
    totp_code,
    totp_proof,
)

LOGIN = "/api/v1/auth/login"
TOTP = "/api/v1/auth/mfa/totp"


@pytest.fixture
def box(db_url: str, clock: ManualClock, journal: MemoryJournal) -> Iterator[Container]:
    c = build_container(auth_settings(db_url), clock=clock, journal=journal)  # type: ignore[arg-type]
    yield c
    c.close()


@pytest.fixture
def auth_world(box: Container) -> World:
    return standard_world(box.engine)


@pytest.fixture
def app(box: Container, auth_world: World) -> FastAPI:
    return create_app(box.settings, container=box)


@pytest.fixture
def tm(box: Container, auth_world: World) -> Account:
    return give_credentials(box.engine, "tm.dupont")


def tags(journal: MemoryJournal) -> list[Tag]:
    return [e.tag for e in journal.entries]


def token_of(client: TestClient) -> str:
    token = client.cookies.get("rempart_session")
    assert token
    return token


def test_password_then_totp_opens_a_bound_session(
    app: FastAPI, tm: Account, clock: ManualClock
) -> None:
    """A password alone never yields a session; the cookie is HttpOnly, Strict, Secure.

    ASVS V6.3.3 (MFA required), V7.2.1 (server-side check), V7.2.3 (≥128-bit random token).
    """
    c = client_for(app)
    r = c.post(LOGIN, json={"login": tm.login, "password": tm.password})
    assert r.status_code == 200
    body = r.json()
    assert body["mfa_required"] is True
    assert "totp" in body["methods"]
    assert len(body["challenge"]) >= 43
    assert "set-cookie" not in r.headers
    assert c.get("/api/v1/me").json()["code"] == "unauthenticated"
    r = c.post(TOTP, json={"challenge": body["challenge"], "code": totp_code(tm, clock)})
    assert r.status_code == 200, r.text
    out = r.json()
    assert set(out) >= {"csrf_token", "expires_at"}
    assert dt.datetime.fromisoformat(out["expires_at"]) == clock.now() + dt.timedelta(hours=10)
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("rempart_session=")
    for flag in ("HttpOnly", "SameSite=strict", "Secure", "Path=/"):
        assert flag in cookie
    assert len(token_of(c)) == 43  # 256 bits, base64url
    me = c.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["login"] == "tm.dupont"
    assert me.json()["org"]["kind"] == "training_body"


def test_session_token_is_stored_hashed(
    app: FastAPI, box: Container, tm: Account, clock: ManualClock
) -> None:
    """ASVS V7.2.3: the database holds the token's SHA-256, never the token."""
    c = client_for(app)
    sign_in(c, tm, clock)
    with box.engine.connect() as conn:
        keys = conn.execute(select(SessionRow.key)).scalars().all()
    assert keys
    assert token_of(c) not in keys


def test_unknown_login_and_wrong_password_answer_identically(app: FastAPI, tm: Account) -> None:
    """ASVS V6.3.1: no account enumeration through the answer."""
    c = client_for(app)
    wrong = c.post(LOGIN, json={"login": tm.login, "password": "not the right one at all"})
    unknown = c.post(LOGIN, json={"login": "nobody.here", "password": "not the right one at all"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.content == unknown.content
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["code"] == "unauthenticated"


def test_seed_hash_is_rehashed_at_configured_cost(
    app: FastAPI, box: Container, tm: Account
) -> None:
    """Demo seeds store cheap argon2id hashes; a successful password step upgrades them."""

    def stored() -> str:
        with box.engine.connect() as conn:
            return str(
                conn.execute(
                    select(AgentRow.password_hash).where(AgentRow.login == tm.login)
                ).scalar_one()
            )

    assert "m=1024" in stored()
    r = client_for(app).post(LOGIN, json={"login": tm.login, "password": tm.password})
    assert r.status_code == 200
    after = stored()
    assert after.startswith("$argon2id$")
    assert "m=8192" in after
    assert PasswordHasher().verify(after, tm.password)


def test_totp_code_is_never_accepted_twice(
    app: FastAPI, tm: Account, clock: ManualClock, journal: MemoryJournal
) -> None:
    """ASVS V6.5.1: a TOTP is usable once; an older step after a newer one is refused too."""
    c = client_for(app)
    sign_in(c, tm, clock)
    again = client_for(app)
    challenge = again.post(LOGIN, json={"login": tm.login, "password": tm.password}).json()[
        "challenge"
    ]
    r = again.post(TOTP, json={"challenge": challenge, "code": totp_code(tm, clock)})
    assert r.status_code == 401
    assert r.json()["code"] == "unauthenticated"
    assert journal.entries[-1].tag is Tag.AUTH_MFA_FAILED
    assert journal.entries[-1].reason == "code already used"
    r = again.post(TOTP, json={"challenge": challenge, "code": totp_code(tm, clock, -1)})
    assert r.status_code == 401
    r = again.post(TOTP, json={"challenge": challenge, "code": totp_code(tm, clock, +1)})
    assert r.status_code == 200


def test_totp_accepts_one_step_of_drift_only(app: FastAPI, tm: Account, clock: ManualClock) -> None:
    """ASVS V6.5.5: a TOTP lives 30 s (plus one step of clock drift either way)."""
    c = client_for(app)
    challenge = c.post(LOGIN, json={"login": tm.login, "password": tm.password}).json()["challenge"]
    assert (
        c.post(TOTP, json={"challenge": challenge, "code": totp_code(tm, clock, -2)}).status_code
        == 401
    )
    assert (
        c.post(TOTP, json={"challenge": challenge, "code": totp_code(tm, clock, 2)}).status_code
        == 401
    )
    assert (
        c.post(TOTP, json={"challenge": challenge, "code": totp_code(tm, clock, -1)}).status_code
        == 200
    )


def test_challenge_is_bound_short_lived_and_limited(
    app: FastAPI, tm: Account, clock: ManualClock, journal: MemoryJournal
) -> None:
    """ASVS V6.6.2: a challenge serves only the browser and attempt it was issued for."""
    c = client_for(app)
    r = c.post(TOTP, json={"challenge": "x" * 43, "code": "123456"})
    assert (r.status_code, r.json()["code"]) == (401, "unauthenticated")
    # Expired.
    challenge = c.post(LOGIN, json={"login": tm.login, "password": tm.password}).json()["challenge"]
    clock.advance(6 * 60)
    assert (
        c.post(TOTP, json={"challenge": challenge, "code": totp_code(tm, clock)}).status_code == 401
    )
    # Another browser gets nothing, and the challenge dies.
    challenge = c.post(LOGIN, json={"login": tm.login, "password": tm.password}).json()["challenge"]
    thief = client_for(app, ua="curl/8.5")
    assert (
        thief.post(TOTP, json={"challenge": challenge, "code": totp_code(tm, clock)}).status_code
        == 401
    )
    assert journal.entries[-1].reason == "challenge replayed from another network or browser"
    assert (
        c.post(TOTP, json={"challenge": challenge, "code": totp_code(tm, clock)}).status_code == 401
    )
    # Five wrong codes and the challenge is gone, even for the right code.
    clock.advance(20 * 60)
    challenge = c.post(LOGIN, json={"login": tm.login, "password": tm.password}).json()["challenge"]
    for _ in range(5):
        clock.advance(ACCOUNT_THROTTLE.max_seconds)
        assert c.post(TOTP, json={"challenge": challenge, "code": "000000"}).status_code == 401
    clock.advance(ACCOUNT_THROTTLE.max_seconds)
    assert (
        c.post(TOTP, json={"challenge": challenge, "code": totp_code(tm, clock)}).status_code == 401
    )


def _replay(app: FastAPI, token: str, address: str, ua: str = UA) -> TestClient:
    other = client_for(app, address=address, ua=ua)
    other.cookies.set("rempart_session", token, domain="testserver.local")
    return other


@pytest.mark.parametrize("thief_address", ["198.51.100.8", "203.0.113.9"])
def test_cookie_replayed_from_another_address_gets_a_step_up_never_data(
    app: FastAPI, tm: Account, clock: ManualClock, journal: MemoryJournal, thief_address: str
) -> None:
    """A stolen cookie with the copied User-Agent, replayed from another address (the next one
    on the same network, or another network): ``step_up_required`` on every route, no data;
    the owner goes on. ASVS V7.2.1 (server-side verification), V7.1.3 (binding)."""
    c = client_for(app, address="198.51.100.7")
    csrf = sign_in(c, tm, clock)
    thief = _replay(app, token_of(c), thief_address)
    for path in ("/api/v1/me", "/api/v1/portfolio", "/api/v1/auth/sessions"):
        r = thief.get(path)
        assert r.status_code == 401
        assert r.json()["code"] == "step_up_required"
        assert "tm.dupont" not in r.text
    r = thief.post(
        "/api/v1/auth/step-up/totp", json={"code": "000000"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.json()["code"] == "step_up_required"
    assert thief.get("/api/v1/me").json()["code"] == "step_up_required"
    event = next(e for e in journal.entries if e.tag is Tag.AUTH_SESSION_ADDRESS_CHANGED)
    assert event.decision is Decision.STEP_UP
    assert event.client_address == thief_address
    assert event.details["opened_from_address"] == "198.51.100.7"
    assert c.get("/api/v1/me").status_code == 200


def test_owner_who_moved_steps_up_and_the_session_follows(
    app: FastAPI, tm: Account, clock: ManualClock, journal: MemoryJournal
) -> None:
    """The owner's address changed (a new line, a VPN): one TOTP step-up from the new address,
    then the session lives there; the old address is the one asked now."""
    c = client_for(app, address="198.51.100.7")
    csrf = sign_in(c, tm, clock)
    moved = _replay(app, token_of(c), "198.51.100.99")
    assert moved.get("/api/v1/me").json()["code"] == "step_up_required"
    clock.advance(31)
    r = moved.post(
        "/api/v1/auth/step-up/totp",
        json={"code": totp_code(tm, clock)},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    assert moved.get("/api/v1/me").status_code == 200
    assert c.get("/api/v1/me").json()["code"] == "step_up_required"
    assert Tag.AUTH_SESSION_REBOUND in tags(journal)


def test_cookie_replayed_from_another_browser_revokes_the_session(
    app: FastAPI, tm: Account, clock: ManualClock, journal: MemoryJournal
) -> None:
    """Same address, another User-Agent: the session is revoked (infostealer replay)."""
    c = client_for(app)
    sign_in(c, tm, clock)
    thief = _replay(app, token_of(c), "198.51.100.7", ua="python-httpx/0.28")
    r = thief.get("/api/v1/portfolio")
    assert (r.status_code, r.json()["code"]) == (401, "session_revoked")
    assert journal.entries[-1].reason == "browser_changed"
    assert c.get("/api/v1/me").status_code == 401


def test_client_address_from_trusted_proxy_only(
    app: FastAPI, tm: Account, clock: ManualClock, journal: MemoryJournal
) -> None:
    """X-Forwarded-For counts only from a --trusted-proxy peer; the network is the AS/country."""
    behind = client_for(app, address="10.1.2.3")
    behind.headers["X-Forwarded-For"] = "198.51.100.200, 90.84.1.1"
    sign_in(behind, tm, clock)
    opened = journal.entries[-1]
    assert opened.tag is Tag.AUTH_LOGIN_SUCCEEDED
    assert opened.client_address == "90.84.1.1"
    assert opened.network.startswith("AS:")
    assert opened.network.endswith("/FR")
    assert behind.get("/api/v1/me").status_code == 200
    behind.headers["X-Forwarded-For"] = "8.8.8.8"
    assert behind.get("/api/v1/me").json()["code"] == "step_up_required"
    # An untrusted peer's header is ignored: the address is the peer itself.
    direct = client_for(app, address="198.51.100.7")
    direct.headers["X-Forwarded-For"] = "90.84.1.1"
    direct.post(LOGIN, json={"login": "nobody", "password": "whatever it is"})
    assert journal.entries[-1].client_address == "198.51.100.7"


def test_csrf_token_required_on_unsafe_methods(
    app: FastAPI, tm: Account, clock: ManualClock
) -> None:
    """Every unsafe method carrying the cookie needs X-CSRF-Token (ASVS V3.5.1)."""
    c = client_for(app)
    csrf = sign_in(c, tm, clock)
    code = totp_code(tm, clock, 1)
    r = c.post("/api/v1/auth/step-up/totp", json={"code": code})
    assert (r.status_code, r.json()["code"]) == (403, "csrf")
    r = c.post("/api/v1/auth/step-up/totp", json={"code": code}, headers={"X-CSRF-Token": "0" * 64})
    assert (r.status_code, r.json()["code"]) == (403, "csrf")
    r = c.post("/api/v1/auth/step-up/totp", json={"code": code}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    assert "fresh_until" in r.json()
    assert c.get("/api/v1/me").status_code == 200  # safe methods need no token
    assert c.get("/api/v1/auth/session").json()["csrf_token"] == csrf


def test_idle_timeout_then_absolute_lifetime(app: FastAPI, tm: Account, clock: ManualClock) -> None:
    """ASVS V7.3.1 (15 min idle) and V7.3.2 (10 h absolute)."""
    c = client_for(app)
    sign_in(c, tm, clock)
    clock.advance(14 * 60)
    assert c.get("/api/v1/me").status_code == 200
    clock.advance(14 * 60)
    assert c.get("/api/v1/me").status_code == 200  # activity moved the idle deadline
    clock.advance(15 * 60 + 1)
    r = c.get("/api/v1/me")
    assert (r.status_code, r.json()["code"]) == (401, "unauthenticated")
    clock.advance(60 * 60)
    sign_in(c, tm, clock)
    for _ in range(int(10 * 60 / 10)):
        clock.advance(10 * 60)
        if c.get("/api/v1/me").status_code != 200:
            break
    assert clock.now() >= dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC) + dt.timedelta(hours=11)
    assert c.get("/api/v1/me").status_code == 401


def test_logout_ends_the_session_on_the_server(
    app: FastAPI, tm: Account, clock: ManualClock
) -> None:
    """ASVS V7.4.1: after logout the same cookie is refused; logout without a session is 204."""
    c = client_for(app)
    csrf = sign_in(c, tm, clock)
    token = token_of(c)
    r = c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert 'rempart_session=""' in r.headers["set-cookie"]
    again = _replay(app, token, "198.51.100.7")
    assert again.get("/api/v1/me").json()["code"] == "unauthenticated"
    assert client_for(app).post("/api/v1/auth/logout").status_code == 204


def test_a_new_sign_in_replaces_the_old_session(
    app: FastAPI, box: Container, tm: Account, clock: ManualClock
) -> None:
    """ASVS V7.2.4: a new token at each authentication; the browser's previous one ends."""
    c = client_for(app)
    sign_in(c, tm, clock)
    first = token_of(c)
    clock.advance(31)
    sign_in(c, tm, clock)
    assert token_of(c) != first
    assert _replay(app, first, "198.51.100.7").get("/api/v1/me").status_code == 401


def test_throttling_grows_and_says_when_to_retry(
    app: FastAPI, tm: Account, clock: ManualClock, journal: MemoryJournal
) -> None:
    """ASVS V6.3.1: growing delays per account, 429 throttled with Retry-After."""
    c = client_for(app)
    for _ in range(ACCOUNT_THROTTLE.free):
        assert (
            c.post(LOGIN, json={"login": tm.login, "password": "wrong password!"}).status_code
            == 401
        )
    r = c.post(LOGIN, json={"login": tm.login, "password": tm.password})
    assert r.status_code == 429
    assert r.json()["code"] == "throttled"
    assert int(r.headers["Retry-After"]) >= 1
    assert journal.entries[-1].tag is Tag.AUTH_LOGIN_THROTTLED
    clock.advance(int(r.headers["Retry-After"]))
    assert c.post(LOGIN, json={"login": tm.login, "password": "wrong password!"}).status_code == 401
    r = c.post(LOGIN, json={"login": tm.login, "password": tm.password})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 2  # the delay doubled
    clock.advance(int(r.headers["Retry-After"]))
    assert c.post(LOGIN, json={"login": tm.login, "password": tm.password}).status_code == 200


def _fail_until_locked(c: TestClient, login: str, clock: ManualClock) -> list[int]:
    statuses = []
    for _ in range(10):
        clock.advance(ACCOUNT_THROTTLE.max_seconds)
        statuses.append(
            c.post(LOGIN, json={"login": login, "password": "guess guess guess"}).status_code
        )
    clock.advance(ACCOUNT_THROTTLE.max_seconds)
    return statuses


def test_lock_after_ten_failures_and_self_unlock_rules(
    app: FastAPI, tm: Account, clock: ManualClock, journal: MemoryJournal
) -> None:
    """ASVS V6.3.1: lock after 10; the right password does not open it from the attacker's
    address; elsewhere, after the delay, proving the second factor lifts the lock."""
    attacker = client_for(app, address="203.0.113.66")
    assert _fail_until_locked(attacker, tm.login, clock) == [401] * 10
    assert Tag.AUTH_ACCOUNT_LOCKED in tags(journal)
    r = attacker.post(LOGIN, json={"login": tm.login, "password": tm.password})
    assert (r.status_code, r.json()["code"]) == (403, "account_locked")
    user = client_for(app, address="198.51.100.7")
    assert user.post(LOGIN, json={"login": tm.login, "password": tm.password}).status_code == 403
    clock.advance(31 * 60)
    assert (
        attacker.post(LOGIN, json={"login": tm.login, "password": tm.password}).status_code == 403
    )
    # A wrong password while locked is refused too, and marks that address as hostile.
    elsewhere = client_for(app, address="198.51.100.8")
    assert elsewhere.post(LOGIN, json={"login": tm.login, "password": "nope!!"}).status_code == 403
    clock.advance(31 * 60)
    r = user.post(LOGIN, json={"login": tm.login, "password": tm.password})
    assert r.status_code == 200
    assert (
        user.post(
            TOTP, json={"challenge": r.json()["challenge"], "code": totp_code(tm, clock)}
        ).status_code
        == 200
    )
    assert Tag.AUTH_ACCOUNT_UNLOCKED in tags(journal)


def test_unknown_login_locks_like_a_real_one(
    app: FastAPI, auth_world: World, clock: ManualClock
) -> None:
    """No enumeration through the lock either: an unknown login ends up 'locked' the same way."""
    c = client_for(app)
    assert _fail_until_locked(c, "ghost.account", clock) == [401] * 10
    r = c.post(LOGIN, json={"login": "ghost.account", "password": "guess guess guess"})
    assert (r.status_code, r.json()["code"]) == (403, "account_locked")


def test_account_manager_unlocks_with_a_fresh_second_factor(
    app: FastAPI, box: Container, tm: Account, clock: ManualClock, journal: MemoryJournal
) -> None:
    """Unlocking needs an account manager of the same organisation (or an admin), step-up fresh."""
    _fail_until_locked(client_for(app, address="203.0.113.66"), tm.login, clock)
    am = give_credentials(box.engine, "am.dupont")
    manager = client_for(app, address="198.51.100.20")
    csrf = sign_in(manager, am, clock)
    r = manager.post("/api/v1/admin/accounts/tm.dupont/unlock", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    unlocked = next(e for e in reversed(journal.entries) if e.tag is Tag.AUTH_ACCOUNT_UNLOCKED)
    assert unlocked.details["by"] == "am.dupont"
    # The same governed path as /api/v1/accounts/{login}/unlock: journaled as a privileged change.
    assert journal.entries[-1].tag is Tag.ACCOUNT_AGENT_UNLOCKED
    other = give_credentials(box.engine, "tm.martin")
    outsider = client_for(app, address="198.51.100.21")
    csrf2 = sign_in(outsider, other, clock)
    r = outsider.post("/api/v1/admin/accounts/tm.dupont/unlock", headers={"X-CSRF-Token": csrf2})
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    clock.advance(6 * 60)
    r = manager.post("/api/v1/admin/accounts/tm.dupont/unlock", headers={"X-CSRF-Token": csrf})
    assert (r.status_code, r.json()["code"]) == (401, "step_up_required")
    user = client_for(app)
    assert user.post(LOGIN, json={"login": tm.login, "password": tm.password}).status_code == 200


def test_recovery_codes_are_hashed_and_single_use(
    app: FastAPI, box: Container, tm: Account, clock: ManualClock, journal: MemoryJournal
) -> None:
    """ASVS V6.5.1 (once), V6.5.2 (stored hashed), V6.5.3 (CSPRNG), V6.5.4 (entropy)."""
    c = client_for(app)
    csrf = sign_in(c, tm, clock)
    proof = totp_proof(c, csrf, tm, clock, "recovery_codes")
    r = c.post(
        "/api/v1/auth/factors/recovery-codes",
        headers={"X-CSRF-Token": csrf, "X-Factor-Proof": proof},
    )
    assert r.status_code == 200
    codes = r.json()["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(len(code.replace("-", "")) == 24 for code in codes)
    with box.engine.connect() as conn:
        stored = conn.execute(select(RecoveryCodeRow.code_hash)).scalars().all()
    assert not set(stored) & {code.replace("-", "") for code in codes}
    other = client_for(app, address="198.51.100.99")
    challenge = other.post(LOGIN, json={"login": tm.login, "password": tm.password}).json()
    assert "recovery_code" in challenge["methods"]
    r = other.post(
        "/api/v1/auth/mfa/recovery-code",
        json={"challenge": challenge["challenge"], "code": codes[0].lower()},
    )
    assert r.status_code == 200, r.text
    assert any(
        e.tag is Tag.AUTH_RECOVERY_CODE_USED and e.details["left"] == 9 for e in journal.entries
    )
    third = client_for(app, address="198.51.100.98")
    challenge = third.post(LOGIN, json={"login": tm.login, "password": tm.password}).json()[
        "challenge"
    ]
    r = third.post(
        "/api/v1/auth/mfa/recovery-code", json={"challenge": challenge, "code": codes[0]}
    )
    assert r.status_code == 401


def test_step_up_is_needed_once_freshness_is_gone(
    app: FastAPI, tm: Account, clock: ManualClock
) -> None:
    """ASVS V7.5.1: a privileged action needs a recent second-factor proof; step-up renews it."""
    c = client_for(app)
    csrf = sign_in(c, tm, clock)
    clock.advance(6 * 60)
    h = {"X-CSRF-Token": csrf}
    r = c.post("/api/v1/auth/sessions/revoke-others", headers=h)
    assert (r.status_code, r.json()["code"]) == (401, "step_up_required")
    r = c.post("/api/v1/auth/step-up/totp", json={"code": "000000"}, headers=h)
    assert (r.status_code, r.json()["code"]) == (401, "step_up_required")
    r = c.post("/api/v1/auth/step-up/totp", json={"code": totp_code(tm, clock)}, headers=h)
    assert r.status_code == 200
    assert dt.datetime.fromisoformat(r.json()["fresh_until"]) == clock.now() + dt.timedelta(
        minutes=5
    )
    assert c.post("/api/v1/auth/sessions/revoke-others", headers=h).status_code == 200


def test_a_stolen_cookie_inside_the_fresh_window_cannot_change_a_factor(
    app: FastAPI, box: Container, tm: Account, clock: ManualClock, journal: MemoryJournal
) -> None:
    """Pentest finding 1 (high), end to end: a thief holding the victim's cookie and User-Agent,
    one minute after the victim signed in, tries to replace the TOTP and mint recovery codes.
    Every change is refused (the sign-in's freshness is not a proof made for the change), the
    victim's own code still works, and the security team is alerted. ASVS V6.4.4, V7.5.1."""
    victim = client_for(app)
    csrf = sign_in(victim, tm, clock)
    thief = client_for(app)  # the victim's office NAT, the copied User-Agent
    thief.cookies.set("rempart_session", token_of(victim))
    clock.advance(60)  # well inside the five fresh minutes
    h = {"X-CSRF-Token": csrf}
    assert thief.get("/api/v1/me").status_code == 200  # the cookie works: the binding holds
    r = thief.post("/api/v1/auth/totp/enrol/begin", headers=h)
    assert (r.status_code, r.json()["code"]) == (401, "step_up_required")
    r = thief.post("/api/v1/auth/factors/recovery-codes", headers=h)
    assert (r.status_code, r.json()["code"]) == (401, "step_up_required")
    r = thief.post(
        "/api/v1/auth/factors/proof/totp",
        json={"action": "totp_enrol", "code": "123456"},
        headers=h,
    )
    assert (r.status_code, r.json()["code"]) == (401, "step_up_required")
    r = thief.post(
        "/api/v1/auth/password",
        json={"current_password": tm.password, "new_password": "Zèbre-Violet-42-Lampadaire"},
        headers=h,
    )
    assert (r.status_code, r.json()["code"]) == (401, "step_up_required")
    r = thief.delete("/api/v1/auth/factors/totp", headers=h)
    assert (r.status_code, r.json()["code"]) == (401, "step_up_required")
    # The victim's factors are intact: no recovery code, the same TOTP signs in.
    assert victim.get("/api/v1/auth/factors").json()["recovery_codes"] == {"left": 0}
    clock.advance(30)
    assert sign_in(client_for(app, address="198.51.100.77"), tm, clock)
    refused = [a for a in box.alerts.alerts_since(None, 100) if a.rule == "factor_change_refused"]
    assert len(refused) == 5
    assert {a.evidence["action"] for a in refused} == {
        "totp_enrol",
        "recovery_codes",
        "password_change",
        "totp_remove",
    }
    assert Tag.AUTH_FACTOR_ADDED not in tags(journal)
    assert Tag.AUTH_FACTOR_REFUSED in tags(journal)


def test_a_factor_change_notifies_the_address_on_file(
    app: FastAPI, box: Container, tm: Account, clock: ManualClock
) -> None:
    """With its proof the change happens; the holder gets a notice, the team an alert."""
    c = client_for(app)
    csrf = sign_in(c, tm, clock)
    proof = totp_proof(c, csrf, tm, clock, "recovery_codes")
    r = c.post(
        "/api/v1/auth/factors/recovery-codes",
        headers={"X-CSRF-Token": csrf, "X-Factor-Proof": proof},
    )
    assert r.status_code == 200
    outbox = getattr(box.mailer, "outbox", [])
    (notice,) = [m for m in outbox if "moyens de connexion" in m.subject]
    assert notice.to == "tm.dupont@example.fr" or notice.to.startswith("tm.dupont")
    assert "codes de secours" in notice.body
    assert any(a.rule == "factor_changed" for a in box.alerts.alerts_since(None, 10))


def test_admin_revokes_sessions_of_an_account_and_an_organisation(
    app: FastAPI, box: Container, tm: Account, clock: ManualClock, journal: MemoryJournal
) -> None:
    """ASVS V7.4.5: administrators end sessions of one user or a whole organisation."""
    trainee_mgr = client_for(app)
    sign_in(trainee_mgr, tm, clock)
    adm = give_credentials(box.engine, "ag.admin")
    admin = client_for(app, address="198.51.100.50")
    csrf = sign_in(admin, adm, clock)
    h = {"X-CSRF-Token": csrf}
    r = admin.post("/api/v1/admin/accounts/tm.dupont/sessions/revoke", headers=h)
    assert r.json() == {"revoked": 1}
    assert trainee_mgr.get("/api/v1/me").json()["code"] == "session_revoked"
    revoked = [e for e in journal.entries if e.tag is Tag.AUTH_SESSION_REVOKED]
    assert revoked[-1].agent_login == "tm.dupont"
    assert revoked[-1].details["by"] == "ag.admin"
    clock.advance(31)
    sign_in(trainee_mgr, tm, clock)
    org_id = trainee_mgr.get("/api/v1/me").json()["org"]["id"]
    assert admin.post(
        f"/api/v1/admin/organisations/{org_id}/sessions/revoke", headers=h
    ).json() == {"revoked": 1}
    assert trainee_mgr.get("/api/v1/me").json()["code"] == "session_revoked"
    assert (
        admin.post("/api/v1/admin/organisations/NOPE/sessions/revoke", headers=h).status_code == 404
    )
    clock.advance(31)
    tm_csrf = sign_in(trainee_mgr, tm, clock)
    r = trainee_mgr.post(
        "/api/v1/admin/accounts/ag.admin/sessions/revoke", headers={"X-CSRF-Token": tm_csrf}
    )
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")


def test_disabled_account_loses_its_sessions(
    app: FastAPI, box: Container, tm: Account, clock: ManualClock
) -> None:
    """ASVS V7.4.2: a deactivated account's sessions end."""
    c = client_for(app)
    sign_in(c, tm, clock)
    with box.engine.begin() as conn:
        conn.execute(update(AgentRow).where(AgentRow.login == tm.login).values(active=False))
    assert c.get("/api/v1/me").json()["code"] == "session_revoked"


def test_password_change_enforces_policy_and_ends_other_sessions(
    app: FastAPI, tm: Account, clock: ManualClock, journal: MemoryJournal
) -> None:
    """ASVS V6.2.1, V6.2.3 (current password), V6.2.4/V6.2.12 (common passwords), V7.4.3; each
    attempt behind its own proof (pentest finding 3)."""
    other = client_for(app, address="198.51.100.40")
    sign_in(other, tm, clock)
    c = client_for(app)
    clock.advance(31)
    csrf = sign_in(c, tm, clock)
    url = "/api/v1/auth/password"

    def proved() -> dict[str, str]:
        return {
            "X-CSRF-Token": csrf,
            "X-Factor-Proof": totp_proof(c, csrf, tm, clock, "password_change"),
        }

    r = c.post(
        url,
        json={"current_password": "wrong", "new_password": "Zèbre-Violet-42-Lampadaire"},
        headers=proved(),
    )
    assert r.status_code == 401
    for weak in ["Password1234!", "short", "azertyuiop123456", "tm.dupont-Zz-12345678"]:
        for current in (tm.password, "wrong"):  # the same answer: nothing about the current one
            r = c.post(
                url, json={"current_password": current, "new_password": weak}, headers=proved()
            )
            assert (r.status_code, r.json()["code"]) == (400, "invalid_request"), weak
            assert weak not in r.text
    clock.advance(60)
    r = c.post(
        url,
        json={"current_password": tm.password, "new_password": "Zèbre-Violet-42-Lampadaire"},
        headers=proved(),
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"sessions_ended": 1}
    assert other.get("/api/v1/me").json()["code"] == "session_revoked"
    assert c.get("/api/v1/me").status_code == 200
    assert Tag.AUTH_PASSWORD_CHANGED in tags(journal)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"login": "x", "password": "p" * 5000}, 400),
        ({"login": "x" * 500, "password": "p"}, 400),
        ({"login": "x"}, 400),
        ({"login": 12, "password": ["a"]}, 400),
        ({"login": "x", "password": "y", "extra": 1}, 400),
    ],
)
def test_malformed_credentials_are_400_problems(
    app: FastAPI, auth_world: World, body: object, expected: int
) -> None:
    """Bad input gets a clear 4xx problem, never a 500."""
    r = client_for(app).post(LOGIN, json=body)
    assert r.status_code == expected
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "invalid_request"


def test_garbage_input_never_gives_a_500(app: FastAPI, tm: Account, clock: ManualClock) -> None:
    """Garbage cookies, bodies and challenges: 4xx problem+json answers only."""
    c = client_for(app)
    assert (
        c.post(
            LOGIN, content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert (
        c.post(
            LOGIN, content=b"x" * 70_000, headers={"content-type": "application/json"}
        ).status_code
        == 413
    )
    assert c.post(TOTP, json={"challenge": "c" * 500, "code": "1"}).status_code == 400
    assert c.post(TOTP, json={"challenge": "unknown", "code": "abcdef"}).status_code == 401
    for cookie in ["%%%garbage", "a" * 4000, "Zm9v", "%C3%A9t%C3%A9", "", "A" * 43, '"x;y"']:
        g = client_for(app)
        g.headers["Cookie"] = f"rempart_session={cookie}"
        r = g.get("/api/v1/me")
        assert r.status_code == 401, cookie
        assert r.json()["code"] == "unauthenticated"
    r = c.post(
        "/api/v1/auth/webauthn/login/finish", json={"challenge": "abc", "credential": {"id": 3}}
    )
    assert 400 <= r.status_code < 500
    r = c.get("/api/v1/auth/oidc/callback?state=abc&code=def")
    assert 400 <= r.status_code < 500


def test_events_carry_context_and_no_secrets(
    app: FastAPI, tm: Account, clock: ManualClock, journal: MemoryJournal
) -> None:
    """Every sign-in event has time, account, organisation, address, network and user agent."""
    c = client_for(app)
    c.post(LOGIN, json={"login": tm.login, "password": "Wrong-But-Long-Enough"})
    csrf = sign_in(c, tm, clock)
    c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert tags(journal) == [
        Tag.AUTH_LOGIN_FAILED,
        Tag.AUTH_LOGIN_SUCCEEDED,
        Tag.AUTH_SESSION_CLOSED,
    ]
    for entry in journal.entries:
        assert entry.at == clock.now()
        assert entry.agent_login == "tm.dupont"
        assert entry.org_id
        assert entry.client_address == "198.51.100.7"
        assert entry.network == "LAN:198.51.100.0/24"
        assert entry.user_agent == UA
        text = repr(entry)
        for secret in (
            tm.password,
            "Wrong-But-Long-Enough",
            tm.totp_secret,
            csrf,
            token_of(c) if c.cookies.get("rempart_session") else "§",
        ):
            assert secret not in text
    assert journal.entries[0].decision is Decision.DENY


def test_sessions_are_listed_and_others_revoked(
    app: FastAPI, box: Container, tm: Account, clock: ManualClock
) -> None:
    """ASVS V7.5.2: users see their sessions and end the others after re-authenticating."""
    other = client_for(app, address="198.51.100.41")
    sign_in(other, tm, clock)
    clock.advance(31)
    c = client_for(app)
    csrf = sign_in(c, tm, clock)
    items = c.get("/api/v1/auth/sessions").json()["items"]
    assert len(items) == 2
    assert sum(1 for i in items if i["current"]) == 1
    r = c.post("/api/v1/auth/sessions/revoke-others", headers={"X-CSRF-Token": csrf})
    assert r.json() == {"revoked": 1}
    assert other.get("/api/v1/me").json()["code"] == "session_revoked"
    with box.engine.connect() as conn:
        live = conn.execute(
            select(func.count()).select_from(SessionRow).where(SessionRow.ended_at.is_(None))
        ).scalar_one()
    assert live == 1


def test_at_most_five_live_sessions_per_account(
    app: FastAPI, tm: Account, clock: ManualClock, journal: MemoryJournal
) -> None:
    """ASVS V7.1.2: a sixth browser ends the oldest session."""
    browsers = []
    for i in range(6):
        clock.advance(31)
        b = client_for(app, address=f"198.51.100.{100 + i}")
        sign_in(b, tm, clock)
        browsers.append(b)
    assert browsers[0].get("/api/v1/me").json()["code"] == "session_revoked"
    assert all(b.get("/api/v1/me").status_code == 200 for b in browsers[1:])
    assert any(e.reason == "too_many_sessions" for e in journal.entries)
