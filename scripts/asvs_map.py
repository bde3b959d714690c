"""The ASVS 5.0 Level 1 and 2 map: every requirement applies (where, and the tests that show it)
or does not (why), checked against the tests themselves.

Inputs, all in the repository:
- ``docs/asvs/asvs-5.0.0.csv``: the OWASP requirement list, unchanged;
- ``docs/asvs/decisions.toml``: one table per requirement, ``where`` (the modules that enforce
  it) or ``na`` (the one-line reason it does not apply), and optionally ``tests`` (test ids
  that show it beyond those found by name);
- the tests: a test shows a requirement when its docstring (or its module's, or its class's)
  names it, as ``ASVS V6.3.1`` or ``V6.3.1``.

``python scripts/asvs_map.py`` writes ``docs/asvs.md``; ``--check`` only checks, and exits 1
when a requirement has no decision, an applying one has no test, a named test does not exist,
a test names a requirement the standard does not have, or ``docs/asvs.md`` is stale.
"""

from __future__ import annotations

import argparse
import ast
import csv
import re
import sys
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STANDARD = ROOT / "docs" / "asvs" / "asvs-5.0.0.csv"
DECISIONS = ROOT / "docs" / "asvs" / "decisions.toml"
OUTPUT = ROOT / "docs" / "asvs.md"
TESTS = ROOT / "tests"
LEVELS = ("1", "2")
REQUIREMENT = re.compile(r"(?<![\w.])V(\d{1,2})\.(\d{1,2})\.(\d{1,2})(?![\d])")


@dataclass(frozen=True)
class Requirement:
    req_id: str
    chapter: str
    section: str
    level: str
    text: str


@dataclass
class Entry:
    requirement: Requirement
    where: str = ""
    na: str = ""
    tests: list[str] = field(default_factory=list)

    @property
    def applies(self) -> bool:
        return bool(self.where)


def load_standard(path: Path = STANDARD) -> list[Requirement]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        Requirement(
            req_id=row["req_id"],
            chapter=f"{row['chapter_id']} {row['chapter_name']}",
            section=f"{row['section_id']} {row['section_name']}",
            level=row["L"],
            text=" ".join(row["req_description"].split()),
        )
        for row in rows
    ]


def _ids_in(text: str | None) -> set[str]:
    return {f"V{a}.{b}.{c}" for a, b, c in REQUIREMENT.findall(text or "")}


def named_tests(root: Path = TESTS) -> tuple[dict[str, set[str]], set[str]]:
    """Requirement id -> test ids whose docstrings name it; and every test id that exists
    (``path`` for a module, ``path::name`` and ``path::Class::name`` for tests)."""
    named: dict[str, set[str]] = defaultdict(set)
    existing: set[str] = set()
    for path in sorted(root.rglob("test_*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        existing.add(rel)
        module_ids = _ids_in(ast.get_docstring(tree))
        for req in module_ids:
            named[req].add(rel)
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                class_id = f"{rel}::{node.name}"
                existing.add(class_id)
                for req in _ids_in(ast.get_docstring(node)):
                    named[req].add(class_id)
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and (
                        item.name.startswith("test")
                    ):
                        test_id = f"{class_id}::{item.name}"
                        existing.add(test_id)
                        for req in _ids_in(ast.get_docstring(item)):
                            named[req].add(test_id)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
                node.name.startswith("test")
            ):
                test_id = f"{rel}::{node.name}"
                existing.add(test_id)
                for req in _ids_in(ast.get_docstring(node)):
                    named[req].add(test_id)
    return named, existing


def build(
    standard: list[Requirement], decisions: dict[str, dict[str, object]]
) -> tuple[list[Entry], list[str]]:
    """The map and the problems with it (empty when it holds)."""
    problems: list[str] = []
    named, existing = named_tests()
    known = {r.req_id for r in standard}
    in_scope = [r for r in standard if r.level in LEVELS]
    for req in sorted(set(named) - known):
        problems.append(f"{req}: named by {sorted(named[req])[0]} but not an ASVS 5.0 requirement")
    for req in sorted(set(decisions) - {r.req_id for r in in_scope}):
        problems.append(f"{req}: a decision for a requirement outside Levels 1 and 2")
    entries: list[Entry] = []
    for requirement in in_scope:
        decision = decisions.get(requirement.req_id, {})
        where = str(decision.get("where", "")).strip()
        na = str(decision.get("na", "")).strip()
        listed = [str(t) for t in decision.get("tests", [])]  # type: ignore[attr-defined]
        for test in listed:
            if test not in existing:
                problems.append(f"{requirement.req_id}: names {test}, which does not exist")
        tests = sorted(set(listed) | named.get(requirement.req_id, set()))
        entry = Entry(requirement, where=where, na=na, tests=tests)
        if where and na:
            problems.append(f"{requirement.req_id}: both applies (where) and does not (na)")
        elif not where and not na:
            problems.append(f"{requirement.req_id}: no decision (where or na)")
        elif where and not tests:
            problems.append(f"{requirement.req_id}: applies but no test shows it")
        entries.append(entry)
    return entries, problems


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(entries: list[Entry]) -> str:
    applies = [e for e in entries if e.applies]
    tested = [e for e in applies if e.tests]
    lines = [
        "# OWASP ASVS 5.0, Levels 1 and 2: how Rempart meets each requirement",
        "",
        "Generated by `python scripts/asvs_map.py` from `docs/asvs/decisions.toml` and the",
        "tests' docstrings; `tests/unit/architecture/test_asvs_map.py` fails when a requirement",
        "has no decision, an applying one has no test, or a named test does not exist.",
        "",
        f"**{len(entries)} requirements: {len(applies)} apply, {len(tested)} of them shown by a "
        f"test; {len(entries) - len(applies)} do not apply, each with its reason.**",
        "",
        "| chapter | requirements | apply | tested | do not apply |",
        "|---|---:|---:|---:|---:|",
    ]
    by_chapter: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_chapter[entry.requirement.chapter].append(entry)
    for chapter, items in by_chapter.items():
        yes = [e for e in items if e.applies]
        lines.append(
            f"| {chapter} | {len(items)} | {len(yes)} | {sum(1 for e in yes if e.tests)} "
            f"| {len(items) - len(yes)} |"
        )
    for chapter, items in by_chapter.items():
        lines += ["", f"## {chapter}", ""]
        lines += ["| id | L | requirement | how | tests |", "|---|---|---|---|---|"]
        for e in items:
            text = e.requirement.text
            short = text if len(text) <= 140 else text[:137].rsplit(" ", 1)[0] + "…"
            how = f"**applies**: {e.where}" if e.applies else f"*does not apply*: {e.na}"
            tests = "<br>".join(f"`{t}`" for t in e.tests) if e.applies else ""
            lines.append(
                f"| {e.requirement.req_id} | {e.requirement.level} | {_cell(short)} "
                f"| {_cell(how)} | {tests} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="check only; write nothing")
    args = parser.parse_args(argv)
    decisions = tomllib.loads(DECISIONS.read_text(encoding="utf-8"))
    entries, problems = build(load_standard(), decisions)
    text = render(entries)
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            problems.append("docs/asvs.md is stale: run python scripts/asvs_map.py")
    else:
        OUTPUT.write_text(text, encoding="utf-8")
    sys.stderr.writelines(f"{problem}\n" for problem in problems)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
