"""The soak's verdict (``rempart_bench.soak``): its checks, run on made-up answers, catch what
they are there to catch (ASVS 5.0 V16.5.3 fail closed, V16.3.2 every access logged)."""

from __future__ import annotations

from collections import Counter

from rempart_bench.soak import (
    Answer,
    Phase,
    Verdict,
    check_answers,
    check_budget,
    check_journaled,
    check_recovery,
    markdown,
    per_phase,
)


def answer(at: float, status: int, **kw: object) -> Answer:
    values: dict[str, object] = {"phase": "p", "replica": "a", "op": "read", "agent": "adv"}
    values.update(kw)
    return Answer(at, status=status, **values)  # type: ignore[arg-type]


def test_only_the_documented_503_problem_passes() -> None:
    good = [
        answer(1, 503, code="journal_unavailable"),
        answer(2, 503, code="guard_unavailable"),
        answer(3, 503, code="database_unavailable"),
        answer(4, 200),
        answer(5, 0, code="ConnectError"),
    ]
    assert check_answers(good) == []
    assert check_answers([answer(1, 500, code="internal_error")])
    assert check_answers([answer(1, 503, code="")])  # a proxy's 503 page is not ours
    assert check_answers([answer(1, 502)])
    assert check_answers([answer(1, 404, code="not_found", problem=False)])


def test_a_served_answer_without_its_entry_is_caught() -> None:
    served = [answer(1, 200, served=("0000001A",)), answer(2, 200, served=("0000001A",))]
    assert check_journaled(served, Counter({("adv", "0000001A"): 2})) == []
    # Over-recording (an entry for a request that timed out) is fine; under-recording is not.
    assert check_journaled(served, Counter({("adv", "0000001A"): 3})) == []
    missing = check_journaled(served, Counter({("adv", "0000001A"): 1}))
    assert missing
    assert "1 served answers without a journal entry" in missing[0]
    # Another agent's entry does not cover this one's answer.
    assert check_journaled(served[:1], Counter({("other", "0000001A"): 5}))
    # Refusals serve nobody.
    assert check_journaled([answer(1, 503, served=())], Counter()) == []


def test_recovery_is_the_first_data_served_after_the_dependency_came_back() -> None:
    plan = [Phase("redis_restart", lambda: None, None, 1, 10, back_at=100.0)]
    answers = [
        answer(99, 200, replica="a"),
        answer(101, 503, replica="a", code="guard_unavailable"),
        answer(102.5, 200, replica="a"),
        answer(104, 200, replica="b", op="me"),  # not data
        answer(105, 200, replica="b", op="list"),
    ]
    assert check_recovery(answers, plan, ["a", "b"]) == {"redis_restart": {"a": 2.5, "b": 5.0}}
    assert check_recovery(answers[:3], plan, ["a", "b"])["redis_restart"]["b"] is None


def test_a_budget_forgotten_across_a_restart_is_caught() -> None:
    before = [
        answer(1, 200, served=("A",)),
        answer(2, 200, served=("B",)),
        answer(3, 429, code="budget_exhausted"),
    ]
    kept = [
        *before,
        answer(20, 429, code="budget_exhausted", op="budget_read"),
        answer(21, 200, served=("A",)),
    ]
    failures, figures = check_budget(kept, "adv", first_fault_at=10)
    assert failures == []
    assert figures["people_before_first_fault"] == 2
    assert figures["new_people_after"] == 0
    forgotten = [*before, answer(19, 429, code="budget_exhausted"), answer(20, 200, served=("C",))]
    failures, figures = check_budget(forgotten, "adv", first_fault_at=10)
    assert failures
    assert figures["new_people_after"] == 1
    never_exhausted, _ = check_budget(before[:2], "adv", first_fault_at=10)
    assert never_exhausted
    never_tried_again, _ = check_budget(before, "adv", first_fault_at=10)
    assert never_tried_again  # no refusal after the fault: nothing was shown


def test_per_phase_counts_answers_503_codes_and_lost_connections() -> None:
    plan = [Phase("p", None, None, 1, 1)]
    answers = [
        answer(1, 200, served=("A",)),
        answer(2, 503, code="journal_unavailable"),
        answer(3, 0, code="ConnectError"),
        answer(4, 200, op="sign_in"),
    ]
    row = per_phase(answers, plan)["p"]
    assert row["answers"] == 3
    assert row["no_answer"] == 1
    assert row["data_served"] == 1
    assert row["sign_ins"] == 1
    assert row["503_codes"] == {"journal_unavailable": 1}
    assert row["other_5xx"] == 0


def test_the_report_has_one_row_per_phase_and_says_when_a_check_failed() -> None:
    plan = [Phase("baseline", None, None, 1, 0, note="none"), Phase("final", None, None, 1, 0)]
    answers = [answer(1, 200, phase="baseline", served=("A",)), answer(2, 200, phase="final")]
    verdict = Verdict(per_phase=per_phase(answers, plan))
    verdict.totals = {"answers": 2, "no_answer": 0, "data_served": 2, "journal_entries": 2}
    details = {
        "phases": [
            {"name": p.name, "fault_seconds": p.fault_seconds, "note": p.note} for p in plan
        ],
        "recovery_seconds": {},
        "budget": {"people_before_first_fault": 1, "refused_after": 1, "new_people_after": 0},
        "journal_verify": ["journal intact"],
    }
    text = markdown(verdict, details, "make soak", 10.0)
    assert text.count("\n| baseline |") == 1
    assert text.count("\n| final |") == 1
    assert text.endswith("every check holds.")
    verdict.failures.append("2 served answers without a journal entry")
    assert "FAILED: 2 served answers without a journal entry" in markdown(
        verdict, details, "make soak", 10.0
    )
