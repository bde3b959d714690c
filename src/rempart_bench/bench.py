"""``rempart bench``: how many people each known attack exposes, and what the guard costs.

One run: build a population, write its past month into the journal, then drive the real
application through its HTTP interface (in process) with a clock that makes days pass in
seconds. The legitimate workload runs for a few simulated days with the guard on; each attack
scenario then runs, in each guard mode, against a fresh copy of the same portal, on a working
day, alongside its own organisation's legitimate traffic.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from random import Random
from typing import Any

from sqlalchemy import insert, select

from rempart.bootstrap import Container, build_container
from rempart.db.schema.core import AgentRow, PersonRow
from rempart.guard.adapters.memory_profiles import MemoryProfileStore
from rempart.guard.baselines import Baselines
from rempart.guard.profiles import agent_budget
from rempart.guard.service.baselines import peer_group, rebuild
from rempart.kernel.clock import ManualClock, months_before
from rempart.people.scope import reaches_people
from rempart.settings import Settings
from rempart.signin.adapters.geoip import GeoipLocator
from rempart.web.app import create_app
from rempart_bench import perf
from rempart_bench.driver import PROXY_CIDR, Agentish, Driver
from rempart_bench.flat import FlatAccessStore
from rempart_bench.history import AgentWork, workers, write_history
from rempart_bench.load import seed as seed_population
from rempart_bench.metrics import AttackOutcome, LegitTally
from rempart_bench.population import demo_password_hasher
from rempart_bench.scenarios import SCENARIOS, BenchWorld, Capped, Credential, Env
from rempart_bench.thief import (
    THIEF_SCENARIOS,
    ThiefPlan,
    run_thief,
    thief_agent,
    victim_reads_in_30_days,
)
from rempart_bench.workload import Kind, Visit, plan_day

MODES = ("on", "off", "none")
INCIDENTS = {
    "Kairos, July 2025": 340_000,
    "Missions Locales, Dec 2025": 1_600_000,
    "2024 register": 36_800_000,
}


@dataclass(frozen=True, slots=True)
class BenchConfig:
    persons: int
    seed: int = 7
    history_days: int = 30
    legit_days: int = 5
    legit_agents: int = 150
    attack_cap: int = 3000
    perf_seconds: float = 10.0
    perf_rounds: int = 3
    start: dt.date = dt.date(2026, 11, 16)  # a Monday

    @classmethod
    def quick(cls, persons: int | None = None) -> BenchConfig:
        """Small enough for under five minutes on two cores."""
        return cls(
            persons=persons or 12_000,
            history_days=21,
            legit_days=3,
            legit_agents=80,
            attack_cap=1200,
            perf_seconds=5.0,
            perf_rounds=2,
        )


class Stage:
    """Progress reporting (the CLI plugs a Rich progress bar in)."""

    def start(self, name: str, total: int) -> None:
        """A stage begins."""

    def advance(self, name: str, n: int = 1) -> None:
        """Progress within a stage."""


@dataclass
class Base:
    """The seeded portal and its journal, copied fresh for every run."""

    workdir: Path
    db: Path
    journal: Path
    credentials: list[Credential]
    works: dict[str, AgentWork]
    baselines: Baselines
    world: BenchWorld
    signing_key: str
    timings: dict[str, float] = field(default_factory=dict)


def _signing_key(workdir: Path) -> str:
    """One Ed25519 key per bench run, kept in its work directory (as a deployment's would be)."""
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    path = workdir / "journal-signing.key"
    if not path.exists():
        raw = Ed25519PrivateKey.generate().private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        )
        path.write_text(base64.b64encode(raw).decode(), encoding="ascii")
    return path.read_text(encoding="ascii")


def _settings(db: Path, journal: Path, mode: str, key: str) -> Settings:
    return Settings(
        journal_signing_key=key,
        demo=True,
        db_url=f"sqlite:///{db}",
        journal_url=f"sqlite:///{journal}",
        trusted_proxies=[PROXY_CIDR],
        insecure_http=True,
        guard_mode="on" if mode == "on" else "off",
        guard_baselines_at_start=False,
        journal_checkpoint_every=100_000,
        # The seeded hashes use these cheap parameters (sim/population.py): the bench measures
        # exposure, not hashing, so it keeps them instead of rehashing every account.
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        jobs_interval_seconds=0,  # the lifecycle jobs run on wall-clock time, not the bench's
        journal_checkpoint_seconds=3600,
    )


