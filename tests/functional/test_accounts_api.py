"""Four eyes on accounts over HTTP: requests, approvals, refusals, throttling, enrolment.

The Dec 2025 incident replayed piece by piece: one account manager alone can create nothing,
grant nothing, approve nothing of their own; every step is journaled and alerted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient

from rempart.bootstrap import Container, build_container
from rempart.governance.adapters.sql import SqlAccountStore
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.actors import Role
from rempart.kernel.clock import ManualClock
from rempart.kernel.tags import Decision, Tag
from rempart.web.app import create_app
from tests.factories import NOW, TODAY, World
from tests.support.governance import (
    AsFresh,
    alert_rules,
    alerts_of,
    anonymous,
    client_as,
    fresh_clients,
    governance_world,
    last_mail_to,
    token_from,
)
from tests.support.signin import Account, auth_settings, client_for, give_credentials, sign_in

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


def ask(
    client: TestClient, login: str = "new.adv", roles: tuple[str, ...] = ("advisor",), **extra: Any
) -> Any:
    return client.post(
        "/api/v1/accounts",
        json={"login": login, "email": f"{login}@ml.example", "roles": list(roles), **extra},
    )


def approve(client: TestClient, request_id: str) -> Any:
    return client.post(f"/api/v1/accounts/requests/{request_id}/approve")


def tags(journal: MemoryJournal) -> list[Tag]:
    return [e.tag for e in journal.entries]


def test_request_then_another_managers_approval_creates_a_pending_account(
    as_fresh: AsFresh, box: Container, gworld: World, journal: MemoryJournal
) -> None:
    """The API.md contract: 202 pending_approval, then 200 approved by someone else.

    ASVS V8.2.1 (function-level access), V8.3.1 (enforced server-side), V16.3.3 (logged).
    """
    r = ask(as_fresh("am.ml"))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "pending_approval"
    request_id = body["request_id"]
    assert len(request_id) == 32
    assert box.portal.store.agent_by_login("new.adv") is None  # nothing exists yet

    r = approve(as_fresh("am2.ml"), request_id)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    created = box.portal.store.agent_by_login("new.adv")
    assert created is not None
    assert created.roles == frozenset({Role.ADVISOR})
    assert created.org_id == gworld.orgs[ML]
    standing = box.governance.standings.standing(created.id)  # type: ignore[union-attr]
    assert standing.created_by == gworld.agents["am.ml"]
    assert standing.approved_by == gworld.agents["am2.ml"]
    assert standing.enrolment_pending
    assert standing.went_through_four_eyes
    assert "/enrol?token=" in last_mail_to(box, "new.adv@ml.example")
    assert {
        Tag.ACCOUNT_REQUEST_CREATED,
        Tag.ACCOUNT_REQUEST_APPROVED,
        Tag.ACCOUNT_AGENT_CREATED,
        Tag.ACCOUNT_ENROLMENT_SENT,
    } <= set(tags(journal))
    # The token itself is never journaled.
    assert all(
        token_from(last_mail_to(box, "new.adv@ml.example")) not in str(e) for e in journal.entries
    )
    # Approving twice changes nothing.
    assert approve(as_fresh("am2.ml"), request_id).status_code == 409


def test_self_approval_is_refused_journaled_and_alerted(
    as_fresh: AsFresh, box: Container, journal: MemoryJournal
) -> None:
    """403 forbidden for the requester themself (API.md). ASVS V8.2.1, V16.3.2, V16.3.3."""
    requester = as_fresh("am.ml")
    request_id = ask(requester).json()["request_id"]
    r = approve(requester, request_id)
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    assert requester.get(f"/api/v1/accounts/requests/{request_id}").json()["status"] == (
        "pending_approval"
    )
    assert box.portal.store.agent_by_login("new.adv") is None
    refused = [e for e in journal.entries if e.tag is Tag.ACCOUNT_APPROVAL_REFUSED]
    assert refused[-1].decision is Decision.DENY
    assert refused[-1].reason == "self_approval"
    alert = alerts_of(box, "four_eyes_refused")[-1]
    assert alert.severity == "high"
    assert alert.evidence["refusal"] == "self_approval"
    assert alert.agent_login == "am.ml"


@pytest.mark.parametrize("role", ["admin", "security_officer", "dpo"])
def test_never_grantable_roles_are_refused(as_fresh: AsFresh, box: Container, role: str) -> None:
    """Escalation refused: no request ever grants admin, security_officer or dpo. ASVS V8.2.1."""
    r = ask(as_fresh("am.ml"), roles=("advisor", role))
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    assert alerts_of(box, "privilege_request_refused")[-1].evidence["refusal"] == (
        "never_grantable_role"
    )
    # A national administrator asks for them in the agency only (a second one approves), never
    # in a partner organisation.
    partner = box.portal.store.agent_by_login("am.ml")
    assert partner is not None
    r = ask(as_fresh("ag.admin"), login="x.adm", roles=(role,), org_id=partner.org_id)
    assert r.status_code == 403
    r = ask(as_fresh("ag.admin"), login="x.adm", roles=(role,))
    assert r.status_code == 202
    assert r.json()["status"] == "pending_approval"


def test_account_manager_role_needs_an_agency_admin(as_fresh: AsFresh, box: Container) -> None:
    """A manager cannot mint managers with a colleague: an agency administrator approves."""
    request_id = ask(as_fresh("am.ml"), login="new.rgc", roles=("account_manager",)).json()[
        "request_id"
    ]
    r = approve(as_fresh("am2.ml"), request_id)
    assert r.status_code == 403
    assert "agency administrator" in r.json()["detail"]
    assert alerts_of(box, "account_requested")[-1].severity == "high"
    assert approve(as_fresh("ag.admin"), request_id).status_code == 200
    created = box.portal.store.agent_by_login("new.rgc")
    assert created is not None
    assert created.roles == frozenset({Role.ACCOUNT_MANAGER})


def test_other_organisations_and_own_account_are_out_of_reach(
    as_fresh: AsFresh, box: Container, gworld: World, journal: MemoryJournal
) -> None:
    """Own organisation only; no one changes their own roles. ASVS V8.2.2, V8.4.1."""
    manager = as_fresh("am.ml")
    assert ask(manager, org_id=gworld.orgs["Formations Dupont"]).status_code == 403
    assert alerts_of(box, "privilege_request_refused")[-1].evidence["refusal"] == (
        "other_organisation"
    )
    # An account of another organisation is answered as absent, and the attempt journaled.
    r = manager.post("/api/v1/accounts/tm.dupont/roles", json={"grant": ["advisor"]})
    assert r.status_code == 404
    assert journal.entries[-1].reason == "other_organisation"
    own = manager.post("/api/v1/accounts/am.ml/roles", json={"revoke": ["account_manager"]})
    assert own.status_code == 403
    colleague = manager.post("/api/v1/accounts/ml.adv1/roles", json={"grant": ["admin"]})
    assert colleague.status_code == 403
    # Roles a Mission Locale does not use are a plain input error.
    assert ask(manager, roles=("training_manager",)).status_code == 400
    # Only managers and agency administrators request anything.
    advisor = as_fresh("ml.adv1")
    assert ask(advisor, login="x.y.z").status_code == 403
    assert alerts_of(box, "privilege_request_refused")[-1].evidence["refusal"] == (
        "not_account_manager"
    )
    # A manager of another organisation does not even see the request.
    request_id = ask(manager).json()["request_id"]
    assert approve(as_fresh("am.dupont"), request_id).status_code == 404


@pytest.mark.parametrize(
    ("extra", "refusal"),
    [
        ({"created_at": NOW - dt.timedelta(days=5)}, "approver_account_too_young"),
        ({"created_by": "am.ml"}, "approver_created_by_requester"),
        ({"approved_by": "am.ml", "created_by": "am2.ml"}, "approver_approved_by_requester"),
        ({"probation_until": NOW + dt.timedelta(days=3)}, "approver_on_probation"),
    ],
)
def test_approvers_the_requester_controls_or_too_new_are_refused(
    as_fresh: AsFresh, box: Container, gworld: World, extra: dict[str, Any], refusal: str
) -> None:
    """A rogue manager's own creatures cannot approve its requests. ASVS V8.2.1, V8.3.1."""
    values = {
        k: gworld.agents[v] if k in ("created_by", "approved_by") else v for k, v in extra.items()
    }
    gworld.agent("am.other", ML, Role.ACCOUNT_MANAGER, **values)
    request_id = ask(as_fresh("am.ml")).json()["request_id"]
    r = approve(as_fresh("am.other"), request_id)
    assert r.status_code == 403
    assert alerts_of(box, "four_eyes_refused")[-1].evidence["refusal"] == refusal
    assert box.portal.store.agent_by_login("new.adv") is None


