"""``Argon2PasswordHasher``: argon2id with a per-hash random salt (argon2-cffi)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2PasswordHasher:
    """Implements ``PasswordHasher``; parameters come from the settings (RFC 9106 by default)."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4) -> None:
        self._ph = _Argon2(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        # Verified against when the login is unknown, with today's cost: no timing oracle.
        self._dummy = self._ph.hash(secrets.token_urlsafe(24))

    def hash(self, password: str) -> str:
        """A new argon2id hash."""
        return self._ph.hash(password)

    def _check(self, stored: str, password: str) -> bool:
        try:
            return self._ph.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify(self, stored: str | None, password: str) -> bool:
        """Never cheaper than one verification at today's cost, whatever is stored.

        An absent or broken hash costs one verification against the dummy. A hash made with
        other parameters (seeded, imported, before a change of cost) is checked with its own
        parameters *and* against the dummy, so that a dormant account never answers faster
        than an unknown login (2026 penetration test: 13 ms against 318 ms, one request per
        login to enumerate them); sign-in rehashes it at today's cost on success.
        """
        target = stored if stored and stored.startswith("$argon2") else None
        if target is None:
            self._check(self._dummy, password)
            return False
        ok = self._check(target, password)
        if self.needs_rehash(target):
            self._check(self._dummy, password)
        return ok

    def needs_rehash(self, stored: str) -> bool:
        """True for hashes made with other parameters (e.g. the demo seed's cheap ones)."""
        try:
            return self._ph.check_needs_rehash(stored)
        except (InvalidHashError, ValueError):
            return True