def build_base(cfg: BenchConfig, workdir: Path, stage: Stage) -> Base:
    """Seed the population, write the history, and learn the baselines once."""
    timings: dict[str, float] = {}
    db, journal = workdir / "rempart.db", workdir / "journal.db"
    t = time.perf_counter()
    stage.start("population", 1)
    _report, creds = seed_population(f"sqlite:///{db}", cfg.persons, cfg.seed, cfg.start)
    stage.advance("population")
    timings["seed_seconds"] = time.perf_counter() - t
    # Agents whose security training has lapsed are suspended by governance (issue 7): they are
    # not part of the working population the bench simulates.
    last_day = cfg.start + dt.timedelta(days=cfg.legit_days + 7)
    credentials = [
        Credential(
            c.login,
            c.password,
            c.totp_secret,
            c.org_id,
            str(c.org_kind),
            tuple(str(r) for r in c.roles),
        )
        for c in creds
        if c.training_valid_until >= last_day
    ]
    key = _signing_key(workdir)
    settings = _settings(db, journal, "on", key)
    clock = ManualClock(dt.datetime.combine(cfg.start, dt.time(0), tzinfo=dt.UTC))
    box = build_container(settings, clock=clock)
    try:
        store = box.portal.store
        agents = [a for a in (store.agent_by_login(c.login) for c in credentials) if a is not None]
        works = workers(
            store,
            [a for a in agents if reaches_people(a)],
            cfg.start,
            cfg.seed,
            settings.enrolment_grace_months,
        )
        t = time.perf_counter()
        stage.start("history", 1)
        journal_store = box.portal.journal
        written = write_history(
            journal_store.bulk_append,  # type: ignore[attr-defined]
            works,
            cfg.start,
            cfg.history_days,
            cfg.seed,
            GeoipLocator(),
        )
        stage.advance("history")
        timings["history_entries"] = written
        timings["history_seconds"] = time.perf_counter() - t
        t = time.perf_counter()
        baselines = rebuild(journal_store, store, clock.now(), cfg.history_days, 0.1)  # type: ignore[arg-type]
        timings["baseline_seconds"] = time.perf_counter() - t
        world = _world(box, credentials, works)
    finally:
        box.close()
    return Base(
        workdir,
        db,
        journal,
        credentials,
        {w.agent.login: w for w in works},
        baselines,
        world,
        key,
        timings,
    )


def _world(box: Container, credentials: list[Credential], works: list[AgentWork]) -> BenchWorld:
    with box.engine.connect() as conn:
        sample = conn.execute(
            select(PersonRow.ft_id, PersonRow.birth_date)
            .where(PersonRow.is_canary.is_(False))
            .limit(5000)
        ).all()
        persons = conn.execute(
            select(PersonRow.id).order_by(PersonRow.id.desc()).limit(1)
        ).scalar_one()
    return BenchWorld(
        credentials={c.login: c for c in credentials},
        portfolios={w.agent.login: list(w.portfolio) for w in works},
        birth_dates={r.ft_id: r.birth_date for r in sample},
        persons=int(persons),
        office_ip={w.agent.login: w.habits.office_ip for w in works},
        user_agent={w.agent.login: w.habits.user_agent for w in works},
    )


@dataclass
class Run:
    """One fresh copy of the portal, in one guard mode."""

    box: Container
    driver: Driver
    clock: ManualClock
    dir: Path

    def close(self) -> None:
        """Stop the app (its lifespan closes the container) and remove the copy."""
        self.driver.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def open_run(base: Base, mode: str, at: dt.datetime, *, history: bool = True) -> Run:
    """A fresh copy of the base portal and journal, its app, and a client driving it; without
    ``history``, the guard knows no past at all (day one of a real deployment)."""
    d = Path(tempfile.mkdtemp(prefix=f"run-{mode}-", dir=base.workdir))
    for src in (base.db, base.journal):
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{src}{suffix}").exists():
                shutil.copy(f"{src}{suffix}", d / f"{src.name}{suffix}")
    clock = ManualClock(at)
    box = build_container(
        _settings(d / base.db.name, d / base.journal.name, mode, base.signing_key), clock=clock
    )
    if mode == "none":
        # The same portal, its records read through a flat-access store (shares its resources).
        box = replace(box, portal=replace(box.portal, store=FlatAccessStore(box.db)))
    guard = box.guard
    if guard is not None and isinstance(guard.profiles, MemoryProfileStore):
        guard.profiles.replace(base.baselines if history else Baselines({}, {}, {}, {}))
    app = create_app(box.settings, container=box)
    return Run(box, Driver(app), clock, d)


