#!/usr/bin/env python3
"""Check a Rempart journal inclusion proof alone: no Rempart code, only `cryptography`.

    rempart journal prove 42 --journal URL > proof.json
    python3 verify_inclusion.py proof.json --public-key BASE64   # or the proof on stdin

Checks that the checkpoint is signed (Ed25519) by the key, and that the entry's RFC 9162
inclusion path leads to the signed root. Exit 0 when both hold, 1 otherwise. Without
--public-key the key printed in the proof is used: that shows consistency, not authenticity.
"""

import argparse
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def root_from_path(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes | None:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = sha256(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def check(proof: dict, public_key_b64: str | None) -> list[str]:
    """Every reason the proof fails (empty when it holds)."""
    failures = []
    cp = proof["checkpoint"]
    key = base64.b64decode(public_key_b64 or proof["public_key"])
    if hashlib.sha256(key).hexdigest()[:16] != cp["key_id"]:
        failures.append("the checkpoint names another signing key")
    fields = ("tree_size", "root", "chain_head", "time", "kind", "key_id")
    signed = "rempart journal checkpoint v1\n" + "".join(f"{f} {cp[f]}\n" for f in fields)
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(
            base64.b64decode(cp["signature"]), signed.encode("ascii")
        )
    except (InvalidSignature, ValueError):
        failures.append("bad checkpoint signature")
    entry = proof["entry_canonical"].encode("ascii")
    leaf = sha256(b"\x00" + entry)
    if json.loads(entry) != proof["entry"] or leaf.hex() != proof["leaf_hash"]:
        failures.append("the entry shown is not the entry hashed")
    if proof["tree_size"] != cp["tree_size"] or proof["leaf_index"] != proof["seq"] - 1:
        failures.append("the proof's tree size or position disagrees with its checkpoint")
    path = [bytes.fromhex(p) for p in proof["inclusion_path"]]
    root = root_from_path(proof["leaf_index"], cp["tree_size"], leaf, path)
    if root is None or root.hex() != cp["root"]:
        failures.append("the inclusion path does not lead to the signed root")
    return failures


def verify(proof: object, public_key_b64: str | None) -> list[str]:
    """``check``, with any malformed proof (wrong types, missing fields) a failure too."""
    try:
        if not isinstance(proof, dict):
            return ["unreadable proof: not a JSON object"]
        return check(proof, public_key_b64)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        return [f"unreadable proof: {type(exc).__name__}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("proof", nargs="?", help="proof JSON file (default: stdin)")
    parser.add_argument("--public-key", help="trusted Ed25519 public key, base64")
    args = parser.parse_args()
    try:
        if args.proof:
            with open(args.proof, encoding="utf-8") as f:
                proof = json.load(f)
        else:
            proof = json.load(sys.stdin)
        failures = verify(proof, args.public_key)
    except (OSError, ValueError) as exc:
        failures = [f"unreadable proof: {exc!r}"]
    for reason in failures:
        print(f"FAIL: {reason}")
    if not failures:
        print(
            f"OK: entry {proof['seq']} is in the journal of {proof['tree_size']} entries "
            f"signed at {proof['checkpoint']['time']}"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
