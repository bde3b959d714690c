"""Four eyes on accounts, on memory twins: request, approve, deny, cancel, and what managers do.

The Dec 2025 incident piece by piece: one account manager alone creates nothing, grants
nothing and approves nothing of their own, nor through an account they brought in.
"""

from __future__ import annotations

import datetime as dt

import pytest

from rempart.governance.model import Refusal, RequestStatus
from rempart.governance.service import accounts
from rempart.kernel.actors import Role
from rempart.kernel.errors import (
    AccessSuspended,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    StepUpRequired,
    Throttled,
)
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import AccountLock
from tests.factories import NOW
from tests.unit.governance.conftest import AGENCY, DUPONT, ML, Unit, advance, with_rules


def ask(
    u: Unit, by: str = "am.ml", login: str = "new.adv", roles: tuple[str, ...] = ("advisor",)
) -> str:
    return str(
        accounts.request_account(u.gov, u.ctx(by), login, f"{login}@ml.example", list(roles))[
            "request_id"
        ]
    )


def refusal_of(u: Unit) -> str:
    return str(u.alerts.items[-1].evidence["refusal"])


# --- Requesting ---------------------------------------------------------------------------


def test_a_request_then_another_managers_approval_creates_an_account_pending_enrolment(
    unit: Unit,
) -> None:
    """ASVS V8.2.1 (function-level access), V8.3.1 (enforced in the trusted service layer)."""
    answer = accounts.request_account(
        unit.gov, unit.ctx("am.ml"), "new.adv", "new.adv@ml.example", ["advisor"]
    )
    assert answer["status"] == "pending_approval"
    assert answer["expires_at"] == (NOW + dt.timedelta(hours=24)).isoformat()
    assert unit.people.agent_by_login("new.adv") is None  # nothing exists before approval
    assert unit.alert_rules() == ["account_requested"]

    done = accounts.approve(unit.gov, unit.ctx("am2.ml"), answer["request_id"])
    assert done == {
        "status": "approved",
        "request_id": answer["request_id"],
        "login": "new.adv",
        "enrolment_link_sent": True,
    }
    created = unit.people.agent_by_login("new.adv")
    assert created is not None
    assert created.roles == frozenset({Role.ADVISOR})
    assert created.org_id == unit.orgs[ML]
    assert created.training_valid_until == (NOW + unit.rules.training_grace).date()
    standing = unit.gov.standings.standing(created.id)
    assert (standing.created_by, standing.approved_by) == (
        unit.agents["am.ml"],
        unit.agents["am2.ml"],
    )
    assert standing.enrolment_pending
    assert standing.went_through_four_eyes
    request = unit.gov.requests.request(answer["request_id"])
    assert request is not None
    assert request.status is RequestStatus.APPROVED
    assert request.decided_by_login == "am2.ml"
    assert [m.subject for m in unit.mails_to("new.adv@ml.example")] == [
        "Rempart: activate your account"
    ]
    assert {
        Tag.ACCOUNT_REQUEST_CREATED,
        Tag.ACCOUNT_REQUEST_APPROVED,
        Tag.ACCOUNT_AGENT_CREATED,
        Tag.ACCOUNT_ENROLMENT_SENT,
    } <= set(unit.tags())
    assert unit.alert_rules() == ["account_requested", "account_created"]
    with pytest.raises(Conflict):
        accounts.approve(unit.gov, unit.ctx("am2.ml"), answer["request_id"])


@pytest.mark.parametrize(
    ("roles", "error", "refusal"),
    [
        (("admin",), Forbidden, Refusal.NEVER_GRANTABLE_ROLE),
        (("dpo",), Forbidden, Refusal.NEVER_GRANTABLE_ROLE),
        (("training_manager",), InvalidRequest, Refusal.ROLE_NOT_USED_HERE),
        (("pilot",), InvalidRequest, None),
    ],
)
def test_roles_a_manager_may_not_ask_for_are_refused(
    unit: Unit, roles: tuple[str, ...], error: type[Exception], refusal: Refusal | None
) -> None:
    """National roles are never granted by request; ASVS V8.2.1, V8.3.1."""
    with pytest.raises(error):
        ask(unit, roles=roles)
    if refusal is not None:
        denied = unit.entries(Tag.ACCOUNT_REQUEST_REFUSED)
        assert [(e.decision, e.reason) for e in denied] == [(Decision.DENY, str(refusal))]
    assert unit.gov.requests.requests() == []