# -- the legitimate workload ---------------------------------------------------------------------


def _visits(base: Base, logins: list[str], day: dt.date, seed: int) -> Iterator[Visit]:
    for login in logins:
        w = base.works[login]
        yield from plan_day(w.habits, day, w.portfolio, tuple(w.rosters), seed)


@dataclass
class Desk:
    """One agent at work in the simulation: their keyboard and today's state."""

    who: Agentish
    signed_in_on: dt.date | None = None


def _legit_request(run: Run, desk: Desk, v: Visit, tally: LegitTally) -> None:
    day = v.at.date()
    desk.who.ip, desk.who.user_agent = v.ip, v.user_agent
    if desk.signed_in_on != day or not desk.who.cookie:
        desk.who.cookie = ""
        r = run.driver.sign_in(desk.who, v.at)
        if r.status != 200:
            tally.response(desk.who.login, day, r.status, r.code or "signin_failed")
            return
        desk.signed_in_on = day
    path = {
        Kind.PORTFOLIO: "/api/v1/portfolio?page=1&size=100",
        Kind.READ: f"/api/v1/persons/{v.target}",
        Kind.ROSTER: f"/api/v1/trainings/{v.target}",
        Kind.EXPORT: "/api/v1/portfolio/export",
    }[v.kind]
    for _attempt in range(2):
        a = run.driver.request(desk.who, "GET", path)
        tally.response(desk.who.login, day, a.status, a.code, a.rule)
        if a.code == "step_up_required":
            run.clock.advance(20)  # the time to take the phone out
            run.driver.step_up(desk.who, run.clock.now())
            continue
        if a.code in {"session_revoked", "unauthenticated"}:
            desk.who.cookie = ""  # sign in again at the next visit
            desk.signed_in_on = None
        return


def run_legit(
    base: Base,
    cfg: BenchConfig,
    stage: Stage,
    inspect: Callable[[Run], None] | None = None,
    *,
    history: bool = True,
) -> LegitTally:
    """The legitimate workload for ``cfg.legit_days`` days, guard on, with the month of history
    the guard learnt from (or with none at all: day one); ``inspect`` sees the run (its journal,
    its alerts) before it is removed."""
    rng = Random(f"legit:{cfg.seed}")
    logins = sorted(base.works)
    chosen = rng.sample(logins, min(cfg.legit_agents, len(logins)))
    start = dt.datetime.combine(cfg.start, dt.time(0), tzinfo=dt.UTC)
    run = open_run(base, "on", start, history=history)
    tally = LegitTally()
    desks = {login: Desk(base.world.agentish(base.world.credentials[login])) for login in chosen}
    try:
        days = [cfg.start + dt.timedelta(days=d) for d in range(cfg.legit_days)]
        planned = {
            day: sorted(_visits(base, chosen, day, cfg.seed), key=lambda v: v.at) for day in days
        }
        stage.start(
            "legitimate workload" if history else "legitimate workload, no history",
            sum(len(v) for v in planned.values()),
        )
        for day in days:
            for v in planned[day]:
                run.clock.set(max(v.at, run.clock.now()))
                tally.worked(v.login, day)
                _legit_request(run, desks[v.login], v, tally)
                stage.advance(
                    "legitimate workload" if history else "legitimate workload, no history"
                )
        if inspect is not None:
            inspect(run)
    finally:
        run.close()
    return tally


# -- the attacks ---------------------------------------------------------------------------------


def _attack_day(cfg: BenchConfig) -> dt.datetime:
    day = cfg.start + dt.timedelta(days=cfg.legit_days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(9, 30), tzinfo=dt.UTC)


