"""Sigma rules as Rempart handles them: a file's text in, a target's queries out (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The targets ``rempart rules convert`` knows, and what each produces.
TARGETS: dict[str, str] = {
    "splunk": "Splunk SPL searches (correlations as `stats` over `bin _time` buckets)",
    "elasticsearch": "Elasticsearch ES|QL queries (correlations as `stats` over time buckets)",
    "sqlite": "SQLite queries over a table of flattened ECS events (correlations as plans)",
}


@dataclass(frozen=True, slots=True)
class RuleFile:
    """One file of ``rules/``: its name (relative to the folder) and its YAML text."""

    name: str
    text: str


@dataclass(frozen=True, slots=True)
class ConvertedRule:
    """One Sigma rule converted for one target."""

    file: str
    title: str
    rule_id: str
    level: str
    queries: tuple[str, ...]
    correlation: bool = False
    # SQLite only: the backend's execution plan for a correlation (temporary tables, query).
    plan: dict[str, Any] | None = None
    # Rempart's own block of the rule (``rempart:``): the detector it answers, and how closely.
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Hit:
    """Where a rule fired: one event, or one correlation window and its group."""

    rule_id: str
    title: str
    level: str
    at: str = ""
    user: str = ""
    source_ip: str = ""
    group: tuple[tuple[str, str], ...] = ()
