"""Property tests of the WebAuthn payloads a browser sends (``PyWebauthn``): any JSON, any
bytes, any change to a genuine response is refused as a 400 or a 401, never accepted and
never a crash (ASVS 5.0 V2.2.1 validated input, V6.5.x phishing-resistant factors verified:
signature, challenge, origin, relying party, user verification)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.kernel.errors import InvalidRequest, Unauthenticated
from rempart.signin.adapters.webauthn import PyWebauthn
from tests.support.authenticator import SoftAuthenticator, b64u, unb64u

ORIGIN = "https://rempart.test"
RP = PyWebauthn("rempart.test", "Rempart", ORIGIN)
REFUSED = (InvalidRequest, Unauthenticated)

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
b64_text = st.binary(max_size=80).map(b64u)


def _registration() -> tuple[SoftAuthenticator, dict[str, Any], bytes]:
    options_json, challenge = RP.registration_options(b"user-handle", "tm.dupont", "TM", [])
    key = SoftAuthenticator(ORIGIN)
    return key, key.create(json.loads(options_json)), challenge


KEY, GENUINE_REGISTRATION, REG_CHALLENGE = _registration()
REGISTERED = RP.verify_registration(json.dumps(GENUINE_REGISTRATION), REG_CHALLENGE)
AUTH_OPTIONS_JSON, AUTH_CHALLENGE = RP.authentication_options([REGISTERED.credential_id])
GENUINE_ASSERTION = KEY.get(json.loads(AUTH_OPTIONS_JSON))


def test_the_genuine_responses_are_accepted() -> None:
    """The baseline the mutations start from: a real key's answers verify."""
    count = RP.verify_authentication(
        json.dumps(GENUINE_ASSERTION), AUTH_CHALLENGE, REGISTERED.public_key, 0
    )
    assert count == 1


@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps)))
def test_any_text_as_credential_id_is_bytes_or_a_400(text: str) -> None:
    try:
        raw = RP.credential_id(text)
    except InvalidRequest:
        return
    assert isinstance(raw, bytes)


@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps)))
@settings(max_examples=150)
def test_any_json_as_registration_is_refused(text: str) -> None:
    with pytest.raises(REFUSED):
        RP.verify_registration(text, REG_CHALLENGE)


@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps)))
@settings(max_examples=150)
def test_any_json_as_assertion_is_refused(text: str) -> None:
    with pytest.raises(REFUSED):
        RP.verify_authentication(text, AUTH_CHALLENGE, REGISTERED.public_key, 0)


FIELDS = ["clientDataJSON", "authenticatorData", "signature"]


@given(
    st.sampled_from(FIELDS),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=1, max_value=255),
)
@settings(max_examples=200)
def test_a_changed_byte_in_a_genuine_assertion_is_refused(field: str, where: int, xor: int) -> None:
    """One flipped byte anywhere in what the key signed, or in the signature, never passes."""
    data = bytearray(unb64u(GENUINE_ASSERTION["response"][field]))
    data[where % len(data)] ^= xor
    forged = json.loads(json.dumps(GENUINE_ASSERTION))
    forged["response"][field] = b64u(bytes(data))
    with pytest.raises(REFUSED):
        RP.verify_authentication(json.dumps(forged), AUTH_CHALLENGE, REGISTERED.public_key, 0)


@given(st.sampled_from([*FIELDS, "userHandle"]), st.one_of(json_values, b64_text))
@settings(max_examples=200)
def test_a_replaced_field_in_a_genuine_assertion_is_refused(field: str, value: object) -> None:
    forged = json.loads(json.dumps(GENUINE_ASSERTION))
    if value == forged["response"].get(field):
        return
    forged["response"][field] = value
    try:
        RP.verify_authentication(json.dumps(forged), AUTH_CHALLENGE, REGISTERED.public_key, 0)
    except REFUSED:
        return
    # Only the user handle is not signed: the key still proved itself, with the right counter.
    assert field == "userHandle"


@given(st.binary(min_size=1, max_size=64))
def test_an_assertion_for_another_challenge_is_refused(challenge: bytes) -> None:
    if challenge == AUTH_CHALLENGE:
        return
    with pytest.raises(REFUSED):
        RP.verify_authentication(json.dumps(GENUINE_ASSERTION), challenge, REGISTERED.public_key, 0)


@given(
    st.sampled_from(["clientDataJSON", "attestationObject"]),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=1, max_value=255),
)
@settings(max_examples=200)
def test_a_changed_byte_in_a_genuine_registration_is_refused_or_changes_nothing_signed(
    field: str, where: int, xor: int
) -> None:
    """A registration with ``none`` attestation is not signed: a change is refused (400, 401)
    unless what is checked (type, challenge, origin, relying party, flags) is left intact."""
    data = bytearray(unb64u(GENUINE_REGISTRATION["response"][field]))
    data[where % len(data)] ^= xor
    forged = json.loads(json.dumps(GENUINE_REGISTRATION))
    forged["response"][field] = b64u(bytes(data))
    try:
        new = RP.verify_registration(json.dumps(forged), REG_CHALLENGE)
    except REFUSED:
        return
    assert isinstance(new.credential_id, bytes)
    if field == "clientDataJSON":
        seen = json.loads(bytes(data))
        assert seen["type"] == "webauthn.create"
        assert unb64u(seen["challenge"]) == REG_CHALLENGE
        assert seen["origin"] == ORIGIN
