"""An independent reader of what the journal publishes, written from the specifications alone
(c2sp.org/signed-note, c2sp.org/tlog-checkpoint, c2sp.org/tlog-cosignature, RFC 9162 §2.1.4)
and sharing no code with ``rempart.journal``: the tests check the project's output with it,
so a mistake made twice in the same place cannot pass unseen.

The consistency check here follows the proof's *definition* (SUBPROOF, §2.1.4.1) back from
the top of the tree, where the project's verifier runs the iterative algorithm of §2.1.4.2.
"""

from __future__ import annotations

import base64
import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH = "\u2014".encode()


class Rejected(AssertionError):
    """The published form does not hold."""


def vkey_parts(vkey: str) -> tuple[str, bytes, int, bytes]:
    """``name+hexhash+base64(alg ‖ key)`` → (name, key id, algorithm byte, public key)."""
    name, hexhash, b64 = vkey.strip().split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    alg, key = raw[0], raw[1:]
    key_id = hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + key).digest()[:4]
    if key_id.hex() != hexhash:
        raise Rejected("the verifier key's hash does not match")
    return name, key_id, alg, key


def split_note(note: bytes) -> tuple[bytes, list[tuple[str, bytes, bytes]]]:
    """(signed text, [(key name, key id, signature)]) of a signed note."""
    at = note.rindex(b"\n\n")
    text, sigs = note[: at + 1], note[at + 2 :]
    if not sigs.endswith(b"\n"):
        raise Rejected("signature block must end with a newline")
    found = []
    for line in sigs[:-1].split(b"\n"):
        if not line.startswith(EM_DASH + b" "):
            raise Rejected(f"not a signature line: {line!r}")
        name, b64 = line[len(EM_DASH) + 1 :].split(b" ")
        raw = base64.b64decode(b64, validate=True)
        found.append((name.decode(), raw[:4], raw[4:]))
    return text, found


def _ed25519(key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def verified_text(note: bytes, vkey: str) -> bytes:
    """The note's text, once a signature by ``vkey`` (an Ed25519, type 0x01 key) verifies."""
    name, key_id, alg, key = vkey_parts(vkey)
    if alg != 1:
        raise Rejected("not an Ed25519 note key")
    text, sigs = split_note(note)
    mine = [s for n, i, s in sigs if n == name and i == key_id]
    if not mine or not all(_ed25519(key, text, s) for s in mine):
        raise Rejected("no valid signature by that key")
    return text


def checkpoint(text: bytes) -> tuple[str, int, bytes]:
    """(origin, tree size, root hash) of a checkpoint's text."""
    lines = text.decode().split("\n")
    if lines[-1] != "" or len(lines) < 4:
        raise Rejected("a checkpoint is at least three lines")
    size = int(lines[1])
    if str(size) != lines[1]:
        raise Rejected("tree size with leading zeroes")
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise Rejected("root is not 32 bytes")
    return lines[0], size, root


def cosigned_at(note: bytes, witness_vkey: str) -> int:
    """The time of ``witness_vkey``'s valid cosignature (type 0x04) on the note."""
    name, key_id, alg, key = vkey_parts(witness_vkey)
    if alg != 4:
        raise Rejected("not a cosignature key")
    text, sigs = split_note(note)
    for n, i, s in sigs:
        if n == name and i == key_id and len(s) == 72:
            (t,) = struct.unpack(">Q", s[:8])
            if _ed25519(key, b"cosignature/v1\ntime %d\n" % t + text, s[8:]):
                return int(t)
    raise Rejected("no valid cosignature by that witness")


def _h(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def consistent(m: int, n: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162: does ``proof`` show the tree of ``m`` leaves is a prefix of that of ``n``?"""
    if m > n or m < 0:
        return False
    if m == n:
        return not proof and old_root == new_root
    if m == 0:
        return not proof
    path = list(proof)

    def sub(m: int, n: int, whole: bool) -> tuple[bytes, bytes]:
        # (hash of the old tree's part of this range, hash of the whole range), consuming
        # the proof from its end: SUBPROOF appended the top sibling last.
        if m == n:
            if whole:
                return old_root, old_root
            h = path.pop()
            return h, h
        k = 1
        while k * 2 < n:
            k *= 2
        sibling = path.pop()
        if m <= k:
            old, new = sub(m, k, whole)
            return old, _h(b"\x01", new, sibling)
        old, new = sub(m - k, n - k, False)
        return _h(b"\x01", sibling, old), _h(b"\x01", sibling, new)

    try:
        old, new = sub(m, n, True)
    except IndexError:
        return False
    return not path and old == old_root and new == new_root