def test_a_manager_requests_only_in_their_own_organisation(unit: Unit) -> None:
    """ASVS V8.4.1: no reach across organisations; an unknown one gets the very same answer,
    journaled and alerted alike (pentest finding 6: 403 against 404 told which exist)."""
    answers = []
    for org_id in (unit.orgs[DUPONT], "NOPE-0001"):
        with pytest.raises(Forbidden) as refused:
            accounts.request_account(
                unit.gov, unit.ctx("am.ml"), "x.adv", "x@ml.example", ["advisor"], org_id
            )
        answers.append(str(refused.value))
        assert refusal_of(unit) == "other_organisation"
        assert unit.alerts.items[-1].severity == "high"
    assert answers[0] == answers[1]
    with pytest.raises(NotFound):  # an agency administrator may name one: unknown is absent
        accounts.request_account(
            unit.gov, unit.ctx("ag.admin"), "x.adv", "x@ml.example", ["advisor"], "NOPE-0001"
        )
    with pytest.raises(Forbidden):
        ask(unit, by="ml.adv1")  # not an account manager


def test_logins_and_addresses_are_checked_and_unique(unit: Unit) -> None:
    with pytest.raises(InvalidRequest):
        ask(unit, login="No Spaces")
    with pytest.raises(InvalidRequest):
        accounts.request_account(
            unit.gov, unit.ctx("am.ml"), "ok.adv", "not-an-address", ["advisor"]
        )
    ask(unit, login="taken.adv")
    with pytest.raises(Conflict):
        ask(unit, by="am2.ml", login="taken.adv")  # a pending request holds it
    with pytest.raises(Conflict):
        ask(unit, login="ml.adv1")  # an account holds it


def test_requesting_needs_a_fresh_second_factor_and_good_standing(unit: Unit) -> None:
    """ASVS V6.3.3 / V8.4.2: a privileged action re-proves the second factor."""
    with pytest.raises(StepUpRequired):
        accounts.request_account(
            unit.gov, unit.ctx("am.ml", fresh=False), "new.adv", "n@ml.example", ["advisor"]
        )
    unit.gov.org_suspensions.suspend_org(unit.orgs[ML], "ag.admin", NOW, "incident")
    with pytest.raises(AccessSuspended):
        ask(unit)
    assert unit.gov.requests.requests() == []


def test_a_burst_of_requests_is_throttled_and_alerted(unit: Unit) -> None:
    """Three requests in ten minutes, then 429 with the wait; ASVS V2.4.1 (anti-automation)."""
    for i in range(3):
        ask(unit, login=f"burst{i}.adv")
        advance(unit, dt.timedelta(minutes=1))
    with pytest.raises(Throttled) as caught:
        ask(unit, login="burst3.adv")
    assert caught.value.retry_after == 7 * 60  # the first leaves the window in 7 minutes
    throttled = unit.entries(Tag.ACCOUNT_REQUEST_THROTTLED)
    assert [(e.decision, e.details["limit"]) for e in throttled] == [(Decision.THROTTLE, "burst")]
    assert unit.alert_rules()[-1] == "account_request_burst"
    assert len(unit.gov.requests.requests()) == 3
    advance(unit, dt.timedelta(minutes=8))
    ask(unit, login="burst3.adv")  # the window moved on


def test_the_weekly_cap_bounds_what_one_manager_requests(unit: Unit) -> None:
    with_rules(unit, weekly_cap=4)
    for i in range(4):
        ask(unit, login=f"week{i}.adv")
        advance(unit, dt.timedelta(hours=6))
    with pytest.raises(Throttled):
        ask(unit, login="week4.adv")
    assert unit.alert_rules()[-1] == "account_request_weekly_cap"
    ask(unit, by="am2.ml", login="week4.adv")  # another manager's own cap
    advance(unit, dt.timedelta(days=7))
    ask(unit, login="week5.adv")


