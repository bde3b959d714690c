#!/usr/bin/env python3
"""Check a Rempart incident evidence pack offline: no Rempart code, only `cryptography`.

    rempart incident report ... --out DIR
    python3 verify_evidence.py DIR/evidence [--public-key BASE64]

Checks, in order: the manifest is in its canonical form and lists exactly the pack's files
with their SHA-256 and size; the checkpoints are signed (Ed25519) by the key the pack names
(or by --public-key, the trust anchor an intruder cannot have replaced); every journal entry
hashes to a leaf whose RFC 9162 inclusion path leads to a signed root; when the journal
publishes C2SP checkpoints, the published one is a signed note by the log's key, consistent
(RFC 9162 consistency proof) with the pack's, and each cosignature by a --witness-key given
verifies. Exit 0 when all hold; otherwise 1, the reason on the last line.
"""

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "rempart-evidence-pack/v1"
CHECKPOINT_HEADER = "rempart journal checkpoint v1"
SIGNED_FIELDS = ("tree_size", "root", "chain_head", "time", "kind", "key_id")


class Broken(Exception):
    """The pack is not intact: the message says why."""


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def canonical(value: object) -> bytes:
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=True) + "\n").encode("ascii")


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


def check_manifest(pack: Path) -> dict:
    path = pack / "manifest.json"
    try:
        raw = path.read_bytes()
        manifest = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise Broken(f"manifest.json unreadable: {exc}") from None
    if not isinstance(manifest, dict) or canonical(manifest) != raw:
        raise Broken("manifest.json was altered (not in its canonical form)")
    if manifest.get("format") != FORMAT:
        raise Broken(f"manifest.json: unknown format {manifest.get('format')!r}")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise Broken("manifest.json lists no files")
    present = {p.name for p in pack.iterdir() if p.name != "manifest.json"}
    for name in sorted(present - set(files)):
        raise Broken(f"{name} is not listed in the manifest (added to the pack)")
    for name in sorted(set(files) - present):
        raise Broken(f"{name} is listed in the manifest but missing")
    for name in sorted(files):
        data = (pack / name).read_bytes()
        want = files[name]
        if len(data) != want.get("bytes") or hashlib.sha256(data).hexdigest() != want.get("sha256"):
            raise Broken(f"{name} was altered (its SHA-256 differs from the manifest's)")
    return manifest


def load_keys(pack: Path, trusted: str | None) -> dict[str, bytes]:
    keys = {}
    for line in (pack / "public_key.txt").read_text(encoding="ascii").splitlines():
        key_id, b64 = line.split()
        key = base64.b64decode(b64, validate=True)
        if hashlib.sha256(key).hexdigest()[:16] != key_id:
            raise Broken(f"public_key.txt: key {key_id} does not match its id")
        keys[key_id] = key
    if trusted:
        key = base64.b64decode(trusted, validate=True)
        key_id = hashlib.sha256(key).hexdigest()[:16]
        if key_id not in keys or keys[key_id] != key:
            raise Broken("the pack's checkpoints are not signed by the trusted key")
        keys = {key_id: key}
    return keys


def check_checkpoints(pack: Path, keys: dict[str, bytes]) -> dict[int, bytes]:
    checkpoints = json.loads((pack / "checkpoints.json").read_bytes())
    roots = {}
    for cp in checkpoints:
        signed = CHECKPOINT_HEADER + "\n" + "".join(f"{f} {cp[f]}\n" for f in SIGNED_FIELDS)
        key = keys.get(cp["key_id"])
        if key is None:
            raise Broken(f"checkpoint of size {cp['tree_size']}: no key {cp['key_id']} to check")
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(
                base64.b64decode(cp["signature"]), signed.encode("ascii")
            )
        except (InvalidSignature, ValueError):
            raise Broken(f"checkpoint of size {cp['tree_size']}: bad signature") from None
        roots[int(cp["tree_size"])] = bytes.fromhex(cp["root"])
    return roots


def check_entries(pack: Path, roots: dict[int, bytes], manifest: dict) -> int:
    count, last = 0, 0
    with (pack / "entries.jsonl").open("rb") as f:
        for number, line in enumerate(f, 1):
            item = json.loads(line)
            seq = int(item["seq"])
            if seq <= last:
                raise Broken(f"entries.jsonl line {number}: entries out of order")
            last = seq
            entry = item["entry"].encode("ascii")
            json.loads(entry)  # a canonical entry is JSON
            size = int(item["tree_size"])
            if size not in roots:
                raise Broken(f"entry {seq}: proved against checkpoint {size}, not in the pack")
            path = [bytes.fromhex(p) for p in item["inclusion_path"]]
            root = root_from_path(seq - 1, size, sha256(b"\x00" + entry), path)
            if root != roots[size]:
                raise Broken(f"entry {seq}: its inclusion path does not lead to the signed root")
            count += 1
    if count != manifest.get("entries"):
        raise Broken(
            f"entries.jsonl holds {count} entries, the manifest says {manifest['entries']}"
        )
    return count


