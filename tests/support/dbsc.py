"""A browser that speaks Device Bound Session Credentials (W3C WebAppSec draft), for tests.

It does what Chrome does: reads ``Secure-Session-Registration`` from the sign-in answer, makes
a P-256 key (``cryptography``), registers with a ``dbsc+jwt`` signed by it, keeps the bound
cookie, and before the cookie ends asks the refresh URL for a challenge and signs it. The
private key never leaves this object: a thief who copies the cookies does not get it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from fastapi.testclient import TestClient

from rempart.kernel.clock import ManualClock

REGISTRATION = re.compile(
    r'\A\((?P<algs>[^)]*)\);path="(?P<path>[^"]+)";challenge="(?P<c>[^"]+)"\Z'
)
CHALLENGE = re.compile(r'\A"(?P<c>[^"]+)";id="(?P<id>[^"]+)"\Z')


def b64url(raw: bytes) -> str:
    """base64url without padding, as JOSE writes it."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """The public half of a P-256 key as a JWK."""
    n = key.public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(n.x.to_bytes(32, "big")),
        "y": b64url(n.y.to_bytes(32, "big")),
    }


def es256_jwt(
    key: ec.EllipticCurvePrivateKey, header: dict[str, Any], claims: dict[str, Any]
) -> str:
    """A compact JWS signed with ES256 (raw r || s, as JOSE wants, not DER)."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    der = key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@dataclass
class DbscBrowser:
    """A TestClient with a DBSC-capable browser's behaviour around it."""

    client: TestClient
    clock: ManualClock
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    session_id: str = ""
    refresh_url: str = ""
    cookie_name: str = ""
    cookie_ends: dt.datetime | None = None
    refreshes: int = 0

    def register_from(self, answer: httpx.Response) -> dict[str, Any]:
        """Register the session the sign-in ``answer`` opened, as the browser does on its own."""
        m = REGISTRATION.match(answer.headers.get("Secure-Session-Registration", ""))
        assert m is not None, "the sign-in answer offers no DBSC registration"
        assert "ES256" in m["algs"].split()
        jwt = es256_jwt(
            self.key,
            {"alg": "ES256", "typ": "dbsc+jwt", "jwk": public_jwk(self.key)},
            {"jti": m["c"], "iat": int(self.clock.now().timestamp())},
        )
        r = self.client.post(m["path"], headers={"Secure-Session-Response": jwt})
        assert r.status_code == 200, r.text
        return self._configure(r)

    def _configure(self, r: httpx.Response) -> dict[str, Any]:
        config = r.json()
        self.session_id = config["session_identifier"]
        self.refresh_url = config["refresh_url"]
        self.cookie_name = config["credentials"][0]["name"]
        max_age = int(re.search(r"Max-Age=(\d+)", r.headers["set-cookie"], re.I)[1])  # type: ignore[index]
        self.cookie_ends = self.clock.now() + dt.timedelta(seconds=max_age)
        return dict(config)

    def refresh(self) -> httpx.Response:
        """The draft's refresh: ask, get 403 and a challenge, sign it with the key, send it."""
        headers = {"Sec-Secure-Session-Id": self.session_id}
        first = self.client.post(self.refresh_url, headers=headers)
        assert first.status_code == 403, first.text
        m = CHALLENGE.match(first.headers["Secure-Session-Challenge"])
        assert m is not None
        assert m["id"] == self.session_id
        jwt = es256_jwt(self.key, {"alg": "ES256", "typ": "dbsc+jwt"}, {"jti": m["c"]})
        r = self.client.post(self.refresh_url, headers={**headers, "Secure-Session-Response": jwt})
        if r.status_code == 200:
            self._configure(r)
            self.refreshes += 1
        return r

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """A request within the session's scope: the browser refreshes first when the bound
        cookie is about to end (Chrome defers the request meanwhile)."""
        if self.cookie_ends is not None and self.clock.now() >= self.cookie_ends - dt.timedelta(
            seconds=10
        ):
            assert self.refresh().status_code == 200
        return self.client.request(method, path, **kw)