# --- Approving: who may not ---------------------------------------------------------------


def test_the_requester_cannot_approve_their_own_request(unit: Unit) -> None:
    """ASVS V8.2.1: four eyes; journaled and alerted as an attempt on the rule (V16.3.2)."""
    request_id = ask(unit)
    with pytest.raises(Forbidden):
        accounts.approve(unit.gov, unit.ctx("am.ml"), request_id)
    assert refusal_of(unit) == "self_approval"
    assert unit.alerts.items[-1].rule == "four_eyes_refused"
    assert unit.alerts.items[-1].severity == "high"
    refused = unit.entries(Tag.ACCOUNT_APPROVAL_REFUSED)
    assert [(e.decision, e.reason) for e in refused] == [(Decision.DENY, "self_approval")]
    request = unit.gov.requests.request(request_id)
    assert request is not None
    assert request.status is RequestStatus.PENDING
    assert unit.people.agent_by_login("new.adv") is None


@pytest.mark.parametrize(
    ("approver_facts", "refusal"),
    [
        ({"created_by": "am.ml"}, "approver_created_by_requester"),
        ({"approved_by": "am.ml", "created_by": "am2.ml"}, "approver_approved_by_requester"),
        ({"created_at": NOW - dt.timedelta(days=5)}, "approver_account_too_young"),
        ({"probation_until": NOW + dt.timedelta(days=3)}, "approver_on_probation"),
    ],
)
def test_an_approver_the_requester_brought_in_or_too_new_cannot_approve(
    unit: Unit, approver_facts: dict[str, object], refusal: str
) -> None:
    """A rogue manager's own creatures do not approve its requests. ASVS V8.2.1, V8.3.1."""
    facts = {
        k: unit.agents[str(v)] if k in ("created_by", "approved_by") else v
        for k, v in approver_facts.items()
    }
    unit.agent("am.other", ML, Role.ACCOUNT_MANAGER, **facts)
    request_id = ask(unit)
    with pytest.raises(Forbidden):
        accounts.approve(unit.gov, unit.ctx("am.other"), request_id)
    assert refusal_of(unit) == refusal
    assert unit.people.agent_by_login("new.adv") is None


@pytest.mark.parametrize(
    ("link", "refusal"),
    [
        ("created_by", "requester_created_by_approver"),
        ("approved_by", "requester_approved_by_approver"),
    ],
)
def test_the_account_that_brought_the_requester_in_cannot_approve_for_it(
    unit: Unit, link: str, refusal: str
) -> None:
    """The reverse: a manager approving what its own creature asks creates alone. ASVS V8.2.1."""
    creator = "am.ml"
    unit.agent("am.creature", ML, Role.ACCOUNT_MANAGER, **{link: unit.agents[creator]})
    request_id = ask(unit, by="am.creature")
    with pytest.raises(Forbidden):
        accounts.approve(unit.gov, unit.ctx(creator), request_id)
    assert refusal_of(unit) == refusal
    listed = accounts.list_requests(unit.gov, unit.ctx(creator))
    assert [r["may_approve"] for r in listed] == [False]
    assert [r["may_approve"] for r in accounts.list_requests(unit.gov, unit.ctx("am2.ml"))] == [
        True
    ]
    accounts.approve(unit.gov, unit.ctx("am2.ml"), request_id)  # a third person may


def test_granting_account_manager_needs_an_agency_administrator(unit: Unit) -> None:
    request_id = ask(unit, roles=("account_manager",))
    assert unit.alerts.items[-1].severity == "high"  # a privileged grant asked for
    with pytest.raises(Forbidden):
        accounts.approve(unit.gov, unit.ctx("am2.ml"), request_id)
    assert refusal_of(unit) == "account_manager_role_needs_agency_admin"
    accounts.approve(unit.gov, unit.ctx("ag.admin"), request_id)
    created = unit.people.agent_by_login("new.adv")
    assert created is not None
    assert created.roles == frozenset({Role.ACCOUNT_MANAGER})