def test_requesting_and_approving_need_a_fresh_second_factor(as_fresh: AsFresh) -> None:
    """401 step_up_required until the second factor is proven again. ASVS V6.3.3, V8.4.2."""
    r = ask(as_fresh("am.ml", fresh=False))
    assert r.status_code == 401
    assert r.json()["code"] == "step_up_required"
    request_id = ask(as_fresh("am.ml")).json()["request_id"]
    r = approve(as_fresh("am2.ml", fresh=False), request_id)
    assert r.status_code == 401
    assert r.json()["code"] == "step_up_required"


def test_list_deny_cancel(as_fresh: AsFresh, box: Container) -> None:
    """Pending requests are visible to those who may approve them, and to no other manager.

    ASVS V8.2.2 (data-specific access), V8.4.1 (no cross-organisation reach).
    """
    first = ask(as_fresh("am.ml"), login="first.adv").json()["request_id"]
    second = ask(as_fresh("am.ml"), login="second.adv").json()["request_id"]

    def listed(login: str, status: str = "pending_approval") -> dict[str, Any]:
        r = as_fresh(login).get(f"/api/v1/accounts/requests?status={status}")
        assert r.status_code == 200, r.text
        return {i["request_id"]: i for i in r.json()["items"]}

    assert {first, second} <= listed("am2.ml").keys()
    assert listed("am2.ml")[first]["may_approve"] is True
    assert listed("am.ml")[first]["may_approve"] is False  # the requester sees, never approves
    assert listed("ag.admin")[first]["may_approve"] is True
    assert first in listed("ag.sec")
    assert not {first, second} & listed("am.dupont").keys()
    assert as_fresh("ml.adv1").get("/api/v1/accounts/requests").status_code == 403

    assert as_fresh("am.ml").post(f"/api/v1/accounts/requests/{first}/deny").status_code == 403
    r = as_fresh("am2.ml").post(
        f"/api/v1/accounts/requests/{first}/deny", json={"reason": "unknown person"}
    )
    assert r.json() == {"status": "denied", "request_id": first}
    assert approve(as_fresh("ag.admin"), first).status_code == 409

    assert as_fresh("am2.ml").post(f"/api/v1/accounts/requests/{second}/cancel").status_code == 403
    r = as_fresh("am.ml").post(f"/api/v1/accounts/requests/{second}/cancel")
    assert r.json()["status"] == "cancelled"
    assert not {first, second} & listed("am2.ml").keys()
    assert listed("am2.ml", "all")[first]["status"] == "denied"
    assert listed("am2.ml", "all")[second]["status"] == "cancelled"