ROGUE_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # a bench-only synthetic account


def _provisioner(run: Run) -> Callable[[str, int], list[Credential]]:
    """Mode "none" only: accounts usable at once, as when nobody had to approve them (Dec 2025)."""

    def provision(org_id: str, n: int) -> list[Credential]:
        hasher = demo_password_hasher()
        out = []
        with run.box.engine.begin() as conn:
            for i in range(n):
                login = f"rogue.none.{i}"
                password = f"Rogue-Account-{i}-Pass!"
                secret = ROGUE_TOTP
                conn.execute(
                    insert(AgentRow).values(
                        login=login,
                        email=f"{login}@attacker.example",
                        org_id=org_id,
                        roles="advisor",
                        active=True,
                        created_at=run.clock.now(),
                        password_hash=hasher.hash(password),
                        totp_secret=secret,
                        totp_last_step=0,
                        locked=False,
                        failed_logins=0,
                    )
                )
                out.append(Credential(login, password, secret, org_id, "", ("advisor",)))
        return out

    return provision


def _scope_check(outcome: AttackOutcome, base: Base, run: Run, at: dt.datetime) -> None:
    """In-session exposure must stay within the victim's own people and their day budget."""
    own: set[str] = set()
    budgets = []
    guard = run.box.guard
    store = run.box.portal.store
    grace_from = months_before(at.date(), run.box.settings.enrolment_grace_months)
    for login in outcome.victims:
        agent = store.agent_by_login(login)
        if agent is None:
            continue
        # The victim's scope on the attack day, as the server sees it (enrolments start and end).
        own |= {r[0] for r in store.portfolio(agent, at.date(), grace_from, 0, 1_000_000)}
        if guard is not None:
            group = peer_group(str(agent.org_kind), [str(r) for r in agent.roles])
            budget = agent_budget(
                guard.profiles.agent(login),
                guard.profiles.peers(group),
                guard.policy.budgets,
                at.date(),
                off_hours=False,
            )
            budgets.append(budget.agent_day)
    outcome.notes["victim_day_budget"] = sum(budgets) if budgets else None
    outcome.notes["exposed_outside_victim_scope"] = len(outcome.exposed - own)


def run_attack(
    base: Base,
    cfg: BenchConfig,
    name: str,
    mode: str,
    inspect: Callable[[Run], None] | None = None,
) -> AttackOutcome:
    """One scenario, one mode, on a fresh copy of the portal; ``inspect`` sees the run before
    it is removed."""
    at = _attack_day(cfg)
    run = open_run(base, mode, at)
    outcome = AttackOutcome(name, mode)
    env = Env(
        driver=run.driver,
        clock=run.clock,
        world=base.world,
        outcome=outcome,
        cap=cfg.attack_cap,
        rng=Random(f"attack:{cfg.seed}:{name}"),
        provision=_provisioner(run) if mode == "none" else None,
    )
    try:
        with contextlib.suppress(Capped):
            SCENARIOS[name](env)
        if name == "in_session":
            _scope_check(outcome, base, run, at)
        outcome.alerts = len(run.box.alerts.alerts_since(None, 100_000))
        if inspect is not None:
            inspect(run)
    finally:
        run.close()
    return outcome