def test_approving_needs_a_fresh_factor_and_an_approver_in_good_standing(unit: Unit) -> None:
    request_id = ask(unit)
    with pytest.raises(StepUpRequired):
        accounts.approve(unit.gov, unit.ctx("am2.ml", fresh=False), request_id)
    unit.row("am2.ml").enrolment_pending = True
    with pytest.raises(AccessSuspended):
        accounts.approve(unit.gov, unit.ctx("am2.ml"), request_id)
    assert refusal_of(unit) == "not_in_good_standing"
    with pytest.raises(NotFound):  # another organisation's manager does not even see it
        accounts.approve(unit.gov, unit.ctx("am.dupont"), request_id)


def test_a_request_expires_and_can_no_longer_be_approved(unit: Unit) -> None:
    request_id = ask(unit)
    advance(unit, dt.timedelta(hours=24))
    assert accounts.get_request(unit.gov, unit.ctx("am.ml"), request_id)["status"] == "expired"
    with pytest.raises(Conflict):
        accounts.approve(unit.gov, unit.ctx("am2.ml"), request_id)
    request = unit.gov.requests.request(request_id)
    assert request is not None
    assert request.status is RequestStatus.EXPIRED
    assert unit.entries(Tag.ACCOUNT_REQUEST_EXPIRED)[0].agent_login == "system"
    assert not unit.gov.requests.login_taken("new.adv")  # the login is free again


def test_the_expiry_job_expires_each_request_in_its_own_unit_of_work(unit: Unit) -> None:
    ask(unit, login="one.adv")
    ask(unit, login="two.adv")
    advance(unit, dt.timedelta(hours=23))
    assert accounts.expire_requests(unit.gov, unit.clock.now()) == 0
    advance(unit, dt.timedelta(hours=1))
    opened = unit.transactions.opened
    assert accounts.expire_requests(unit.gov, unit.clock.now()) == 2
    assert unit.transactions.opened == opened + 2
    assert accounts.expire_requests(unit.gov, unit.clock.now()) == 0
    assert len(unit.entries(Tag.ACCOUNT_REQUEST_EXPIRED)) == 2


def test_a_request_dies_with_its_requesters_account(unit: Unit) -> None:
    request_id = ask(unit)
    unit.gov.accounts.set_active(unit.agents["am.ml"], False, "suspended")
    with pytest.raises(Conflict):
        accounts.approve(unit.gov, unit.ctx("am2.ml"), request_id)
    request = unit.gov.requests.request(request_id)
    assert request is not None
    assert request.status is RequestStatus.DENIED
    assert request.reason == "requester no longer active"


# --- Role changes, denials, cancellations -------------------------------------------------


def test_a_role_change_takes_effect_on_approval(unit: Unit) -> None:
    answer = accounts.request_role_change(
        unit.gov, unit.ctx("am.ml"), "ml.adv1", ["account_manager"], ["advisor"]
    )
    assert unit.alert_rules() == ["roles_change_requested"]
    done = accounts.approve(unit.gov, unit.ctx("ag.admin"), answer["request_id"])
    assert done["roles"] == ["account_manager"]
    agent = unit.people.agent_by_login("ml.adv1")
    assert agent is not None
    assert agent.roles == frozenset({Role.ACCOUNT_MANAGER})
    assert {Tag.ACCOUNT_ROLE_GRANTED, Tag.ACCOUNT_ROLE_REVOKED} <= set(unit.tags())
    assert unit.alert_rules()[-1] == "roles_changed"


def test_no_one_requests_a_change_of_their_own_roles_or_of_a_national_account(unit: Unit) -> None:
    with pytest.raises(Forbidden):
        accounts.request_role_change(unit.gov, unit.ctx("am.ml"), "am.ml", ["advisor"], [])
    assert refusal_of(unit) == "own_account"
    with pytest.raises(NotFound):  # another organisation's account looks absent
        accounts.request_role_change(
            unit.gov, unit.ctx("am.ml"), "tm.dupont", [], ["training_manager"]
        )
    assert unit.entries(Tag.ACCOUNT_REQUEST_REFUSED)[-1].decision is Decision.NOT_FOUND
    with pytest.raises(InvalidRequest):
        accounts.request_role_change(unit.gov, unit.ctx("am.ml"), "ml.adv1", ["advisor"], [])


