"""The Sigma rules, converted for SQLite, run over the ECS export of the bench's journals: each
rule fires on the attack it describes, no high or critical rule fires on the legitimate
workload, and, scenario by scenario, the rules flag the agents the inline guard flagged, for
the same detections. Where a rule recounts a detector only approximately (its ``rempart:``
block says so), the test reports by how much the two differ.

ASVS 5.0: V16.3.3, V16.4.3 (security events detectable where the security team watches), V2.4.1
(anti-automation limits visible outside the application, with the same thresholds).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rempart.siem.adapters.pysigma import PySigmaToolkit
from rempart.siem.rules import ConvertedRule, Hit
from rempart.siem.service import rules as rule_service
from rempart_bench.scenarios import SCENARIOS
from tests.support.siem import (
    GUARD_CASES,
    Journal,
    bench_journals,
    flagged_by,
    flagged_by_guard,
    guard_journals,
    hunt,
)

RULES = Path(__file__).resolve().parents[3] / "rules"
CONVERTED = rule_service.convert(PySigmaToolkit(), RULES, "sqlite")
GUARD_RULES = [r for r in CONVERTED if str(r.meta.get("detector", "")).startswith("guard:")]


# Rules that recount a detector from the events, and the bench scenarios they fire on: they
# must fire there with the guard off too (the SIEM as a backstop, not an echo of the guard).
RECOUNTS = [
    r
    for r in GUARD_RULES
    if str(r.meta.get("how", "")).startswith("recounted")
    and all(s in SCENARIOS for s in r.meta["fires_on"])
]


@pytest.fixture(scope="module")
def journals() -> dict[str, Journal]:
    off = tuple(sorted({s for r in RECOUNTS for s in r.meta["fires_on"]}))
    return {**bench_journals(guard_off=off), **guard_journals()}


@pytest.fixture(scope="module")
def hits(journals: dict[str, Journal]) -> dict[str, dict[str, list[Hit]]]:
    """Every rule's hits, by journal then rule id."""
    return {name: hunt(j.events, CONVERTED) for name, j in journals.items()}


def test_the_bench_journals_are_real_runs(journals: dict[str, Journal]) -> None:
    legit = journals["legit"]
    assert len(legit.events) > 1000
    assert {e["event"]["action"] for e in legit.events} >= {
        "portal:person:read",
        "auth:login:succeeded",
    }
    assert all(name in journals for name in GUARD_CASES)


@pytest.mark.parametrize("rule", CONVERTED, ids=lambda r: r.file + ":" + r.level)
def test_each_rule_fires_on_the_attack_it_describes(
    rule: ConvertedRule, journals: dict[str, Journal], hits: dict[str, dict[str, list[Hit]]]
) -> None:
    for scenario in rule.meta["fires_on"]:
        found = hits[scenario][rule.rule_id]
        assert found, f"{rule.title} did not fire on {scenario}"
        named = flagged_by(found)
        if named:  # correlations grouped by address name no account
            attackers = journals[scenario].actors | {
                f.agent.lower() for f in journals[scenario].flags
            }
            assert named <= {a.lower() for a in attackers}, (rule.title, scenario, named)


def test_no_high_or_critical_rule_fires_on_the_legitimate_workload(
    hits: dict[str, dict[str, list[Hit]]],
) -> None:
    loud = {
        r.title: len(hits["legit"][r.rule_id])
        for r in CONVERTED
        if r.level in {"high", "critical"} and hits["legit"][r.rule_id]
    }
    assert loud == {}
    quiet = {r.title: len(hits["legit"][r.rule_id]) for r in CONVERTED if hits["legit"][r.rule_id]}
    print("legitimate workload, low and medium rules that fired:", quiet or "none")


def test_the_guard_and_the_rules_flag_the_same_agents_scenario_by_scenario(
    journals: dict[str, Journal], hits: dict[str, dict[str, list[Hit]]]
) -> None:
    report = []
    disagreements = []
    for name, journal in journals.items():
        if name.endswith("@off"):
            continue  # nothing to agree with: the guard was off
        for rule in GUARD_RULES:
            meta = rule.meta
            guard = flagged_by_guard(journal, meta["detector"], meta.get("action", ""))
            sigma = flagged_by(hits[name][rule.rule_id])
            if not guard and not sigma:
                continue
            missed, extra = guard - sigma, sigma - guard
            report.append(
                f"{name:28} {rule.file:28} {meta['agreement']:11} guard {len(guard):2} "
                f"sigma {len(sigma):2} missed {len(missed)} extra {len(extra)}"
            )
            agreement = meta["agreement"]
            if agreement == "exact" and guard != sigma:
                disagreements.append((name, rule.title, sorted(missed), sorted(extra)))
            if agreement == "superset" and missed:
                disagreements.append((name, rule.title, sorted(missed), []))
            if agreement == "approximate" and name in meta["fires_on"] and missed:
                disagreements.append((name, rule.title, sorted(missed), []))
    print("\n".join(["agreement, scenario by scenario:", *report]))
    assert disagreements == []
    assert report  # the guard flagged someone somewhere, and the rules were compared to it


@pytest.mark.parametrize("name", sorted(GUARD_CASES))
def test_each_guard_case_makes_the_guard_decide_with_its_detector(
    name: str, journals: dict[str, Journal]
) -> None:
    """The guard-alone journals hold the decision they are named for (so a rule firing on one
    fires on what the guard really writes)."""
    expected = str(GUARD_CASES[name][2])
    assert expected in {f.rule for f in journals[name].flags}


@pytest.mark.parametrize("rule", RECOUNTS, ids=lambda r: r.file + ":" + r.level)
def test_recounting_rules_fire_with_the_guard_off(
    rule: ConvertedRule, journals: dict[str, Journal], hits: dict[str, dict[str, list[Hit]]]
) -> None:
    """A rule that recounts from the events does not need the guard's decision: on the same
    attack with the guard off (the guard decides nothing), it still names every account the
    guard flagged when it was on."""
    meta = rule.meta
    for scenario in meta["fires_on"]:
        off = f"{scenario}@off"
        assert journals[off].flags == set()
        with_guard = flagged_by_guard(journals[scenario], meta["detector"], meta.get("action", ""))
        assert with_guard
        assert with_guard <= flagged_by(hits[off][rule.rule_id])
