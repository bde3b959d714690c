"""Alerts for the security team: what happened, why it was decided, what was done."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Order of gravity (the values are words: comparing them as strings is wrong)."""
        return list(Severity).index(self)


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert. ``explanation`` is one sentence; ``evidence`` holds observed values,
    thresholds and the baseline behind the decision, and never another person's data."""

    at: dt.datetime
    rule: str
    severity: Severity
    explanation: str
    action_taken: str = "none"
    agent_login: str = ""
    org_id: str = ""
    session_id: str = ""
    evidence: dict[str, object] = field(default_factory=dict)
    id: int = 0
