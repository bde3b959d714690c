"""pySigma behind the ``RuleToolkit`` port: parse Sigma rules, convert them for a target.

The rules are written against the export's own field names (ECS and ``rempart.``), so no
field mapping pipeline is needed; the pipelines below only name where the events live (the
Elasticsearch index pattern, the SQLite table and its timestamp column).
"""

from __future__ import annotations

from typing import Any

from sigma.backends.elasticsearch.elasticsearch_esql import ESQLBackend
from sigma.backends.splunk.splunk import SplunkBackend
from sigma.backends.sqlite.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.conversion.base import Backend
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import SetStateTransformation
from sigma.rule import SigmaRule

from rempart.kernel.errors import InvalidRequest
from rempart.siem.rules import TARGETS, ConvertedRule, RuleFile

ES_INDEX = "rempart-journal*"  # the index pattern docs/siem.md has the shipper write to
SQLITE_TABLE = "events"


def _index_pipeline(index: str) -> ProcessingPipeline:
    return ProcessingPipeline(
        name=f"rempart: events in {index}",
        priority=20,
        items=[ProcessingItem(SetStateTransformation("index", index), identifier="index")],
    )


def _backend(target: str) -> Backend:
    if target == "splunk":
        return SplunkBackend()
    if target == "elasticsearch":
        return ESQLBackend(processing_pipeline=_index_pipeline(ES_INDEX))
    if target == "sqlite":
        return sqliteBackend(timestamp_field="@timestamp", table=SQLITE_TABLE)  # type: ignore[no-untyped-call]
    raise InvalidRequest(f"unknown target {target!r}: one of {', '.join(TARGETS)}")


def _collection(rules: list[RuleFile]) -> tuple[SigmaCollection, dict[int, str]]:
    """Every rule of every file in one collection (correlations name rules of other files);
    the file each rule came from, by the rule's identity."""
    parsed: list[SigmaRule | SigmaCorrelationRule] = []
    origin: dict[int, str] = {}
    for f in rules:
        try:
            one = SigmaCollection.from_yaml(f.text)
        except SigmaError as exc:
            raise InvalidRequest(f"{f.name}: {exc}") from None
        if one.errors:
            raise InvalidRequest(f"{f.name}: {one.errors[0]}")
        for rule in one.rules:
            origin[id(rule)] = f.name
            parsed.append(rule)
    collection = SigmaCollection(parsed)  # type: ignore[arg-type]
    try:
        collection.resolve_rule_references()
    except SigmaError as exc:
        raise InvalidRequest(f"rules: {exc}") from None
    return collection, origin


def _meta(rule: SigmaRule | SigmaCorrelationRule) -> dict[str, Any]:
    custom = rule.custom_attributes or {}
    block = custom.get("rempart")
    return dict(block) if isinstance(block, dict) else {}


class PySigmaToolkit:
    """Sigma rules through pySigma and its Splunk, Elasticsearch (ES|QL) and SQLite backends."""

    targets: tuple[str, ...] = tuple(TARGETS)

    def check(self, rules: list[RuleFile]) -> None:
        """Parse every rule and resolve the rules correlations name."""
        _collection(rules)

    def convert(self, rules: list[RuleFile], target: str) -> list[ConvertedRule]:
        """Each rule that produces output, with its queries for ``target``."""
        backend = _backend(target)
        collection, origin = _collection(rules)
        output_format = "zircolite" if target == "sqlite" else "default"
        try:
            backend.convert(collection, output_format)
        except SigmaError as exc:
            raise InvalidRequest(f"conversion for {target}: {exc}") from None
        out: list[ConvertedRule] = []
        for rule in collection.rules:
            if not rule._output:  # a base rule only a correlation uses
                continue
            result = rule.get_conversion_result()
            queries: list[str] = []
            plan: dict[str, Any] | None = None
            for item in result:
                if isinstance(item, dict):  # the SQLite backend's zircolite form
                    queries += [str(q) for q in item.get("rule", [])]
                    plan = item.get("correlation_plan") or plan
                else:
                    queries.append(str(item))
            out.append(
                ConvertedRule(
                    file=origin.get(id(rule), ""),
                    title=rule.title,
                    rule_id=str(rule.id),
                    level=str(rule.level.name).lower() if rule.level else "",
                    queries=tuple(queries),
                    correlation=isinstance(rule, SigmaCorrelationRule),
                    plan=plan,
                    meta=_meta(rule),
                )
            )
        return out