def run_thieves(base: Base, cfg: BenchConfig, mode: str) -> list[dict[str, Any]]:
    """Each multi-day thief, beside its working victim, on a fresh copy of the portal."""
    out = []
    victim_cred = base.world.victims("mission_locale", "advisor", 1, Random(f"thief:{cfg.seed}"))[0]
    work = base.works[victim_cred.login]
    at = _attack_day(cfg)
    for name, (factor, days) in THIEF_SCENARIOS.items():
        run = open_run(base, mode, at.replace(hour=0, minute=0))
        try:
            day_list = [at.date() + dt.timedelta(days=d) for d in range(days)]
            month = [at.date() + dt.timedelta(days=d) for d in range(30)]
            victim_days = {
                d: plan_day(work.habits, d, work.portfolio, tuple(work.rosters), cfg.seed)
                for d in month
            }
            victim = base.world.agentish(victim_cred)
            plan = ThiefPlan(
                victim=victim,
                thief=thief_agent(victim_cred.login, victim_cred.password, victim_cred.totp_secret),
                portfolio=work.portfolio,
                victim_days={d: victim_days[d] for d in day_list},
                factor=factor,
                days=day_list,
                seed=cfg.seed,
            )
            result = run_thief(plan, run.driver, run.clock.set, run.clock.now, name, mode)
            alerts = [
                a
                for a in run.box.alerts.alerts_since(None, 100_000)
                if a.agent_login == victim_cred.login
            ]
            first_alert = min((a.at for a in alerts), default=None)
            o = result.outcome
            start = o.first_at or at
            out.append(
                {
                    **o.as_json(),
                    "factor": factor,
                    "days": days,
                    "victim_reads_in_30_days": victim_reads_in_30_days(victim_days, at.date()),
                    "victim_portfolio": len(work.portfolio),
                    "alerts": len(alerts),
                    "first_alert_rule": min(alerts, key=lambda a: a.at).rule if alerts else None,
                    "first_alert_after_hours": round(
                        (first_alert - start).total_seconds() / 3600, 2
                    )
                    if first_alert
                    else None,
                    "locked_after_hours": round(
                        (result.locked_at - start).total_seconds() / 3600, 2
                    )
                    if result.locked_at
                    else None,
                    "victim": result.victim.as_json(),
                }
            )
        finally:
            run.close()
    return out


@dataclass
class BenchResult:
    scenarios: list[AttackOutcome]
    legit: LegitTally
    performance: dict[str, Any]
    config: BenchConfig
    legit_no_history: LegitTally | None = None
    thieves: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The bench's JSON document (issue 5's shape, with a few extra fields)."""
        return {
            "scenarios": [o.as_json() for o in self.scenarios],
            "legit": self.legit.as_json(),
            "legit_no_history": self.legit_no_history.as_json() if self.legit_no_history else None,
            "thieves": self.thieves,
            "performance": self.performance,
            "config": {
                "persons": self.config.persons,
                "seed": self.config.seed,
                "history_days": self.config.history_days,
                "legit_days": self.config.legit_days,
                "legit_agents": self.config.legit_agents,
                "attack_request_cap": self.config.attack_cap,
            },
        }


def run_bench(cfg: BenchConfig, stage: Stage, workdir: Path | None = None) -> BenchResult:
    """Everything: base, legitimate workload, every scenario in every mode."""
    own = workdir is None
    # The simulation measures exposure, not disk speed: its copies live in memory when possible.
    shm = Path("/dev/shm")  # noqa: S108 - a private mkdtemp directory inside it, mode 0700
    wd = workdir or Path(
        tempfile.mkdtemp(prefix="rempart-bench-", dir=shm if shm.is_dir() else None)
    )
    try:
        t0 = time.perf_counter()
        base = build_base(cfg, wd, stage)
        t = time.perf_counter()
        legit = run_legit(base, cfg, stage)
        legit_seconds = time.perf_counter() - t
        legit_fresh = run_legit(base, cfg, stage, history=False)
        outcomes = []
        stage.start("attacks", len(SCENARIOS) * len(MODES))
        t = time.perf_counter()
        for name in SCENARIOS:
            for mode in MODES:
                outcomes.append(run_attack(base, cfg, name, mode))
                stage.advance("attacks")
        stage.start("thieves", 2)
        thieves = []
        for mode in ("on", "off"):
            thieves += run_thieves(base, cfg, mode)
            stage.advance("thieves")
        stage.start("performance", 3)
        perf_measured = performance(base, cfg)
        stage.advance("performance", 3)
        figures: dict[str, Any] = {
            **perf_measured,
            **{k: round(v, 2) for k, v in base.timings.items()},
            "legit_seconds": round(legit_seconds, 2),
            "legit_requests": legit.requests,
            "attack_seconds": round(time.perf_counter() - t, 2),
            "total_seconds": round(time.perf_counter() - t0, 2),
        }
        return BenchResult(outcomes, legit, figures, cfg, legit_fresh, thieves)
    finally:
        if own:
            shutil.rmtree(wd, ignore_errors=True)


def performance(base: Base, cfg: BenchConfig) -> dict[str, Any]:
    """Guard decision latency, journal append and verify, reads with the guard on vs off."""
    out: dict[str, Any] = {}
    out.update(perf.guard_latency(base.baselines))
    # On disk, not in memory: durability is what is measured here.
    disk = Path(tempfile.mkdtemp(prefix="rempart-perf-"))
    try:
        out.update(perf.journal_rates(disk, seconds=cfg.perf_seconds))
        for src in (base.db, base.journal):
            shutil.copy(src, disk / src.name)
        rng = Random(f"perf:{cfg.seed}")
        advisers = [
            c
            for c in base.world.credentials.values()
            if c.org_kind == "mission_locale"
            and c.roles == ("advisor",)
            and len(base.world.portfolios.get(c.login, [])) >= 15
        ]
        readers = [
            perf.Reader(
                c.login, c.password, c.totp_secret, tuple(base.world.portfolios[c.login][:15])
            )
            for c in rng.sample(advisers, min(8, len(advisers)))
        ]
        out.update(
            perf.read_throughput(
                disk / base.db.name,
                disk / base.journal.name,
                base.signing_key,
                readers,
                cfg.perf_seconds,
                cfg.perf_rounds,
            )
        )
    finally:
        shutil.rmtree(disk, ignore_errors=True)
    return out


# -- reporting -----------------------------------------------------------------------------------

PLOT_NEEDS = "the plot needs matplotlib, in the bench extra: pip install '.[bench]'"


class PlotUnavailable(RuntimeError):
    """matplotlib, which draws the report's plot, is not installed."""


