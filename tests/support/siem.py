"""SIEM test material: journals of known attacks as ECS events, what the guard flagged in them,
and where the SQLite-converted Sigma rules fire over them.

Two sources of journals:

- the incident replay bench (``rempart_bench``): a seeded population with its past month in the
  journal, the legitimate workload, then each attack scenario on a fresh copy of the portal,
  guard on, through the HTTP interface; ``bench_journals`` exports each run's journal from the
  run's first day, before the bench removes the copy;
- the guard alone on memory twins (``guard_journals``), for the detectors no bench scenario
  triggers: the same ``Guard`` the portal runs, driven request by request. Those journals hold
  the guard's own entries only (nobody journals the allowed reads around them), so they prove
  the rules that read the guard's entries, not the ones that recount served records.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.guard.adapters.memory_containment import MemoryContainment
from rempart.guard.adapters.memory_profiles import MemoryProfileStore
from rempart.guard.adapters.memory_state import MemoryGuardState
from rempart.guard.decisions import Rule
from rempart.guard.policy import BudgetPolicy, GuardPolicy
from rempart.guard.profiles import AgentProfile, OrgProfile, PeerProfile
from rempart.guard.service.inline import Guard
from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.model import entry_from_canonical
from rempart.kernel.actors import Organisation, OrgKind, Role
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.exposure import Exposure, GuardRequest
from rempart.kernel.identifiers import ft_id_from_number
from rempart.siem.adapters.sqlite_hunt import SqliteEvents
from rempart.siem.ports import JournalFeed
from rempart.siem.rules import ConvertedRule, Hit
from rempart.siem.service.export import Window, export_once
from rempart_bench import bench
from rempart_bench.scenarios import SCENARIOS
from tests.factories import make_agent

# Small enough for CI (a few seconds on two cores), large enough for every scenario to run:
# the bench's own --quick is 12,000 people, 21 days of history, 80 agents over 3 days.
QUICK = bench.BenchConfig(
    persons=3000, history_days=14, legit_days=2, legit_agents=30, attack_cap=400
)


@dataclass(frozen=True, slots=True)
class Flag:
    """The guard flagged ``agent`` with ``rule``, doing ``action``."""

    rule: str
    action: str
    agent: str


@dataclass
class Journal:
    """One run's journal as ECS events, and what the guard decided in it."""

    name: str
    events: list[dict[str, Any]]
    flags: set[Flag]
    actors: set[str] = field(default_factory=set)  # the accounts the attack used


def _read(feed: JournalFeed, since: dt.datetime | None) -> tuple[list[dict[str, Any]], set[Flag]]:
    lines: list[str] = []
    export_once(feed, lines.append, Window(since=since))
    flags = set()
    after = feed.last_seq_before(since) if since else 0
    for _seq, body, _chain in feed.rows(after):
        entry = entry_from_canonical(body)
        if since is not None and entry.at < since:
            continue
        if str(entry.tag).startswith("guard:"):
            flags.add(Flag(entry.reason, str(entry.details.get("action", "")), entry.agent_login))
    return [json.loads(line) for line in "".join(lines).splitlines()], flags


def bench_journals(
    cfg: bench.BenchConfig = QUICK, guard_off: tuple[str, ...] = ()
) -> dict[str, Journal]:
    """The legitimate workload (``legit``) and every attack scenario, guard on; the scenarios
    of ``guard_off`` also with the guard off (``NAME@off``): what the SIEM sees when the
    inline guard is not there."""
    workdir = Path(tempfile.mkdtemp(prefix="rempart-siem-"))
    since = dt.datetime.combine(cfg.start, dt.time(), tzinfo=dt.UTC)
    out: dict[str, Journal] = {}

    def keep(name: str) -> Callable[[bench.Run], None]:
        def inspect(run: bench.Run) -> None:
            events, flags = _read(run.box.portal.journal, since)  # type: ignore[arg-type]
            out[name] = Journal(name, events, flags)

        return inspect

    try:
        base = bench.build_base(cfg, workdir, bench.Stage())
        bench.run_legit(base, cfg, bench.Stage(), inspect=keep("legit"))
        for name in SCENARIOS:
            outcome = bench.run_attack(base, cfg, name, "on", inspect=keep(name))
            out[name].actors = set(outcome.victims)
        for name in guard_off:
            outcome = bench.run_attack(base, cfg, name, "off", inspect=keep(f"{name}@off"))
            out[f"{name}@off"].actors = set(outcome.victims)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return out


