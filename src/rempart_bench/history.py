"""Past legitimate activity written into the journal, so that baselines exist from day one
(as after importing a deployment's past logs): ``rempart seed --history-days D``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rempart.bootstrap import build_container
from rempart.journal.model import JournalEntry
from rempart.kernel.actors import Agent, OrgKind, Role
from rempart.kernel.categories import DataCategory
from rempart.kernel.clock import ManualClock, months_before
from rempart.kernel.tags import Decision, Tag
from rempart.people.ports import PortalStore
from rempart.people.scope import reaches_people
from rempart.settings import Settings
from rempart.signin.adapters.geoip import GeoipLocator
from rempart.signin.ports import NetworkLocator
from rempart_bench.workload import Habits, Kind, Visit, habits_for, plan_day

PAGE = 100


@dataclass(frozen=True, slots=True)
class AgentWork:
    """What one agent works with: their habits, their people, their trainings' rosters."""

    agent: Agent
    habits: Habits
    portfolio: tuple[str, ...]
    rosters: dict[str, tuple[str, ...]]  # training id -> enrolled ft_ids


def agent_work(
    store: PortalStore, agent: Agent, today: dt.date, seed: int, grace: int
) -> AgentWork:
    """An agent's habits and the people they legitimately reach today."""
    tm = agent.org_kind is OrgKind.TRAINING_BODY and agent.has(Role.TRAINING_MANAGER)
    portfolio = tuple(
        r[0] for r in store.portfolio(agent, today, months_before(today, grace), 0, 100_000)
    )
    rosters: dict[str, tuple[str, ...]] = {}
    if tm:
        for t in store.trainings_of(agent.org_id):
            if t.start_date <= today <= t.end_date:
                rosters[str(t.id)] = tuple(p.ft_id for _, p in store.enrolments_of_training(t.id))
    return AgentWork(agent, habits_for(agent.login, agent.org_id, tm, seed), portfolio, rosters)


def entries_for_visit(
    work: AgentWork, visit: Visit, network: str, session: str
) -> list[JournalEntry]:
    """The journal entries one legitimate visit would have produced."""
    a = work.agent
    common = {
        "at": visit.at,
        "agent_login": a.login,
        "agent_roles": tuple(sorted(str(r) for r in a.roles)),
        "org_id": a.org_id,
        "session_id": session,
        "client_address": visit.ip,
        "network": network,
        "user_agent": visit.user_agent,
    }
    ident = (str(DataCategory.IDENTITY),)
    if visit.kind is Kind.PORTFOLIO:
        return [
            JournalEntry(
                tag=Tag.PORTAL_PORTFOLIO_LIST,
                decision=Decision.ALLOW,
                persons=work.portfolio[:PAGE],
                categories=ident,
                **common,  # type: ignore[arg-type]
            )
        ]
    if visit.kind is Kind.READ:
        return [
            JournalEntry(
                tag=Tag.PORTAL_PERSON_READ,
                decision=Decision.ALLOW,
                persons=(visit.target,),
                categories=(str(DataCategory.CONTACT), *ident),
                reason="history",
                **common,  # type: ignore[arg-type]
            )
        ]
    if visit.kind is Kind.ROSTER:
        return [
            JournalEntry(
                tag=Tag.PORTAL_SESSION_ROSTER,
                decision=Decision.ALLOW,
                persons=work.rosters.get(visit.target, ()),
                categories=ident,
                **common,  # type: ignore[arg-type]
            )
        ]
    return [
        JournalEntry(
            tag=Tag.PORTAL_ROSTER_EXPORT,
            decision=Decision.ALLOW,
            persons=work.portfolio,
            categories=ident,
            **common,  # type: ignore[arg-type]
        )
    ]


def history_entries(
    works: list[AgentWork],
    first_day: dt.date,
    days: int,
    seed: int,
    locator: NetworkLocator,
) -> Iterator[JournalEntry]:
    """Every agent's past days, in time order day by day."""
    networks: dict[str, str] = {}

    def network_of(ip: str) -> str:
        if ip not in networks:
            networks[ip] = locator.locate(ip)[0]
        return networks[ip]

    for d in range(days):
        day = first_day + dt.timedelta(days=d)
        today: list[JournalEntry] = []
        for work in works:
            visits = plan_day(work.habits, day, work.portfolio, tuple(work.rosters), seed)
            if not visits:
                continue
            session = f"history-{work.agent.login}-{day.isoformat()}"
            first = visits[0]
            today.append(
                JournalEntry(
                    at=first.at - dt.timedelta(seconds=30),
                    tag=Tag.AUTH_SESSION_OPENED,
                    decision=Decision.ALLOW,
                    agent_login=work.agent.login,
                    agent_roles=tuple(sorted(str(r) for r in work.agent.roles)),
                    org_id=work.agent.org_id,
                    session_id=session,
                    client_address=first.ip,
                    network=network_of(first.ip),
                    user_agent=first.user_agent,
                    reason="history",
                )
            )
            for v in visits:
                today += entries_for_visit(work, v, network_of(v.ip), session)
        today.sort(key=lambda e: e.at)
        yield from today


def workers(
    store: PortalStore, agents: list[Agent], today: dt.date, seed: int, grace: int
) -> list[AgentWork]:
    """The agents who consult people, with what they work with."""
    return [agent_work(store, a, today, seed, grace) for a in agents if reaches_people(a)]


def write_history(
    bulk_append: Callable[[Iterator[JournalEntry]], int],
    works: list[AgentWork],
    as_of: dt.date,
    days: int,
    seed: int,
    locator: NetworkLocator,
) -> int:
    """Write ``days`` days of history ending the day before ``as_of``; return entries written."""
    return bulk_append(history_entries(works, as_of - dt.timedelta(days=days), days, seed, locator))


def seed_history(
    db_url: str, journal_url: str | None, logins: list[str], as_of: dt.date, days: int, seed: int
) -> int:
    """Write ``days`` days of history for a freshly seeded demo database into its journal."""
    settings = Settings(
        demo=True, db_url=db_url, journal_url=journal_url or "", jobs_interval_seconds=0
    )
    clock = ManualClock(dt.datetime.combine(as_of, dt.time(0), tzinfo=dt.UTC))
    box = build_container(settings, clock=clock)
    try:
        store = box.portal.store
        agents = [a for a in (store.agent_by_login(login) for login in logins) if a is not None]
        works = workers(store, agents, as_of, seed, settings.enrolment_grace_months)
        journal = box.portal.journal
        return write_history(
            journal.bulk_append,  # type: ignore[attr-defined]
            works,
            as_of,
            days,
            seed,
            GeoipLocator(),
        )
    finally:
        box.close()