def test_pending_requests_expire_after_24_hours(
    as_fresh: AsFresh, clock: ManualClock, box: Container, journal: MemoryJournal
) -> None:
    """Pending requests expire (24 h default). ASVS V8.1.1 (documented rules, enforced)."""
    request_id = ask(as_fresh("am.ml")).json()["request_id"]
    clock.advance(25 * 3600)
    r = approve(as_fresh("am2.ml"), request_id)
    assert r.status_code == 409
    assert "expired" in r.json()["detail"]
    assert as_fresh("am2.ml").get(f"/api/v1/accounts/requests/{request_id}").json()["status"] == (
        "expired"
    )
    assert journal.entries[-1].tag is Tag.ACCOUNT_REQUEST_EXPIRED
    assert box.portal.store.agent_by_login("new.adv") is None


def test_a_burst_of_requests_is_throttled_and_alerted(
    as_fresh: AsFresh, box: Container, clock: ManualClock
) -> None:
    """Three requests in ten minutes, then 429 throttled with Retry-After. ASVS V6.3.1, V16.3.3."""
    manager = as_fresh("am.ml")
    for i in range(3):
        assert ask(manager, login=f"burst.{i}").status_code == 202
    r = ask(manager, login="burst.3")
    assert r.status_code == 429
    assert r.json()["code"] == "throttled"
    assert 1 <= int(r.headers["Retry-After"]) <= 600
    burst = alerts_of(box, "account_request_burst")[-1]
    assert burst.severity == "high"
    assert burst.evidence["observed"] == 3
    assert burst.evidence["threshold"] == 3
    clock.advance(int(r.headers["Retry-After"]))
    assert ask(manager, login="burst.3").status_code == 202


