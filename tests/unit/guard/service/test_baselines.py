"""Rebuilding the guard's baselines from the journal: allowed consultations only, by agent,
peer group, organisation and app, networks and countries learned from what agents really did.

ASVS 5.0: V2.4.1 (limits derived from each account's own past use).
"""

from __future__ import annotations

import datetime as dt

import pytest

from rempart.guard.service import baselines
from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.model import JournalEntry
from rempart.kernel.actors import Organisation, OrgKind
from rempart.kernel.tags import Decision, Tag
from tests.factories import NOW
from tests.unit.twins import MemoryPortalStore

ORG = Organisation("ORG-ML", OrgKind.MISSION_LOCALE, "ML Nord", "00000000000000")


def consult(
    days_ago: int,
    hour: int,
    person: str,
    *,
    login: str = "ml.adv",
    tag: Tag = Tag.PORTAL_PERSON_READ,
    decision: Decision = Decision.ALLOW,
) -> JournalEntry:
    day = (NOW - dt.timedelta(days=days_ago)).replace(hour=hour, minute=0)
    return JournalEntry(
        at=day,
        tag=tag,
        decision=decision,
        agent_login=login,
        agent_roles=("advisor",),
        org_id=ORG.id,
        session_id="s",
        network="AS:Orange/FR",
        user_agent="Firefox",
        persons=(person,),
    )


def test_country_and_peer_group() -> None:
    assert baselines.country_of("AS:Orange/FR") == "FR"
    assert baselines.country_of("AS3215") == ""
    assert baselines.country_of("192.0.2.0/24") == ""
    assert baselines.peer_group("mission_locale", ("b", "a")) == "mission_locale/a+b"


def test_only_allowed_consultations_by_agents_are_learned() -> None:
    journal = MemoryJournal()
    portal = MemoryPortalStore()
    portal.add(ORG)
    journal.append(
        [
            consult(2, 10, "0000001K"),
            consult(2, 11, "0000002K", decision=Decision.DENY),
            consult(2, 11, "0000003K", tag=Tag.CITIZEN_ACCESS_LOG_READ),
            consult(2, 12, "0000004K", login=""),
            consult(40, 10, "0000005K"),  # before the window
        ]
    )
    found = list(baselines.past_accesses(journal, portal, NOW - dt.timedelta(days=30), NOW))
    assert [(a.login, a.persons) for a in found] == [("ml.adv", ("0000001K",))]
    (access,) = found
    assert access.peer_group == "mission_locale/advisor"
    assert access.country == "FR"


def test_past_accesses_page_through_the_whole_window(monkeypatch: pytest.MonkeyPatch) -> None:
    journal = MemoryJournal()
    portal = MemoryPortalStore()
    portal.add(ORG)
    journal.append([consult(1, 9, f"{i:07d}K") for i in range(7)])
    monkeypatch.setattr(baselines, "PAGE", 3)
    found = list(baselines.past_accesses(journal, portal, NOW - dt.timedelta(days=2), NOW))
    assert len(found) == 7


def test_rebuild_gives_agent_org_and_app_profiles() -> None:
    journal = MemoryJournal()
    portal = MemoryPortalStore()
    portal.add(ORG)
    for d in range(1, 6):
        journal.append([consult(d, 10, f"{d * 10 + i:07d}K") for i in range(4)])
    journal.append(
        [
            JournalEntry(
                at=NOW - dt.timedelta(days=1),
                tag=Tag.AUTH_SESSION_OPENED,
                decision=Decision.ALLOW,
                agent_login="ml.adv",
                agent_roles=("advisor",),
                org_id=ORG.id,
                network="AS:Free/FR",
            )
        ]
    )
    built = baselines.rebuild(journal, portal, NOW, days=30, share=0.1)
    profile = built.agents["ml.adv"]
    assert sorted(profile.daily_distinct) == [4, 4, 4, 4, 4]
    assert profile.networks == frozenset({"AS:Orange/FR", "AS:Free/FR"})
    assert profile.countries == frozenset({"FR"})
    assert ORG.id in built.orgs
    assert str(ORG.app) in built.apps
    assert "mission_locale/advisor" in built.peers
