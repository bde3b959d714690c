"""``PyWebauthn``: WebAuthn ceremonies with py_webauthn, user verification required."""

from __future__ import annotations

import json
from collections.abc import Sequence

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
    WebAuthnException,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from rempart.kernel.errors import InvalidRequest, Unauthenticated
from rempart.signin.model import NewWebauthnCredential

TIMEOUT_MS = 120_000


class PyWebauthn:
    """Implements ``WebauthnCeremonies`` for one relying party (id and origin from settings)."""

    def __init__(self, rp_id: str, rp_name: str, origin: str) -> None:
        self.rp_id = rp_id
        self.rp_name = rp_name
        self.origin = origin

    def registration_options(
        self, user_handle: bytes, login: str, display_name: str, exclude: Sequence[bytes]
    ) -> tuple[str, bytes]:
        """Creation options: no attestation needed, user verification required."""
        options = generate_registration_options(
            rp_id=self.rp_id,
            rp_name=self.rp_name,
            user_id=user_handle,
            user_name=login,
            user_display_name=display_name,
            timeout=TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=c) for c in exclude],
        )
        return options_to_json(options), options.challenge

    def verify_registration(self, credential_json: str, challenge: bytes) -> NewWebauthnCredential:
        """Check the attestation against the challenge, our origin and RP id."""
        try:
            verified = verify_registration_response(
                credential=credential_json,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
                require_user_verification=True,
            )
        except (InvalidJSONStructure, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InvalidRequest("the credential is not a well-formed WebAuthn response") from exc
        except (InvalidRegistrationResponse, WebAuthnException, ValueError) as exc:
            raise Unauthenticated("the security key's registration could not be verified") from exc
        return NewWebauthnCredential(
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
        )

    def authentication_options(self, allow: Sequence[bytes]) -> tuple[str, bytes]:
        """Request options for the agent's own keys, user verification required."""
        options = generate_authentication_options(
            rp_id=self.rp_id,
            timeout=TIMEOUT_MS,
            allow_credentials=[PublicKeyCredentialDescriptor(id=c) for c in allow],
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return options_to_json(options), options.challenge

    def credential_id(self, credential_json: str) -> bytes:
        """The raw id an assertion names."""
        try:
            data = json.loads(credential_json)
            raw = data.get("rawId") or data["id"]
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidRequest("the credential is not a well-formed WebAuthn response") from exc
        if not isinstance(raw, str) or len(raw) > 1400:
            raise InvalidRequest("the credential is not a well-formed WebAuthn response")
        try:
            return base64url_to_bytes(raw)
        except ValueError as exc:
            raise InvalidRequest("the credential is not a well-formed WebAuthn response") from exc

    def verify_authentication(
        self, credential_json: str, challenge: bytes, public_key: bytes, sign_count: int
    ) -> int:
        """Check the assertion's signature, flags (UV) and counter."""
        try:
            verified = verify_authentication_response(
                credential=credential_json,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
                credential_public_key=public_key,
                credential_current_sign_count=sign_count,
                require_user_verification=True,
            )
        except (InvalidJSONStructure, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InvalidRequest("the credential is not a well-formed WebAuthn response") from exc
        except (InvalidAuthenticationResponse, WebAuthnException, ValueError) as exc:
            raise Unauthenticated("the security key's answer could not be verified") from exc
        return int(verified.new_sign_count)
