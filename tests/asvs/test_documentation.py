"""Requirements met by documentation (ASVS V2.1, V6.1, V7.1, V8.1, V11.1, V14, V15.1, V16.1):
every document the ASVS map names exists and has the section it names."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMED = re.compile(r"(docs/[\w/.-]+\.md) \(([^)]+)\)")


def _headings(path: Path) -> list[str]:
    return [
        line.lstrip("#").strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    ]


def test_documented_requirements_have_their_section() -> None:
    """Each ``docs/X.md (Section)`` in the map points at a heading of that document, which
    also names the requirement, so a reader lands on the text that meets it (ASVS V2.1.1,
    V2.1.2, V2.1.3, V6.1.1, V6.1.3, V7.1.1, V7.1.3, V8.1.1, V8.1.2, V11.1.1, V14.2.4, V15.1.1,
    V15.1.3, V16.1.1, V16.2.3)."""
    decisions = tomllib.loads((ROOT / "docs" / "asvs" / "decisions.toml").read_text("utf-8"))
    checked = 0
    for req, decision in decisions.items():
        for doc, section in NAMED.findall(str(decision.get("where", ""))):
            path = ROOT / doc
            assert path.exists(), (req, doc)
            matching = [h for h in _headings(path) if h.startswith(section)]
            assert matching, f"{req}: {doc} has no section {section!r}"
            assert any(req in h for h in matching), f"{req}: {doc} ({section}) does not name it"
            checked += 1
    assert checked >= 15