def can_plot() -> bool:
    """Whether matplotlib (the ``bench`` extra) is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def write_report(result: BenchResult, directory: Path, machine: str) -> None:
    """A Markdown summary and a PNG of cumulative exposure, beside the real incidents."""
    # matplotlib is optional (the bench extra) and slow to import: only here, where it draws.
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise PlotUnavailable(PLOT_NEEDS) from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(3, 3, figsize=(15, 11), sharey=True)
    colours = {"on": "#000091", "off": "#e1000f", "none": "#7f7f7f"}
    for ax, name in zip(axes.flat, SCENARIOS, strict=False):
        runs = {o.guard: o for o in result.scenarios if o.scenario == name}
        for mode in ("none", "off", "on"):  # "on" last, on top: it is the one that matters
            o = runs.get(mode)
            if o is None:
                continue
            xs = [0.0] + [t / 60 for t, _ in o.timeline]
            ys = [0.5] + [max(n, 0.5) for _, n in o.timeline]
            if len(xs) == 1:  # nothing ever leaked: a flat line at the bottom
                xs, ys = [0.0, 1.0], [0.5, 0.5]
            ax.step(
                xs,
                ys,
                where="post",
                color=colours[mode],
                linewidth=2.5 if mode == "on" else 1.5,
                label=f"guard {mode}: {o.exposed_persons:,}",
            )
        ax.legend(fontsize=7, loc="center right")
        for label, n in INCIDENTS.items():
            ax.axhline(n, color="#cccccc", linestyle=":", linewidth=1)
            ax.text(0, n * 1.1, label, fontsize=6, color="#666666")
        ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("simulated minutes")
    for row in range(3):
        axes[row][0].set_ylabel("people exposed (log; 0 drawn at 0.5)")
    fig.suptitle("Cumulative exposure per scenario and guard mode, beside the real incidents")
    fig.tight_layout()
    fig.savefig(directory / "exposure.png", dpi=110)
    plt.close(fig)
    (directory / "summary.md").write_text(markdown(result, machine), encoding="utf-8")
    (directory / "bench.json").write_text(json.dumps(result.as_json(), indent=2), encoding="utf-8")


def markdown(result: BenchResult, machine: str) -> str:
    """The summary table in Markdown."""
    lines = [
        "## Incident replay bench",
        "",
        f"Machine: {machine}. Population: {result.config.persons:,} people, "
        f"{result.config.history_days} days of history, seed {result.config.seed}; "
        f"each attack capped at {result.config.attack_cap:,} requests.",
        "",
        "| scenario | guard | exposed persons | requests until containment | "
        "seconds until containment | alerts |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for o in result.scenarios:
        j = o.as_json()
        until = j["requests_until_containment"]
        secs = j["seconds_until_containment"]
        lines.append(
            f"| {o.scenario} | {o.guard} | {j['exposed_persons']} | "
            f"{until if until is not None else 'not contained'} | "
            f"{secs if secs is not None else '-'} | {j['alerts']} |"
        )
    for o in result.scenarios:
        if o.scenario == "in_session" and o.guard == "on":
            lines += [
                "",
                f"In session, guard on: {o.exposed_persons} people exposed against the victim's "
                f"day budget of {o.notes.get('victim_day_budget')}; people outside the victim's "
                f"own scope: {o.notes.get('exposed_outside_victim_scope')}.",
            ]
    for o in result.scenarios:
        if o.scenario == "in_session" and o.guard == "on":
            lines.append(
                f"In session, guard on: {len(o.exposed - o.first_page)} people exposed beyond "
                f"its first page of {len(o.first_page)} (goal: at most 10)."
            )
    runs = [("guard on, 30 days of history", result.legit)]
    if result.legit_no_history is not None:
        runs.append(("guard on, no history at all (day one)", result.legit_no_history))
    lines += [""]
    for label, tally in runs:
        legit = tally.as_json()
        lines.append(
            f"Legitimate workload ({label}): {legit['agent_days']} agent-days, "
            f"{legit['hard_blocked']} hard-blocked ({legit['hard_blocked_pct']} %), "
            f"{legit['step_ups']} with a step-up ({legit['step_ups_pct']} %), "
            f"{legit['throttled_agent_days']} throttled, over {legit['requests']} requests "
            "(goal: hard blocks <= 0.1 %, step-ups <= 2 %)."
        )
    lines.append("")
    if result.thieves:
        lines += [
            "### Multi-day thieves (victim's password and second factor, beside the victim)",
            "",
            "| scenario | guard | thief's people | victim reads in 30 days | first alert (h) | "
            "first alert rule | locked (h) | thief requests | victim's step-ups |",
            "|---|---|---:|---:|---:|---|---:|---:|---:|",
        ]
        for t in result.thieves:
            lines.append(
                f"| {t['name']} | {t['guard']} | {t['exposed_persons']} | "
                f"{t['victim_reads_in_30_days']} | {t['first_alert_after_hours'] or '-'} | "
                f"{t['first_alert_rule'] or '-'} | {t['locked_after_hours'] or '-'} | "
                f"{t['requests']} | {t['victim']['step_up_prompts']} |"
            )
        lines.append("")
    p = result.performance
    if "read_per_s_guard_on" in p:
        lines += [
            "### Performance (same run)",
            "",
            "| measure | value |",
            "|---|---:|",
            f"| guard decision, in process, p50 / p99 | {p['guard_decision_p50_us']} µs / "
            f"{p['guard_decision_p99_us']} µs ({p['guard_decision_calls']:,} calls) |",
            f"| record reads, real server on loopback, guard on | {p['read_per_s_guard_on']} /s "
            f"(p50 {p['read_p50_ms_guard_on']} ms, p99 {p['read_p99_ms_guard_on']} ms) |",
            f"| record reads, guard off | {p['read_per_s_guard_off']} /s "
            f"(p50 {p['read_p50_ms_guard_off']} ms, p99 {p['read_p99_ms_guard_off']} ms) |",
            f"| ratio on / off (medians of {p['read_rounds']} alternating rounds of "
            f"{p['read_seconds_per_round']} s, {p['read_clients']} clients) | "
            f"{p['read_ratio_on_off']} |",
            f"| journal: durable appends, {p['journal_append_threads']} writers | "
            f"{p['journal_append_per_s']:,} entries/s |",
            f"| journal: verify | {p['journal_verify_per_s']:,} entries/s "
            f"({p['journal_verify_entries']:,} entries) |",
            "",
        ]
    return "\n".join(lines)


def update_doc(doc: Path, section: str, command: str, marker: str = "bench") -> None:
    """Replace the ``marker`` section of ``doc`` (between its two comments) with a fresh run's
    summary; each bench owns its own section."""
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    block = f"{begin}\n<!-- generated by `{command}`; do not edit by hand -->\n{section}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")
