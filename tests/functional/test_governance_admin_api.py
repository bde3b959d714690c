"""Kill switches, training attestations, the privileged inventory, factor resets, unlocks,
federated links and real-time alerts, over HTTP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from rempart.bootstrap import Container, build_container
from rempart.db.schema.core import AgentRow
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.kernel.tags import Tag
from rempart.web.app import create_app
from tests.factories import TODAY, World
from tests.support.governance import (
    AsFresh,
    alert_rules,
    alerts_of,
    anonymous,
    fresh_clients,
    governance_world,
    last_mail_to,
    token_from,
)
from tests.support.signin import auth_settings, client_for, give_credentials, sign_in

ML = "Mission Locale Nord"
STRONG = "Sept chevaux gris traversent la rivière en hiver"


@pytest.fixture
def box(db_url: str, clock: ManualClock, journal: MemoryJournal) -> Iterator[Container]:
    c = build_container(auth_settings(db_url), clock=clock, journal=journal)  # type: ignore[arg-type]
    yield c
    c.close()


@pytest.fixture
def gworld(box: Container) -> World:
    return governance_world(box)


@pytest.fixture
def as_fresh(box: Container, gworld: World, clock: ManualClock) -> AsFresh:
    return fresh_clients(box, clock)


@pytest.fixture
def browser(box: Container, gworld: World) -> TestClient:
    return client_for(create_app(box.settings, container=box))


def read(client: TestClient, world: World, person: str = "trainee") -> Any:
    return client.get(f"/api/v1/persons/{world.persons[person].ft_id}")


def signed_in(box: Container, login: str, clock: ManualClock) -> TestClient:
    """A real browser session for ``login`` (password + TOTP)."""
    client = client_for(create_app(box.settings, container=box))
    sign_in(client, give_credentials(box.engine, login), clock)
    return client


def enrol_new_account(
    as_fresh: AsFresh, box: Container, clock: ManualClock, login: str, roles: list[str]
) -> str:
    """Request (am.ml), approve (agency admin), enrol: an account that went through four eyes."""
    r = as_fresh("am.ml").post(
        "/api/v1/accounts", json={"login": login, "email": f"{login}@ml.example", "roles": roles}
    )
    assert (
        as_fresh("ag.admin")
        .post(f"/api/v1/accounts/requests/{r.json()['request_id']}/approve")
        .status_code
        == 200
    )
    token = token_from(last_mail_to(box, f"{login}@ml.example"))
    anon = anonymous(box)
    secret = anon.post("/api/v1/enrolment/begin", json={"token": token}).json()["totp_secret"]
    done = anon.post(
        "/api/v1/enrolment/complete",
        json={"token": token, "password": STRONG, "code": pyotp.TOTP(secret).at(clock.now())},
    )
    assert done.status_code == 200, done.text
    return secret


def test_account_kill_switch_stops_data_and_sessions_at_once(
    as_fresh: AsFresh, box: Container, gworld: World, clock: ManualClock, journal: MemoryJournal
) -> None:
    """Suspend one account: its session dies, its data access stops, nobody else's.

    ASVS V8.3.2 (authorisation changes apply immediately), V7.4.5 (sessions ended).
    """
    session = signed_in(box, "tm.dupont", clock)
    assert read(session, gworld).status_code == 200
    assert as_fresh("ag.sec").post("/api/v1/admin/accounts/tm.dupont/suspend").status_code == 403
    r = as_fresh("ag.admin", fresh=False).post(
        "/api/v1/admin/accounts/tm.dupont/suspend", json={"reason": "infostealer on the PC"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["sessions_ended"] == 1
    assert read(session, gworld).json()["code"] == "session_revoked"
    blocked = read(as_fresh("tm.dupont"), gworld)
    assert blocked.status_code == 403
    assert blocked.json()["code"] == "access_suspended"
    assert read(as_fresh("tm.martin"), gworld, "trainee_martin").status_code == 200
    assert Tag.ADMIN_ACCOUNT_SUSPENDED in [e.tag for e in journal.entries]
    assert alerts_of(box, "account_suspended")[-1].evidence["account"] == "tm.dupont"

    lift = "/api/v1/admin/accounts/tm.dupont/lift"
    assert as_fresh("ag.admin", fresh=False).post(lift).json()["code"] == "step_up_required"
    assert as_fresh("ag.admin").post(lift).status_code == 200
    assert read(as_fresh("tm.dupont"), gworld).status_code == 200
    assert as_fresh("ag.admin").post(lift).status_code == 409
    assert "account_suspension_lifted" in alert_rules(box)
    assert as_fresh("ag.admin").post("/api/v1/admin/accounts/ag.admin/suspend").status_code == 403


def test_organisation_kill_switch(
    as_fresh: AsFresh, box: Container, gworld: World, clock: ManualClock
) -> None:
    """Suspend one training body: all its accounts stop; the other training body works on.

    ASVS V8.3.2, V8.4.1.
    """
    session = signed_in(box, "tm.dupont", clock)
    org = gworld.orgs["Formations Dupont"]
    r = as_fresh("ag.admin").post(f"/api/v1/admin/orgs/{org}/suspend", json={"reason": "CERT"})
    assert r.status_code == 200
    assert r.json()["sessions_ended"] == 1
    assert read(session, gworld).json()["code"] == "session_revoked"
    assert read(as_fresh("tm.dupont"), gworld).json()["code"] == "access_suspended"
    # Its account managers cannot create accounts meanwhile either.
    r = as_fresh("am.dupont").post(
        "/api/v1/accounts",
        json={"login": "new.tm", "email": "new.tm@dupont.example", "roles": ["training_manager"]},
    )
    assert r.status_code == 403
    assert r.json()["code"] == "access_suspended"
    assert read(as_fresh("tm.martin"), gworld, "trainee_martin").status_code == 200
    assert read(as_fresh("ml.adv1"), gworld, "youth").status_code == 200
    assert alerts_of(box, "organisation_suspended")[-1].evidence["org_id"] == org
    agency = gworld.orgs["Agence Paris 2e"]
    assert as_fresh("ag.admin").post(f"/api/v1/admin/orgs/{agency}/suspend").status_code == 403
    assert as_fresh("ag.admin").post("/api/v1/admin/orgs/NOPE/suspend").status_code == 404

    assert (
        as_fresh("ag.admin", fresh=False).post(f"/api/v1/admin/orgs/{org}/lift").status_code == 401
    )
    assert as_fresh("ag.admin").post(f"/api/v1/admin/orgs/{org}/lift").status_code == 200
    assert read(as_fresh("tm.dupont"), gworld).status_code == 200


def test_one_organisations_app_kill_switch(
    as_fresh: AsFresh, box: Container, gworld: World, clock: ManualClock
) -> None:
    """One organisation's access to one app, sessions revoked (July 2025, without closing all).

    ASVS V8.3.2.
    """
    session = signed_in(box, "tm.dupont", clock)
    org = gworld.orgs["Formations Dupont"]
    r = as_fresh("ag.admin").post(
        "/api/v1/admin/apps/training_follow_up/suspend", json={"org_id": org}
    )
    assert r.status_code == 200
    assert r.json()["sessions_ended"] == 1
    assert read(session, gworld).json()["code"] == "session_revoked"
    assert read(as_fresh("tm.dupont"), gworld).json()["code"] == "access_suspended"
    assert read(as_fresh("tm.martin"), gworld, "trainee_martin").status_code == 200
    assert read(as_fresh("ml.adv1"), gworld, "youth").status_code == 200
    assert alerts_of(box, "app_suspended")[-1].evidence == {
        "app": "training_follow_up",
        "org_id": org,
        "sessions_ended": 1,
    }
    r = as_fresh("ag.admin").post(
        "/api/v1/admin/apps/training_follow_up/resume", json={"org_id": org}
    )
    assert r.status_code == 200
    assert read(as_fresh("tm.dupont"), gworld).status_code == 200


def test_expired_training_suspends_data_access_until_a_renewed_attestation(
    as_fresh: AsFresh, box: Container, gworld: World, clock: ManualClock, journal: MemoryJournal
) -> None:
    """Sign-in still works, data answers 403 access_suspended, until the organisation records
    a renewed attestation. ASVS V8.2.1, V8.3.2."""
    with box.engine.begin() as c:
        c.execute(
            update(AgentRow)
            .where(AgentRow.login == "tm.dupont")
            .values(training_valid_until=TODAY - dt.timedelta(days=1))
        )
    session = signed_in(box, "tm.dupont", clock)
    assert session.get("/api/v1/me").status_code == 200
    r = read(session, gworld)
    assert r.status_code == 403
    assert r.json()["code"] == "access_suspended"
    assert "training" in r.json()["detail"]

    path = "/api/v1/accounts/tm.dupont/training"
    year = {"valid_until": (TODAY + dt.timedelta(days=365)).isoformat()}
    assert as_fresh("tm.martin").post(path, json=year).status_code == 403
    assert as_fresh("am.ml").post(path, json=year).status_code == 404
    assert as_fresh("am.dupont", fresh=False).post(path, json=year).status_code == 401
    assert as_fresh("am.dupont").post(path, json={"valid_until": "2020-01-01"}).status_code == 400
    too_far = {"valid_until": (TODAY + dt.timedelta(days=800)).isoformat()}
    assert as_fresh("am.dupont").post(path, json=too_far).status_code == 400
    own = as_fresh("am.dupont").post("/api/v1/accounts/am.dupont/training", json=year)
    assert own.status_code == 403
    ok = as_fresh("am.dupont").post(path, json=year)
    assert ok.status_code == 200
    assert ok.json() == {"login": "tm.dupont", "training_valid_until": year["valid_until"]}
    attested = [e for e in journal.entries if e.tag is Tag.ACCOUNT_TRAINING_ATTESTED][-1]
    assert attested.agent_login == "am.dupont"
    assert attested.details["account"] == "tm.dupont"
    assert read(session, gworld).status_code == 200


def test_privileged_inventory(
    as_fresh: AsFresh, box: Container, gworld: World, clock: ManualClock
) -> None:
    """Roles, last use, factors, who created and approved, open requests. ASVS V8.1.1."""
    enrol_new_account(as_fresh, box, clock, "new.rgc", ["account_manager"])
    give_credentials(box.engine, "am.dupont")
    pending = as_fresh("am.ml").post(
        "/api/v1/accounts",
        json={"login": "later.adv", "email": "later@ml.example", "roles": ["advisor"]},
    )
    for login in ("tm.dupont", "am.dupont", "ml.adv1"):
        assert as_fresh(login).get("/api/v1/admin/privileged-accounts").status_code == 403
    r = as_fresh("ag.sec").get("/api/v1/admin/privileged-accounts")
    assert r.status_code == 200
    items = {i["login"]: i for i in r.json()["items"]}
    assert {"am.dupont", "am2.dupont", "am.ml", "ag.admin", "ag.sec", "ag.dpo", "new.rgc"} <= set(
        items
    )
    assert not {"tm.dupont", "ml.adv1", "ag.adv"} & set(items)
    rgc = items["new.rgc"]
    assert rgc["created_by"] == "am.ml"
    assert rgc["approved_by"] == "ag.admin"
    assert rgc["four_eyes"] is True
    assert rgc["factors"] == ["password", "totp"]
    assert rgc["probation_until"] is not None
    assert items["am.dupont"]["factors"] == ["password", "totp"]
    assert items["am.dupont"]["created_by"] is None
    assert items["am.dupont"]["four_eyes"] is False
    assert items["ag.dpo"]["privileged_roles"] == ["dpo"]
    assert items["am.ml"]["open_requests"]["made"] == [pending.json()["request_id"]]
    assert as_fresh("ag.admin").get("/api/v1/admin/privileged-accounts").status_code == 200


def test_factor_reset_and_unlock(
    as_fresh: AsFresh, box: Container, gworld: World, clock: ManualClock
) -> None:
    """A manager resets a colleague's factors without learning them (ASVS V6.4.6); an unlock
    and a reset each raise an alert."""
    session = signed_in(box, "tm.dupont", clock)
    with box.engine.begin() as c:
        c.execute(update(AgentRow).where(AgentRow.login == "tm.dupont").values(locked=True))
    assert (
        as_fresh("am.dupont", fresh=False).post("/api/v1/accounts/tm.dupont/unlock").status_code
        == 401
    )
    assert as_fresh("am.ml").post("/api/v1/accounts/tm.dupont/unlock").status_code == 404
    assert as_fresh("am.dupont").post("/api/v1/accounts/tm.dupont/unlock").status_code == 200
    with box.engine.connect() as c:
        assert (
            c.execute(select(AgentRow.locked).where(AgentRow.login == "tm.dupont")).scalar()
            is False
        )
    assert alerts_of(box, "account_unlocked")[-1].evidence["account"] == "tm.dupont"

    r = as_fresh("am.dupont").post("/api/v1/accounts/tm.dupont/reset-factors")
    assert r.status_code == 200
    assert r.json() == {"login": "tm.dupont", "enrolment_link_sent": True, "sessions_ended": 1}
    assert read(session, gworld).json()["code"] == "session_revoked"
    assert read(as_fresh("tm.dupont"), gworld).json()["code"] == "access_suspended"
    with box.engine.connect() as c:
        row = c.execute(
            select(AgentRow.password_hash, AgentRow.totp_secret).where(
                AgentRow.login == "tm.dupont"
            )
        ).one()
    assert row.password_hash == ""
    assert row.totp_secret == ""
    assert alerts_of(box, "account_factors_reset")[-1].agent_login == "am.dupont"
    assert "/enrol?token=" in last_mail_to(box, "tm.dupont@example.fr")
    assert as_fresh("am.dupont").post("/api/v1/accounts/am.dupont/reset-factors").status_code == 403


def test_federated_identities_link_only_to_four_eyes_accounts(
    as_fresh: AsFresh, box: Container, gworld: World, clock: ManualClock
) -> None:
    """Dec 2025: accounts were created through the federation. ASVS V6.8.1."""
    path = "/api/v1/accounts/{}/identities"
    identity = {"issuer": "https://proconnect.example", "subject": "sub-1"}
    r = as_fresh("ag.admin").post(path.format("ml.adv1"), json=identity)
    assert r.status_code == 403
    assert "approved request" in r.json()["detail"]
    assert alerts_of(box, "federated_identity_refused")[-1].evidence["account"] == "ml.adv1"

    r = as_fresh("am.ml").post(
        "/api/v1/accounts",
        json={"login": "fed.adv", "email": "fed.adv@ml.example", "roles": ["advisor"]},
    )
    as_fresh("am2.ml").post(f"/api/v1/accounts/requests/{r.json()['request_id']}/approve")
    assert as_fresh("ag.admin").post(path.format("fed.adv"), json=identity).status_code == 403

    enrol_new_account(as_fresh, box, clock, "fed2.adv", ["advisor"])
    assert as_fresh("am.ml").post(path.format("fed2.adv"), json=identity).status_code == 403
    assert (
        as_fresh("ag.admin", fresh=False).post(path.format("fed2.adv"), json=identity).status_code
        == 401
    )
    assert as_fresh("ag.admin").post(path.format("fed2.adv"), json=identity).status_code == 201
    linked = box.auth.identities.agent_by_identity(identity["issuer"], "sub-1")  # type: ignore[union-attr]
    assert linked == box.portal.store.agent_by_login("fed2.adv").id  # type: ignore[union-attr]
    assert as_fresh("ag.admin").post(path.format("fed2.adv"), json=identity).status_code == 409


def test_every_privileged_change_raises_an_alert(
    as_fresh: AsFresh, box: Container, gworld: World, clock: ManualClock
) -> None:
    """Creation requests, approvals, role changes, unlocks, factor resets, enrolments,
    suspensions: each one reaches the security team's feed at once. ASVS V16.3.3."""
    enrol_new_account(as_fresh, box, clock, "alerted.adv", ["advisor"])
    r = as_fresh("am.dupont").post(
        "/api/v1/accounts/tm.dupont/roles", json={"revoke": ["training_manager"]}
    )
    as_fresh("am2.dupont").post(f"/api/v1/accounts/requests/{r.json()['request_id']}/approve")
    with box.engine.begin() as c:
        c.execute(update(AgentRow).where(AgentRow.login == "ml.adv2").values(locked=True))
    as_fresh("am.ml").post("/api/v1/accounts/ml.adv2/unlock")
    as_fresh("am.ml").post("/api/v1/accounts/ml.adv1/reset-factors")
    as_fresh("ag.admin").post("/api/v1/admin/accounts/cap.adv/suspend")
    as_fresh("ag.admin").post(f"/api/v1/admin/orgs/{gworld.orgs['Cap emploi 75']}/suspend")
    rules = alert_rules(box)
    for rule in (
        "account_requested",
        "account_created",
        "account_factor_enrolled",
        "roles_change_requested",
        "roles_changed",
        "account_unlocked",
        "account_factors_reset",
        "account_suspended",
        "organisation_suspended",
    ):
        assert rule in rules, rule
    feed = as_fresh("ag.sec").get("/api/v1/alerts").json()["items"]
    created = next(a for a in feed if a["rule"] == "account_created")
    assert created["agent_login"] == "ag.admin"
    assert created["evidence"]["requested_by"] == "am.ml"
    assert created["explanation"].endswith(".")


def test_leaver_end_date_today_disables_at_once(
    as_fresh: AsFresh, box: Container, gworld: World
) -> None:
    """An end date disables the account on that day (leavers). ASVS V8.3.2."""
    r = as_fresh("am.ml").post(
        "/api/v1/accounts/ml.adv2/end-date", json={"end_date": TODAY.isoformat()}
    )
    assert r.status_code == 200
    agent = box.portal.store.agent_by_login("ml.adv2")
    assert agent is not None
    assert not agent.active
    assert box.governance.standings.standing(agent.id).disabled_reason == "end_date"  # type: ignore[union-attr]
    assert (
        as_fresh("am.ml")
        .post("/api/v1/accounts/ml.adv1/end-date", json={"end_date": "2020-01-01"})
        .status_code
        == 400
    )
