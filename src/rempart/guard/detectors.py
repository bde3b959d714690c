"""Detectors: pure functions from what was observed to findings. Each says why, with figures."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass

from rempart.guard.alerts import Severity
from rempart.guard.decisions import Action, Finding, Rule
from rempart.guard.policy import DetectorPolicy
from rempart.guard.profiles import (
    AgentProfile,
    OrgProfile,
    PeerProfile,
    is_usual_time,
    quantile,
)


@dataclass(frozen=True, slots=True)
class Observation:
    """One data request as the guard sees it, with the state counters read for it."""

    now: dt.datetime
    fresh: bool  # second factor proven recently in this session (sign-in included)
    network: str
    country: str
    user_agent: str
    canary_touched: bool
    bulk: bool  # an export: everything at once
    not_found: bool
    not_found_in_window: int  # including this request
    recent_numbers: tuple[int, ...]  # numeric part of the last ids asked, newest last
    distinct_in_velocity_window: int  # people already exposed in the short window
    new_people: int  # people this request would expose that were not exposed before
    last_country: str = ""
    last_country_at: dt.datetime | None = None
    network_learned: bool = False  # network already accepted after a step-up
    reproved: bool = False  # second factor proven again since sign-in, recently


def canary(obs: Observation) -> list[Finding]:
    """A honey record was asked for: no legitimate flow reaches one."""
    if not obs.canary_touched:
        return []
    return [
        Finding(
            Rule.CANARY,
            Action.LOCK,
            Severity.CRITICAL,
            "A canary record, reachable by no legitimate flow, was requested: session revoked "
            "and account locked.",
            {"canary_touched": True},
        )
    ]


def bulk_export(obs: Observation) -> list[Finding]:
    """An export takes everything at once: it needs a second factor proven minutes ago, which a
    thief inside a stolen session or at the controls of an infected PC cannot give."""
    if not obs.bulk or obs.fresh:
        return []
    return [
        Finding(
            Rule.EXPORT_FRESH,
            Action.STEP_UP,
            Severity.LOW,
            "An export needs the second factor proven again within the last minutes.",
            {"fresh": False},
        )
    ]


def enumeration(obs: Observation, p: DetectorPolicy) -> list[Finding]:
    """Guessing identifiers: many not-found answers, or identifiers asked in sequence."""
    out: list[Finding] = []
    if obs.not_found and obs.not_found_in_window >= p.not_found_lock:
        out.append(
            Finding(
                Rule.NOT_FOUND_RATE,
                Action.LOCK,
                Severity.HIGH,
                f"{obs.not_found_in_window} not-found answers within "
                f"{p.not_found_window_seconds} s reached the lock threshold of {p.not_found_lock}.",
                {
                    "observed": obs.not_found_in_window,
                    "threshold": p.not_found_lock,
                    "window_seconds": p.not_found_window_seconds,
                },
            )
        )
    elif obs.not_found and obs.not_found_in_window >= p.not_found_throttle:
        out.append(
            Finding(
                Rule.NOT_FOUND_RATE,
                Action.THROTTLE,
                Severity.MEDIUM,
                f"{obs.not_found_in_window} not-found answers within "
                f"{p.not_found_window_seconds} s exceed the threshold of {p.not_found_throttle}.",
                {
                    "observed": obs.not_found_in_window,
                    "threshold": p.not_found_throttle,
                    "window_seconds": p.not_found_window_seconds,
                },
                retry_after=60,
            )
        )
    nums = obs.recent_numbers[-p.sequential_run :]
    if len(nums) == p.sequential_run and all(
        0 < abs(b - a) <= p.sequential_span for a, b in itertools.pairwise(nums)
    ):
        out.append(
            Finding(
                Rule.SEQUENTIAL,
                Action.REVOKE,
                Severity.HIGH,
                f"The last {p.sequential_run} identifiers asked were within {p.sequential_span} of "
                "each other: identifiers are being enumerated.",
                {"run": p.sequential_run, "span": p.sequential_span},
            )
        )
    return out


def network(obs: Observation, profile: AgentProfile | None, p: DetectorPolicy) -> list[Finding]:
    """New network, country or browser for this agent; impossible travel."""
    out: list[Finding] = []
    known_networks = profile.networks if profile else frozenset()
    known_countries = profile.countries if profile else frozenset()
    if (
        obs.last_country
        and obs.country
        and obs.last_country != obs.country
        and obs.last_country_at is not None
        and (obs.now - obs.last_country_at).total_seconds() < p.travel_seconds
    ):
        out.append(
            Finding(
                Rule.IMPOSSIBLE_TRAVEL,
                Action.REVOKE,
                Severity.HIGH,
                f"Requests from {obs.last_country} then {obs.country} within "
                f"{int((obs.now - obs.last_country_at).total_seconds())} s: impossible travel.",
                {
                    "previous_country": obs.last_country,
                    "country": obs.country,
                    "seconds": int((obs.now - obs.last_country_at).total_seconds()),
                    "threshold_seconds": p.travel_seconds,
                },
            )
        )
    if obs.fresh:
        return out
    if known_countries and obs.country and obs.country not in known_countries:
        out.append(
            Finding(
                Rule.NEW_COUNTRY,
                Action.STEP_UP,
                Severity.MEDIUM,
                f"First request from country {obs.country} for this agent: "
                "second factor asked again.",
                {"country": obs.country, "known_countries": sorted(known_countries)},
            )
        )
    elif known_networks and obs.network not in known_networks and not obs.network_learned:
        out.append(
            Finding(
                Rule.NEW_NETWORK,
                Action.STEP_UP,
                Severity.LOW,
                "First request from this network for this agent: second factor asked again.",
                {"network": obs.network, "known_networks": len(known_networks)},
            )
        )
    return out


def off_hours(
    obs: Observation, profile: AgentProfile | None, org: OrgProfile | None, p: DetectorPolicy
) -> list[Finding]:
    """Outside the agent's (or their organisation's) usual hours: prove the factor again, after
    sign-in (the 2024 extraction ran evenings and weekends; a relayed sign-in code is not
    enough)."""
    if is_usual_time(obs.now, profile, org, p) or obs.reproved:
        return []
    return [
        Finding(
            Rule.OFF_HOURS,
            Action.STEP_UP,
            Severity.LOW,
            f"Request at {obs.now:%a %H:%M} UTC, outside this agent's usual hours: second factor "
            "asked again and budget lowered.",
            {"weekday": obs.now.weekday(), "hour": obs.now.hour},
        )
    ]


def velocity(obs: Observation, profile: AgentProfile | None, p: DetectorPolicy) -> list[Finding]:
    """Far more people in a few minutes than this agent ever reads in an hour."""
    peak = quantile(profile.hourly_peak, 1.0) if profile and profile.hourly_peak else 0.0
    limit = max(p.velocity_floor, int(peak * p.velocity_factor / 12))
    observed = obs.distinct_in_velocity_window + obs.new_people
    if obs.new_people == 0 or observed <= limit:
        return []
    return [
        Finding(
            Rule.VELOCITY,
            Action.REVOKE,
            Severity.HIGH,
            f"{observed} people within {p.velocity_window_seconds} s against a limit of {limit} "
            "derived from this agent's busiest hour: session revoked.",
            {
                "observed": observed,
                "threshold": limit,
                "window_seconds": p.velocity_window_seconds,
                "baseline_hourly_peak": peak,
                "factor": p.velocity_factor,
            },
        )
    ]


def evaluate(
    obs: Observation,
    profile: AgentProfile | None,
    org: OrgProfile | None,
    p: DetectorPolicy,
) -> list[Finding]:
    """All detectors, in a fixed order."""
    return [
        *canary(obs),
        *bulk_export(obs),
        *enumeration(obs, p),
        *network(obs, profile, p),
        *off_hours(obs, profile, org, p),
        *velocity(obs, profile, p),
    ]


# -- the second round: pace, whole scope, second user, peers ------------------------------------


@dataclass(frozen=True, slots=True)
class Pace:
    """Where this request stands in the agent's current run of machine-paced requests."""

    fast: bool  # within ``machine_gap_seconds`` of the previous data request
    gap_seconds: float
    run_people: int  # people the run exposed after its first request, before this one
    people: int  # people this request would expose


