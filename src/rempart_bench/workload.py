"""The legitimate workload: how partner agents really use the portal, day by day.

Used twice: to write the baseline history into the journal (``seed --history-days``) and to
drive the bench's simulated days through the HTTP interface. Figures and where they come from:

- Office hours: French partner offices open 8:00–18:00 local time (UTC+1 in winter), so most
  agents start between 7:00 and 9:00 local and work 7 to 9 hours, Monday to Friday (chosen,
  typical French public-service hours).
- Reads per day: "most read a few dozen people a day, some read 150+ on roster days"
  (issue 5); modelled as a log-normal with a median of ~20 and a heavy tail, capped by the
  agent's own portfolio, plus roster days for training managers (whole training at once).
- Home working: about 1 agent in 5 works from home 1–2 fixed days a week on another French
  network (chosen; DARES 2023 counts ~22 % of employees teleworking at least once a week).
- Rare changes: a new laptop or browser on 0.3 % of agent-days, travel (hotel or mobile
  network) on 0.5 % of agent-days (chosen, small on purpose: they are the step-ups).
- Exports: a training manager exports their trainee roster about once a month (issue 5).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from random import Random

# Public French addresses from the offline GeoIP database (see the bench's network table).
OFFICE_NETWORKS = ("90.84.{a}.{b}", "193.51.{a}.{b}", "2.3.{a}.{b}")  # Orange, Renater, Orange
HOME_NETWORKS = ("82.64.{a}.{b}", "176.128.{a}.{b}", "5.51.{a}.{b}")  # Free, Bouygues, Bouygues
TRAVEL_NETWORKS = ("78.192.{a}.{b}",)  # Free (a hotel's line)
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Edg/131.0 Safari/537.36",
)
NEW_LAPTOP = (
    "Mozilla/5.0 (Windows NT 11.0; Win64; x64) AppleWebKit/537.36 Chrome/132.0 Safari/537.36"
)


class Kind(StrEnum):
    PORTFOLIO = "portfolio"
    READ = "read"
    ROSTER = "roster"
    EXPORT = "export"


@dataclass(frozen=True, slots=True)
class Habits:
    login: str
    org_id: str
    start_utc: float  # hour the working day starts, UTC
    length: float  # hours
    median_reads: float
    office_ip: str
    home_ip: str | None
    home_days: frozenset[int]
    user_agent: str
    training_manager: bool


@dataclass(frozen=True, slots=True)
class Visit:
    at: dt.datetime
    login: str
    kind: Kind
    target: str  # ft_id for a read, training id for a roster, "" otherwise
    ip: str
    user_agent: str


def _ip(template: str, rng: Random) -> str:
    return template.format(a=rng.randint(1, 250), b=rng.randint(1, 250))


def habits_for(login: str, org_id: str, training_manager: bool, seed: int) -> Habits:
    """An agent's habits, deterministic for (login, seed)."""
    rng = Random(f"habits:{seed}:{login}")
    office_rng = Random(f"office:{seed}:{org_id}")  # colleagues share their office's network
    home = rng.random() < 0.2
    return Habits(
        login=login,
        org_id=org_id,
        start_utc=rng.choice((6.0, 6.5, 7.0, 7.0, 7.5, 7.5, 8.0)),
        length=rng.uniform(7.0, 9.0),
        median_reads=rng.lognormvariate(math.log(18), 0.5),
        office_ip=_ip(office_rng.choice(OFFICE_NETWORKS), office_rng),
        home_ip=_ip(rng.choice(HOME_NETWORKS), rng) if home else None,
        home_days=frozenset(rng.sample(range(5), rng.choice((1, 2)))) if home else frozenset(),
        user_agent=rng.choice(BROWSERS),
        training_manager=training_manager,
    )


def _times(h: Habits, day: dt.date, n: int, rng: Random) -> list[dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC) + dt.timedelta(hours=h.start_utc)
    start += dt.timedelta(minutes=rng.uniform(-20, 20))
    secs = h.length * 3600
    # Work comes in bursts: a few sittings of consecutive consultations, a minute or more apart.
    out = []
    for _ in range(n):
        t = rng.uniform(0, secs)
        if 4 * 3600 <= t < 4.75 * 3600:  # lunch
            t += 45 * 60
        out.append(start + dt.timedelta(seconds=min(t, secs)))
    return sorted(out)


def plan_day(
    h: Habits,
    day: dt.date,
    portfolio: Sequence[str],
    trainings: Sequence[str],
    seed: int,
) -> list[Visit]:
    """One agent's visits on one day (empty on weekends and days off)."""
    rng = Random(f"day:{seed}:{h.login}:{day.isoformat()}")
    if day.weekday() >= 5 or rng.random() < 0.08:  # weekends, leave, training, sick days
        return []
    ip = h.home_ip if (h.home_ip and day.weekday() in h.home_days) else h.office_ip
    ua = h.user_agent
    if rng.random() < 0.005:
        ip = _ip(TRAVEL_NETWORKS[0], rng)
    if rng.random() < 0.003:
        ua = NEW_LAPTOP
    visits: list[Visit] = []
    n = min(len(portfolio), max(1, round(rng.lognormvariate(math.log(h.median_reads), 0.6))))
    roster_day = h.training_manager and trainings and rng.random() < 0.1
    times = _times(h, day, n + 2, rng)
    visits.append(Visit(times[0], h.login, Kind.PORTFOLIO, "", ip, ua))
    people = rng.sample(list(portfolio), n) if portfolio else []
    for t, ft_id in zip(times[1:], people, strict=False):
        visits.append(Visit(t, h.login, Kind.READ, ft_id, ip, ua))
    if h.training_manager and trainings:
        # One roster after another, as a person opens them: half a minute to a minute apart.
        at = times[-1]
        for training in rng.sample(list(trainings), min(len(trainings), 3 if roster_day else 1)):
            visits.append(Visit(at, h.login, Kind.ROSTER, training, ip, ua))
            at += dt.timedelta(seconds=rng.uniform(30, 90))
        if day.day <= 3 and rng.random() < 0.4:  # early in the month: the monthly roster export
            visits.append(Visit(at, h.login, Kind.EXPORT, "", ip, ua))
    return sorted(visits, key=lambda v: v.at)
