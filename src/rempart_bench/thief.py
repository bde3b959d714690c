"""Multi-day thieves: someone holding a victim's password and second factor (an infostealer
that took the authenticator's seed too) reads a multiple of the victim's usual volume, day
after day, beside the victim who keeps working.

The thief works the victim's office hours from a French residential line of another operator,
passes every step-up (it holds the factor), signs in again whenever its session ends, and reads
the victim's own people it has not read yet: in scope, at a person's pace, below every daily
limit. What the bench measures: when the first alert about the account came, when the thief
stopped getting data, and how many people it had read by then, beside the number of people the
victim reads in 30 days.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from random import Random

from rempart_bench.driver import Agentish, Answer, Driver
from rempart_bench.metrics import AttackOutcome, LegitTally
from rempart_bench.scenarios import ATTACKER_UA, FR_RESIDENTIAL_PROXY, persons_in
from rempart_bench.workload import Kind, Visit

THIEF_SCENARIOS = {
    "thief_1.5x_10d": (1.5, 10),
    "thief_3x_10d": (3.0, 10),
    "thief_1.5x_30d": (1.5, 30),
    "thief_3x_30d": (3.0, 30),
}
_DEAD = {"session_revoked", "unauthenticated"}


@dataclass
class ThiefPlan:
    """Everything one multi-day run needs, computed by the bench."""

    victim: Agentish
    thief: Agentish
    portfolio: tuple[str, ...]
    victim_days: dict[dt.date, list[Visit]]  # the victim's own legitimate visits, by day
    factor: float
    days: list[dt.date]
    seed: int


@dataclass
class ThiefRun:
    """What happened: the thief's outcome and the victim's own cost."""

    outcome: AttackOutcome
    victim: LegitTally = field(default_factory=LegitTally)
    locked_at: dt.datetime | None = None


def victim_reads_in_30_days(victim_days: dict[dt.date, list[Visit]], start: dt.date) -> int:
    """Distinct people whose full record the victim reads in the 30 days from ``start``."""
    end = start + dt.timedelta(days=30)
    return len(
        {
            v.target
            for d, vs in victim_days.items()
            if start <= d < end
            for v in vs
            if v.kind is Kind.READ
        }
    )


def _thief_times(day: dt.date, n: int, rng: Random) -> list[dt.datetime]:
    start = dt.datetime.combine(day, dt.time(8, 0), tzinfo=dt.UTC)
    return sorted(start + dt.timedelta(seconds=rng.uniform(0, 8 * 3600)) for _ in range(n))


def run_thief(
    plan: ThiefPlan,
    driver: Driver,
    clock_set: Callable[[dt.datetime], None],
    clock_now: Callable[[], dt.datetime],
    name: str,
    mode: str,
) -> ThiefRun:
    """Drive the victim's days and the thief's, interleaved in time."""
    rng = Random(f"thief:{plan.seed}:{name}")
    run = ThiefRun(AttackOutcome(name, mode))
    run.outcome.victims.append(plan.victim.login)
    unread = list(plan.portfolio)
    rng.shuffle(unread)
    daily = [sum(1 for v in vs if v.kind is Kind.READ) for vs in plan.victim_days.values() if vs]
    per_day = max(1, math.ceil(plan.factor * (sum(daily) / len(daily) if daily else 10)))
    victim_on: dt.date | None = None
    thief_on: dt.date | None = None
    for day in plan.days:
        events: list[tuple[dt.datetime, str, str]] = [
            (v.at, "victim", _path(v)) for v in plan.victim_days.get(day, [])
        ]
        if day.weekday() < 5:
            targets = [unread.pop() for _ in range(min(per_day, len(unread)))]
            events += [
                (t, "thief", f"/api/v1/persons/{f}")
                for t, f in zip(_thief_times(day, len(targets), rng), targets, strict=True)
            ]
        for at, who, path in sorted(events):
            clock_set(max(at, clock_now()))
            if who == "victim":
                run.victim.worked(plan.victim.login, day)
                if victim_on != day or not plan.victim.cookie:
                    plan.victim.cookie = ""
                    if driver.sign_in(plan.victim, clock_now()).status == 200:
                        victim_on = day
                _legit(driver, plan.victim, path, run.victim, day, clock_set, clock_now)
                continue
            if thief_on != day or not plan.thief.cookie:
                plan.thief.cookie = ""
                first = driver.sign_in(plan.thief, clock_now())
                if first.code == "account_locked":
                    run.locked_at = run.locked_at or clock_now()
                    run.outcome.record(clock_now(), first.status, [])
                    continue
                thief_on = day
            answer = _attempt(driver, plan.thief, path, run.outcome, clock_set, clock_now)
            if answer.code == "account_locked" or (
                answer.code == "session_revoked" and "locked" in str(answer.body.get("detail"))
            ):
                run.locked_at = run.locked_at or clock_now()
    return run


def _path(v: Visit) -> str:
    return {
        Kind.PORTFOLIO: "/api/v1/portfolio?page=1&size=100",
        Kind.READ: f"/api/v1/persons/{v.target}",
        Kind.ROSTER: f"/api/v1/trainings/{v.target}",
        Kind.EXPORT: "/api/v1/portfolio/export",
    }[v.kind]


def _attempt(
    driver: Driver,
    who: Agentish,
    path: str,
    outcome: AttackOutcome,
    clock_set: Callable[[dt.datetime], None],
    clock_now: Callable[[], dt.datetime],
) -> Answer:
    """One thief read; it passes step-ups (it holds the factor) and signs in again if cut off."""
    answer = driver.request(who, "GET", path)
    for _ in range(2):
        outcome.record(clock_now(), answer.status, persons_in(answer.body))
        if answer.code == "step_up_required":
            clock_set(clock_now() + dt.timedelta(seconds=20))
            driver.step_up(who, clock_now())
        elif answer.code in _DEAD:
            who.cookie = ""
            clock_set(clock_now() + dt.timedelta(seconds=31))
            if driver.sign_in(who, clock_now()).status != 200:
                return answer
        else:
            return answer
        answer = driver.request(who, "GET", path)
    outcome.record(clock_now(), answer.status, persons_in(answer.body))
    return answer


def _legit(
    driver: Driver,
    who: Agentish,
    path: str,
    tally: LegitTally,
    day: dt.date,
    clock_set: Callable[[dt.datetime], None],
    clock_now: Callable[[], dt.datetime],
) -> None:
    for _ in range(2):
        a = driver.request(who, "GET", path)
        tally.response(who.login, day, a.status, a.code, a.rule)
        if a.code == "step_up_required":
            clock_set(clock_now() + dt.timedelta(seconds=20))
            driver.step_up(who, clock_now())
            continue
        if a.code in _DEAD:
            who.cookie = ""
        return


def thief_agent(login: str, password: str, totp_secret: str) -> Agentish:
    """The thief: the victim's password and second factor, its own line and browser."""
    return Agentish(login, password, totp_secret, FR_RESIDENTIAL_PROXY.format(n=203), ATTACKER_UA)
