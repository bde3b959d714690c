"""ASVS 5.0 chapter V9, self-contained tokens: the federation's ID tokens are read only once
their signature, algorithm, key source, lifetime, audience and issuer all hold."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from authlib.jose import JsonWebKey, jwt

from rempart.kernel.errors import Unauthenticated
from rempart.signin.adapters.oidc import AuthlibFederation

CLIENT = "rempart-test"
NONCE = "n-0S6_WzA2Mj"


@pytest.fixture
def provider() -> Iterator[tuple[str, Any]]:
    """A loopback issuer serving its discovery document and its public key set."""
    key = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "k1"})
    public = {"keys": [key.as_dict(is_private=False)]}
    box: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            docs = {
                "/.well-known/openid-configuration": {
                    "issuer": box["issuer"],
                    "jwks_uri": box["issuer"] + "/jwks",
                    "authorization_endpoint": box["issuer"] + "/auth",
                    "token_endpoint": box["issuer"] + "/token",
                },
                "/jwks": public,
            }
            body = json.dumps(docs.get(self.path, {})).encode()
            self.send_response(200 if self.path in docs else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box["issuer"] = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield box["issuer"], key
    server.shutdown()


def _claims(issuer: str, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": issuer,
        "aud": CLIENT,
        "sub": "agent-42",
        "nonce": NONCE,
        "iat": now,
        "exp": now + 300,
        "acr": "eidas2",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(key: Any, claims: dict[str, object], alg: str = "RS256", kid: str = "k1") -> str:
    return jwt.encode({"alg": alg, "kid": kid}, claims, key).decode()


def _federation(issuer: str) -> AuthlibFederation:
    return AuthlibFederation(issuer, CLIENT, "secret", ("eidas2",))


def test_id_tokens_with_other_algorithms_are_refused(provider: tuple[str, Any]) -> None:
    """Only the named asymmetric algorithms pass: an unsigned token, a token MACed with the
    provider's public key (the classic RS/HS confusion) and one signed by a key the issuer
    did not publish are all refused (ASVS V9.1.1, V9.1.2, V9.1.3, V6.8.2)."""
    issuer, key = provider
    federation = _federation(issuer)
    good = _sign(key, _claims(issuer))
    assert federation._verify(good, NONCE)["sub"] == "agent-42"

    header = {"alg": "none", "typ": "JWT"}
    unsigned = ".".join(_b64(json.dumps(part).encode()) for part in (header, _claims(issuer))) + "."
    public_pem = key.as_pem(is_private=False)
    signing_input = ".".join(
        _b64(json.dumps(part).encode()) for part in ({"alg": "HS256", "kid": "k1"}, _claims(issuer))
    )
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    confused = f"{signing_input}.{_b64(mac)}"  # made by hand: Authlib itself refuses to
    stranger = JsonWebKey.generate_key("RSA", 2048, is_private=True, options={"kid": "k1"})
    foreign = _sign(stranger, _claims(issuer))
    for token in (unsigned, confused, foreign):
        with pytest.raises(Unauthenticated):
            federation._verify(token, NONCE)


def test_expired_and_foreign_id_tokens_are_refused(provider: tuple[str, Any]) -> None:
    """A token outside its lifetime, for another client, from another issuer, without a
    subject or answering another sign-in (nonce) is refused (ASVS V9.2.1, V9.2.2, V9.2.3,
    V10.5.1, V10.5.4)."""
    issuer, key = provider
    federation = _federation(issuer)
    now = int(time.time())
    for claims in (
        _claims(issuer, exp=now - 3600, iat=now - 7200),
        _claims(issuer, aud="another-client"),
        _claims(issuer, iss="https://evil.example"),
        _claims(issuer, sub=None),
        _claims(issuer, nonce="another-sign-in"),
    ):
        with pytest.raises(Unauthenticated):
            federation._verify(_sign(key, claims), NONCE)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