def test_weekly_cap_per_account_manager(
    as_fresh: AsFresh, box: Container, clock: ManualClock
) -> None:
    """Slow and steady still meets a weekly cap (10 by default). ASVS V16.3.3."""
    manager = as_fresh("am.ml")
    for i in range(10):
        assert ask(manager, login=f"weekly.{i}").status_code == 202, i
        clock.advance(4 * 60)  # never a burst
    r = ask(manager, login="weekly.10")
    assert r.status_code == 429
    assert alerts_of(box, "account_request_weekly_cap")[-1].evidence["observed"] == 10
    assert int(r.headers["Retry-After"]) > 6 * 24 * 3600


def test_role_changes_go_through_the_same_four_eyes(
    as_fresh: AsFresh, box: Container, gworld: World, journal: MemoryJournal
) -> None:
    """Removing and granting roles of an existing account: requested, then approved.

    ASVS V8.2.1, V8.3.2 (the new roles apply on the next request).
    """
    trainee = gworld.persons["trainee"].ft_id
    r = as_fresh("am.dupont").post(
        "/api/v1/accounts/tm.dupont/roles", json={"revoke": ["training_manager"]}
    )
    assert r.status_code == 202
    assert as_fresh("tm.dupont").get(f"/api/v1/persons/{trainee}").status_code == 200
    r = approve(as_fresh("am2.dupont"), r.json()["request_id"])
    assert r.status_code == 200
    assert r.json()["roles"] == []
    assert as_fresh("tm.dupont").get(f"/api/v1/persons/{trainee}").status_code == 403
    assert journal.entries[-1].tag is Tag.ACCOUNT_ROLE_REVOKED
    r = as_fresh("am2.dupont").post(
        "/api/v1/accounts/tm.dupont/roles", json={"grant": ["training_manager"]}
    )
    assert approve(as_fresh("am.dupont"), r.json()["request_id"]).status_code == 200
    assert as_fresh("tm.dupont").get(f"/api/v1/persons/{trainee}").status_code == 200
    assert alert_rules(box).count("roles_changed") == 2


