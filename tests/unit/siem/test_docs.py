"""docs/siem.md shows what the code does: the conversion output for Splunk and Elasticsearch is
the current one, and every exported field is in its table."""

from __future__ import annotations

from pathlib import Path

import pytest

from rempart.siem.adapters.pysigma import PySigmaToolkit
from rempart.siem.model import FIELDS
from rempart.siem.service import rules as rule_service

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "siem.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("target", ["splunk", "elasticsearch"])
def test_the_conversion_shown_is_the_current_one(target: str) -> None:
    begin, end = f"<!-- rules-convert:{target}:begin -->", f"<!-- rules-convert:{target}:end -->"
    shown = DOC.split(begin, 1)[1].split(end, 1)[0].strip().removeprefix("```").removesuffix("```")
    converted = rule_service.convert(PySigmaToolkit(), ROOT / "rules", target)
    current = rule_service.render(converted, target)
    assert shown.strip() == current.strip(), (
        f"regenerate with: rempart rules convert --target {target}"
    )


def test_every_exported_field_is_in_the_table() -> None:
    assert [f.name for f in FIELDS if f"| `{f.name}` |" not in DOC] == []
