"""Exposure, on the memory journal: only data served counts, lists count their people, no cap.

GDPR art. 33(3)(a) and 34: the categories and number of people concerned must be exact.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from rempart.incident.model import Selector, SelectorKind, Window, deadline_of, format_left
from rempart.incident.service.exposure import compute_exposure
from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.model import JournalEntry
from rempart.kernel.errors import InvalidRequest
from rempart.kernel.tags import Decision, Tag
from tests.factories import NOW
from tests.support.journal import read


def entry(
    tag: Tag,
    decision: Decision,
    persons: tuple[str, ...],
    categories: tuple[str, ...],
    *,
    agent: str = "thief",
    minutes: int = 0,
) -> JournalEntry:
    return dataclasses.replace(
        read(0),
        at=NOW + dt.timedelta(minutes=minutes),
        tag=tag,
        decision=decision,
        agent_login=agent,
        persons=persons,
        categories=categories,
    )


@pytest.fixture
def journal() -> MemoryJournal:
    j = MemoryJournal()
    j.append(
        [
            entry(Tag.PORTAL_PERSON_READ, Decision.ALLOW, ("0000001A",), ("contact", "identity")),
            entry(Tag.PORTAL_PERSON_READ, Decision.NOT_FOUND, ("0000002B",), ()),
            entry(Tag.GUARD_BUDGET_EXHAUSTED, Decision.THROTTLE, ("0000003C",), ()),
            entry(Tag.GUARD_REQUEST_DENIED, Decision.ALLOW, ("0000004D",), ()),  # an alert only
            entry(Tag.PORTAL_PERSON_READ, Decision.DENY, ("0000005E",), ("nir",)),
            entry(
                Tag.PORTAL_PORTFOLIO_LIST,
                Decision.ALLOW,
                ("0000001A", "0000006F", "0000007G"),
                ("identity",),
                minutes=5,
            ),
            entry(
                Tag.PORTAL_PERSON_READ,
                Decision.ALLOW,
                ("0000006F",),
                ("disability", "identity", "nir"),
                minutes=9,
            ),
            entry(Tag.PORTAL_ATTENDANCE_WRITE, Decision.ALLOW, ("0000008H",), ("training",)),
            entry(
                Tag.PORTAL_PERSON_READ, Decision.ALLOW, ("0000009J",), ("identity",), agent="other"
            ),
        ]
    )
    return j


def test_only_served_data_exposes_and_lists_expose_their_people(journal: MemoryJournal) -> None:
    found = compute_exposure(journal, Selector.of(["thief"]), Window())
    got = {f: p.ordered_categories() for f, p in found.persons.items()}
    assert got == {
        "0000001A": ["identity", "contact"],
        "0000006F": ["identity", "nir", "disability"],
        "0000007G": ["identity"],
    }
    one = found.persons["0000001A"]
    assert one.accesses == 2
    assert (one.first_at, one.last_at) == (
        "2026-11-16T10:00:00.000000Z",
        "2026-11-16T10:05:00.000000Z",
    )
    assert found.by_category()["identity"] == 3
    assert found.by_category()["nir"] == 1
    assert found.sensitive
    assert found.records == 5


def test_the_window_and_the_selector_bound_it(journal: MemoryJournal) -> None:
    found = compute_exposure(
        journal, Selector.of(["thief"]), Window(NOW + dt.timedelta(minutes=1), None)
    )
    assert sorted(found.persons) == ["0000001A", "0000006F", "0000007G"]
    found = compute_exposure(
        journal, Selector.of(["thief"]), Window(None, NOW + dt.timedelta(minutes=6))
    )
    assert sorted(found.persons) == ["0000001A", "0000006F", "0000007G"]
    assert found.persons["0000006F"].ordered_categories() == ["identity"]
    assert compute_exposure(journal, Selector.of(org_id="ORG-0"), Window()).persons.keys() == {
        "0000001A",
        "0000006F",
        "0000007G",
        "0000009J",
    }
    assert not compute_exposure(journal, Selector.of(["nobody"]), Window()).persons


def test_no_cap_and_the_json_is_the_contract_shape() -> None:
    j = MemoryJournal()
    j.append(
        [
            entry(Tag.PORTAL_PERSON_READ, Decision.ALLOW, (f"{i:07d}K",), ("identity",))
            for i in range(12_000)
        ]
    )
    found = compute_exposure(j, Selector.of(["thief"]), Window())
    doc = json.loads("".join(found.json_chunks()))
    assert doc["total_persons"] == 12_000 == len(doc["persons"])
    assert set(doc) == {"window", "total_persons", "persons", "by_category", "computed_in_seconds"}
    assert set(doc["persons"][0]) == {"ft_id", "categories", "first_at", "last_at", "accesses"}
    assert doc["window"] == {"since": None, "until": None}


def test_selectors_and_windows_refuse_nonsense() -> None:
    with pytest.raises(InvalidRequest):
        Selector.of()
    with pytest.raises(InvalidRequest):
        Selector.of(["a"], org_id="ORG-1")
    with pytest.raises(InvalidRequest):
        Selector.of(["a\nb"])
    with pytest.raises(InvalidRequest):
        Window(NOW, NOW - dt.timedelta(seconds=1))
    assert Selector.of(session_id="s1").kind is SelectorKind.SESSION


def test_deadline_is_72_hours_after_awareness() -> None:
    assert deadline_of(NOW) == NOW + dt.timedelta(hours=72)
    assert format_left(dt.timedelta(hours=41, minutes=12)) == "41 h 12 min"
    assert format_left(dt.timedelta(minutes=-65)) == "dépassé de 1 h 05 min"


def test_a_network_in_doubt_exposes_what_was_served_to_its_addresses() -> None:
    """A network selector (an address, a CIDR block or the operator's name) reads the whole
    window, since the journal has no index by address, and keeps what was served to clients
    in it, whoever the account (an infostealer's cookies replayed from one block)."""
    j = MemoryJournal()
    j.append(
        [
            dataclasses.replace(
                entry(Tag.PORTAL_PERSON_READ, Decision.ALLOW, ("0000001A",), ("identity",)),
                client_address="203.0.113.9",
                network="AS64500/FR",
            ),
            dataclasses.replace(
                entry(
                    Tag.PORTAL_PERSON_READ, Decision.ALLOW, ("0000002B",), ("nir",), agent="other"
                ),
                client_address="203.0.113.200",
                network="AS64500/FR",
            ),
            dataclasses.replace(
                entry(Tag.PORTAL_PERSON_READ, Decision.DENY, ("0000003C",), ("nir",)),
                client_address="203.0.113.10",
            ),
            dataclasses.replace(
                entry(Tag.PORTAL_PERSON_READ, Decision.ALLOW, ("0000004D",), ("identity",)),
                client_address="198.51.100.1",
                network="AS64501/FR",
            ),
            dataclasses.replace(
                entry(Tag.PORTAL_PERSON_READ, Decision.ALLOW, ("0000005E",), ("contact",)),
                client_address="2001:db8:1:2::7",
            ),
        ]
    )
    block = compute_exposure(j, Selector.of(network="203.0.113.0/24"), Window())
    assert set(block.persons) == {"0000001A", "0000002B"}
    one = compute_exposure(j, Selector.of(network="203.0.113.9"), Window())
    assert set(one.persons) == {"0000001A"}
    named = compute_exposure(j, Selector.of(network="AS64501/FR"), Window())
    assert set(named.persons) == {"0000004D"}
    six = compute_exposure(j, Selector.of(network="2001:db8:1:2::/64"), Window())
    assert set(six.persons) == {"0000005E"}
    assert Selector.of(network="203.0.113.9/24").values == ("203.0.113.0/24",)
    assert Selector.of(network="203.0.113.0/24").describe() == "réseau 203.0.113.0/24"
    with pytest.raises(InvalidRequest):
        Selector.of(["thief"], network="203.0.113.0/24")
