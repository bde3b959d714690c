"""Property tests of what the identity provider sends back (``AuthlibFederation``): the token
endpoint's answer and the ID token in it. Any answer is a session's claims or a refusal
(401/400), never a crash; an ID token is taken only when it is signed by the provider's key
and names our issuer, audience and nonce within its validity (ASVS 5.0 V10.5.1, V10.5.3,
V10.5.4, V6.8.2, V9.1.1 tokens verified before use, V9.2.1 time window)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.jose import JsonWebKey, jwt
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.kernel.errors import InvalidRequest, Unauthenticated
from rempart.signin.adapters.oidc import AuthlibFederation
from rempart.signin.model import FederationRequest

ISSUER = "https://idp.test"
CLIENT_ID = "rempart"
NONCE = "n-0123456789"
KEY = JsonWebKey.generate_key("EC", "P-256", is_private=True)
OTHER_KEY = JsonWebKey.generate_key("EC", "P-256", is_private=True)
REFUSED = (InvalidRequest, Unauthenticated)


def federation(answer: httpx.Response | None = None) -> AuthlibFederation:
    """A federation whose metadata and keys are already loaded (no network)."""
    fed = AuthlibFederation(ISSUER, CLIENT_ID, "client-secret", ("eidas2",))
    fed._metadata = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/jwks",
    }
    public = KEY.as_dict(is_private=False)
    public["kid"] = "k1"
    fed._jwks = JsonWebKey.import_key_set({"keys": [public]})
    fed._fetched = time.monotonic()
    if answer is not None:

        def client(redirect_uri: str) -> OAuth2Client:
            return OAuth2Client(
                client_id=CLIENT_ID,
                client_secret="client-secret",
                redirect_uri=redirect_uri,
                transport=httpx.MockTransport(lambda _request: answer),
            )

        fed._client = client  # type: ignore[method-assign]
    return fed


FED = federation()


def id_token(claims: dict[str, Any], key: Any = KEY, alg: str = "ES256") -> str:
    return jwt.encode({"alg": alg, "kid": "k1"}, claims, key).decode()


def good_claims() -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "sub-1",
        "nonce": NONCE,
        "iat": now,
        "exp": now + 300,
        "acr": "eidas2",
    }


def test_a_good_id_token_is_taken() -> None:
    claims = FED._verify(id_token(good_claims()), NONCE)
    assert claims["sub"] == "sub-1"


@given(st.one_of(st.text(max_size=300), st.binary(max_size=200).map(lambda b: b.hex())))
def test_any_text_as_id_token_is_refused(token: str) -> None:
    with pytest.raises(Unauthenticated):
        FED._verify(token, NONCE)


@given(
    iss=st.sampled_from([ISSUER, ISSUER + "/", "https://evil.test", None]),
    aud=st.sampled_from([CLIENT_ID, "someone-else", [CLIENT_ID], ["someone-else"], None]),
    nonce=st.sampled_from([NONCE, "other-nonce", None]),
    sub=st.sampled_from(["sub-1", None]),
    exp_in=st.sampled_from([300, -3600, None]),
    iat_in=st.sampled_from([0, -30, None]),
)
@settings(max_examples=150)
def test_an_id_token_is_taken_only_when_every_claim_checked_is_ours(
    iss: str | None,
    aud: str | list[str] | None,
    nonce: str | None,
    sub: str | None,
    exp_in: int | None,
    iat_in: int | None,
) -> None:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": iss,
        "aud": aud,
        "nonce": nonce,
        "sub": sub,
        "exp": None if exp_in is None else now + exp_in,
        "iat": None if iat_in is None else now + iat_in,
    }
    claims = {k: v for k, v in values.items() if v is not None}
    ours = (
        iss == ISSUER
        and aud in (CLIENT_ID, [CLIENT_ID])
        and nonce == NONCE
        and sub is not None
        and exp_in is not None
        and exp_in > 0
        and iat_in is not None
    )
    try:
        FED._verify(id_token(claims), NONCE)
    except Unauthenticated:
        assert not ours, claims
        return
    assert ours, claims


@given(st.sampled_from(["other-key", "none", "HS256"]))
def test_an_id_token_not_signed_by_the_providers_key_is_refused(how: str) -> None:
    claims = good_claims()
    if how == "other-key":
        token = id_token(claims, OTHER_KEY)
    elif how == "none":
        header = {"alg": "none", "kid": "k1"}
        token = ".".join(
            [
                _b64(json.dumps(header).encode()),
                _b64(json.dumps(claims).encode()),
                "",
            ]
        )
    else:  # the public key used as an HMAC secret (the classic algorithm confusion)
        secret = json.dumps(KEY.as_dict(is_private=False)).encode()
        token = jwt.encode({"alg": "HS256", "kid": "k1"}, claims, secret).decode()
    with pytest.raises(Unauthenticated):
        FED._verify(token, NONCE)


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
token_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=100),
    st.builds(
        lambda extra, token: json.dumps(
            {"access_token": "a", "token_type": "Bearer", "id_token": token, **extra}
        ).encode(),
        st.dictionaries(st.sampled_from(["expires_in", "scope", "error"]), json_values),
        st.one_of(json_values, st.text(max_size=50), st.just(id_token(good_claims(), OTHER_KEY))),
    ),
)


@given(
    status=st.sampled_from([200, 200, 200, 400, 401, 500, 503]),
    body=token_bodies,
    content_type=st.sampled_from(["application/json", "text/html", "application/x-www-form"]),
)
@settings(max_examples=150, deadline=None)
def test_any_token_endpoint_answer_is_refused_unless_it_holds_a_good_id_token(
    status: int, body: bytes, content_type: str
) -> None:
    answer = httpx.Response(status, content=body, headers={"content-type": content_type})
    fed = federation(answer)
    request = FederationRequest(url="", state="s", nonce=NONCE, code_verifier="v" * 64)
    with pytest.raises(REFUSED):
        fed.complete(request, "https://rempart.test/auth/oidc/callback", "code", ISSUER)


def test_a_token_endpoint_answer_with_a_good_id_token_gives_its_claims() -> None:
    body = json.dumps(
        {"access_token": "a", "token_type": "Bearer", "id_token": id_token(good_claims())}
    ).encode()
    fed = federation(
        httpx.Response(200, content=body, headers={"content-type": "application/json"})
    )
    request = FederationRequest(url="", state="s", nonce=NONCE, code_verifier="v" * 64)
    claims = fed.complete(request, "https://rempart.test/auth/oidc/callback", "code", ISSUER)
    assert (claims.issuer, claims.subject, claims.acr) == (ISSUER, "sub-1", "eidas2")
