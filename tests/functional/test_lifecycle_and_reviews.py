"""Lifecycle jobs (inactivity, leavers, expiry) and access reviews, over HTTP and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from rempart.bootstrap import Container, build_container
from rempart.cli.main import app as cli
from rempart.db.engine import make_engine
from rempart.db.migrate import write_meta
from rempart.db.schema.core import AgentRow
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.actors import Role
from rempart.kernel.clock import ManualClock
from rempart.kernel.tags import Tag
from rempart.mail.adapters.memory import MemoryMailer
from rempart.web.app import create_app
from tests.factories import NOW, TODAY, World, standard_world
from tests.support.governance import AsFresh, alerts_of, client_as
from tests.support.signin import auth_settings, client_for, give_credentials, sign_in

ML = "Mission Locale Nord"
DUPONT = "Formations Dupont"


@pytest.fixture
def box(db_url: str, clock: ManualClock, journal: MemoryJournal) -> Iterator[Container]:
    c = build_container(auth_settings(db_url), clock=clock, journal=journal)  # type: ignore[arg-type]
    yield c
    c.close()


@pytest.fixture
def gworld(box: Container) -> World:
    w = standard_world(box.engine)
    w.agent("am.ml", ML, Role.ACCOUNT_MANAGER)
    w.agent("am2.dupont", DUPONT, Role.ACCOUNT_MANAGER)
    # Everyone signed in yesterday, unless a test says otherwise.
    with box.engine.begin() as c:
        c.execute(update(AgentRow).values(last_used_at=NOW - dt.timedelta(days=1)))
    return w


@pytest.fixture
def as_fresh(box: Container, gworld: World, clock: ManualClock) -> AsFresh:
    def make(login: str, *, fresh: bool = True) -> TestClient:
        return client_as(box, login, clock, fresh=fresh)

    return make


def set_agent(box: Container, login: str, **values: Any) -> None:
    with box.engine.begin() as c:
        c.execute(update(AgentRow).where(AgentRow.login == login).values(**values))


def agent_row(box: Container, login: str) -> Any:
    with box.engine.connect() as c:
        return c.execute(select(AgentRow.__table__).where(AgentRow.login == login)).one()


def run_jobs(as_fresh: AsFresh) -> dict[str, Any]:
    r = as_fresh("ag.admin").post("/api/v1/admin/jobs/run")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_inactive_accounts_are_disabled_then_their_factors_erased(
    as_fresh: AsFresh, box: Container, gworld: World, clock: ManualClock, journal: MemoryJournal
) -> None:
    """Unused 90 days: disabled; 180 days: factors erased; a leaver on their end date.

    ASVS V6.5.6 (factors revocable), V8.3.2 (applied at once), V16.3.3 (logged).
    """
    give_credentials(box.engine, "ml.adv2")
    session = client_for(create_app(box.settings, container=box))
    sign_in(session, give_credentials(box.engine, "ml.adv1"), clock)
    set_agent(box, "ml.adv1", last_used_at=NOW - dt.timedelta(days=91))
    set_agent(box, "ml.adv2", last_used_at=NOW - dt.timedelta(days=181))
    set_agent(box, "cap.adv", last_used_at=NOW - dt.timedelta(days=89))
    set_agent(box, "tm.martin", end_date=TODAY)
    assert as_fresh("ag.sec").post("/api/v1/admin/jobs/run").status_code == 403

    report = run_jobs(as_fresh)
    assert report["disabled_inactive"] == ["ml.adv1", "ml.adv2"]
    assert report["factors_erased"] == ["ml.adv2"]
    assert report["leavers_disabled"] == ["tm.martin"]
    adv1, adv2 = agent_row(box, "ml.adv1"), agent_row(box, "ml.adv2")
    assert (adv1.active, adv1.disabled_reason) == (False, "inactive")
    assert adv1.totp_secret != ""  # only disabled: factors stay until 180 days
    assert (adv2.active, adv2.password_hash, adv2.totp_secret) == (False, "", "")
    assert agent_row(box, "cap.adv").active
    assert agent_row(box, "tm.martin").disabled_reason == "end_date"
    # The disabled account's live session is gone and its data closed.
    assert session.get("/api/v1/portfolio").json()["code"] == "session_revoked"
    r = as_fresh("ml.adv1").get(f"/api/v1/persons/{gworld.persons['youth'].ft_id}")
    assert r.json()["code"] == "access_suspended"
    disabled = [e for e in journal.entries if e.tag is Tag.LIFECYCLE_AGENT_DISABLED]
    assert {(e.details["account"], e.reason) for e in disabled} == {
        ("ml.adv1", "inactive"),
        ("ml.adv2", "inactive"),
        ("tm.martin", "end_date"),
    }
    assert [
        e.details["account"] for e in journal.entries if e.tag is Tag.LIFECYCLE_FACTORS_ERASED
    ] == ["ml.adv2"]
    assert alerts_of(box, "accounts_disabled")[-1].evidence["inactivity_disable_days"] == 90
    # Idempotent: a second run (or another replica) finds nothing more to do.
    again = run_jobs(as_fresh)
    assert again["disabled_inactive"] == again["factors_erased"] == again["leavers_disabled"] == []
    # An administrator's lift does not undo an inactivity disable: that takes a new request.
    assert as_fresh("ag.admin").post("/api/v1/admin/accounts/ml.adv1/lift").status_code == 409


def test_review_campaign_removes_undecided_access_at_its_deadline(
    as_fresh: AsFresh, box: Container, gworld: World, clock: ManualClock, journal: MemoryJournal
) -> None:
    """Keep or remove each account and role; at the deadline the undecided are removed.

    ASVS V8.1.1 (documented rules), V8.3.2, V16.3.3 (every decision journaled).
    """
    r = as_fresh("am.dupont").post("/api/v1/reviews", json={"duration_days": 14})
    assert r.status_code == 201, r.text
    campaign = r.json()
    assert campaign["default_decision"] == "remove"
    assert as_fresh("am.dupont").post("/api/v1/reviews", json={}).status_code == 409
    detail = as_fresh("am.dupont").get(f"/api/v1/reviews/{campaign['id']}").json()
    items = {(i["login"], i["role"]): i["id"] for i in detail["items"]}
    assert set(items) == {
        ("am.dupont", None),
        ("am.dupont", "account_manager"),
        ("am2.dupont", None),
        ("am2.dupont", "account_manager"),
        ("tm.dupont", None),
        ("tm.dupont", "training_manager"),
    }

    def decide(reviewer: str, key: tuple[str, str | None], decision: str) -> Any:
        return as_fresh(reviewer).post(
            f"/api/v1/reviews/{campaign['id']}/items/{items[key]}", json={"decision": decision}
        )

    # No one reviews their own access; other organisations do not see the campaign.
    assert decide("am.dupont", ("am.dupont", None), "keep").status_code == 403
    assert decide("am.ml", ("tm.dupont", None), "keep").status_code == 404
    assert decide("tm.dupont", ("tm.dupont", None), "keep").status_code == 404
    assert decide("am.dupont", ("tm.dupont", None), "keep").json()["decision"] == "keep"
    assert decide("am.dupont", ("tm.dupont", None), "remove").status_code == 409
    assert decide("am.dupont", ("am2.dupont", None), "keep").status_code == 200
    assert decide("am.dupont", ("am2.dupont", "account_manager"), "keep").status_code == 200
    assert decide("am2.dupont", ("tm.dupont", "training_manager"), "keep").status_code == 200
    # am.dupont's own items stay undecided: nobody vouches for them.

    clock.advance(3 * 86400 + 60)
    mailer = box.mailer
    assert isinstance(mailer, MemoryMailer)
    before = len(mailer.outbox)
    assert run_jobs(as_fresh)["reminders_sent"] == 2  # both managers of the organisation
    reminded = {m.to for m in mailer.outbox[before:] if "reminder" in m.subject}
    assert reminded == {"am.dupont@example.fr", "am2.dupont@example.fr"}

    clock.advance(11 * 86400)
    assert run_jobs(as_fresh)["campaigns_closed"] == 1
    am = agent_row(box, "am.dupont")
    assert not am.active
    assert am.disabled_reason == "review"
    assert am.roles == ""
    assert agent_row(box, "tm.dupont").active
    assert agent_row(box, "tm.dupont").roles == "training_manager"

    report = as_fresh("ag.sec").get(f"/api/v1/reviews/{campaign['id']}/report")
    assert report.status_code == 200
    body = report.json()
    assert body["campaign"]["status"] == "closed"
    assert body["totals"] == {
        "items": 6,
        "accounts": 3,
        "kept": 4,
        "removed": 2,
        "kept_by_default": 0,
        "removed_by_default": 2,
        "undecided": 0,
    }
    assert body["reviewers"] == ["am.dupont", "am2.dupont"]
    decided = [
        e for e in journal.entries if e.tag is Tag.REVIEW_ITEM_DECIDED and e.decision == "allow"
    ]
    assert len(decided) == 6
    assert alerts_of(box, "review_removed_access")[-1].evidence["removed_accesses"] == [
        "am.dupont",
        "am.dupont:account_manager",
    ]
    assert as_fresh("am.ml").get(f"/api/v1/reviews/{campaign['id']}/report").status_code == 404


def test_a_reviewer_removal_applies_at_once(
    as_fresh: AsFresh, box: Container, gworld: World
) -> None:
    """Removing a role in a review takes it away immediately, and alerts. ASVS V8.3.2."""
    campaign = as_fresh("am.dupont").post("/api/v1/reviews", json={}).json()
    items = {
        (i["login"], i["role"]): i["id"]
        for i in as_fresh("am.dupont").get(f"/api/v1/reviews/{campaign['id']}").json()["items"]
    }
    trainee = gworld.persons["trainee"].ft_id
    assert as_fresh("tm.dupont").get(f"/api/v1/persons/{trainee}").status_code == 200
    r = as_fresh("am2.dupont").post(
        f"/api/v1/reviews/{campaign['id']}/items/{items[('tm.dupont', 'training_manager')]}",
        json={"decision": "remove"},
    )
    assert r.status_code == 200
    assert as_fresh("tm.dupont").get(f"/api/v1/persons/{trainee}").status_code == 403
    assert alerts_of(box, "review_removed_access")[-1].agent_login == "am2.dupont"


def test_quarterly_campaigns_open_by_themselves(as_fresh: AsFresh, box: Container) -> None:
    """Every organisation with accounts gets a campaign each quarter, and a mail to reviewers.

    ASVS V8.1.1.
    """
    report = run_jobs(as_fresh)
    assert report["campaigns_opened"] == 5
    listed = as_fresh("ag.admin").get("/api/v1/reviews").json()["items"]
    assert {c["opened_by"] for c in listed} == {"system"}
    assert len(as_fresh("am.ml").get("/api/v1/reviews").json()["items"]) == 1
    assert run_jobs(as_fresh)["campaigns_opened"] == 0
    assert as_fresh("ml.adv1").get("/api/v1/reviews").status_code == 403


def test_rempart_jobs_run_once_from_the_command_line(db_url: str) -> None:
    """``rempart jobs run`` on a database: disables what is due, prints a JSON report.

    ASVS V8.3.2.
    """
    engine = make_engine(db_url)
    try:
        standard_world(engine)
        write_meta(engine, "demo", "true")
        now = dt.datetime.now(dt.UTC)
        with engine.begin() as c:
            c.execute(update(AgentRow).values(last_used_at=now - dt.timedelta(days=2)))
            c.execute(
                update(AgentRow)
                .where(AgentRow.login == "cap.adv")
                .values(last_used_at=now - dt.timedelta(days=120))
            )
    finally:
        engine.dispose()
    result = CliRunner().invoke(cli, ["jobs", "run", "--db", db_url])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{") : result.stdout.rindex("}") + 1])
    assert report["disabled_inactive"] == ["cap.adv"]


def test_serve_runs_the_jobs_periodically(
    db_url: str, clock: ManualClock, journal: MemoryJournal
) -> None:
    """Inside the server a background thread runs the jobs every ``jobs_interval_seconds``.

    ASVS V8.1.1.
    """
    box = build_container(
        auth_settings(db_url, jobs_interval_seconds=1),  # type: ignore[arg-type]
        clock=clock,
        journal=journal,
    )
    world = standard_world(box.engine)
    world.agent("am.ml", ML, Role.ACCOUNT_MANAGER)
    with box.engine.begin() as c:
        c.execute(update(AgentRow).values(last_used_at=NOW))
    request = client_as(box, "am.ml", clock).post(
        "/api/v1/accounts",
        json={"login": "slow.adv", "email": "slow@ml.example", "roles": ["advisor"]},
    )
    request_id = request.json()["request_id"]
    clock.advance(25 * 3600)
    app = create_app(box.settings, container=box)
    with TestClient(app):  # runs the lifespan: the scheduler starts, and stops at the end
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            found = box.governance.requests.request(request_id)  # type: ignore[union-attr]
            if found is not None and found.status == "expired":
                break
            time.sleep(0.2)
        assert found is not None
        assert found.status == "expired"
    assert box.jobs is not None
    assert any(e.tag is Tag.ACCOUNT_REQUEST_EXPIRED for e in journal.entries)
