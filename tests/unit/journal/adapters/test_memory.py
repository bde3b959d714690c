"""The in-memory journal answers the same queries as the SQL one (ASVS V16.2.1)."""

from __future__ import annotations

import datetime as dt

from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.model import JournalEntry
from rempart.kernel.tags import Decision, Tag

T0 = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)


def read(n: int, agent: str, ft_id: str, minutes: int) -> JournalEntry:
    return JournalEntry(
        at=T0 + dt.timedelta(minutes=minutes),
        tag=Tag.PORTAL_PERSON_READ,
        decision=Decision.ALLOW,
        agent_login=agent,
        org_id=f"ORG-{n % 2}",
        session_id=f"s-{agent}",
        persons=(ft_id,),
    )


def test_who_activity_and_volumes() -> None:
    journal = MemoryJournal()
    assert journal.append([read(1, "a", "0000001K", 0), read(2, "b", "0000002K", 1)]) == 2
    assert journal.append([read(3, "a", "0000001K", 60 * 24)]) == 3
    journal.append(
        [
            JournalEntry(
                at=T0,
                tag=Tag.CITIZEN_ACCESS_LOG_READ,
                decision=Decision.ALLOW,
                persons=("0000001K",),
            )
        ]
    )
    assert [s.seq for s in journal.who_consulted("0000001K", 0, 10)] == [4, 3, 1]
    assert [s.seq for s in journal.who_consulted("0000001K", 0, 10, by_agents_only=True)] == [3, 1]
    assert [s.seq for s in journal.who_consulted("0000001K", 1, 1, by_agents_only=True)] == [1]
    day = (T0, T0 + dt.timedelta(days=1))
    assert [s.seq for s in journal.activity(*day, agent_login="a")] == [1]
    assert [s.seq for s in journal.activity(*day, session_id="s-b")] == [2]
    assert journal.volumes(T0, T0 + dt.timedelta(days=2)) == [
        (T0.date(), "", 1),
        (T0.date(), "ORG-0", 1),
        (T0.date(), "ORG-1", 1),
        ((T0 + dt.timedelta(days=1)).date(), "ORG-1", 1),
    ]
    stored = journal.entry(2)
    assert stored is not None
    assert stored.entry.agent_login == "b"
    assert journal.entry(99) is None
