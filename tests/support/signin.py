"""Sign-in test helpers: credentials stored for the standard world, and an HTTP sign-in driver."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pyotp
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from rempart.bootstrap import Container
from rempart.db.schema.core import AgentRow
from rempart.kernel.clock import ManualClock
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.signin.service import proofs
from tests.support.authenticator import SoftAuthenticator

PASSWORD = "Quatre chevaux blancs sautent la haie 2026"
SEED_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # as `rempart seed`
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
PUBLIC_URL = "https://rempart.test"


@dataclass
class Account:
    login: str
    password: str
    totp_secret: str


def give_credentials(engine: Engine, login: str, *, totp: bool = True) -> Account:
    """Store a (cheaply hashed, like the demo seed) password and a TOTP secret for ``login``."""
    secret = pyotp.random_base32(32) if totp else ""
    with engine.begin() as conn:
        conn.execute(
            update(AgentRow)
            .where(AgentRow.login == login)
            .values(password_hash=SEED_HASHER.hash(PASSWORD), totp_secret=secret, totp_last_step=0)
        )
    return Account(login, PASSWORD, secret)


def totp_code(account: Account, clock: ManualClock, offset_steps: int = 0) -> str:
    """The TOTP code of ``account`` at the clock's time (shifted by whole steps)."""
    at = clock.now() + dt.timedelta(seconds=30 * offset_steps)
    return pyotp.TOTP(account.totp_secret).at(at)


def client_for(app: object, address: str = "198.51.100.7", ua: str = UA) -> TestClient:
    """A browser at ``address`` with a fixed User-Agent, over HTTPS (Secure cookies go back)."""
    return TestClient(
        app,  # type: ignore[arg-type]
        base_url="https://testserver",
        client=(address, 40000),
        headers={"User-Agent": ua},
        raise_server_exceptions=False,
    )


def sign_in(client: TestClient, account: Account, clock: ManualClock) -> str:
    """Password then TOTP over HTTP; returns the CSRF token (the cookie stays in ``client``)."""
    r = client.post(
        "/api/v1/auth/login", json={"login": account.login, "password": account.password}
    )
    assert r.status_code == 200, r.text
    r = client.post(
        "/api/v1/auth/mfa/totp",
        json={"challenge": r.json()["challenge"], "code": totp_code(account, clock)},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


def auth_settings(db_url: str, **overrides: object) -> object:
    """Settings for sign-in tests: demo mode, cheap argon2 (still above the seed's cost)."""
    from rempart.settings import Settings

    values: dict[str, object] = {
        "demo": True,
        "db_url": db_url,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8192,
        "argon2_parallelism": 1,
        "public_url": PUBLIC_URL,
        "trusted_proxies": ["10.0.0.0/8"],
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


LOGIN = "/api/v1/auth/login"


PROOF_TOTP = "/api/v1/auth/factors/proof/totp"


def totp_proof(
    client: TestClient, csrf: str, account: Account, clock: ManualClock, action: str
) -> str:
    """A proof ticket for ``action``: half a minute later, the app's new code."""
    clock.advance(30)
    r = client.post(
        PROOF_TOTP,
        json={"action": action, "code": totp_code(account, clock)},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["proof"])


def key_proof(client: TestClient, csrf: str, key: SoftAuthenticator, action: str) -> str:
    """A proof ticket for ``action`` made with the security key ``key``."""
    h = {"X-CSRF-Token": csrf}
    begin = client.post(
        "/api/v1/auth/factors/proof/webauthn/begin", json={"action": action}, headers=h
    )
    assert begin.status_code == 200, begin.text
    r = client.post(
        "/api/v1/auth/factors/proof/webauthn/finish",
        json={
            "challenge": begin.json()["challenge"],
            "credential": key.get(begin.json()["options"]),
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["proof"])


def approve_first_key(box: Container, login: str, by: str = "ag.sec") -> None:
    """A second person (by default the agency's security officer) approves ``login``'s first
    passkey, as ``POST /api/v1/accounts/{login}/first-passkey/approve`` does."""
    approver = box.auth.directory.agent_by_login(by)
    target = box.auth.directory.agent_by_login(login)
    assert approver is not None
    assert target is not None
    org = box.auth.directory.organisation(approver.org_id)
    assert org is not None
    now = box.clock.now()
    ctx = RequestContext(
        agent=approver,
        org=org,
        session_id=f"test-session-{by}",
        client=ClientInfo(address="192.0.2.10", user_agent="pytest", network="AS-TEST"),
        now=now,
        fresh_until=now + dt.timedelta(minutes=5),
    )
    proofs.approve_first_key(box.auth, ctx, target)


def register(
    client: TestClient,
    csrf: str,
    key: SoftAuthenticator,
    proof: str,
    name: str = "YubiKey",
) -> Any:
    h = {"X-CSRF-Token": csrf}
    begin = client.post(
        "/api/v1/auth/webauthn/register/begin", headers={**h, "X-Factor-Proof": proof}
    )
    assert begin.status_code == 200, begin.text
    options = begin.json()["options"]
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["rp"]["id"] == "rempart.test"
    return client.post(
        "/api/v1/auth/webauthn/register/finish",
        json={
            "challenge": begin.json()["challenge"],
            "credential": key.create(options),
            "name": name,
        },
        headers=h,
    )


def key_sign_in(client: TestClient, account: Account, key: SoftAuthenticator, **kw: int) -> Any:
    r = client.post(LOGIN, json={"login": account.login, "password": account.password})
    assert r.status_code == 200, r.text
    assert "webauthn" in r.json()["methods"]
    challenge = r.json()["challenge"]
    begin = client.post("/api/v1/auth/webauthn/login/begin", json={"challenge": challenge})
    assert begin.status_code == 200
    options = begin.json()["options"]
    assert options["userVerification"] == "required"
    return client.post(
        "/api/v1/auth/webauthn/login/finish",
        json={"challenge": challenge, "credential": key.get(options, **kw)},
    )


def privileged_sign_in(
    client: TestClient, account: Account, clock: ManualClock, box: Container
) -> str:
    """Sign in a privileged account: with a key when the policy demands one (enrolled here,
    after the security officer's approval)."""
    csrf = sign_in(client, account, clock)
    if client.get("/api/v1/me").status_code == 200:
        return csrf
    key = SoftAuthenticator(PUBLIC_URL)
    approve_first_key(box, account.login)
    proof = totp_proof(client, csrf, account, clock, "webauthn_register")
    assert register(client, csrf, key, proof).status_code == 201
    r = key_sign_in(client, account, key)
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])