def test_deny_is_for_another_manager_and_cancel_for_the_requester(unit: Unit) -> None:
    first, second = ask(unit, login="first.adv"), ask(unit, login="second.adv")
    with pytest.raises(Forbidden):
        accounts.deny(unit.gov, unit.ctx("am.ml"), first)
    assert accounts.deny(unit.gov, unit.ctx("am2.ml"), first, "no")["status"] == "denied"
    with pytest.raises(Conflict):
        accounts.deny(unit.gov, unit.ctx("am2.ml"), first)
    with pytest.raises(Forbidden):
        accounts.cancel(unit.gov, unit.ctx("am2.ml"), second)
    assert accounts.cancel(unit.gov, unit.ctx("am.ml"), second)["status"] == "cancelled"
    with pytest.raises(Conflict):
        accounts.cancel(unit.gov, unit.ctx("am.ml"), second)
    statuses = {
        r["login"]: r["status"] for r in accounts.list_requests(unit.gov, unit.ctx("am.ml"), None)
    }
    assert statuses == {"first.adv": "denied", "second.adv": "cancelled"}


def test_requests_are_listed_for_those_who_may_see_them(unit: Unit) -> None:
    """ASVS V8.2.2: managers see their organisation's, the agency side sees all."""
    ask(unit)
    assert len(accounts.list_requests(unit.gov, unit.ctx("am2.ml"))) == 1
    assert accounts.list_requests(unit.gov, unit.ctx("am.dupont")) == []
    assert len(accounts.list_requests(unit.gov, unit.ctx("ag.sec"))) == 1
    with pytest.raises(Forbidden):
        accounts.list_requests(unit.gov, unit.ctx("ml.adv1"))
    with pytest.raises(InvalidRequest):
        accounts.list_requests(unit.gov, unit.ctx("am.ml"), "maybe")


# --- What managers do to accounts ---------------------------------------------------------


def test_a_training_attestation_is_recorded_within_a_year(unit: Unit) -> None:
    ctx = unit.ctx("am.ml")
    later = ctx.today + dt.timedelta(days=200)
    assert accounts.record_training(unit.gov, ctx, "ml.adv1", later)["training_valid_until"] == (
        later.isoformat()
    )
    agent = unit.people.agent_by_login("ml.adv1")
    assert agent is not None
    assert agent.training_valid_until == later
    assert (
        unit.entries(Tag.ACCOUNT_TRAINING_ATTESTED)[0].details["valid_until"] == later.isoformat()
    )
    for bad in (ctx.today, ctx.today + dt.timedelta(days=400)):
        with pytest.raises(InvalidRequest):
            accounts.record_training(unit.gov, ctx, "ml.adv1", bad)
    with pytest.raises(StepUpRequired):
        accounts.record_training(unit.gov, unit.ctx("am.ml", fresh=False), "ml.adv1", later)
    with pytest.raises(Forbidden):
        accounts.record_training(unit.gov, ctx, "am.ml", later)  # own account
    with pytest.raises(Forbidden):
        accounts.record_training(unit.gov, unit.ctx("ml.adv1"), "am.ml", later)


def test_a_leaver_is_disabled_on_their_end_date(unit: Unit) -> None:
    ctx = unit.ctx("am.ml")
    session = unit.signed_in("ml.adv1")
    accounts.set_end_date(unit.gov, ctx, "ml.adv1", ctx.today + dt.timedelta(days=3))
    assert unit.row("ml.adv1").active
    accounts.set_end_date(unit.gov, ctx, "ml.adv1", ctx.today)
    assert not unit.row("ml.adv1").active
    assert unit.row("ml.adv1").disabled_reason == "end_date"
    assert unit.sessions.sessions[session.key].ended_at is not None
    with pytest.raises(InvalidRequest):
        accounts.set_end_date(unit.gov, ctx, "am2.ml", ctx.today - dt.timedelta(days=1))


