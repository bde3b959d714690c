"""Growing delays after failed attempts (ASVS V6.3.1), without locking anyone out for long.

Each key (an account's login, a client address) gets a few free attempts, then must wait
``base × 2^(n - free)`` seconds after its last failure, capped. The lock after ``lock_after``
failures is the account's own state (``AuthPolicy``); this only slows guessing down. Sign-in
and the citizen's codes each set their own policies, in their models.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Failures:
    """Failed attempts counted under one key (an account or an address)."""

    count: int = 0
    last_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How fast a key's attempts are slowed down."""

    free: int = 3
    base_seconds: float = 1.0
    max_seconds: float = 900.0
    forget_after: dt.timedelta = dt.timedelta(hours=1)  # a quiet key starts afresh

    def delay(self, count: int) -> float:
        """Seconds to wait after the ``count``-th consecutive failure."""
        if count < self.free:
            return 0.0
        return float(min(self.max_seconds, self.base_seconds * 2 ** (count - self.free)))

    def retry_after(self, failures: Failures, now: dt.datetime) -> int:
        """Whole seconds before the next attempt is allowed; 0 when it is allowed now."""
        if failures.last_at is None or now - failures.last_at >= self.forget_after:
            return 0
        wait = self.delay(failures.count) - (now - failures.last_at).total_seconds()
        return max(0, math.ceil(wait))
