"""Counters the guard keeps about itself, for ``/metrics`` (pure: no metrics library here)."""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field

# Decision latency buckets, in seconds (the goal is p99 under a millisecond).
LATENCY_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05)


@dataclass
class GuardStats:
    decisions: dict[str, int] = field(default_factory=dict)  # by action
    findings: dict[str, int] = field(default_factory=dict)  # by rule
    budgets_exhausted: int = 0
    unavailable: int = 0
    latency_counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    latency_sum: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def decided(self, action: str, rules: list[str], seconds: float, exhausted: bool) -> None:
        """Count one decision."""
        with self._lock:
            self.decisions[action] = self.decisions.get(action, 0) + 1
            for rule in rules:
                self.findings[rule] = self.findings.get(rule, 0) + 1
            if exhausted:
                self.budgets_exhausted += 1
            self.latency_counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
            self.latency_sum += seconds

    def failed_closed(self) -> None:
        """Count a request refused because the shared state was unreachable."""
        with self._lock:
            self.unavailable += 1

    def snapshot(self) -> GuardStats:
        """A consistent copy."""
        with self._lock:
            return GuardStats(
                dict(self.decisions),
                dict(self.findings),
                self.budgets_exhausted,
                self.unavailable,
                list(self.latency_counts),
                self.latency_sum,
            )