# -- the guard alone -----------------------------------------------------------------------------

MONDAY_10 = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)
HOME = ClientInfo("192.0.2.1", "Firefox", network="AS3215", country="FR")


@dataclass
class Desk:
    """The guard of one portal (memory twins), and the agents of one organisation at it."""

    guard: Guard
    journal: MemoryJournal
    org: Organisation

    def ctx(
        self, login: str, when: dt.datetime, *, fresh: bool = False, **client: str
    ) -> RequestContext:
        agent = make_agent(OrgKind.MISSION_LOCALE, {Role.ADVISOR}, login=login, org_id=self.org.id)
        return RequestContext(
            agent=agent,
            org=self.org,
            session_id=f"s-{login}",
            client=replace(HOME, **client),
            now=when,
            fresh_until=when + dt.timedelta(minutes=5) if fresh else None,
        )

    def read(self, ctx: RequestContext, n: int, *, found: bool = True, canary: bool = False) -> str:
        ft = ft_id_from_number(n)
        req = GuardRequest(Exposure.READ, (ft,), (ft,) if found else (), found=found, canary=canary)
        return str(self.guard.check(ctx, req).action)

    def export(self, ctx: RequestContext, rows: int) -> str:
        ids = tuple(ft_id_from_number(n) for n in range(1, rows + 1))
        return str(self.guard.check(ctx, GuardRequest(Exposure.EXPORT, ids, ids)).action)


def _desk(policy: GuardPolicy, logins: Iterable[str]) -> Desk:
    profiles = MemoryProfileStore()
    for login in logins:
        profiles.set_agent(
            AgentProfile(
                login=login,
                daily_distinct=(20, 25, 30, 22, 28, 35, 24),
                hourly_peak=(8, 10, 12, 9, 11, 10, 10),
                usual_hours=frozenset((0, h) for h in range(7, 18)),
                networks=frozenset({"AS3215"}),
                countries=frozenset({"FR"}),
            )
        )
    journal = MemoryJournal()
    guard = Guard(
        MemoryGuardState(), profiles, MemoryContainment(), MemoryAlertStore(), journal, policy
    )
    return Desk(
        guard,
        journal,
        Organisation("ML-000001", OrgKind.MISSION_LOCALE, "ML Nord", "00000000000000"),
    )


def _steady(desk: Desk, login: str, first: int, count: int, start: dt.datetime) -> None:
    """``count`` new people, one every 10 s: under velocity (40 in 5 min), over the budgets."""
    for i in range(count):
        desk.read(desk.ctx(login, start + dt.timedelta(seconds=10 * i)), first + i)


def _canary(desk: Desk) -> None:
    desk.read(desk.ctx("ml.a", MONDAY_10), 4242, found=False, canary=True)


def _new_network(desk: Desk) -> None:
    desk.read(desk.ctx("ml.a", MONDAY_10, network="AS5410"), 1000)


def _new_country(desk: Desk) -> None:
    desk.read(desk.ctx("ml.a", MONDAY_10, network="AS3320", country="DE"), 1000)


def _impossible_travel(desk: Desk) -> None:
    desk.read(desk.ctx("ml.a", MONDAY_10), 1000)
    later = MONDAY_10 + dt.timedelta(minutes=20)
    desk.read(desk.ctx("ml.a", later, network="AS4134", country="CN"), 2000)


def _export_step_up(desk: Desk) -> None:
    desk.export(desk.ctx("ml.a", MONDAY_10), 19)


def _export_rows(desk: Desk) -> None:
    desk.export(desk.ctx("ml.a", MONDAY_10, fresh=True), 600)


def _budget_agent_day(desk: Desk) -> None:
    for hour in range(3):  # 30 an hour (the hour's floor), 60 a day (the day's floor)
        _steady(desk, "ml.a", 1000 + 100 * hour, 31, MONDAY_10 + dt.timedelta(hours=hour))