def node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def consistent(first: int, second: int, r1: bytes, r2: bytes, path: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not path and r1 == r2
    if first == 0:
        return not path
    if not path:
        return False
    nodes = ([r1] if first & (first - 1) == 0 else []) + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == r1 and sr == r2


def parse_key(text: str, sig_type: int) -> tuple[str, bytes, bytes]:
    """A signed-note verifier key ``NAME+HEXHASH+BASE64(type || key)``: (name, hash, key)."""
    name, hash_hex, b64 = text.strip().split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    want = hashlib.sha256(name.encode() + b"\n" + raw[:1] + raw[1:]).digest()[:4]
    if raw[0] != sig_type or len(raw) != 33 or bytes.fromhex(hash_hex) != want:
        raise Broken(f"not a verifier key of type {sig_type}: {text.strip()[:40]}")
    return name, want, raw[1:]


def ed25519_ok(key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def check_published(
    pack: Path, roots: dict[int, bytes], trusted: str | None, witnesses: list[str]
) -> str:
    """The published checkpoint: signed by the log, consistent with the pack's, cosigned."""
    if not (pack / "published_checkpoint.note").exists():
        return ""
    note = (pack / "published_checkpoint.note").read_text(encoding="utf-8")
    body, _, block = note.rpartition("\n\n")
    body += "\n"
    name, key_hash, key = parse_key((pack / "log_key.txt").read_text(encoding="ascii"), 0x01)
    if trusted and base64.b64decode(trusted, validate=True) != key:
        raise Broken("the published checkpoint is not signed by the trusted key")
    signatures = []
    for line in block.splitlines():
        who, _, b64 = line.removeprefix("\u2014 ").partition(" ")
        raw = base64.b64decode(b64, validate=True)
        signatures.append((who, raw[:4], raw[4:]))
    if not any(
        w == name and h == key_hash and ed25519_ok(key, body.encode(), s) for w, h, s in signatures
    ):
        raise Broken("published_checkpoint.note: no valid signature by the log's key")
    origin, size_text, root_b64 = body.splitlines()[:3]
    if origin != name:
        raise Broken("published_checkpoint.note: another log's checkpoint")
    size, root = int(size_text), base64.b64decode(root_b64, validate=True)
    proof = json.loads((pack / "consistency.json").read_bytes())
    first, second = int(proof["first"]), int(proof["second"])
    ours = [s for s in roots if s in (first, second)]
    if size not in (first, second) or not ours:
        raise Broken("consistency.json does not join the published checkpoint to the pack's")
    by_size = {**roots, size: root}
    path = [bytes.fromhex(p) for p in proof["proof"]]
    if not consistent(first, second, by_size[first], by_size[second], path):
        raise Broken("the pack's checkpoint is not consistent with the published one (a fork?)")
    cosigned = 0
    for text in witnesses:
        w_name, w_hash, w_key = parse_key(text, 0x04)
        for who, h, raw in signatures:
            if who == w_name and h == w_hash:
                message = f"cosignature/v1\ntime {int.from_bytes(raw[:8], 'big')}\n{body}"
                if not ed25519_ok(w_key, message.encode(), raw[8:]):
                    raise Broken(f"the cosignature of witness {w_name} does not verify")
                cosigned += 1
        if not any(who == w_name and h == w_hash for who, h, _ in signatures):
            raise Broken(f"witness {w_name} did not cosign the published checkpoint")
    others = len(signatures) - 1
    return (
        f"; consistent with the published checkpoint of size {size} "
        f"({others} cosignature(s), {cosigned} checked against the witness keys given)"
    )


def verify(pack: Path, trusted: str | None, witnesses: list[str] | None = None) -> str:
    """A one-line summary of an intact pack; raises Broken otherwise."""
    if not pack.is_dir():
        raise Broken(f"{pack} is not a directory")
    manifest = check_manifest(pack)
    try:
        keys = load_keys(pack, trusted)
        roots = check_checkpoints(pack, keys)
        count = check_entries(pack, roots, manifest)
        published = check_published(pack, roots, trusted, witnesses or [])
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise Broken(f"unreadable pack: {exc!r}") from None
    if bool(published) != bool(manifest.get("published_tree_size")):
        raise Broken("the manifest and the pack disagree on the published checkpoint")
    return f"{count} journal entries proved against {len(roots)} signed checkpoint(s){published}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pack", help="the evidence directory")
    parser.add_argument("--public-key", help="trusted Ed25519 public key, base64")
    parser.add_argument(
        "--witness-key",
        action="append",
        default=[],
        help="a witness's verifier key (NAME+HASH+BASE64); its cosignature must verify",
    )
    args = parser.parse_args()
    try:
        summary = verify(Path(args.pack), args.public_key, args.witness_key)
    except Broken as exc:
        print(f"FAIL: {exc}")
        return 1
    print(f"OK: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
