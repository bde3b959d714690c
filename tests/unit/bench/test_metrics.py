"""The bench's own arithmetic: each person counted once; containment at the right request."""

from __future__ import annotations

import datetime as dt

from rempart_bench.metrics import AttackOutcome, LegitTally

T0 = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_a_person_is_counted_once_however_often_they_leak() -> None:
    o = AttackOutcome("x", "on")
    o.record(at(0), 200, ["A", "B"])
    o.record(at(1), 200, ["B"])
    o.record(at(2), 200, ["A", "C"])
    assert o.exposed_persons == 3
    assert o.timeline == [(0.0, 2), (2.0, 3)]


def test_error_answers_expose_nobody() -> None:
    o = AttackOutcome("x", "on")
    o.record(at(0), 404, ["A"])
    o.record(at(1), 429, ["B"])
    assert o.exposed_persons == 0
    assert o.requests_until_containment == 1
    assert o.seconds_until_containment == 0.0


def test_containment_is_the_request_after_the_last_data() -> None:
    o = AttackOutcome("x", "on")
    for i in range(5):
        o.record(at(i * 10), 200, [f"P{i}"])
    o.record(at(60), 429, [])
    o.record(at(70), 401, [])
    assert o.requests_until_containment == 6
    assert o.seconds_until_containment == 40.0
    assert o.contained


def test_an_attack_still_reading_at_the_end_was_not_contained() -> None:
    o = AttackOutcome("x", "none")
    o.record(at(0), 404, [])
    o.record(at(1), 200, ["A"])
    assert o.requests_until_containment is None
    assert o.seconds_until_containment is None
    assert o.as_json()["contained"] is False


def test_an_attack_stopped_by_the_bench_cap_is_not_called_contained() -> None:
    o = AttackOutcome("x", "none")
    o.record(at(0), 200, ["A"])
    o.record(at(1), 404, [])
    o.stopped_by_cap = True
    assert not o.contained


def test_legit_tally_counts_agent_days_not_requests() -> None:
    t = LegitTally()
    day = T0.date()
    for login in ("a", "b", "c", "d"):
        t.worked(login, day)
    t.response("a", day, 401, "step_up_required")
    t.response("a", day, 401, "step_up_required")
    t.response("b", day, 401, "session_revoked")
    t.response("c", day, 429, "budget_exhausted")
    t.response("d", day, 200, "")
    j = t.as_json()
    assert j["agent_days"] == 4
    assert j["hard_blocked"] == 1
    assert j["step_ups"] == 1
    assert j["step_up_prompts"] == 2
    assert j["throttled_agent_days"] == 1
    assert j["hard_blocked_pct"] == 25.0
