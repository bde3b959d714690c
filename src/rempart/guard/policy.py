"""The guard's thresholds, with defaults, and the TOML policy file that overrides them.

Every default says where it comes from. A policy file with an unknown key or an inconsistent
threshold is refused with the line that holds it (issue: "refuses to start naming the line").
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from rempart.kernel.errors import PolicyError


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    # Distinct people per agent: a high quantile of the agent's own last 30 days, times a
    # margin, clamped. Legitimate agents read "a few dozen a day, some 150+ on roster days"
    # (workload model), so the floor lets a new-but-normal day through and the ceiling stops a
    # Kairos-like extraction (340,000 records) at a few hundred.
    quantile: float = 0.95
    margin: float = 1.5
    agent_day_floor: int = 60
    agent_day_ceiling: int = 600
    agent_hour_floor: int = 30
    agent_hour_ceiling: int = 200
    # An organisation's day: its agents' usual total times a margin, never below the floor.
    org_day_floor: int = 300
    org_day_ceiling: int = 20_000
    app_day_floor: int = 5_000
    app_day_ceiling: int = 2_000_000
    # Newly created accounts (the December 2025 accounts) start small.
    probation_day: int = 20
    probation_hour: int = 10
    # Rows in one export.
    export_rows_ceiling: int = 500
    # Off hours shrink the budget (the 2024 extraction ran evenings and weekends).
    off_hours_factor: float = 0.25
    # Attempts beyond an exhausted budget before the session is revoked (a scraper keeps going).
    burst_attempts_after_exhausted: int = 20
    # Per compromise, not per day (`guard:budget:agent_week`, `guard:budget:agent_month`): the
    # distinct people of the agent's own 7-day windows (the quantile above) and of their whole
    # 30 days, times a margin, clamped. A thief reading 2.4x the victim's volume for ten
    # working days stays under every daily limit; the week's and month's totals do not.
    week_margin: float = 1.5
    agent_week_floor: int = 150
    agent_week_ceiling: int = 2_500
    month_margin: float = 1.5
    agent_month_floor: int = 300
    agent_month_ceiling: int = 6_000
    # Day one (no history, no peers): the limits come from the agent's scope, which they may
    # list once an hour and read in full over a day: hour and day budgets are at least
    # ``scope_margin`` x the scope size (capped), on top of the floors. Organisations and apps
    # without history get ``no_history_per_agent_day`` per agent active today.
    scope_margin: float = 1.5
    # Exact lookups (ft_id and birth date) per agent and day (`guard:budget:lookup_day`): an
    # enrolment desk enrols a few people a day; a leaked list of pairs tries hundreds.
    lookups_day: int = 30
    scope_budget_ceiling: int = 5_000
    no_history_per_agent_day: int = 400


@dataclass(frozen=True, slots=True)
class DetectorPolicy:
    # Enumeration: not-found answers per agent in the window.
    not_found_window_seconds: int = 3600
    not_found_throttle: int = 8
    not_found_lock: int = 20
    # Sequential guessing: this many consecutive ids within `sequential_span` of each other.
    sequential_run: int = 4
    sequential_span: int = 3
    # Velocity: distinct people in a short window, relative to the agent's own peak.
    velocity_window_seconds: int = 300
    velocity_factor: float = 4.0
    velocity_floor: int = 40
    # Usual hours: an hour of the week is "usual" if the agent (or, lacking history, their
    # organisation) worked in it on at least this share of their active weeks.
    usual_hour_min_share: float = 0.1
    # Impossible travel: two countries within this many seconds.
    travel_seconds: int = 2 * 3600
    # Human pace (`guard:pace:machine`): requests closer than ``machine_gap_seconds`` to the
    # previous data request form a run; once a run has exposed ``machine_people`` people after
    # its first request, the next one asks for a step-up (a person clicks, a script does not).
    # The first page or record of a run is free: a human opens one quickly after another too.
    machine_gap_seconds: float = 2.0
    machine_people: int = 8
    # Whole scope (`guard:scope:sweep`): full records of at least ``sweep_share`` of the agent's
    # scope (and at least ``sweep_min_people``) within ``sweep_window_seconds``: alert with the
    # figures, step-up. An adviser's 154 people read one every 8 s (31 minutes) raised nothing.
    sweep_window_seconds: int = 3 * 3600
    sweep_share: float = 0.5
    sweep_min_people: int = 30
    # Second user (`guard:session:concurrent`): data requests from two lines (exact addresses)
    # through two sessions, alternating A, B, A within ``concurrent_window_seconds``: alert and
    # step-up; ``concurrent_lock`` such alternations in a day lock the account (both users
    # hold the factor, so a step-up alone cannot tell them apart).
    concurrent_window_seconds: int = 1800
    concurrent_lock: int = 3
    # Peers (`guard:peers:outlier`): distinct people over the last 7 days above the peer
    # group's (organisation kind and roles) 7-day quantile x ``peer_outlier_factor``, with at
    # least ``peer_outlier_min_agents`` peers: alert and step-up, once a day.
    peer_outlier_factor: float = 2.0
    peer_outlier_min_agents: int = 5


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    budgets: BudgetPolicy = field(default_factory=BudgetPolicy)
    detectors: DetectorPolicy = field(default_factory=DetectorPolicy)


def _line_of(text: str, section: str, key: str | None) -> int:
    current = ""
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        m = re.match(r"\[\s*([A-Za-z0-9_.]+)\s*\]", line)
        if m:
            current = m.group(1)
            if key is None and current == section:
                return n
            continue
        if key is not None and current == section and re.match(rf"{re.escape(key)}\s*=", line):
            return n
    return 0


def _build(cls: type[Any], values: dict[str, Any], text: str, section: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        line = _line_of(text, section, key)
        if key not in fields:
            raise PolicyError(f"line {line}: unknown key {section}.{key}")
        default = getattr(cls(), key)
        if (
            isinstance(default, bool)
            or not isinstance(value, int | float)
            or isinstance(value, bool)
        ):
            raise PolicyError(f"line {line}: {section}.{key} must be a number")
        if isinstance(default, int) and not isinstance(value, int):
            raise PolicyError(f"line {line}: {section}.{key} must be an integer")
        # nan compares false with every bound below, and inf is no threshold: a budget of
        # nan would never be reached (found by the property tests).
        if not math.isfinite(value):
            raise PolicyError(f"line {line}: {section}.{key} must be a finite number")
        if value < 0:
            raise PolicyError(f"line {line}: {section}.{key} must not be negative")
        kwargs[key] = value
    return cls(**kwargs)


def _check(policy: GuardPolicy, text: str) -> None:
    b, d = policy.budgets, policy.detectors
    pairs = [
        ("budgets", "agent_day_floor", b.agent_day_floor, "agent_day_ceiling", b.agent_day_ceiling),
        (
            "budgets",
            "agent_hour_floor",
            b.agent_hour_floor,
            "agent_hour_ceiling",
            b.agent_hour_ceiling,
        ),
        ("budgets", "org_day_floor", b.org_day_floor, "org_day_ceiling", b.org_day_ceiling),
        ("budgets", "app_day_floor", b.app_day_floor, "app_day_ceiling", b.app_day_ceiling),
        (
            "budgets",
            "agent_hour_floor",
            b.agent_hour_floor,
            "agent_day_ceiling",
            b.agent_day_ceiling,
        ),
        ("budgets", "probation_hour", b.probation_hour, "probation_day", b.probation_day),
        (
            "budgets",
            "agent_week_floor",
            b.agent_week_floor,
            "agent_week_ceiling",
            b.agent_week_ceiling,
        ),
        (
            "budgets",
            "agent_month_floor",
            b.agent_month_floor,
            "agent_month_ceiling",
            b.agent_month_ceiling,
        ),
        (
            "detectors",
            "not_found_throttle",
            d.not_found_throttle,
            "not_found_lock",
            d.not_found_lock,
        ),
    ]
    for section, low_name, low, high_name, high in pairs:
        if low > high:
            line = _line_of(text, section, low_name) or _line_of(text, section, high_name)
            raise PolicyError(
                f"line {line}: {section}.{low_name} ({low}) exceeds {section}.{high_name} ({high})"
            )
    if not 0 < b.quantile <= 1:
        raise PolicyError(
            f"line {_line_of(text, 'budgets', 'quantile')}: quantile must be in (0, 1]"
        )
    if b.margin < 1:
        raise PolicyError(f"line {_line_of(text, 'budgets', 'margin')}: margin must be at least 1")
    for name in ("week_margin", "month_margin", "scope_margin"):
        if getattr(b, name) < 1:
            raise PolicyError(f"line {_line_of(text, 'budgets', name)}: {name} must be at least 1")
    if not 0 < d.sweep_share <= 1:
        raise PolicyError(
            f"line {_line_of(text, 'detectors', 'sweep_share')}: sweep_share must be in (0, 1]"
        )
    if not 0 < b.off_hours_factor <= 1:
        raise PolicyError(
            f"line {_line_of(text, 'budgets', 'off_hours_factor')}: "
            "off_hours_factor must be in (0, 1]"
        )


def parse_policy(text: str) -> GuardPolicy:
    """A policy from TOML text; PolicyError names the offending line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"invalid TOML: {exc}") from None
    sections = {"budgets": BudgetPolicy, "detectors": DetectorPolicy}
    built: dict[str, Any] = {}
    for name, values in data.items():
        if name not in sections or not isinstance(values, dict):
            raise PolicyError(f"line {_line_of(text, name, None)}: unknown section [{name}]")
        built[name] = _build(sections[name], values, text, name)
    policy = GuardPolicy(**built)
    _check(policy, text)
    return policy