def machine_pace(pace: Pace, waived: bool, p: DetectorPolicy) -> list[Finding]:
    """Reading at machine speed: past a handful of people, prove a person is at the keyboard."""
    observed = pace.run_people + pace.people
    if not pace.fast or pace.people == 0 or waived or observed <= p.machine_people:
        return []
    return [
        Finding(
            Rule.PACE,
            Action.STEP_UP,
            Severity.MEDIUM,
            f"{observed} people asked within a run of requests {pace.gap_seconds:.1f} s apart "
            f"(a run may expose {p.machine_people} after its first request): "
            "second factor asked again.",
            {
                "observed": observed,
                "threshold": p.machine_people,
                "gap_seconds": round(pace.gap_seconds, 3),
                "machine_gap_seconds": p.machine_gap_seconds,
            },
        )
    ]


def scope_sweep(
    read_in_window: int, people: int, scope_size: int, waived: bool, p: DetectorPolicy
) -> list[Finding]:
    """Full records of most of one's scope in one sitting, whatever the pace."""
    if people == 0 or waived or scope_size <= 0:
        return []
    threshold = max(p.sweep_min_people, math.ceil(p.sweep_share * scope_size))
    observed = read_in_window + people
    if observed < threshold:
        return []
    return [
        Finding(
            Rule.SWEEP,
            Action.STEP_UP,
            Severity.HIGH,
            f"Full records of {observed} of the {scope_size} people in this agent's scope within "
            f"{p.sweep_window_seconds // 3600} h (limit {threshold}, {p.sweep_share:.0%} of the "
            "scope): the security team is alerted and the second factor asked again.",
            {
                "observed": observed,
                "threshold": threshold,
                "scope_size": scope_size,
                "share": p.sweep_share,
                "window_seconds": p.sweep_window_seconds,
            },
        )
    ]


