"""``LocalHashingWork``: argon2 work bounded in this process (each hash holds its memory cost,
64 MiB by default: 24 parallel password changes once took a server from 131 MiB to 1.7 GiB).

Per replica on purpose: memory is a replica's own. Excess calls for the same account or
address are refused at once; beyond the total, a call waits a little for a slot, then is
refused (``429 throttled``)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from rempart.kernel.errors import Throttled
from rempart.signin.model import bound_address

BUSY = "too many password checks at once: retry in a moment"


class LocalHashingWork:
    """Implements ``HashingWork`` with a semaphore and per-key counters."""

    def __init__(
        self,
        max_total: int = 4,
        max_per_address: int = 2,
        max_per_account: int = 1,
        wait_seconds: float = 2.0,
    ) -> None:
        self._total = threading.BoundedSemaphore(max_total)
        self._limits = {"account": max_per_account, "address": max_per_address}
        self._held: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._wait = wait_seconds

    def _claim(self, keys: list[tuple[str, int]]) -> bool:
        with self._lock:
            if any(self._held[key] >= limit for key, limit in keys):
                return False
            for key, _ in keys:
                self._held[key] += 1
            return True

    def _release(self, keys: list[tuple[str, int]]) -> None:
        with self._lock:
            for key, _ in keys:
                self._held[key] -= 1
                if self._held[key] <= 0:
                    del self._held[key]

    @contextmanager
    def slot(self, login: str, address: str) -> Iterator[None]:
        """One hash's slot (see ``HashingWork``)."""
        keys = [
            (f"account:{login.casefold()}", self._limits["account"]),
            (f"address:{bound_address(address)}", self._limits["address"]),
        ]
        if not self._claim(keys):
            raise Throttled(BUSY, 1)
        try:
            if not self._total.acquire(timeout=self._wait):
                raise Throttled(BUSY, 1)
            try:
                yield
            finally:
                self._total.release()
        finally:
            self._release(keys)
