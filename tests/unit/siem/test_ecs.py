"""The journal in ECS: one event per person concerned, the guard's decision and its rule in
their own fields, every field documented; the export's window and its follower's cursor.

ASVS 5.0: V16.2.1 (each event says when, who, where, what, and the decision), V16.4.3
(security events reach the monitoring system in a form it can query).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.model import JournalEntry, StoredEntry, format_time
from rempart.kernel.clock import ManualClock
from rempart.kernel.tags import Decision, Tag
from rempart.siem.model import FIELDS, SEVERITY_NUMBER, ecs_events, flatten
from rempart.siem.service.export import Batch, Window, export_once, follow
from tests.factories import NOW
from tests.support.journal import read

DOCUMENTED = {f.name for f in FIELDS}
# Free-form objects: their leaves are whatever the guard's evidence or the entry's details hold.
OPEN_OBJECTS = ("rempart.guard.evidence.", "rempart.details.")


def guard_refusal(at: dt.datetime = NOW) -> JournalEntry:
    return JournalEntry(
        at=at,
        tag=Tag.GUARD_SESSION_REVOKED,
        decision=Decision.REVOKE,
        agent_login="ml.adv",
        agent_roles=("advisor",),
        org_id="ML-1",
        session_id="s1",
        client_address="192.0.2.9",
        network="AS:TEST/FR",
        user_agent="Firefox",
        persons=("0000042K",),
        reason="guard:velocity:burst",
        details={
            "action": "revoke_session",
            "explanation": "41 people within 300 s against a limit of 40.",
            "severity": "high",
            "request": "read",
            "found": True,
            "rule": "guard:velocity:burst",
            "observed": 41,
            "threshold": 40,
        },
    )


def page_of(n: int) -> JournalEntry:
    return replace(
        read(1),
        tag=Tag.PORTAL_PORTFOLIO_LIST,
        persons=tuple(f"{i:07d}K" for i in range(n)),
        details={"page": 1, "size": 100},
    )


def test_an_entry_concerning_several_people_is_one_event_each() -> None:
    events = list(ecs_events(StoredEntry(7, page_of(3))))
    assert [e["rempart"]["person"]["ft_id"] for e in events] == ["0000000K", "0000001K", "0000002K"]
    assert [e["event"]["id"] for e in events] == ["7-1", "7-2", "7-3"]
    assert {e["rempart"]["persons"]["count"] for e in events} == {3}
    assert {e["event"]["sequence"] for e in events} == {7}
    assert {e["rempart"]["journal"]["seq"] for e in events} == {7}


def test_an_entry_about_nobody_is_one_event_without_a_person() -> None:
    login = JournalEntry(NOW, Tag.AUTH_LOGIN_SUCCEEDED, Decision.ALLOW, agent_login="ml.adv")
    (event,) = ecs_events(StoredEntry(3, login))
    assert event["event"]["id"] == "3"
    assert "person" not in event["rempart"]
    assert event["user"]["name"] == "ml.adv"
    assert "source" not in event  # empty fields are left out, never written empty


def test_standard_fields_carry_their_ecs_meaning() -> None:
    (event,) = ecs_events(StoredEntry(1, read(5)))
    assert event["@timestamp"] == format_time(NOW)
    assert event["event"]["action"] == "portal:person:read"
    assert event["event"]["outcome"] == "success"
    assert event["event"]["kind"] == "event"
    assert event["user"] == {"name": "agent1", "roles": ["advisor"]}
    assert event["organization"]["id"] == "ORG-2"
    assert event["source"]["ip"] == "192.0.2.7"
    assert event["rempart"]["decision"] == "allow"
    missed = replace(read(5), decision=Decision.NOT_FOUND)
    (event,) = ecs_events(StoredEntry(2, missed))
    assert event["event"]["outcome"] == "failure"
    assert "denied" in event["event"]["type"]


def test_the_guards_decision_and_the_rule_that_made_it_have_their_own_fields() -> None:
    (event,) = ecs_events(StoredEntry(9, guard_refusal()))
    guard = event["rempart"]["guard"]
    assert guard["rule"] == "guard:velocity:burst"
    assert guard["action"] == "revoke_session"
    assert guard["severity"] == "high"
    assert guard["evidence"] == {"observed": 41, "threshold": 40}
    assert event["rempart"]["request"] == {"kind": "read", "found": True}
    assert event["event"]["kind"] == "alert"
    assert event["event"]["severity"] == SEVERITY_NUMBER["high"]
    assert "details" not in event["rempart"]


def test_every_exported_field_is_documented() -> None:
    entries = [read(1), page_of(2), guard_refusal(), replace(read(2), details={"rows": 3})]
    seen: set[str] = set()
    for i, entry in enumerate(entries, start=1):
        for event in ecs_events(StoredEntry(i, entry)):
            seen |= set(flatten(event))
    undocumented = {f for f in seen - DOCUMENTED if not f.startswith(OPEN_OBJECTS)}
    assert not undocumented
    assert {"rempart.guard.rule", "rempart.person.ft_id", "rempart.request.found"} <= seen


def test_weekday_and_hour_are_utc() -> None:
    saturday_night = dt.datetime(2026, 11, 21, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))
    (event,) = ecs_events(StoredEntry(1, replace(read(1), at=saturday_night)))
    assert event["rempart"]["time"] == {"hour": 1, "weekday": 7}  # Sunday 01:30 UTC


# -- the export --------------------------------------------------------------------------------


def journal_of(times: list[dt.datetime]) -> MemoryJournal:
    j = MemoryJournal(clock=ManualClock(NOW))
    for i, at in enumerate(times):
        j.append([read(i, at=at)])
    return j


def test_the_window_keeps_since_and_drops_until() -> None:
    hours = [NOW + dt.timedelta(hours=h) for h in range(6)]
    j = journal_of(hours)
    lines: list[str] = []
    batch = export_once(j, lines.append, Window(since=hours[2], until=hours[4]))
    assert (batch.entries, batch.events) == (2, 2)
    assert [line.count('"@timestamp"') for line in lines] == [1, 1]
    assert all(line.endswith("\n") for line in lines)


def test_a_cursor_resumes_after_the_last_entry_exported() -> None:
    j = journal_of([NOW] * 3)
    first: list[str] = []
    batch = export_once(j, first.append, Window())
    j.append([read(9)])
    second: list[str] = []
    again = export_once(j, second.append, Window(after=batch.last_seq))
    assert (len(first), len(second), again.last_seq) == (3, 1, 4)


def test_follow_exports_what_is_appended_while_it_runs() -> None:
    j = journal_of([NOW])
    lines: list[str] = []
    polls: list[Batch] = []

    def sleep() -> None:
        if len(polls) == 1:
            j.append([read(5), read(6)])

    def done(batch: Batch) -> bool:
        polls.append(batch)
        return len(polls) == 3

    total = follow(j, lines.append, Window(), sleep=sleep, done=done)
    assert [p.entries for p in polls] == [1, 2, 0]
    assert (total.entries, len(lines)) == (3, 3)


def test_follow_stops_by_itself_past_until() -> None:
    hours = [NOW + dt.timedelta(hours=h) for h in range(3)]
    j = journal_of(hours)
    lines: list[str] = []
    total = follow(
        j, lines.append, Window(until=hours[1]), sleep=lambda: None, done=lambda _b: False
    )
    assert total.entries == 1