def second_user(alternations: int, this_one: bool, p: DetectorPolicy) -> list[Finding]:
    """Two sessions on two lines taking turns: two people share the account."""
    if not this_one:
        return []
    evidence: dict[str, object] = {
        "alternations_today": alternations,
        "lock_threshold": p.concurrent_lock,
        "window_seconds": p.concurrent_window_seconds,
    }
    if alternations >= p.concurrent_lock:
        return [
            Finding(
                Rule.CONCURRENT,
                Action.LOCK,
                Severity.CRITICAL,
                f"Two sessions on two lines took turns {alternations} times today, both past "
                "the second factor: two people use this account; account locked.",
                evidence,
            )
        ]
    return [
        Finding(
            Rule.CONCURRENT,
            Action.STEP_UP,
            Severity.HIGH,
            f"Two sessions on two lines took turns within {p.concurrent_window_seconds // 60} "
            "minutes: a second person may be using this account; the security team is alerted "
            "and the second factor asked again.",
            evidence,
        )
    ]


def peer_outlier(
    week_distinct: int, peers: PeerProfile | None, flagged_today: bool, p: DetectorPolicy
) -> list[Finding]:
    """Far above the peer group's busiest weeks (same organisation kind and roles)."""
    if flagged_today or peers is None or peers.agents < p.peer_outlier_min_agents:
        return []
    peer_week = quantile(peers.weekly_distinct, 0.95)
    limit = math.ceil(peer_week * p.peer_outlier_factor)
    if peer_week <= 0 or week_distinct <= limit:
        return []
    return [
        Finding(
            Rule.PEER_OUTLIER,
            Action.STEP_UP,
            Severity.MEDIUM,
            f"{week_distinct} distinct people in 7 days against {limit} for this agent's peers "
            f"({p.peer_outlier_factor} x their 95th percentile week): the security team is "
            "alerted and the second factor asked again.",
            {
                "observed": week_distinct,
                "threshold": limit,
                "peer_week_q95": round(peer_week, 1),
                "peer_agents": peers.agents,
                "factor": p.peer_outlier_factor,
            },
        )
    ]
