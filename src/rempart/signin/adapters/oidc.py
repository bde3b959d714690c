"""``AuthlibFederation``: OpenID Connect code flow with PKCE, one provider (ProConnect-shaped).

The provider's metadata must name exactly the configured issuer (ASVS V10.5.3); the ID token
must be signed with one of its published keys (never ``none``), name us as audience, carry
our nonce and be within its validity (ASVS V6.8.2, V10.5.1, V10.5.4). ``acr`` is requested
as an essential claim; what it is worth is decided by the sign-in service, on the server.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import threading
import time
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.jose.errors import JoseError
from authlib.oidc.core import CodeIDToken

from rempart.kernel.errors import InvalidRequest, Unauthenticated
from rempart.signin.model import FederatedClaims, FederationRequest

log = logging.getLogger("rempart.oidc")

SIGNING_ALGS = ["RS256", "PS256", "ES256", "EdDSA"]  # never "none", never HMAC with a public key
METADATA_TTL = 3600.0
LEEWAY_SECONDS = 60
HTTP_TIMEOUT = 10.0


class AuthlibFederation:
    """Implements ``IdentityFederation``."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        acr_values: tuple[str, ...],
        scope: str = "openid email",
    ) -> None:
        self.issuer = issuer  # compared exactly, never normalised
        self.client_id = client_id
        self._secret = client_secret
        self.acr_values = acr_values
        self.scope = scope
        self._metadata: dict[str, Any] | None = None
        self._jwks: Any = None
        self._fetched = 0.0
        self._lock = threading.Lock()

    def _load(self, refresh: bool = False) -> tuple[dict[str, Any], Any]:
        with self._lock:
            stale = time.monotonic() - self._fetched > METADATA_TTL
            if self._metadata is None or refresh or stale:
                url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
                try:
                    meta = httpx.get(url, timeout=HTTP_TIMEOUT).raise_for_status().json()
                    if meta.get("issuer") != self.issuer:
                        raise Unauthenticated(
                            "the identity provider's metadata names another issuer"
                        )
                    jwks = httpx.get(meta["jwks_uri"], timeout=HTTP_TIMEOUT).raise_for_status()
                    self._jwks = JsonWebKey.import_key_set(jwks.json())
                except (httpx.HTTPError, KeyError, ValueError, JoseError) as exc:
                    log.warning(
                        "identity provider unreachable or malformed: %s", type(exc).__name__
                    )
                    raise Unauthenticated("the identity provider is not available") from exc
                self._metadata = meta
                self._fetched = time.monotonic()
            return self._metadata, self._jwks

    def _client(self, redirect_uri: str) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.client_id,
            client_secret=self._secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
            scope=self.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=HTTP_TIMEOUT,
        )

    def authorization_request(self, redirect_uri: str) -> FederationRequest:
        """A fresh request: 256-bit state and nonce, 64-character PKCE verifier (S256)."""
        meta, _ = self._load()
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = generate_token(64)
        claims = {"id_token": {"acr": {"essential": True, "values": list(self.acr_values)}}}
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                meta["authorization_endpoint"],
                state=state,
                code_verifier=verifier,
                nonce=nonce,
                claims=json.dumps(claims, separators=(",", ":")),
            )
        return FederationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def complete(
        self, request: FederationRequest, redirect_uri: str, code: str, issuer: str | None
    ) -> FederatedClaims:
        """Exchange the code (with the PKCE verifier) and verify the ID token."""
        meta, _ = self._load()
        if issuer is not None and issuer != self.issuer:  # RFC 9207 mix-up defence (V10.2.2)
            raise Unauthenticated("the authorization response comes from another issuer")
        if issuer is None and meta.get("authorization_response_iss_parameter_supported"):
            raise InvalidRequest("the authorization response lacks its issuer")
        try:
            with self._client(redirect_uri) as client:
                token = client.fetch_token(
                    meta["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=request.code_verifier,
                    redirect_uri=redirect_uri,
                )
        except Exception as exc:  # any token failure is a refused sign-in
            log.warning("token exchange failed: %s", type(exc).__name__)
            raise Unauthenticated("the identity provider refused the authorization code") from exc
        # A token endpoint answering JSON that is not an object (a list, a string) is refused
        # like any other malformed answer (found by the property tests).
        id_token = token.get("id_token") if isinstance(token, dict) else None
        if not isinstance(id_token, str):
            raise Unauthenticated("the identity provider returned no ID token")
        claims = self._verify(id_token, request.nonce)
        auth_time = claims.get("auth_time")
        amr = claims.get("amr") or []
        return FederatedClaims(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            acr=str(claims.get("acr") or ""),
            auth_time=(
                dt.datetime.fromtimestamp(auth_time, dt.UTC)
                if isinstance(auth_time, int | float)
                else None
            ),
            amr=tuple(str(a) for a in amr) if isinstance(amr, list) else (),
        )

    def _verify(self, id_token: str, nonce: str) -> Any:
        options = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.client_id},
            "sub": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
        }
        for attempt in range(2):  # the provider may have rotated its keys: refresh once
            _, jwks = self._load(refresh=attempt == 1)
            try:
                claims = JsonWebToken(SIGNING_ALGS).decode(
                    id_token,
                    jwks,
                    claims_cls=CodeIDToken,
                    claims_options=options,
                    claims_params={"nonce": nonce, "client_id": self.client_id},
                )
                claims.validate(leeway=LEEWAY_SECONDS)
            except JoseError as exc:
                if attempt == 0 and "key" in type(exc).__name__.lower():
                    continue
                log.warning("ID token refused: %s", type(exc).__name__)
                raise Unauthenticated("the identity provider's ID token is not valid") from exc
            except ValueError as exc:
                if attempt == 0:
                    continue
                raise Unauthenticated("the identity provider's ID token is not valid") from exc
            return claims
        raise Unauthenticated("the identity provider's ID token is not valid")
