"""Baselines: how an agent (and their peers) usually work, and the budgets derived from it."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from rempart.guard.policy import BudgetPolicy, DetectorPolicy


def quantile(values: list[int] | tuple[int, ...], q: float) -> float:
    """The ``q`` quantile by linear interpolation (0 for no values)."""
    if not values:
        return 0.0
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """What the journal says about one agent over the baseline window (30 days)."""

    login: str
    daily_distinct: tuple[int, ...] = ()  # distinct people per active day
    hourly_peak: tuple[int, ...] = ()  # distinct people in the busiest hour of each active day
    usual_hours: frozenset[tuple[int, int]] = frozenset()  # (day kind, hour) worked in
    networks: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    user_agents: frozenset[str] = frozenset()
    probation_until: dt.date | None = None


@dataclass(frozen=True, slots=True)
class PeerProfile:
    """The same figures pooled over a peer group (organisation kind and role)."""

    daily_distinct: tuple[int, ...] = ()
    hourly_peak: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class OrgProfile:
    org_id: str
    daily_distinct: tuple[int, ...] = ()
    usual_hours: frozenset[tuple[int, int]] = frozenset()


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits in distinct people, with the figures that produced them (for explanations)."""

    agent_hour: int
    agent_day: int
    basis: dict[str, object] = field(default_factory=dict)


def _clamp(value: float, floor: int, ceiling: int) -> int:
    return int(max(floor, min(ceiling, math.ceil(value))))


def agent_budget(
    profile: AgentProfile | None,
    peers: PeerProfile | None,
    policy: BudgetPolicy,
    today: dt.date,
    off_hours: bool,
    probation_until: dt.date | None = None,
) -> Budget:
    """An agent's budget: own (or peers') quantile times a margin, clamped; probation shrinks it."""
    own_day = quantile(profile.daily_distinct, policy.quantile) if profile else 0.0
    own_hour = quantile(profile.hourly_peak, policy.quantile) if profile else 0.0
    peer_day = quantile(peers.daily_distinct, policy.quantile) if peers else 0.0
    peer_hour = quantile(peers.hourly_peak, policy.quantile) if peers else 0.0
    # An agent with little history borrows the peer group's habits (a new adviser joining).
    enough_history = profile is not None and len(profile.daily_distinct) >= 5
    base_day = own_day if enough_history else max(own_day, peer_day)
    base_hour = own_hour if enough_history else max(own_hour, peer_hour)
    day = _clamp(base_day * policy.margin, policy.agent_day_floor, policy.agent_day_ceiling)
    hour = _clamp(base_hour * policy.margin, policy.agent_hour_floor, policy.agent_hour_ceiling)
    hour = min(hour, day)
    basis: dict[str, object] = {
        "own_day_q": round(own_day, 1),
        "own_hour_q": round(own_hour, 1),
        "peer_day_q": round(peer_day, 1),
        "peer_hour_q": round(peer_hour, 1),
        "quantile": policy.quantile,
        "margin": policy.margin,
        "history_days": len(profile.daily_distinct) if profile else 0,
    }
    probation = probation_until or (profile.probation_until if profile else None)
    if probation is not None and today <= probation:
        day, hour = min(day, policy.probation_day), min(hour, policy.probation_hour)
        basis["probation_until"] = probation.isoformat()
    if off_hours:
        day = max(1, int(day * policy.off_hours_factor))
        hour = max(1, min(hour, day))
        basis["off_hours_factor"] = policy.off_hours_factor
    return Budget(agent_hour=hour, agent_day=day, basis=basis)


def org_day_budget(org: OrgProfile | None, policy: BudgetPolicy) -> int:
    """An organisation's daily limit: its usual total times the margin, clamped."""
    usual = quantile(org.daily_distinct, policy.quantile) if org else 0.0
    return _clamp(usual * policy.margin, policy.org_day_floor, policy.org_day_ceiling)


def app_day_budget(daily: tuple[int, ...], policy: BudgetPolicy) -> int:
    """An app's daily limit over all its organisations."""
    return _clamp(
        quantile(daily, policy.quantile) * policy.margin,
        policy.app_day_floor,
        policy.app_day_ceiling,
    )


def day_kind(when: dt.datetime) -> int:
    """0 for a working day, 1 for the weekend: habits are weekday hours, and weekend hours."""
    return 1 if when.weekday() >= 5 else 0


def is_usual_time(
    when: dt.datetime,
    profile: AgentProfile | None,
    org: OrgProfile | None,
    detectors: DetectorPolicy,
) -> bool:
    """True when the agent (or, lacking history, their organisation) works at this hour.

    The hour before and after a usual hour count as usual too: people start early, stay late.
    """
    del detectors  # the share threshold is applied when the profile is built
    day = day_kind(when)
    slot = (day, when.hour)
    hours = (
        profile.usual_hours
        if profile and profile.usual_hours
        else (org.usual_hours if org else frozenset())
    )
    if not hours:
        # No history at all: office hours, Monday to Friday, 7:00 to 20:00 (French time ~ UTC+1).
        return when.weekday() < 5 and 6 <= when.hour < 19
    neighbours = {
        slot,
        (day, max(0, when.hour - 1)),
        (day, min(23, when.hour + 1)),
    }
    return bool(neighbours & hours)
