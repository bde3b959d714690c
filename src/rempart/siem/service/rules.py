"""The rules of ``rules/``: read them, check them, convert them, render the conversion."""

from __future__ import annotations

from pathlib import Path

from rempart.kernel.errors import InvalidRequest
from rempart.siem.ports import RuleToolkit
from rempart.siem.rules import ConvertedRule, RuleFile


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
