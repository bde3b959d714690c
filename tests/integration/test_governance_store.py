"""``SqlGovernanceStore`` on SQLite and PostgreSQL: one winner per decision, single-use links,
whole-word role matching, and the migration's defaults for accounts created elsewhere
(ASVS V6.4.1 single-use activation secrets, V8.3.1 rules enforced in the trusted layer)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert, select

from rempart.db.engine import make_engine
from rempart.db.schema.core import AgentRow
from rempart.governance.adapters.sql import SqlGovernanceStore
from rempart.governance.model import AccountRequest, RequestKind, RequestStatus, ReviewDecision
from rempart.kernel.actors import App, Role
from tests.factories import NOW, TODAY, World, standard_world


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = make_engine(db_url)
    yield e
    e.dispose()


@pytest.fixture
def world(engine: Engine) -> World:
    return standard_world(engine)


@pytest.fixture
def store(engine: Engine) -> SqlGovernanceStore:
    return SqlGovernanceStore(engine)


def a_request(world: World, request_id: str = "a" * 32) -> AccountRequest:
    return AccountRequest(
        id=request_id,
        kind=RequestKind.CREATE_ACCOUNT,
        org_id=world.orgs["Formations Dupont"],
        requested_by=world.agents["am.dupont"],
        requested_by_login="am.dupont",
        login="new.tm",
        email="new.tm@example.fr",
        grant=frozenset({Role.TRAINING_MANAGER}),
        revoke=frozenset(),
        created_at=NOW,
        expires_at=NOW + dt.timedelta(hours=24),
    )


def test_accounts_inserted_without_governance_columns_get_safe_defaults(
    store: SqlGovernanceStore, world: World
) -> None:
    """The seed and older code insert agents without the new columns: not pending, not off."""
    standing = store.standing(world.agents["tm.dupont"])
    assert standing.enrolment_pending is False
    assert standing.disabled_reason == ""
    assert standing.created_by is None
    assert not standing.went_through_four_eyes
    assert store.standing(999_999).agent_id == 999_999


def test_a_request_is_decided_once(store: SqlGovernanceStore, world: World) -> None:
    store.add_request(a_request(world))
    assert store.login_taken("new.tm")
    decide = {"by_id": world.agents["ag.admin"], "by_login": "ag.admin", "at": NOW}
    assert store.decide_request("a" * 32, RequestStatus.APPROVED, **decide)  # type: ignore[arg-type]
    assert not store.decide_request("a" * 32, RequestStatus.DENIED, **decide)  # type: ignore[arg-type]
    found = store.request("a" * 32)
    assert found is not None
    assert found.status is RequestStatus.APPROVED
    assert found.decided_at == NOW
    assert not store.login_taken("new.tm")  # an approved request no longer holds the login
    assert store.request_times(world.agents["am.dupont"], NOW - dt.timedelta(days=7)) == [NOW]


def test_expired_requests_are_found(store: SqlGovernanceStore, world: World) -> None:
    store.add_request(a_request(world))
    assert store.expired_requests(NOW + dt.timedelta(hours=23)) == []
    assert [r.id for r in store.expired_requests(NOW + dt.timedelta(hours=24))] == ["a" * 32]


def test_enrolment_links_are_single_use_and_replace_each_other(
    store: SqlGovernanceStore, world: World, engine: Engine
) -> None:
    agent_id = store.create_agent(
        "new.tm",
        "new.tm@example.fr",
        world.orgs["Formations Dupont"],
        frozenset({Role.TRAINING_MANAGER}),
        created_by=world.agents["am.dupont"],
        approved_by=world.agents["ag.admin"],
        at=NOW,
        training_valid_until=TODAY,
    )
    assert store.standing(agent_id).enrolment_pending
    first = store.add_enrolment_token(agent_id, "1" * 64, NOW, NOW + dt.timedelta(hours=1))
    second = store.add_enrolment_token(agent_id, "2" * 64, NOW, NOW + dt.timedelta(hours=1))
    old = store.enrolment_token("1" * 64)
    assert old is not None
    assert old.revoked_at == NOW
    assert not old.usable(NOW, 5)
    assert store.count_enrolment_failure(second) == 1
    assert store.count_enrolment_failure(second) == 2
    done = {
        "at": NOW,
        "password_hash": "h",
        "totp_secret": "S" * 32,
        "totp_step": 42,
        "probation_until": NOW + dt.timedelta(days=14),
    }
    assert not store.complete_enrolment(first, agent_id, **done)  # type: ignore[arg-type]
    assert store.complete_enrolment(second, agent_id, **done)  # type: ignore[arg-type]
    assert not store.complete_enrolment(second, agent_id, **done)  # type: ignore[arg-type]
    standing = store.standing(agent_id)
    assert not standing.enrolment_pending
    assert standing.probation_until == NOW + dt.timedelta(days=14)
    with engine.connect() as c:
        row = c.execute(select(AgentRow.__table__).where(AgentRow.id == agent_id)).one()
    assert (row.totp_secret, row.totp_last_step, row.password_hash) == ("S" * 32, 42, "h")
    store.erase_factors(agent_id)
    assert store.standing(agent_id).enrolment_pending


def test_privileged_roles_match_whole_words_only(
    store: SqlGovernanceStore, world: World, engine: Engine
) -> None:
    with engine.begin() as c:
        c.execute(
            insert(AgentRow).values(
                login="look.alike",
                email="x@example.fr",
                org_id=world.orgs["Formations Dupont"],
                roles="training_manager",  # contains "manager", not "account_manager"
                created_at=NOW,
            )
        )
    logins = {a.login for a, _ in store.privileged_accounts()}
    assert logins == {"am.dupont", "ag.sec", "ag.dpo", "ag.admin"}


def test_organisation_suspensions_keep_history(store: SqlGovernanceStore, world: World) -> None:
    org = world.orgs["Formations Dupont"]
    assert store.suspend_org(org, "ag.admin", NOW, "CERT")
    assert not store.suspend_org(org, "ag.admin", NOW, "again")
    assert store.standing(world.agents["tm.dupont"]).org_suspended
    assert not store.standing(world.agents["tm.martin"]).org_suspended
    assert store.lift_org(org, "ag.admin", NOW)
    assert not store.lift_org(org, "ag.admin", NOW)
    assert store.org_suspension(org) is None
    assert store.org_ids_using(App.TRAINING_FOLLOW_UP) == sorted(
        [world.orgs["Formations Dupont"], world.orgs["Formations Martin"]]
    )


def test_review_items_are_decided_once(store: SqlGovernanceStore, world: World) -> None:
    org = world.orgs["Formations Dupont"]
    tm = world.agents["tm.dupont"]
    campaign = store.open_campaign(
        org,
        "am.dupont",
        NOW,
        NOW + dt.timedelta(days=14),
        ReviewDecision.REMOVE,
        [(tm, "tm.dupont", "*"), (tm, "tm.dupont", "training_manager")],
    )
    items = store.review_items(campaign)
    assert [i.role for i in items] == ["*", "training_manager"]
    assert store.decide_item(items[0].id, ReviewDecision.KEEP, "am.dupont", NOW)
    assert not store.decide_item(items[0].id, ReviewDecision.REMOVE, "am.dupont", NOW)
    assert org not in store.orgs_due_for_review(NOW - dt.timedelta(days=91))
    assert world.orgs["Formations Martin"] in store.orgs_due_for_review(NOW - dt.timedelta(days=91))
    assert store.close_campaign(campaign, NOW)
    assert not store.close_campaign(campaign, NOW)
    assert store.open_campaigns() == []
