"""The rules of ``rules/``: read them, check them, convert them, render the conversion."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rempart.kernel.errors import InvalidRequest
from rempart.siem.ports import EventTable, RuleToolkit
from rempart.siem.rules import ConvertedRule, Hit, RuleFile


def load(directory: Path) -> list[RuleFile]:
    """Every ``*.yml`` under ``directory``, by name (a rule per file, correlations included)."""
    if not directory.is_dir():
        raise InvalidRequest(f"no rules folder at {directory}")
    files = sorted(p for p in directory.rglob("*.yml") if p.is_file())
    if not files:
        raise InvalidRequest(f"no rules in {directory}")
    return [RuleFile(str(p.relative_to(directory)), p.read_text(encoding="utf-8")) for p in files]


def check(toolkit: RuleToolkit, directory: Path) -> int:
    """Parse every rule; the number of files."""
    rules = load(directory)
    toolkit.check(rules)
    return len(rules)


def convert(toolkit: RuleToolkit, directory: Path, target: str) -> list[ConvertedRule]:
    """Every rule that produces output, converted for ``target``, by file."""
    return sorted(toolkit.convert(load(directory), target), key=lambda c: (c.file, c.title))


def render(converted: list[ConvertedRule], target: str) -> str:
    """The conversion as text: a comment naming each rule, then its queries."""
    comment = "```" if target == "splunk" else "//"
    if target == "sqlite":
        comment = "--"
    lines: list[str] = []
    for c in converted:
        head = f"{c.title} ({c.level}; {c.file}; id {c.rule_id})"
        lines.append(f"{comment} {head}{' ```' if target == 'splunk' else ''}")
        lines += [q.rstrip() for q in c.queries]
        lines.append("")
    return "\n".join(lines)


def _events(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            raise InvalidRequest(f"line {n}: not a JSON object") from None
        if not isinstance(event, dict):
            raise InvalidRequest(f"line {n}: not a JSON object")
        yield event


def hunt(
    toolkit: RuleToolkit, table: EventTable, directory: Path, lines: Iterable[str]
) -> list[tuple[ConvertedRule, list[Hit]]]:
    """Every rule, converted for SQLite, run over exported ECS lines: what fired where."""
    converted = convert(toolkit, directory, "sqlite")
    try:
        table.load(_events(lines))
        return [(rule, table.run(rule)) for rule in converted]
    finally:
        table.close()