def test_a_created_account_reads_nothing_before_approval_and_enrolment(
    as_fresh: AsFresh, box: Container, gworld: World, clock: ManualClock, journal: MemoryJournal
) -> None:
    """No data before approval *and* a second factor; then probation. ASVS V6.4.1, V6.3.3."""
    app = create_app(box.settings, container=box)
    browser = client_for(app)
    request_id = ask(as_fresh("am.ml")).json()["request_id"]
    # Before approval the account does not exist: sign-in fails like any unknown login.
    assert (
        browser.post(
            "/api/v1/auth/login", json={"login": "new.adv", "password": STRONG}
        ).status_code
        == 401
    )
    assert approve(as_fresh("am2.ml"), request_id).status_code == 200

    # Approved, not enrolled: it has no password, and even a context of its own reads nothing.
    assert (
        browser.post(
            "/api/v1/auth/login", json={"login": "new.adv", "password": STRONG}
        ).status_code
        == 401
    )
    gworld.agents["new.adv"] = box.portal.store.agent_by_login("new.adv").id  # type: ignore[union-attr]
    gworld.assign("youth", "new.adv", ML, TODAY - dt.timedelta(days=1))
    youth = gworld.persons["youth"].ft_id
    newcomer = client_as(box, "new.adv", clock)
    for path in ("/api/v1/portfolio", f"/api/v1/persons/{youth}"):
        r = newcomer.get(path)
        assert r.status_code == 403, path
        assert r.json()["code"] == "access_suspended"

    token = token_from(last_mail_to(box, "new.adv@ml.example"))
    anon = anonymous(box)
    begin = anon.post("/api/v1/enrolment/begin", json={"token": token})
    assert begin.status_code == 200, begin.text
    secret = begin.json()["totp_secret"]
    assert begin.json()["login"] == "new.adv"
    assert begin.json()["otpauth_uri"].startswith("otpauth://totp/")
    # The password policy of sign-in applies; a weak one is refused before anything is used.
    weak = anon.post(
        "/api/v1/enrolment/complete",
        json={
            "token": token,
            "password": "new.adv2026!",
            "code": pyotp.TOTP(secret).at(clock.now()),
        },
    )
    assert weak.status_code == 400
    wrong = anon.post(
        "/api/v1/enrolment/complete", json={"token": token, "password": STRONG, "code": "000000"}
    )
    assert wrong.status_code == 401
    assert journal.entries[-1].tag is Tag.ACCOUNT_ENROLMENT_FAILED
    done = anon.post(
        "/api/v1/enrolment/complete",
        json={"token": token, "password": STRONG, "code": pyotp.TOTP(secret).at(clock.now())},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "enrolled"
    standing = box.governance.standings.standing(gworld.agents["new.adv"])  # type: ignore[union-attr]
    assert not standing.enrolment_pending
    assert standing.probation_until == clock.now() + dt.timedelta(days=14)
    # The link works once.
    again = anon.post("/api/v1/enrolment/begin", json={"token": token})
    assert again.status_code == 401

    assert newcomer.get(f"/api/v1/persons/{youth}").status_code == 200
    # And the real sign-in now works with the enrolled factors.
    clock.advance(60)
    sign_in(client_for(app), Account("new.adv", STRONG, secret), clock)
    assert "account_factor_enrolled" in alert_rules(box)


def test_enrolment_links_expire_and_resist_guessing(
    as_fresh: AsFresh, box: Container, clock: ManualClock
) -> None:
    """One-time links: expire (24 h), burn after 5 wrong codes, a new one revokes the old.

    ASVS V6.4.1, V6.6.3 (rate-limited codes).
    """
    request_id = ask(as_fresh("am.ml")).json()["request_id"]
    approve(as_fresh("am2.ml"), request_id)
    anon = anonymous(box)
    token = token_from(last_mail_to(box, "new.adv@ml.example"))
    anon.post("/api/v1/enrolment/begin", json={"token": token})
    for _ in range(5):
        r = anon.post(
            "/api/v1/enrolment/complete",
            json={"token": token, "password": STRONG, "code": "123456"},
        )
        assert r.status_code == 401
    assert anon.post("/api/v1/enrolment/begin", json={"token": token}).status_code == 401
    assert alerts_of(box, "enrolment_link_abused")[-1].evidence["failures"] == 5

    assert as_fresh("am.ml").post("/api/v1/accounts/new.adv/enrolment-link").status_code == 200
    fresh_token = token_from(last_mail_to(box, "new.adv@ml.example"))
    assert fresh_token != token
    assert anon.post("/api/v1/enrolment/begin", json={"token": fresh_token}).status_code == 200
    clock.advance(25 * 3600)
    assert anon.post("/api/v1/enrolment/begin", json={"token": fresh_token}).status_code == 401
    assert anon.post("/api/v1/enrolment/begin", json={"token": "x" * 43}).status_code == 401


def test_real_session_with_step_up_requests_an_account(
    box: Container, gworld: World, clock: ManualClock
) -> None:
    """The seam with sign-in: a real session is fresh only after a TOTP step-up.

    ASVS V6.3.3, V8.4.2 (privileged functions re-verify the person).
    """
    account = give_credentials(box.engine, "am.ml")
    client = client_for(create_app(box.settings, container=box))
    csrf = sign_in(client, account, clock)
    headers = {"X-CSRF-Token": csrf}
    body = {"login": "via.session", "email": "via.session@ml.example", "roles": ["advisor"]}
    clock.advance(10 * 60)  # whatever freshness the sign-in gave has passed
    r = client.post("/api/v1/accounts", json=body, headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == "step_up_required"
    clock.advance(30)
    code = pyotp.TOTP(account.totp_secret).at(clock.now())
    assert (
        client.post("/api/v1/auth/step-up/totp", json={"code": code}, headers=headers).status_code
        == 200
    )
    r = client.post("/api/v1/accounts", json=body, headers=headers)
    assert r.status_code == 202, r.text


def test_the_mailed_link_opens_a_plain_enrolment_page(
    as_fresh: AsFresh, box: Container, clock: ManualClock
) -> None:
    """GET shows only a button (link scanners see no secret); the forms finish enrolment.

    ASVS V6.4.1, V6.2.6 (password field masked).
    """
    request_id = ask(as_fresh("am.ml"), login="page.adv").json()["request_id"]
    approve(as_fresh("am2.ml"), request_id)
    token = token_from(last_mail_to(box, "page.adv@ml.example"))
    page = anonymous(box)
    landing = page.get(f"/enrol?token={token}")
    assert landing.status_code == 200
    assert "text/html" in landing.headers["content-type"]
    assert "otpauth" not in landing.text
    assert "script" not in landing.text
    started = page.post("/enrol/start", data={"token": token})
    assert started.status_code == 200
    secret = started.text.split("<code>", 1)[1].split("</code>", 1)[0]
    weak = page.post("/enrol/finish", data={"token": token, "password": "short", "code": "000000"})
    assert weak.status_code == 400
    done = page.post(
        "/enrol/finish",
        data={"token": token, "password": STRONG, "code": pyotp.TOTP(secret).at(clock.now())},
    )
    assert done.status_code == 200, done.text
    assert "activated" in done.text
    assert page.post("/enrol/start", data={"token": token}).status_code == 401
    assert page.post("/enrol/start", data={"token": "<script>"}).text.count("<script>") == 0


def test_approve_and_create_is_one_unit_of_work(
    as_fresh: AsFresh, box: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure once the approval is recorded (the account's creation raising) leaves neither
    the approval nor the account: the request's unit of work is rolled back whole, and the
    request can be approved again. ASVS V8.3.1 (the four-eyes state is never half-written)."""
    request_id = ask(as_fresh("am.ml")).json()["request_id"]

    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the database went away mid-approval")

    monkeypatch.setattr(SqlAccountStore, "create_agent", broken)
    r = approve(as_fresh("am2.ml"), request_id)
    assert r.status_code == 500
    found = box.governance.requests.request(request_id)  # type: ignore[union-attr]
    assert found is not None
    assert found.status == "pending_approval"
    assert found.decided_by is None
    assert box.portal.store.agent_by_login("new.adv") is None
    monkeypatch.undo()
    r = approve(as_fresh("am2.ml"), request_id)
    assert r.status_code == 200, r.text
    assert box.portal.store.agent_by_login("new.adv") is not None


def test_a_privileged_first_passkey_is_approved_by_a_second_person(
    box: Container, as_fresh: AsFresh
) -> None:
    """Pentest finding 7: a privileged account's first passkey needs someone else's approval:
    the security officer or another account manager of the organisation, never the account
    itself, never an outsider (as absent), never without a fresh second factor."""
    url = "/api/v1/accounts/am.dupont/first-passkey/approve"
    r = as_fresh("am.dupont").post(url)
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert as_fresh("tm.martin").post(url).json()["code"] == "not_found"
    r = as_fresh("ag.sec", fresh=False).post(url)
    assert (r.status_code, r.json()["code"]) == (401, "step_up_required")
    r = as_fresh("am2.dupont").post(url)
    assert r.status_code == 200, r.text
    assert r.json()["login"] == "am.dupont"
    r = as_fresh("ag.sec").post("/api/v1/accounts/tm.dupont/first-passkey/approve")
    assert (r.status_code, r.json()["code"]) == (409, "conflict")  # not privileged
    assert "first_key_approved" in alert_rules(box)
    assert "four_eyes_refused" in alert_rules(box)
