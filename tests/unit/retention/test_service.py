"""The retention job on its memory twin: past the rule only, never a canary, dry run first,
journaled in counts. GDPR art. 5(1)(e); ASVS V14.2.7, V16.3.3."""

from __future__ import annotations

import datetime as dt

from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.kernel.tags import Tag
from rempart.kernel.transactions import MemoryTransactions
from rempart.retention import service
from rempart.retention.adapters.memory import ErasureTables, MemoryPersonErasure
from rempart.retention.model import RetentionRule
from rempart.retention.service import RetentionDeps

NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)


def deps(tables: ErasureTables, journal: MemoryJournal) -> RetentionDeps:
    return RetentionDeps(
        erasure=MemoryPersonErasure(tables),
        transactions=MemoryTransactions(),
        journal=journal,
        alerts=MemoryAlertStore(),
        clock=ManualClock(NOW),
        rule=RetentionRule(2),
    )


def test_only_people_past_the_rule_go_and_the_journal_names_none_of_them() -> None:
    old, recent, canary, registered = (
        dt.date(2024, 11, 1),
        dt.date(2025, 1, 1),
        dt.date(2020, 1, 1),
        None,
    )
    tables = ErasureTables(
        persons={
            1: ("0000001A", old, False),
            2: ("0000002B", recent, False),
            3: ("0000003C", canary, True),
            4: ("0000004D", registered, False),
        },
        by_person={"enrolments": [1, 2, 1], "follow_up_notes": [1]},
        by_ft_id={"citizen_flags": ["0000001A", "0000002B"]},
        messages={"ABCD2345EFGH": "0000001A"},
    )
    journal = MemoryJournal()
    review = service.run(deps(tables, journal), dry_run=True)
    assert (review.persons, review.rows["enrolments"], review.rows["citizen_flags"]) == (1, 2, 1)
    assert set(tables.persons) == {1, 2, 3, 4}  # a dry run erases nothing

    done = service.run(deps(tables, journal), dry_run=False)
    assert done.persons == 1
    assert set(tables.persons) == {2, 3, 4}  # the canary and the recent ones stay
    assert tables.by_person == {"enrolments": [2], "follow_up_notes": []}
    assert tables.by_ft_id == {"citizen_flags": ["0000002B"]}
    assert tables.messages == {"ABCD2345EFGH": ""}  # still verifiable, names nobody
    tags = [e.tag for e in journal.entries]
    assert tags == [Tag.RETENTION_PERSONS_REVIEWED, Tag.RETENTION_PERSONS_ERASED]
    assert all(e.persons == () and "0000001A" not in str(e.details) for e in journal.entries)
    assert service.run(deps(tables, journal), dry_run=False).persons == 0  # idempotent
