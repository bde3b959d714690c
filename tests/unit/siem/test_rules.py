"""The Sigma rules of ``rules/`` are tested like code: every one parses, converts for each
target, says what it detects and why, and every guard detector has one.

ASVS 5.0: V16.3.3, V16.4.3 (security events are detectable by the monitoring system, with the same
thresholds as the inline guard).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from rempart.guard.decisions import Rule
from rempart.guard.policy import GuardPolicy
from rempart.kernel.errors import InvalidRequest
from rempart.kernel.tags import Tag
from rempart.siem.adapters.pysigma import PySigmaToolkit
from rempart.siem.adapters.sqlite_hunt import SqliteEvents
from rempart.siem.rules import TARGETS, RuleFile
from rempart.siem.service import rules as rule_service

RULES = Path(__file__).resolve().parents[3] / "rules"
LEVELS = {"informational", "low", "medium", "high", "critical"}


def documents() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for f in rule_service.load(RULES):
        out += [(f.name, d) for d in yaml.safe_load_all(f.text) if d]
    return out


def detections() -> list[tuple[str, dict[str, Any]]]:
    """The rules that alert (not the base rules a correlation counts)."""
    return [(name, d) for name, d in documents() if d.get("level") != "informational"]


def test_every_rule_parses() -> None:
    assert rule_service.check(PySigmaToolkit(), RULES) == len(list(RULES.rglob("*.yml")))


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_rule_converts_for_every_target(target: str) -> None:
    converted = rule_service.convert(PySigmaToolkit(), RULES, target)
    assert {c.rule_id for c in converted} == {str(d["id"]) for _n, d in detections()}
    assert all(c.queries and all(q.strip() for q in c.queries) for c in converted)
    if target == "sqlite":
        assert all(c.plan is not None for c in converted if c.correlation)


@pytest.mark.parametrize(
    ("name", "rule"), documents(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_rule_says_what_it_detects_and_why(name: str, rule: dict[str, Any]) -> None:
    assert uuid.UUID(str(rule["id"])).version == 4, name
    assert rule["level"] in LEVELS, name
    assert len(str(rule["description"]).split()) >= 10, name
    assert rule.get("references"), name
    assert any(t.startswith("attack.t") for t in rule["tags"]), name
    if "correlation" not in rule:
        assert rule["logsource"] == {"product": "rempart", "service": "journal"}, name


@pytest.mark.parametrize(
    ("name", "rule"), detections(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_alerting_rule_names_its_detector_and_the_attack_it_fires_on(
    name: str, rule: dict[str, Any]
) -> None:
    meta = rule["rempart"]
    detector = meta["detector"]
    assert detector in {str(r) for r in Rule} | {str(t) for t in Tag}, name
    assert meta["fires_on"], name
    if detector.startswith("guard:"):
        assert meta["agreement"] in {"exact", "superset", "approximate"}, name
        # Where the rule carries the guard's decision rather than a recount, it says why.
        if meta["how"] == "the guard's decision":
            assert meta["why_not_recounted"], name


def test_every_guard_detector_has_a_sigma_rule() -> None:
    covered = {d["rempart"]["detector"] for _n, d in detections()}
    missing = sorted(str(r) for r in Rule if str(r) not in covered)
    assert not missing, f"add a rule to rules/guard/ for: {', '.join(missing)}"


def test_thresholds_written_in_the_rules_are_the_default_policys() -> None:
    """A recounting rule's threshold is the default policy's, so the two cannot drift."""
    d, b = GuardPolicy().detectors, GuardPolicy().budgets
    expected = {
        ("guard:enumeration:not_found_rate", "throttle"): (d.not_found_throttle, 3600),
        ("guard:enumeration:not_found_rate", "lock_account"): (d.not_found_lock, 3600),
        ("guard:velocity:burst", ""): (d.velocity_floor, d.velocity_window_seconds),
        ("guard:budget:burst", ""): (b.burst_attempts_after_exhausted, 3600),
    }
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    found = {}
    for _name, rule in detections():
        corr = rule.get("correlation")
        if corr is None:
            continue
        key = (rule["rempart"]["detector"], rule["rempart"].get("action", ""))
        span = str(corr["timespan"])
        found[key] = (corr["condition"]["gte"], int(span[:-1]) * unit[span[-1]])
    assert {k: found[k] for k in expected} == expected
    exports = [r for _n, r in detections() if r["rempart"]["detector"] == Rule.BUDGET_EXPORT]
    assert [r["detection"]["size"]["rempart.persons.count|gt"] for r in exports] == [
        b.export_rows_ceiling
    ]


def test_a_broken_rule_is_named_with_its_file() -> None:
    broken = RuleFile("guard/broken.yml", "title: x\nlogsource: {product: rempart}\n")
    with pytest.raises(InvalidRequest, match=r"guard/broken\.yml"):
        PySigmaToolkit().check([broken])
    with pytest.raises(InvalidRequest, match="unknown target"):
        PySigmaToolkit().convert([], "qradar")


def test_every_converted_rule_runs_over_an_empty_export() -> None:
    """A quiet day (no event at all) gives no hit and no error, whatever order the rules run
    in: the correlation plans add the columns they miss, and the next rule knows them."""
    converted = rule_service.convert(PySigmaToolkit(), RULES, "sqlite")
    table = SqliteEvents()
    table.load([])
    for order in (converted, list(reversed(converted))):
        for rule in order:
            assert table.run(rule) == []
