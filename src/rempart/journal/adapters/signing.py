"""Ed25519 signatures for journal checkpoints (pyca/cryptography)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rempart.journal.integrity import Checkpoint, SignatureCheck, key_id_of

_RAW = serialization.Encoding.Raw
_RAW_PRIVATE = serialization.PrivateFormat.Raw
_RAW_PUBLIC = serialization.PublicFormat.Raw
_NO_ENCRYPTION = serialization.NoEncryption()


class Ed25519Signer:
    """Implements ``CheckpointSigner`` with an Ed25519 private key."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public_key = key.public_key().public_bytes(_RAW, _RAW_PUBLIC)
        self.key_id = key_id_of(self.public_key)

    @classmethod
    def generate(cls) -> Ed25519Signer:
        """A fresh random key (demo mode only: production keys come from the settings)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_raw(cls, raw: bytes) -> Ed25519Signer:
        """From the 32-byte raw private key."""
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    @classmethod
    def from_base64(cls, text: str) -> Ed25519Signer:
        """From the base64 of the 32-byte raw private key (``REMPART_JOURNAL_SIGNING_KEY``)."""
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except binascii.Error as exc:
            raise ValueError("the journal signing key is not valid base64") from exc
        if len(raw) != 32:
            raise ValueError("the journal signing key must be 32 raw Ed25519 bytes, base64")
        return cls.from_raw(raw)

    def private_raw(self) -> bytes:
        """The raw private key (stored only for a demo journal)."""
        return self._key.private_bytes(_RAW, _RAW_PRIVATE, _NO_ENCRYPTION)

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature of ``message``."""
        return self._key.sign(message)


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def checkpoint_checker(keys: Mapping[str, bytes]) -> SignatureCheck:
    """A check of checkpoint signatures against trusted public keys, by key id."""

    def check(cp: Checkpoint) -> bool:
        key = keys.get(cp.key_id)
        if key is None or not verify_signature(key, cp.signed_text(), cp.signature):
            return False
        # A published checkpoint's C2SP form is signed too: both must hold.
        if cp.origin or cp.note_signature:
            return verify_signature(key, cp.note_text().encode("utf-8"), cp.note_signature)
        return True

    return check
