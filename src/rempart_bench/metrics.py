"""What the bench measures: people exposed to an attacker, and when the attack was contained.

Pure bookkeeping, fed with what each attacker request got back; unit-tested on its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class AttackOutcome:
    """One scenario in one guard mode: every request the attacker made, and what came back."""

    scenario: str
    guard: str
    exposed: set[str] = field(default_factory=set)
    requests: int = 0
    first_at: dt.datetime | None = None
    # Request index (1-based) and time of the last response that carried data.
    last_data_request: int = 0
    last_data_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    statuses: dict[int, int] = field(default_factory=dict)
    timeline: list[tuple[float, int]] = field(default_factory=list)  # (seconds, exposed so far)
    alerts: int = 0
    stopped_by_cap: bool = False
    victims: list[str] = field(default_factory=list)  # logins whose accounts were abused
    notes: dict[str, object] = field(default_factory=dict)  # scenario-specific checks
    first_page: set[str] = field(default_factory=set)  # the people of the first data answer

    def record(self, at: dt.datetime, status: int, persons: list[str] | tuple[str, ...]) -> None:
        """One attacker request: its time, HTTP status and the people whose data it returned."""
        self.requests += 1
        if self.first_at is None:
            self.first_at = at
        self.last_at = at
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status < 300 and persons:
            if not self.exposed:
                self.first_page = set(persons)
            before = len(self.exposed)
            self.exposed.update(persons)
            self.last_data_request = self.requests
            self.last_data_at = at
            if len(self.exposed) != before:
                self.timeline.append(((at - self.first_at).total_seconds(), len(self.exposed)))

    @property
    def exposed_persons(self) -> int:
        """Distinct people whose identifying data reached the attacker (each counted once)."""
        return len(self.exposed)

    @property
    def contained(self) -> bool:
        """True when the attacker kept asking after the last data they got."""
        return self.requests > self.last_data_request and not self.stopped_by_cap

    @property
    def requests_until_containment(self) -> int | None:
        """Index of the first request after which no data reached the attacker (None: never)."""
        return self.last_data_request + 1 if self.contained else None

    @property
    def seconds_until_containment(self) -> float | None:
        """Simulated seconds from the attack's first request to that request."""
        if not self.contained or self.first_at is None:
            return None
        if self.last_data_at is None:
            return 0.0
        return (self.last_data_at - self.first_at).total_seconds()

    def as_json(self) -> dict[str, object]:
        """The bench's JSON shape for one scenario and mode."""
        return {
            "name": self.scenario,
            "guard": self.guard,
            "exposed_persons": self.exposed_persons,
            "requests_until_containment": self.requests_until_containment,
            "seconds_until_containment": self.seconds_until_containment,
            "alerts": self.alerts,
            "requests": self.requests,
            "contained": self.contained,
            "stopped_by_request_cap": self.stopped_by_cap,
            "exposed_beyond_first_page": len(self.exposed - self.first_page),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            **self.notes,
        }


@dataclass
class LegitTally:
    """What the protection cost honest agents, counted per agent-day."""

    days: set[tuple[str, dt.date]] = field(default_factory=set)
    hard: set[tuple[str, dt.date]] = field(default_factory=set)
    throttled: set[tuple[str, dt.date]] = field(default_factory=set)
    stepped: set[tuple[str, dt.date]] = field(default_factory=set)
    step_ups: int = 0
    requests: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def worked(self, login: str, day: dt.date) -> None:
        """An agent worked that day."""
        self.days.add((login, day))

    def response(self, login: str, day: dt.date, status: int, code: str, rule: str = "") -> None:
        """One legitimate request's answer; deny/lock/revoke make a hard-blocked agent-day."""
        self.requests += 1
        key = (login, day)
        if rule:
            self.reasons[rule] = self.reasons.get(rule, 0) + 1
        if code in {"session_revoked", "account_locked", "forbidden", "access_suspended"}:
            self.hard.add(key)
            self.reasons[code] = self.reasons.get(code, 0) + 1
        elif code in {"budget_exhausted", "throttled"}:
            self.throttled.add(key)
            self.reasons[code] = self.reasons.get(code, 0) + 1
        elif code == "step_up_required":
            self.stepped.add(key)
            self.step_ups += 1
        del status

    def as_json(self) -> dict[str, object]:
        """The bench's JSON shape for the legitimate workload."""
        n = len(self.days) or 1
        return {
            "agent_days": len(self.days),
            "hard_blocked": len(self.hard),
            "hard_blocked_pct": round(100 * len(self.hard) / n, 3),
            "throttled_agent_days": len(self.throttled),
            "step_ups": len(self.stepped),
            "step_ups_pct": round(100 * len(self.stepped) / n, 3),
            "step_up_prompts": self.step_ups,
            "requests": self.requests,
            "reasons": dict(sorted(self.reasons.items())),
        }
