"""Portfolio use cases on the memory twins: scope follows each change at once; a take-on
needs the person's code. ASVS V8.2.2, V6.5.1."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.actors import Organisation, OrgKind, Role
from rempart.kernel.clock import ManualClock
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.errors import InvalidRequest, NotFound
from rempart.people.adapters.memory import (
    MemoryFollowUps,
    MemoryPeople,
    MemoryPersonConfirmations,
)
from rempart.people.service import portfolio
from rempart.people.service.portfolio import PortfolioDeps
from tests.factories import make_person

NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)
ML = Organisation("ML-1", OrgKind.MISSION_LOCALE, "Mission Locale", "0" * 14)


@dataclass
class Notifier:
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send_code(self, ft_id: str, subject: str, body: str, code: str) -> None:
        self.sent.append((ft_id, code))


@pytest.fixture
def rig() -> tuple[PortfolioDeps, MemoryPeople, Notifier]:
    people = MemoryPeople()
    people.add_organisation(ML)
    for login, role in (
        ("adv1", Role.ADVISOR),
        ("adv2", Role.ADVISOR),
        ("am", Role.ACCOUNT_MANAGER),
    ):
        people.add_agent(login, ML.id, {role})
    notifier = Notifier()
    deps = PortfolioDeps(
        follow_ups=MemoryFollowUps(people),
        persons=people,
        directory=people,
        confirmations=MemoryPersonConfirmations(),
        notifier=notifier,
        journal=MemoryJournal(),
        alerts=MemoryAlertStore(),
        clock=ManualClock(NOW),
        secret=b"unit",
    )
    return deps, people, notifier


def ctx(people: MemoryPeople, login: str) -> RequestContext:
    agent = people.agent_by_login(login)
    assert agent is not None
    return RequestContext(
        agent=agent,
        org=ML,
        session_id="s",
        client=ClientInfo(address="192.0.2.1", user_agent="t", network="n"),
        now=NOW,
    )


def test_hand_over_then_take_on_with_the_persons_code(
    rig: tuple[PortfolioDeps, MemoryPeople, Notifier],
) -> None:
    deps, people, notifier = rig
    person = people.add_person(make_person(1, email="p@example.fr"))
    adv1, adv2 = ctx(people, "adv1"), ctx(people, "adv2")
    deps.follow_ups.start_assignment(adv1.agent.id, person.id, ML.id, NOW.date())
    portfolio.hand_over(deps, ctx(people, "am"), "adv1", "adv2", [person.ft_id])
    assert deps.follow_ups.running_assignments(adv1.agent.id, NOW.date()) == []
    assert [ft for _, ft in deps.follow_ups.running_assignments(adv2.agent.id, NOW.date())] == [
        person.ft_id
    ]
    portfolio.close(deps, adv2, person.ft_id)
    with pytest.raises(NotFound):
        portfolio.close(deps, adv2, person.ft_id)

    asked = portfolio.request_take_on(deps, adv1, person.ft_id, person.birth_date)
    ((ft_id, code),) = notifier.sent
    assert ft_id == person.ft_id
    with pytest.raises(InvalidRequest):
        portfolio.confirm_take_on(deps, adv1, asked["confirmation_id"], "not-it")
    assert portfolio.confirm_take_on(deps, adv1, asked["confirmation_id"], code)["taken_on"]
    with pytest.raises(InvalidRequest):
        portfolio.confirm_take_on(deps, adv1, asked["confirmation_id"], code)
