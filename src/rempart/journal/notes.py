"""The journal's published forms: C2SP signed notes, checkpoints and cosignatures.

Text formats only (pure; the Ed25519 arithmetic is the signing adapter's), so that tools
written for Certificate Transparency, Go's checksum database or Sigstore read what Rempart
publishes:

- a **signed note** (c2sp.org/signed-note): a text ending in a newline, a blank line, then
  signature lines ``— <key name> base64(4-byte key hash ‖ signature)``;
- a **checkpoint** (c2sp.org/tlog-checkpoint): the note text ``<origin>\\n<tree size>\\n<base64
  root>\\n``, signed by the log with Ed25519 (signature type 0x01) under the key name
  ``<origin>``;
- a **cosignature** (c2sp.org/tlog-cosignature): a witness's Ed25519 signature (type 0x04) of
  ``cosignature/v1\\ntime <unix seconds>\\n`` followed by the checkpoint's note text, its
  signature bytes being the 8-byte big-endian time followed by the 64-byte signature;
- a **verifier key** ``<name>+<hex key hash>+base64(type ‖ public key)`` and its private twin
  ``PRIVATE+KEY+<name>+<hex key hash>+base64(type ‖ private key)``.

Every parser here raises ``NoteError`` (a ``ValueError``) on anything that is not exactly the
format, never another exception: what it reads comes from files and the network.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

ED25519 = 0x01  # a log's (or any) Ed25519 note signature
COSIGNATURE_V1 = 0x04  # a witness's timestamped Ed25519 cosignature
ED25519_PUBLIC_SIZE = 32
ED25519_SIGNATURE_SIZE = 64
COSIGNATURE_SIZE = 8 + ED25519_SIGNATURE_SIZE
KEY_HASH_SIZE = 4
ROOT_SIZE = 32
MAX_SIGNATURES = 64  # the spec asks verifiers to accept at least 16
MAX_NOTE_BYTES = 1 << 16
_DASH = "\u2014 "
_PRIVATE = "PRIVATE+KEY+"


class NoteError(ValueError):
    """Not a well-formed note, checkpoint, cosignature or key."""


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise NoteError("not valid base64") from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def check_name(name: str) -> str:
    """A key name (or origin) as the formats allow it: non-empty, no spaces, no ``+``."""
    if not name or "+" in name or any(c.isspace() for c in name) or not name.isprintable():
        raise NoteError(f"not a valid key name: {name!r}")
    return name


def key_hash(name: str, sig_type: int, public_key: bytes) -> bytes:
    """The 4-byte key ID: ``SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]``."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key).digest()[
        :KEY_HASH_SIZE
    ]


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A public key as the signed-note ecosystem names it."""

    name: str
    key_hash: bytes
    sig_type: int
    public_key: bytes

    def text(self) -> str:
        """``<name>+<hex key hash>+base64(type ‖ public key)``."""
        return f"{self.name}+{self.key_hash.hex()}+{_b64(bytes([self.sig_type]) + self.public_key)}"


def verifier_key(name: str, sig_type: int, public_key: bytes) -> VerifierKey:
    """The verifier key of ``public_key`` under ``name`` for signatures of ``sig_type``."""
    check_name(name)
    return VerifierKey(name, key_hash(name, sig_type, public_key), sig_type, public_key)


def parse_verifier_key(text: str) -> VerifierKey:
    """Read ``<name>+<hex key hash>+base64(type ‖ key)``; the hash must match the key."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key is NAME+HASH+KEY")
    name, hash_hex, key_b64 = parts
    check_name(name)
    raw = _b64decode(key_b64)
    if len(raw) != 1 + ED25519_PUBLIC_SIZE or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("only Ed25519 verifier keys (type 0x01 or 0x04) are supported")
    vkey = verifier_key(name, raw[0], raw[1:])
    if len(hash_hex) != 2 * KEY_HASH_SIZE or hash_hex.lower() != vkey.key_hash.hex():
        raise NoteError("the verifier key's hash does not match its key")
    return vkey


def signer_key(name: str, sig_type: int, public_key: bytes, private_key: bytes) -> str:
    """``PRIVATE+KEY+<name>+<hex key hash>+base64(type ‖ 32-byte private key)``."""
    check_name(name)
    return (
        f"{_PRIVATE}{name}+{key_hash(name, sig_type, public_key).hex()}+"
        f"{_b64(bytes([sig_type]) + private_key)}"
    )