def _with_history(desk: Desk) -> None:
    """The organisation and its app have a past (day one's budgets would be the agents')."""
    profiles = desk.guard.profiles
    assert isinstance(profiles, MemoryProfileStore)
    b = profiles._b
    profiles.replace(
        replace(
            b,
            orgs={desk.org.id: OrgProfile(desk.org.id, (50,) * 20)},
            apps={str(desk.org.app): (50,) * 20},
        )
    )


def _budget_org_day(desk: Desk) -> None:
    _with_history(desk)
    for k, login in enumerate(("ml.a", "ml.b", "ml.c")):
        _steady(desk, login, 10_000 * (k + 1), 110, MONDAY_10)


def _budget_app_day(desk: Desk) -> None:
    _with_history(desk)
    _steady(desk, "ml.a", 1000, 110, MONDAY_10)


def _budget_agent_hour(desk: Desk) -> None:
    _steady(desk, "ml.a", 1000, 31, MONDAY_10)


def _velocity(desk: Desk) -> None:
    for i in range(45):  # one every 3 s: a person's pace by the gap, far too many in 5 min
        desk.read(desk.ctx("ml.a", MONDAY_10 + dt.timedelta(seconds=3 * i)), 1000 + 10 * i)


def _pace(desk: Desk) -> None:
    for i in range(15):  # half a second apart: a script
        desk.read(desk.ctx("ml.a", MONDAY_10 + dt.timedelta(seconds=0.5 * i)), 1000 + 10 * i)


def _sweep(desk: Desk) -> None:
    for i in range(40):  # a 60-people scope, one record every 8 s
        ft = ft_id_from_number(1000 + 10 * i)
        at = desk.ctx("ml.a", MONDAY_10 + dt.timedelta(seconds=8 * i))
        desk.guard.check(at, GuardRequest(Exposure.READ, (ft,), (ft,), scope_size=lambda: 60))


def _concurrent(desk: Desk) -> None:
    for i in range(8):  # the office and a second user elsewhere, taking turns
        ctx = desk.ctx("ml.a", MONDAY_10 + dt.timedelta(minutes=5 * i))
        if i % 2:
            ctx = replace(ctx, session_id="s-thief", client=replace(HOME, address="176.128.9.77"))
        desk.read(ctx, 1000 + i)


def _peer_outlier(desk: Desk) -> None:
    profiles = desk.guard.profiles
    assert isinstance(profiles, MemoryProfileStore)
    b = profiles._b
    peers = PeerProfile((20,) * 50, (10,) * 50, (10,) * 10, (30,) * 10, agents=10)
    agents = {k: v for k, v in b.agents.items() if k != "ml.a"}
    profiles.replace(replace(b, agents=agents, peers={"mission_locale/advisor": peers}))
    _steady(desk, "ml.a", 1000, 25, MONDAY_10)


def _working_days(desk: Desk, days: int) -> None:
    """50 new people a working day in two sittings of 25: under the hour's and the day's
    budgets (30, 60), so only the longer windows can stop it."""
    day, worked = MONDAY_10, 0
    while worked < days:
        if day.weekday() < 5:
            for sitting in (0, 4):
                start = day + dt.timedelta(hours=sitting)
                _steady(desk, "ml.a", 100_000 * (worked + 1) + 100 * sitting, 25, start)
            worked += 1
        day += dt.timedelta(days=1)


def _budget_agent_week(desk: Desk) -> None:
    _working_days(desk, 5)  # the week's floor (150) is passed on the fourth day


def _budget_agent_month(desk: Desk) -> None:
    _working_days(desk, 8)  # the month's floor (300); a week never holds more than 275


def _lookups(desk: Desk) -> None:
    for i in range(35):
        ft = ft_id_from_number(5000 + 37 * i)
        at = desk.ctx("ml.a", MONDAY_10 + dt.timedelta(minutes=2 * i))
        desk.guard.check(at, GuardRequest(Exposure.LOOKUP, (ft,), (ft,)))


