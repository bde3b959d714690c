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

    def verify(self, stored: str | None, password: str) -> bool:
        """Constant-cost verification; an absent or broken hash still costs one verification."""
        target = stored if stored and stored.startswith("$argon2") else None
        try:
            return self._ph.verify(target or self._dummy, password) and target is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """True for hashes made with other parameters (e.g. the demo seed's cheap ones)."""
        try:
            return self._ph.check_needs_rehash(stored)
        except (InvalidHashError, ValueError):
            return True
