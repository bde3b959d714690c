"""Password policy: CNIL deliberation 2022-100 (password alone ≥ 80 bits), no common passwords.

Accepted when, for a password used alone (Rempart adds a second factor anyway):

- it has ≥ 12 characters of the 4 kinds (lower, upper, digit, other) — CNIL's first example;
- or its estimated strength (length × log2 of the alphabet it draws from) is ≥ 80 bits, so
  14 letters and digits, or 18 lower-case letters, pass whatever their composition
  (ASVS V6.2.5: length, not character rules);
- or it is a passphrase of ≥ 7 words.

It is always refused when it is one of the common breached passwords shipped in
``common_passwords.txt`` (ASVS V6.2.4, V6.2.12), or contains a word of the context —
the login, the organisation, the service's names (ASVS V6.1.2, V6.2.11), or is mostly one
repeated character. Up to 256 characters are accepted, exactly as typed (ASVS V6.2.8, V6.2.9).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources

from rempart.kernel.errors import WeakPassword

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_BITS = 80.0
PASSPHRASE_WORDS = 7

# Names an attacker tries first against this portal (ASVS V6.1.2: the documented list).
CONTEXT_WORDS = (
    "rempart",
    "francetravail",
    "poleemploi",
    "missionlocale",
    "capemploi",
    "proconnect",
    "franceconnect",
    "motdepasse",
    "password",
)

_WORD_SPLIT = re.compile(r"[\s\-_.,;:/+]+")
_EDGES = re.compile(r"\A[\W\d_]+|[\W\d_]+\Z")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common breached passwords, lower-cased."""
    text = resources.files("rempart.signin").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _kinds(password: str) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for ch in password:
        if ch.isascii() and ch.islower():
            kinds["lower"] = 26
        elif ch.isascii() and ch.isupper():
            kinds["upper"] = 26
        elif ch.isdigit():
            kinds["digit"] = 10
        else:
            kinds["other"] = 33  # ASCII punctuation and space; accented letters count here too
    return kinds


def estimated_bits(password: str) -> float:
    """Length × log2(alphabet size) — the CNIL's own way of counting a password's strength."""
    alphabet = sum(_kinds(password).values())
    return len(password) * math.log2(alphabet) if alphabet else 0.0


def _normal(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value.casefold())
    return "".join(ch for ch in folded if ch.isalnum() and not unicodedata.combining(ch))


def is_common(password: str) -> bool:
    """True when the password, or its core without edge digits and symbols, is common."""
    common = common_passwords()
    lowered = password.strip().lower()
    core = _EDGES.sub("", lowered)
    return lowered in common or (len(core) >= 4 and core in common) or _normal(lowered) in common


def check_password(password: str, context: Iterable[str] = ()) -> None:
    """Raise WeakPassword unless ``password`` meets the policy; ``context``: login, org name, ..."""
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters")
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password has at least {MIN_LENGTH} characters")
    if len(set(password)) < max(5, len(password) // 4):
        raise WeakPassword("this password repeats the same few characters")
    if is_common(password):
        raise WeakPassword("this password is among the most common ones attackers try first")
    flat = _normal(password)
    for word in (*CONTEXT_WORDS, *context):
        for part in [_normal(word), *(_normal(p) for p in _WORD_SPLIT.split(word))]:
            if len(part) >= 4 and part in flat:
                raise WeakPassword("a password may not contain your login, organisation or service")
    words = [w for w in _WORD_SPLIT.split(password.strip()) if w]
    four_kinds = len(_kinds(password)) == 4
    if four_kinds or estimated_bits(password) >= MIN_BITS or len(words) >= PASSPHRASE_WORDS:
        return
    raise WeakPassword(
        "too weak: use 12 characters mixing lower and upper case, digits and symbols, "
        "or 14 letters and digits, or a passphrase of 7 words"
    )