def _burst(desk: Desk) -> None:
    _steady(desk, "ml.a", 1000, 30, MONDAY_10)
    later = MONDAY_10 + dt.timedelta(minutes=6)
    for i in range(25):
        desk.read(desk.ctx("ml.a", later + dt.timedelta(seconds=i)), 100_000 + 7 * i)


# Generous agent budgets where a case is about the organisation's or the app's.
_WIDE = BudgetPolicy(agent_hour_floor=200, agent_day_floor=600)
GUARD_CASES: dict[str, tuple[Callable[[Desk], None], GuardPolicy, Rule]] = {
    "guard:canary": (_canary, GuardPolicy(), Rule.CANARY),
    "guard:new_network": (_new_network, GuardPolicy(), Rule.NEW_NETWORK),
    "guard:new_country": (_new_country, GuardPolicy(), Rule.NEW_COUNTRY),
    "guard:impossible_travel": (_impossible_travel, GuardPolicy(), Rule.IMPOSSIBLE_TRAVEL),
    "guard:export_step_up": (_export_step_up, GuardPolicy(), Rule.EXPORT_FRESH),
    "guard:export_rows": (_export_rows, GuardPolicy(), Rule.BUDGET_EXPORT),
    "guard:budget_agent_day": (_budget_agent_day, GuardPolicy(), Rule.BUDGET_AGENT_DAY),
    "guard:budget_org_day": (_budget_org_day, GuardPolicy(budgets=_WIDE), Rule.BUDGET_ORG_DAY),
    "guard:budget_app_day": (
        _budget_app_day,
        GuardPolicy(budgets=replace(_WIDE, app_day_floor=100)),
        Rule.BUDGET_APP_DAY,
    ),
    "guard:burst": (_burst, GuardPolicy(), Rule.BUDGET_BURST),
    "guard:budget_agent_hour": (_budget_agent_hour, GuardPolicy(), Rule.BUDGET_AGENT_HOUR),
    "guard:pace": (_pace, GuardPolicy(), Rule.PACE),
    "guard:sweep": (_sweep, GuardPolicy(budgets=_WIDE), Rule.SWEEP),
    "guard:concurrent": (_concurrent, GuardPolicy(), Rule.CONCURRENT),
    "guard:peer_outlier": (_peer_outlier, GuardPolicy(), Rule.PEER_OUTLIER),
    "guard:budget_agent_week": (_budget_agent_week, GuardPolicy(), Rule.BUDGET_AGENT_WEEK),
    "guard:budget_agent_month": (
        _budget_agent_month,
        GuardPolicy(budgets=replace(BudgetPolicy(), agent_week_floor=300)),
        Rule.BUDGET_AGENT_MONTH,
    ),
    "guard:lookups": (_lookups, GuardPolicy(), Rule.BUDGET_LOOKUP),
}


def guard_journals() -> dict[str, Journal]:
    """Each guard case's journal, as ECS events, with the guard's flags."""
    out = {}
    for name, (play, policy, _rule) in GUARD_CASES.items():
        desk = _desk(policy, ("ml.a", "ml.b", "ml.c"))
        play(desk)
        events, flags = _read(desk.journal, None)
        out[name] = Journal(name, events, flags, {"ml.a", "ml.b", "ml.c"})
    return out


# -- the rules over them -------------------------------------------------------------------------


def hunt(events: list[dict[str, Any]], rules: list[ConvertedRule]) -> dict[str, list[Hit]]:
    """Every rule's hits over ``events``, by rule id."""
    table = SqliteEvents()
    try:
        table.load(events)
        return {r.rule_id: table.run(r) for r in rules}
    finally:
        table.close()


def flagged_by(hits: list[Hit]) -> set[str]:
    """The accounts a rule's hits name (SQLite's correlation keys are lower-cased)."""
    return {h.user.lower() for h in hits if h.user}


def flagged_by_guard(journal: Journal, rule: str, action: str = "") -> set[str]:
    """The accounts the guard flagged with ``rule`` (and ``action``, when given)."""
    return {
        f.agent.lower()
        for f in journal.flags
        if f.rule == rule and (not action or f.action == action)
    }
