"""The exposure equals what the attacker actually received: every bench scenario, replayed.

Each attack scenario of the bench runs against a fresh copy of a small seeded portal (SQLite
portal and journal, the real app in process), in each guard mode. A recording client keeps
every answer body; the exposure computed from the journal for the accounts the attacker used,
over the attack's window, must name exactly the people those bodies carried, each with exactly
the data categories of the fields they carried: no one missing, no one extra (ASVS V16.3.2,
V16.2.1: the journal is complete enough to answer "who was exposed").
"""

from __future__ import annotations

import contextlib
import datetime as dt
from random import Random
from typing import Any, cast

import pytest

from rempart.incident.model import Selector, Window
from rempart.incident.service.exposure import compute_exposure
from rempart.journal.ports import ScopedEntries
from rempart.kernel.categories import DataCategory
from rempart.people.scope import CATEGORY_FIELDS
from rempart_bench.bench import (
    MODES,
    Base,
    BenchConfig,
    Stage,
    _attack_day,
    _provisioner,
    build_base,
    open_run,
)
from rempart_bench.driver import Agentish, Answer
from rempart_bench.metrics import AttackOutcome
from rempart_bench.scenarios import SCENARIOS, Capped, Env

pytestmark = pytest.mark.slow

CONFIG = BenchConfig(persons=2500, history_days=2, legit_days=1, attack_cap=350)
LISTS = ("items", "enrolled", "attendance")


def received(path: str, body: dict[str, Any]) -> dict[str, set[str]]:
    """The categories of the fields one answer carried, per person (the client's view)."""
    got: dict[str, set[str]] = {}
    if isinstance(body.get("ft_id"), str):  # one record
        got[body["ft_id"]] = {
            str(c) for c, fields in CATEGORY_FIELDS.items() if any(f in body for f in fields)
        }
    for key in LISTS:
        for item in body.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("ft_id"), str):
                cats = {str(DataCategory.IDENTITY)}
                if key != "items":  # a training's roster shows who follows that training
                    cats.add(str(DataCategory.TRAINING))
                got.setdefault(item["ft_id"], set()).update(cats)
    return got


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return build_base(CONFIG, tmp_path_factory.mktemp("bench"), Stage())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_exposure_is_what_the_attacker_received(base: Base, scenario: str, mode: str) -> None:
    at = _attack_day(CONFIG)
    run = open_run(base, mode, at)
    logins: set[str] = set()
    client_view: dict[str, set[str]] = {}
    served_answers = 0
    original = run.driver.request

    def recording(
        who: Agentish, method: str, path: str, json: dict[str, Any] | None = None
    ) -> Answer:
        nonlocal served_answers
        answer = original(who, method, path, json)
        logins.add(who.login)
        if answer.status < 300:
            got = received(path, answer.body)
            served_answers += bool(got)
            for ft_id, cats in got.items():
                client_view.setdefault(ft_id, set()).update(cats)
        return answer

    run.driver.request = recording  # type: ignore[method-assign]
    env = Env(
        driver=run.driver,
        clock=run.clock,
        world=base.world,
        outcome=AttackOutcome(scenario, mode),
        cap=CONFIG.attack_cap,
        rng=Random(f"attack:{CONFIG.seed}:{scenario}"),
        provision=_provisioner(run) if mode == "none" else None,
    )
    try:
        with contextlib.suppress(Capped):
            SCENARIOS[scenario](env)
        journal = cast(ScopedEntries, run.box.portal.journal)  # the SQL store: it is one
        found = compute_exposure(journal, Selector.of(sorted(logins)), Window(at, run.clock.now()))
    finally:
        run.close()
    exposed = {ft_id: set(p.categories) for ft_id, p in found.persons.items()}
    missing = sorted(set(client_view) - set(exposed))
    extra = sorted(set(exposed) - set(client_view))
    assert not missing, f"received but not in the exposure: {missing[:10]}"
    assert not extra, f"in the exposure but never received: {extra[:10]}"
    wrong = {f: (exposed[f], client_view[f]) for f in exposed if exposed[f] != client_view[f]}
    assert not wrong, f"categories differ (exposure, received): {dict(list(wrong.items())[:5])}"
    assert found.by_category()["identity"] == len(client_view)
    # The replay is not vacuous where the attacker got data; where none got out, nobody is listed.
    assert (served_answers > 0) == bool(exposed)


def test_a_scenario_that_gets_data_is_among_them(base: Base) -> None:
    """At least the in-session attack without the guard reaches people: the check above bites."""
    at = _attack_day(CONFIG)
    run = open_run(base, "off", at)
    env = Env(
        driver=run.driver,
        clock=run.clock,
        world=base.world,
        outcome=AttackOutcome("in_session", "off"),
        cap=60,
        rng=Random("attack:in_session"),
    )
    try:
        with contextlib.suppress(Capped):
            SCENARIOS["in_session"](env)
        journal = cast(ScopedEntries, run.box.portal.journal)  # the SQL store: it is one
        found = compute_exposure(
            journal,
            Selector.of(env.outcome.victims),
            Window(at, run.clock.now() + dt.timedelta(seconds=1)),
        )
    finally:
        run.close()
    assert env.outcome.exposed
    assert set(found.persons) == env.outcome.exposed
