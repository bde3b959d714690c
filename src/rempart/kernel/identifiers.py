"""Identifiers of people: the agency's ft_id and the NIR (social security number)."""

from __future__ import annotations

import re

from rempart.kernel.errors import InvalidRequest

FT_ID_RE = re.compile(r"\A[0-9]{7}[A-Z]\Z")
NIR_RE = re.compile(r"\A[12][0-9]{12}[0-9]{2}\Z")
FT_ID_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q: they are misread as digits


def is_ft_id(value: str) -> bool:
    """True when ``value`` is 7 ASCII digits then one upper-case letter."""
    return bool(FT_ID_RE.match(value))


def parse_ft_id(value: str) -> str:
    """Return ``value`` when it is a well-formed ft_id, else raise InvalidRequest."""
    if not isinstance(value, str) or not is_ft_id(value):
        raise InvalidRequest("ft_id must be 7 digits followed by one upper-case letter")
    return value


def ft_id_from_number(number: int) -> str:
    """Build the ft_id for a sequence number (deterministic, used by the generator)."""
    digits = number % 10_000_000
    letter = FT_ID_LETTERS[(number // 10_000_000 + digits * 7) % len(FT_ID_LETTERS)]
    return f"{digits:07d}{letter}"


def nir_key(first13: str) -> int:
    """The NIR control key: 97 - (number mod 97)."""
    return 97 - int(first13) % 97


def make_nir(first13: str) -> str:
    """Append the control key to a 13-digit NIR body."""
    return f"{first13}{nir_key(first13):02d}"


def is_valid_nir(value: str) -> bool:
    """True for a 15-digit NIR whose key matches its first 13 digits."""
    if not NIR_RE.match(value):
        return False
    return nir_key(value[:13]) == int(value[13:])


SIRET_RE = re.compile(r"\A[0-9]{14}\Z")


def luhn_ok(digits: str) -> bool:
    """Luhn check used by SIREN/SIRET numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def make_siret(body13: str) -> str:
    """Append the Luhn digit that makes a 14-digit SIRET valid."""
    for last in "0123456789":
        if luhn_ok(body13 + last):
            return body13 + last
    raise AssertionError("unreachable: one digit always satisfies Luhn")


def is_valid_siret(value: str) -> bool:
    """True for 14 digits passing the Luhn check."""
    return bool(SIRET_RE.match(value)) and luhn_ok(value)
