"""``MemoryMessageRegister``: the register in one process (unit tests), with the SQL rules."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import replace

from rempart.kernel.throttling import Failures
from rempart.messages.model import Check, OfficialMessage


class MemoryMessageRegister:
    """Implements ``MessageRegister`` in memory: a key is used once, a message is handed over
    once, addresses are kept to 64 characters as the column does."""

    def __init__(self) -> None:
        self.messages: dict[str, OfficialMessage] = {}
        self.checks: list[Check] = []
        self._lock = threading.Lock()

    def add(self, message: OfficialMessage) -> bool:
        """Keep a new entry; False when its key is taken."""
        with self._lock:
            if message.reference in self.messages:
                raise ValueError(f"reference {message.reference!r} already registered")
            if message.key and any(m.key == message.key for m in self.messages.values()):
                return False
            self.messages[message.reference] = message
            return True

    def get(self, reference: str) -> OfficialMessage | None:
        """One entry by reference."""
        return self.messages.get(reference)

    def by_key(self, key: str) -> OfficialMessage | None:
        """The entry registered under ``key``."""
        return next((m for m in self.messages.values() if key and m.key == key), None)

    def of_person(self, ft_id: str, limit: int) -> Sequence[OfficialMessage]:
        """Newest first."""
        mine = [m for m in self.messages.values() if m.ft_id == ft_id]
        mine.sort(key=lambda m: m.reference)
        mine.sort(key=lambda m: m.registered_at, reverse=True)
        return mine[:limit]

    def _update(self, reference: str, **changes: dt.datetime) -> None:
        self.messages[reference] = replace(self.messages[reference], **changes)  # type: ignore[arg-type]

    def mark_sent(self, reference: str, at: dt.datetime) -> bool:
        """Handed over once."""
        with self._lock:
            m = self.messages.get(reference)
            if m is None or m.sent_at is not None:
                return False
            self._update(reference, sent_at=at)
            return True

    def mark_delivered(self, reference: str, at: dt.datetime) -> None:
        """Accepted by the channel."""
        with self._lock:
            if reference in self.messages:
                self._update(reference, delivered_at=at)

    def revoke(self, reference: str, at: dt.datetime) -> bool:
        """No longer vouched for."""
        with self._lock:
            m = self.messages.get(reference)
            if m is None or m.revoked_at is not None:
                return False
            self._update(reference, revoked_at=at)
            return True

    def add_check(self, check: Check) -> None:
        """Keep one verification."""
        with self._lock:
            self.checks.append(replace(check, client_address=check.client_address[:64]))

    def misses_since(self, since: dt.datetime, *, client_address: str = "") -> Failures:
        """Misses since ``since``, for one address or everyone."""
        found = [
            c
            for c in self.checks
            if not c.genuine
            and c.at >= since
            and (not client_address or c.client_address == client_address[:64])
        ]
        return Failures(len(found), max((c.at for c in found), default=None))