def test_resetting_factors_erases_them_ends_sessions_and_mails_a_new_link(unit: Unit) -> None:
    """ASVS V6.4.6: the manager never learns the new credentials; the link goes to the holder."""
    row = unit.row("ml.adv1")
    row.password_hash, row.totp_secret = "h", "S" * 32
    unit.tables.security_keys[row.id] = ["key"]
    session = unit.signed_in("ml.adv1")
    done = accounts.reset_factors(unit.gov, unit.ctx("am.ml"), "ml.adv1")
    assert done == {"login": "ml.adv1", "enrolment_link_sent": True, "sessions_ended": 1}
    assert (row.password_hash, row.totp_secret, row.enrolment_pending) == ("", "", True)
    assert row.id not in unit.tables.security_keys
    assert unit.sessions.sessions[session.key].ended_at is not None
    assert "/enrol?token=" in unit.mails_to("ml.adv1@example.fr")[-1].body
    assert unit.alert_rules()[-1] == "account_factors_reset"
    with pytest.raises(Conflict):  # an enrolled account gets no new link this way
        accounts.resend_enrolment_link(unit.gov, unit.ctx("am.ml"), "am2.ml")
    assert accounts.resend_enrolment_link(unit.gov, unit.ctx("am.ml"), "ml.adv1")[
        "enrolment_link_sent"
    ]


def test_unlocking_a_locked_account_is_alerted(unit: Unit) -> None:
    unit.credentials.lock(AccountLock(unit.agents["ml.adv1"], NOW, "too many failures"))
    assert accounts.unlock(unit.gov, unit.ctx("am.ml"), "ml.adv1") == {
        "login": "ml.adv1",
        "locked": False,
    }
    assert not unit.row("ml.adv1").locked
    assert unit.alert_rules() == ["account_unlocked"]
    accounts.unlock(unit.gov, unit.ctx("am.ml"), "ml.adv1")  # not locked: nothing to alert
    assert unit.alert_rules() == ["account_unlocked"]


def test_a_federated_identity_links_only_to_an_account_created_by_four_eyes(unit: Unit) -> None:
    """Dec 2025: the rogue accounts came in through the federation. ASVS V6.8.1."""
    with pytest.raises(Forbidden):
        accounts.link_federated_identity(
            unit.gov, unit.ctx("ag.admin"), "ml.adv1", "https://idp", "s1"
        )
    assert unit.alert_rules() == ["federated_identity_refused"]
    unit.agent(
        "approved.adv",
        ML,
        Role.ADVISOR,
        created_by=unit.agents["am.ml"],
        approved_by=unit.agents["am2.ml"],
    )
    done = accounts.link_federated_identity(
        unit.gov, unit.ctx("ag.admin"), "approved.adv", "https://idp", "s1"
    )
    assert done == {"login": "approved.adv", "issuer": "https://idp", "subject": "s1"}
    assert unit.credentials.identities_of(unit.agents["approved.adv"]) == [("https://idp", "s1")]
    with pytest.raises(Forbidden):
        accounts.link_federated_identity(unit.gov, unit.ctx("am.ml"), "approved.adv", "i", "s")


def test_the_privileged_inventory_is_for_the_security_team(unit: Unit) -> None:
    unit.tables.recovery_codes[unit.agents["am.ml"]] = ["code"]
    ask(unit)
    inventory = {i["login"]: i for i in accounts.privileged_inventory(unit.gov, unit.ctx("ag.sec"))}
    assert set(inventory) == {
        "ag.admin",
        "ag.admin2",
        "ag.sec",
        "ag.dpo",
        "am.ml",
        "am2.ml",
        "am.dupont",
    }
    assert inventory["am.ml"]["factors"] == ["recovery_code"]
    assert len(inventory["am.ml"]["open_requests"]["made"]) == 1
    assert inventory["am.ml"]["four_eyes"] is False
    with pytest.raises(Forbidden):
        accounts.privileged_inventory(unit.gov, unit.ctx("am.ml"))