def parse_signer_key(text: str) -> tuple[str, int, bytes, bytes]:
    """Read a private key: (name, signature type, 32-byte private key, expected key hash)."""
    text = text.strip()
    if not text.startswith(_PRIVATE):
        raise NoteError("a signer key starts with PRIVATE+KEY+")
    parts = text.removeprefix(_PRIVATE).split("+", 2)
    if len(parts) != 3:
        raise NoteError("a signer key is PRIVATE+KEY+NAME+HASH+KEY")
    name, hash_hex, key_b64 = parts
    check_name(name)
    raw = _b64decode(key_b64)
    if len(raw) != 1 + ED25519_PUBLIC_SIZE or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("only Ed25519 signer keys (type 0x01 or 0x04) are supported")
    try:
        expected = bytes.fromhex(hash_hex)
    except ValueError as exc:
        raise NoteError("the signer key's hash is not hexadecimal") from exc
    if len(expected) != KEY_HASH_SIZE:
        raise NoteError("the signer key's hash is not 4 bytes")
    return name, raw[0], raw[1:], expected


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: who signed (name and key hash) and the signature bytes."""

    name: str
    key_hash: bytes
    signature: bytes

    def line(self) -> str:
        """``— <name> base64(key hash ‖ signature)`` and its newline."""
        return f"{_DASH}{self.name} {_b64(self.key_hash + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A note text (ending in a newline) and its signatures."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def encode(self) -> bytes:
        """The signed note as published."""
        return (self.text + "\n" + "".join(s.line() for s in self.signatures)).encode("utf-8")

    def by(self, name: str, key_hash_: bytes) -> list[NoteSignature]:
        """The signatures by the key named ``name`` with that key hash."""
        return [s for s in self.signatures if s.name == name and s.key_hash == key_hash_]


def parse_note(data: bytes | str) -> Note:  # noqa: PLR0912 - one check per rule
    """Read a signed note; raise ``NoteError`` unless it is exactly the format."""
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise NoteError("the note is too large")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("a note is UTF-8") from exc
    else:
        text = data
    if len(text) > MAX_NOTE_BYTES:
        raise NoteError("the note is too large")
    if any(c < " " and c != "\n" for c in text):
        raise NoteError("a note holds no control character but newlines")
    cut = text.rfind("\n\n")
    if cut < 0:
        raise NoteError("a note is a text, a blank line and signature lines")
    body, block = text[: cut + 1], text[cut + 2 :]
    if not block.endswith("\n"):
        raise NoteError("the last signature line must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    signatures = []
    for line in lines:
        if not line.startswith(_DASH):
            raise NoteError("a signature line starts with an em dash and a space")
        name, sep, sig_b64 = line[len(_DASH) :].partition(" ")
        if not sep or " " in sig_b64:
            raise NoteError("a signature line is '— NAME SIGNATURE'")
        check_name(name)
        raw = _b64decode(sig_b64)
        if len(raw) <= KEY_HASH_SIZE:
            raise NoteError("a signature holds a key hash and signature bytes")
        signatures.append(NoteSignature(name, raw[:KEY_HASH_SIZE], raw[KEY_HASH_SIZE:]))
    return Note(body, tuple(signatures))


@dataclass(frozen=True, slots=True)
class TreeHead:
    """What a checkpoint states: the log, its size and its RFC 9162 root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The checkpoint's note text."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "\n".join(lines) + "\n"


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    """The note text of a checkpoint with no extension line."""
    return TreeHead(check_name(origin), size, root).text()


def parse_checkpoint(text: str) -> TreeHead:
    """Read a checkpoint's note text (origin, size, root, extension lines)."""
    if not text.endswith("\n"):
        raise NoteError("a checkpoint ends with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint has an origin, a tree size and a root hash")
    origin, size_text, root_b64, *extensions = lines
    if not origin:
        raise NoteError("the checkpoint's origin is empty")
    # A tree size is a uint64 (at most 20 digits); a longer one is refused before int() reads
    # it, which raises a bare ValueError past 4,300 digits (found by the property tests).
    if (
        len(size_text) > 20
        or not size_text.isascii()
        or not size_text.isdigit()
        or size_text != str(int(size_text))
        or int(size_text) >= 1 << 64
    ):
        raise NoteError("the tree size is a decimal number without leading zeroes")
    root = _b64decode(root_b64)
    if len(root) != ROOT_SIZE:
        raise NoteError("the root hash is 32 bytes")
    if any(not e for e in extensions):
        raise NoteError("extension lines are not empty")
    return TreeHead(origin, int(size_text), root, tuple(extensions))


def cosignature_message(timestamp: int, checkpoint_note_text: str) -> bytes:
    """What a witness signs: ``cosignature/v1``, ``time T``, then the checkpoint's text."""
    if not 0 <= timestamp < 1 << 63:
        raise NoteError("a cosignature time is between 0 and 2^63 - 1")
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_note_text}".encode()


def cosignature_bytes(timestamp: int, signature: bytes) -> bytes:
    """A cosignature's signature bytes: the time (8 bytes, big-endian), then the signature."""
    return struct.pack(">Q", timestamp) + signature


def split_cosignature(raw: bytes) -> tuple[int, bytes]:
    """A cosignature's (time, Ed25519 signature)."""
    if len(raw) != COSIGNATURE_SIZE:
        raise NoteError("an Ed25519 cosignature is 8 bytes of time and 64 of signature")
    (timestamp,) = struct.unpack(">Q", raw[:8])
    if timestamp >= 1 << 63:
        raise NoteError("a cosignature time is below 2^63")
    return timestamp, raw[8:]
