"""``rempart rules check|convert|hunt``: the rules for the SOC's SIEM, from the command line.

ASVS 5.0: V16.4.3 (the security team can run the guard's detections where it watches).
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rempart.cli.main import app as cli
from rempart.siem.adapters.pysigma import ES_INDEX
from tests.support.siem import guard_journals

RULES = Path(__file__).resolve().parents[3] / "rules"


def test_check_parses_every_rule() -> None:
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(RULES)])
    assert result.exit_code == 0, result.output
    assert f"{len(list(RULES.rglob('*.yml')))} rules parse" in result.output


def test_convert_prints_every_alerting_rule_for_splunk_and_elasticsearch() -> None:
    for target, marker in (("splunk", "| stats"), ("elasticsearch", f"from {ES_INDEX}")):
        args = ["rules", "convert", "--target", target, "--json", "--rules", str(RULES)]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert {r["level"] for r in rows} <= {"low", "medium", "high", "critical"}
        assert any(marker in q for r in rows for q in r["queries"]), target
        assert "Canary record requested" in {r["title"] for r in rows}


def test_an_unknown_target_or_folder_is_refused_with_a_message(tmp_path: Path) -> None:
    bogus = CliRunner().invoke(cli, ["rules", "convert", "--target", "qradar"])
    assert bogus.exit_code == 2
    assert "one of splunk, elasticsearch, sqlite" in bogus.output
    empty = CliRunner().invoke(cli, ["rules", "check", "--rules", str(tmp_path)])
    assert empty.exit_code == 1
    assert "no rules in" in empty.output
    assert "Traceback" not in empty.output + bogus.output


def test_hunt_runs_the_rules_over_an_export(tmp_path: Path) -> None:
    export = tmp_path / "canary.jsonl"
    events = guard_journals()["guard:canary"].events
    export.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["rules", "hunt", "--events", str(export), "--rules", str(RULES)]
    )
    assert result.exit_code == 0, result.output
    assert "Canary record requested" in result.stdout
    assert "ml.a" in result.stdout
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("not json\n", encoding="utf-8")
    refused = CliRunner().invoke(cli, ["rules", "hunt", "--events", str(garbage)])
    assert refused.exit_code == 1
    assert "line 1: not a JSON object" in refused.output
