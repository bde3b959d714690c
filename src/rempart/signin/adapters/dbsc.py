"""``Es256DeviceProofs``: the JWTs of Device Bound Session Credentials, checked with
``cryptography``.

The W3C WebAppSec draft (DBSC): the browser keeps a P-256 key (in a TPM where it can) and
signs ``dbsc+jwt`` tokens with ES256: at registration, the header carries the public key as a
JWK and the payload the server's challenge as ``jti``; at each refresh, the same with the
stored key. Only ES256 is accepted: "none", HMAC or a key swapped in at refresh never pass.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from rempart.signin.model import DeviceProof

MAX_TOKEN = 4096  # a registration JWT with its key is well under 1 KiB
COORDINATE = 32  # P-256: 32-byte coordinates, a 64-byte raw signature


def _b64(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def _json(part: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64(part))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("not JSON") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")  # noqa: TRY004 - one error type for any bad input
    return value


def canonical_jwk(jwk: object) -> str:
    """The public key as a compact JSON JWK (kty, crv, x, y only), checked to be on P-256."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError("the key must be an EC P-256 JWK")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise ValueError("the key lacks its coordinates")  # noqa: TRY004 - as above
    _public_key(x, y)
    return json.dumps({"crv": "P-256", "kty": "EC", "x": x, "y": y}, separators=(",", ":"))


def _public_key(x: str, y: str) -> ec.EllipticCurvePublicKey:
    xb, yb = _b64(x), _b64(y)
    if len(xb) != COORDINATE or len(yb) != COORDINATE:
        raise ValueError("the key's coordinates are not P-256's")
    try:
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(xb, "big"), int.from_bytes(yb, "big"), ec.SECP256R1()
        ).public_key()
    except ValueError:
        raise ValueError("the key is not on the curve") from None


class Es256DeviceProofs:
    """Implements ``DeviceProofs``."""

    def verify(self, token: str, public_key: str | None) -> DeviceProof:
        """The key and challenge of a ``dbsc+jwt`` signed with ES256 by the right key."""
        if not token or len(token) > MAX_TOKEN or token.count(".") != 2:
            raise ValueError("not a compact JWT")
        head_b64, body_b64, sig_b64 = token.split(".")
        header, claims = _json(head_b64), _json(body_b64)
        if header.get("alg") != "ES256":
            raise ValueError("only ES256 is accepted")
        if header.get("typ") != "dbsc+jwt":
            raise ValueError("the JWT's type must be dbsc+jwt")
        key_json = canonical_jwk(header.get("jwk")) if public_key is None else public_key
        jwk = json.loads(key_json)
        key = _public_key(jwk["x"], jwk["y"])
        raw = _b64(sig_b64)
        if len(raw) != 2 * COORDINATE:
            raise ValueError("the signature is not a raw ES256 one")
        der = encode_dss_signature(
            int.from_bytes(raw[:COORDINATE], "big"), int.from_bytes(raw[COORDINATE:], "big")
        )
        try:
            key.verify(der, f"{head_b64}.{body_b64}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise ValueError("the signature does not verify with the session's key") from None
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise ValueError("the JWT carries no challenge (jti)")
        return DeviceProof(key_json, jti)
