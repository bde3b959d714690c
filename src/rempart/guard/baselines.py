"""Building baselines from past activity (the journal's history): pure, testable."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rempart.guard.profiles import AgentProfile, OrgProfile, PeerProfile, day_kind


@dataclass(frozen=True, slots=True)
class PastAccess:
    """One past consultation, as read back from the journal."""

    at: dt.datetime
    login: str
    org_id: str
    peer_group: str  # e.g. "mission_locale/advisor"
    persons: tuple[str, ...]
    network: str = ""
    country: str = ""
    user_agent: str = ""


@dataclass(frozen=True, slots=True)
class Baselines:
    agents: dict[str, AgentProfile]
    peers: dict[str, PeerProfile]
    orgs: dict[str, OrgProfile]
    apps: dict[str, tuple[int, ...]]


class _Tally:
    """Running aggregation of past accesses, one pass over the history."""

    def __init__(self, org_app: dict[str, str]) -> None:
        self.org_app = org_app
        self.day_people: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
        self.hour_people: dict[tuple[str, dt.date, int], set[str]] = defaultdict(set)
        self.org_day: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
        self.app_day: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
        self.slots: dict[str, dict[tuple[int, int], set[dt.date]]] = defaultdict(
            lambda: defaultdict(set)
        )
        self.org_slots: dict[str, dict[tuple[int, int], set[dt.date]]] = defaultdict(
            lambda: defaultdict(set)
        )
        self.weeks: dict[str, set[tuple[int, int]]] = defaultdict(set)
        self.org_weeks: dict[str, set[tuple[int, int]]] = defaultdict(set)
        self.nets: dict[str, set[str]] = defaultdict(set)
        self.countries: dict[str, set[str]] = defaultdict(set)
        self.uas: dict[str, set[str]] = defaultdict(set)
        self.peer_of: dict[str, str] = {}

    def add(self, a: PastAccess) -> None:
        day = a.at.date()
        self.peer_of[a.login] = a.peer_group
        people = set(a.persons)
        self.day_people[(a.login, day)] |= people
        self.hour_people[(a.login, day, a.at.hour)] |= people
        self.org_day[(a.org_id, day)] |= people
        app = self.org_app.get(a.org_id, "")
        if app:
            self.app_day[(app, day)] |= people
        slot = (day_kind(a.at), a.at.hour)
        self.slots[a.login][slot].add(day)
        self.org_slots[a.org_id][slot].add(day)
        iso = day.isocalendar()
        self.weeks[a.login].add((iso.year, iso.week))
        self.org_weeks[a.org_id].add((iso.year, iso.week))
        if a.network:
            self.nets[a.login].add(a.network)
        if a.country:
            self.countries[a.login].add(a.country)
        if a.user_agent:
            self.uas[a.login].add(a.user_agent)


def _usual(
    slot_days: dict[tuple[int, int], set[dt.date]], n_weeks: int, share: float
) -> frozenset[tuple[int, int]]:
    need = max(1, round(n_weeks * share))
    return frozenset(s for s, days in slot_days.items() if len(days) >= need)


def _counts(groups: dict[tuple[str, dt.date], set[str]]) -> dict[str, tuple[int, ...]]:
    out: dict[str, list[int]] = defaultdict(list)
    for (key, _day), people in groups.items():
        out[key].append(len(people))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _long_windows(
    day_people: dict[tuple[str, dt.date], set[str]],
) -> tuple[dict[str, tuple[int, ...]], dict[str, int]]:
    """Per agent: distinct people of the 7 days ending on each active day, and over all days."""
    by_agent: dict[str, dict[dt.date, set[str]]] = defaultdict(dict)
    for (login, day), people in day_people.items():
        by_agent[login][day] = people
    weekly: dict[str, tuple[int, ...]] = {}
    monthly: dict[str, int] = {}
    for login, days in by_agent.items():
        sizes = []
        for day in days:
            seen: set[str] = set()
            for back in range(7):
                seen |= days.get(day - dt.timedelta(days=back), set())
            sizes.append(len(seen))
        weekly[login] = tuple(sorted(sizes))
        monthly[login] = len(set().union(*days.values()))
    return weekly, monthly


def build_baselines(
    history: Iterable[PastAccess],
    org_app: dict[str, str],
    usual_hour_min_share: float = 0.1,
) -> Baselines:
    """Per agent, peer group, organisation and app: distinct people per day, busiest hours,
    usual hours of the week, known networks, countries and browsers."""
    t = _Tally(org_app)
    for access in history:
        t.add(access)
    daily = _counts(t.day_people)
    peaks: dict[tuple[str, dt.date], int] = defaultdict(int)
    for (login, day, _hour), people in t.hour_people.items():
        peaks[(login, day)] = max(peaks[(login, day)], len(people))
    hourly: dict[str, list[int]] = defaultdict(list)
    for (login, _day), peak in peaks.items():
        hourly[login].append(peak)
    share = usual_hour_min_share
    weekly, monthly = _long_windows(t.day_people)
    agents = {
        login: AgentProfile(
            login=login,
            daily_distinct=daily.get(login, ()),
            hourly_peak=tuple(sorted(hourly[login])),
            usual_hours=_usual(t.slots[login], len(t.weeks[login]), share),
            networks=frozenset(t.nets[login]),
            countries=frozenset(t.countries[login]),
            user_agents=frozenset(t.uas[login]),
            weekly_distinct=weekly.get(login, ()),
            monthly_distinct=monthly.get(login, 0),
        )
        for login in t.peer_of
    }
    peer_daily: dict[str, list[int]] = defaultdict(list)
    peer_hourly: dict[str, list[int]] = defaultdict(list)
    peer_weekly: dict[str, list[int]] = defaultdict(list)
    peer_monthly: dict[str, list[int]] = defaultdict(list)
    for login, group in t.peer_of.items():
        peer_daily[group] += daily.get(login, ())
        peer_hourly[group] += hourly[login]
        if weekly.get(login):
            peer_weekly[group].append(max(weekly[login]))
            peer_monthly[group].append(monthly.get(login, 0))
    peers = {
        g: PeerProfile(
            tuple(sorted(peer_daily[g])),
            tuple(sorted(peer_hourly[g])),
            tuple(sorted(peer_weekly[g])),
            tuple(sorted(peer_monthly[g])),
            agents=len(peer_weekly[g]),
        )
        for g in peer_daily
    }
    orgs = {
        o: OrgProfile(o, v, _usual(t.org_slots[o], len(t.org_weeks[o]), share))
        for o, v in _counts(t.org_day).items()
    }
    return Baselines(agents, peers, orgs, _counts(t.app_day))
