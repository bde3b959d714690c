"""ASVS 5.0 chapter V11, cryptography: vetted libraries only, approved hashes, enough bits,
argon2id at OWASP's cost, and every key in the inventory."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from rempart.settings import Settings
from rempart.signin.adapters.passwords import Argon2PasswordHasher

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "src" / "rempart"
# A session's public id names it to the security team (to end it); it opens nothing, so its
# 96 bits need not reach the 128 of a secret.
NOT_SECRET = {("signin/service/sessions.py", "public_id")}


def _modules() -> list[tuple[str, ast.Module]]:
    return [
        (p.relative_to(RUNTIME).as_posix(), ast.parse(p.read_text(encoding="utf-8")))
        for p in sorted(RUNTIME.rglob("*.py"))
    ]


def test_primitives_come_from_vetted_libraries() -> None:
    """The runtime hashes with SHA-256 or better, never MD5 or SHA-1, takes randomness from
    ``secrets`` (``secrets.SystemRandom`` where a ``Random`` is typed) and never from ``random``'s
    own generator, and signs with ``cryptography``'s Ed25519
    (ASVS V11.2.1, V11.4.1, V11.5.1)."""
    weak = {"md5", "sha1", "sha224"}
    for name, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert all(a.name != "random" for a in node.names), name
            if isinstance(node, ast.ImportFrom) and node.module == "random":
                # The type only, for a caller's secrets.SystemRandom (canaries): never the
                # module's Mersenne Twister functions.
                assert {a.name for a in node.names} <= {"Random"}, name
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "Random", f"{name}:{node.lineno} seeds a Mersenne Twister"
            if isinstance(node, ast.Attribute) and node.attr in weak:
                raise AssertionError(f"{name}:{node.lineno} uses {node.attr}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value.lower() not in weak, f"{name}:{node.lineno}"
    signing = (RUNTIME / "journal" / "adapters" / "signing.py").read_text(encoding="utf-8")
    assert "cryptography.hazmat.primitives.asymmetric.ed25519" in signing


def test_tokens_and_keys_have_at_least_128_bits() -> None:
    """Every token, code handle and id drawn from ``secrets`` has at least 16 random bytes,
    except the session's public id, which is no secret (ASVS V11.2.3, V11.5.1, V7.2.3)."""
    sizes = 0
    for name, tree in _modules():
        named_by = {id(kw.value): kw.arg for kw in ast.walk(tree) if isinstance(kw, ast.keyword)}
        for call in ast.walk(tree):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr in {"token_urlsafe", "token_hex", "token_bytes"}
            ):
                continue
            if (name, named_by.get(id(call))) in NOT_SECRET:
                continue
            assert call.args, (name, call.lineno)
            assert isinstance(call.args[0], ast.Constant), (name, call.lineno)
            assert int(call.args[0].value) >= 16, (name, call.lineno)
            sizes += 1
    assert sizes >= 8


def test_passwords_are_stored_with_argon2id_at_owasp_cost() -> None:
    """Hashes are argon2id with the configured cost (RFC 9106's first recommendation by
    default), and a cost below OWASP's 19 MiB is refused outside demo mode (ASVS V11.4.2)."""
    stored = Argon2PasswordHasher().hash("un mot de passe assez long")
    assert re.match(r"^\$argon2id\$v=19\$m=65536,t=3,p=4\$", stored)
    with pytest.raises(ValidationError, match="19 MiB"):
        Settings(demo=False, secret_key=SecretStr("x" * 40), argon2_memory_kib=8192)


def test_every_secret_setting_is_in_the_key_inventory() -> None:
    """Each secret the settings hold (keys, tokens, client secrets) is listed in the
    cryptographic inventory with its purpose, so none is forgotten at rotation time
    (ASVS V11.1.1, V11.1.2)."""
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    inventory = doc.split("## Cryptographic inventory", 1)[1].split("\n## ", 1)[0]
    secrets_fields = [
        name
        for name, field in Settings.model_fields.items()
        if "SecretStr" in repr(field.annotation)
    ]
    assert len(secrets_fields) >= 4
    for name in secrets_fields:
        assert f"REMPART_{name.upper()}" in inventory, name