def test_managers_list_their_organisations_accounts(unit: Unit) -> None:
    listed = accounts.list_accounts(unit.gov, unit.ctx("am.ml"))
    assert [a["login"] for a in listed] == ["am.ml", "am2.ml", "ml.adv1"]
    assert len(accounts.list_accounts(unit.gov, unit.ctx("ag.admin"), unit.orgs[AGENCY])) == 4
    with pytest.raises(Forbidden):
        accounts.list_accounts(unit.gov, unit.ctx("am.ml"), unit.orgs[DUPONT])


def _refusal_of_last_approval(unit: Unit) -> str:
    return unit.entries(Tag.ACCOUNT_APPROVAL_REFUSED)[-1].reason


def test_a_creature_request_is_never_approved_by_its_creator(unit: Unit) -> None:
    """Pentest finding 2: the account a manager had created requests an account; its creator
    approves: refused, journaled, alerted high (ASVS V8.2.1; the December 2025 loop)."""
    creator = unit.agents["am.ml"]
    unit.agent("crea.ml", ML, Role.ACCOUNT_MANAGER, created_by=creator, approved_by=1)
    answer = accounts.request_account(
        unit.gov, unit.ctx("crea.ml"), "loop.adv", "loop.adv@ml.example", ["advisor"]
    )
    with pytest.raises(Forbidden):
        accounts.approve(unit.gov, unit.ctx("am.ml"), answer["request_id"])
    assert _refusal_of_last_approval(unit) == str(Refusal.REQUESTER_CREATED_BY_APPROVER)
    assert unit.people.agent_by_login("loop.adv") is None


def test_four_eyes_follows_creation_links_within_the_probation_window(unit: Unit) -> None:
    """Pentest finding 2, transitively: a manager's creature creates a creature; neither
    approves for the other nor for the first manager while those links are recent; once they
    are older than the probation window, the chain no longer binds (only direct links do)."""
    with_rules(unit, approver_min_age=dt.timedelta(0), probation=dt.timedelta(days=14))
    rogue = unit.agents["am.ml"]
    recent = NOW - dt.timedelta(days=3)
    child = unit.agent(
        "child.ml", ML, Role.ACCOUNT_MANAGER, created_by=rogue, approved_by=1, created_at=recent
    )
    unit.agent(
        "grandchild.ml",
        ML,
        Role.ACCOUNT_MANAGER,
        created_by=child,
        approved_by=unit.agents["am2.ml"],
        created_at=recent,
    )
    unit.agent(
        "sibling.ml", ML, Role.ACCOUNT_MANAGER, created_by=rogue, approved_by=1, created_at=recent
    )
    cases = [  # (requester, approver): linked only through recent creations
        ("am.ml", "grandchild.ml"),  # creator's creature's creature approves for the creator
        ("grandchild.ml", "am.ml"),  # and the other way round
        ("sibling.ml", "grandchild.ml"),  # one creator's creatures approve for each other
        ("child.ml", "sibling.ml"),
    ]
    for n, (requester, approver) in enumerate(cases):
        answer = accounts.request_account(
            unit.gov, unit.ctx(requester), f"new{n}.adv", f"new{n}@ml.example", ["advisor"]
        )
        with pytest.raises(Forbidden):
            accounts.approve(unit.gov, unit.ctx(approver), answer["request_id"])
        assert _refusal_of_last_approval(unit) == str(Refusal.APPROVER_LINKED_TO_REQUESTER)
        advance(unit, dt.timedelta(minutes=11))  # past the request burst limit
    assert "four_eyes_refused" in unit.alert_rules()
    # The one who approved the grandchild is not tied to the rogue through that approval.
    answer = accounts.request_account(
        unit.gov, unit.ctx("am.ml"), "fine.adv", "fine.adv@ml.example", ["advisor"]
    )
    assert accounts.approve(unit.gov, unit.ctx("am2.ml"), answer["request_id"])["status"] == (
        "approved"
    )
    # Three weeks later the links are older than the probation window.
    advance(unit, dt.timedelta(days=21))
    answer = accounts.request_account(
        unit.gov, unit.ctx("sibling.ml"), "late.adv", "late.adv@ml.example", ["advisor"]
    )
    done = accounts.approve(unit.gov, unit.ctx("grandchild.ml"), answer["request_id"])
    assert done["status"] == "approved"
