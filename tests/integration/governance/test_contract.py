"""The governance ports' contract, asserted alike of the memory twins and the SQL adapters.

One winner per decision (a request, a link, a review item, a campaign's closing), single-use
enrolment links that replace each other, whole-word role matching, and safe defaults for
accounts created elsewhere (ASVS V6.4.1 single-use, expiring activation secrets; V8.3.1 the
authorization facts the trusted layer decides on are stored, not inferred).
"""

from __future__ import annotations

import datetime as dt

from rempart.governance.model import (
    AccountRequest,
    RequestKind,
    RequestStatus,
    ReviewDecision,
)
from rempart.kernel.actors import App, OrgKind, Role
from tests.factories import NOW, TODAY
from tests.integration.governance.conftest import Backend, Factors

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def a_request(
    b: Backend,
    request_id: str = "a" * 32,
    *,
    login: str = "new.tm",
    at: dt.datetime = NOW,
    kind: RequestKind = RequestKind.CREATE_ACCOUNT,
    by: str = "am.dupont",
    target: int | None = None,
) -> AccountRequest:
    return AccountRequest(
        id=request_id,
        kind=kind,
        org_id=b.orgs["Formations Dupont"],
        requested_by=b.agents[by],
        requested_by_login=by,
        login=login,
        email=f"{login}@example.fr",
        grant=frozenset({Role.TRAINING_MANAGER}),
        revoke=frozenset(),
        created_at=at,
        expires_at=at + dt.timedelta(hours=24),
        target_agent_id=target,
    )


def create(b: Backend, login: str = "new.tm") -> int:
    return int(
        b.accounts.create_agent(
            login,
            f"{login}@example.fr",
            b.orgs["Formations Dupont"],
            frozenset({Role.TRAINING_MANAGER}),
            created_by=b.agents["am.dupont"],
            approved_by=b.agents["ag.admin"],
            at=NOW,
            training_valid_until=TODAY,
        )
    )


# --- Account standings and records --------------------------------------------------------


def test_accounts_stored_without_governance_facts_get_safe_defaults(backend: Backend) -> None:
    """The seed and older code store agents without the governance columns: not pending, not
    off, no provenance; an unknown id gets a blank standing."""
    standing = backend.accounts.standing(backend.agents["tm.dupont"])
    assert standing.agent_id == backend.agents["tm.dupont"]
    assert standing.enrolment_pending is False
    assert standing.disabled_reason == ""
    assert standing.created_by is None
    assert standing.approved_by is None
    assert standing.probation_until is None
    assert standing.last_used_at is None
    assert not standing.org_suspended
    assert not standing.went_through_four_eyes
    blank = backend.accounts.standing(999_999)
    assert blank.agent_id == 999_999
    assert blank.created_by is None
    assert not blank.enrolment_pending


def test_a_created_account_is_pending_enrolment_with_its_provenance(backend: Backend) -> None:
    agent_id = create(backend)
    standing = backend.accounts.standing(agent_id)
    assert standing.enrolment_pending
    assert standing.created_by == backend.agents["am.dupont"]
    assert standing.approved_by == backend.agents["ag.admin"]
    assert standing.went_through_four_eyes
    assert backend.factors(agent_id) == Factors("", "", 0, 0, 0)
    found = {a.login: a for a in backend.accounts.agents_of_org(backend.orgs["Formations Dupont"])}
    assert list(found) == ["am.dupont", "new.tm", "tm.dupont"]  # by login
    new = found["new.tm"]
    assert new.id == agent_id
    assert new.roles == frozenset({Role.TRAINING_MANAGER})
    assert new.active
    assert new.created_at == NOW
    assert new.training_valid_until == TODAY
    assert new.email == "new.tm@example.fr"


def test_switching_an_account_off_reports_a_change_once(backend: Backend) -> None:
    tm = backend.agents["tm.dupont"]
    assert backend.accounts.set_active(tm, False, "suspended")
    assert backend.accounts.standing(tm).disabled_reason == "suspended"
    # Already off: no change reported, but the reason in force is the latest one.
    assert not backend.accounts.set_active(tm, False, "inactive")
    assert backend.accounts.standing(tm).disabled_reason == "inactive"
    assert backend.accounts.set_active(tm, True, "ignored")
    assert backend.accounts.standing(tm).disabled_reason == ""
    assert not backend.accounts.set_active(tm, True, "")
    assert not backend.accounts.set_active(999_999, False, "suspended")


def test_roles_training_and_end_date_are_recorded(backend: Backend) -> None:
    tm = backend.agents["tm.dupont"]
    org = backend.orgs["Formations Dupont"]
    backend.accounts.set_roles(tm, frozenset({Role.TRAINING_MANAGER, Role.ACCOUNT_MANAGER}))
    backend.accounts.set_training_valid_until(tm, TODAY + dt.timedelta(days=300))
    backend.accounts.set_end_date(tm, TODAY)
    agent = next(a for a in backend.accounts.agents_of_org(org) if a.id == tm)
    assert agent.roles == frozenset({Role.TRAINING_MANAGER, Role.ACCOUNT_MANAGER})
    assert agent.training_valid_until == TODAY + dt.timedelta(days=300)
    assert agent.end_date == TODAY
    backend.accounts.set_end_date(tm, None)
    agent = next(a for a in backend.accounts.agents_of_org(org) if a.id == tm)
    assert agent.end_date is None


def test_erasing_factors_forgets_every_one_of_them(backend: Backend) -> None:
    """ASVS V6.4.6: after a reset the account holds nothing and must enrol again."""
    agent_id = backend.agents["tm.dupont"]
    tokens = backend.tokens
    token = tokens.add_enrolment_token(agent_id, "1" * 64, NOW, NOW + HOUR)
    assert tokens.complete_enrolment(
        token,
        agent_id,
        at=NOW,
        password_hash="h",
        totp_secret="S" * 32,
        totp_step=42,
        probation_until=None,
    )
    backend.give_factors(agent_id)
    backend.give_factors(backend.agents["tm.martin"])
    assert backend.factors(agent_id) == Factors("h", "S" * 32, 42, 1, 1)
    backend.accounts.erase_factors(agent_id)
    assert backend.factors(agent_id) == Factors("", "", 0, 0, 0)
    assert backend.accounts.standing(agent_id).enrolment_pending
    assert backend.factors(backend.agents["tm.martin"]).security_keys == 1  # only that account


# --- The directory the jobs walk ----------------------------------------------------------


def test_idle_accounts_are_those_last_used_or_created_before_the_cutoff(backend: Backend) -> None:
    cutoff = NOW - dt.timedelta(days=90)
    backend.agent("used.recently", "Formations Dupont", last_used_at=NOW - DAY)
    backend.agent("used.long.ago", "Formations Dupont", last_used_at=NOW - dt.timedelta(days=91))
    backend.agent("new.never.used", "Formations Dupont", created_at=NOW - DAY)
    backend.agent("off.idle", "Formations Dupont", active=False, disabled_reason="inactive")
    idle = backend.accounts.idle_agents(cutoff)
    logins = [a.login for a, _ in idle]
    assert logins == sorted(logins)
    assert "used.long.ago" in logins
    assert "off.idle" in logins
    assert "tm.dupont" in logins
    assert "used.recently" not in logins
    assert "new.never.used" not in logins
    standing = {a.login: s for a, s in idle}["used.long.ago"]
    assert standing.last_used_at == NOW - dt.timedelta(days=91)
    assert {a.login: s for a, s in idle}["off.idle"].disabled_reason == "inactive"


def test_leavers_are_active_accounts_whose_end_date_has_come(backend: Backend) -> None:
    backend.agent("leaves.today", "Formations Dupont", end_date=TODAY)
    backend.agent("left.before", "Formations Dupont", end_date=TODAY - DAY)
    backend.agent("leaves.later", "Formations Dupont", end_date=TODAY + DAY)
    backend.agent("already.off", "Formations Dupont", end_date=TODAY - DAY, active=False)
    assert [a.login for a in backend.accounts.leavers(TODAY)] == ["leaves.today", "left.before"]


def test_privileged_roles_match_whole_words_only(backend: Backend) -> None:
    # Contains "manager", not "account_manager".
    backend.agent("look.alike", "Formations Dupont", Role.TRAINING_MANAGER)
    found = backend.accounts.privileged_accounts()
    assert [a.login for a, _ in found] == ["ag.admin", "ag.dpo", "ag.sec", "am.dupont"]
    assert all(s.agent_id == a.id for a, s in found)


def test_the_organisations_of_an_app(backend: Backend) -> None:
    assert backend.accounts.org_ids_using(App.TRAINING_FOLLOW_UP) == sorted(
        [backend.orgs["Formations Dupont"], backend.orgs["Formations Martin"]]
    )
    assert backend.accounts.org_ids_using(App.YOUTH_FOLLOW_UP) == [
        backend.orgs["Mission Locale Nord"]
    ]
    assert backend.accounts.org_ids_using(App.CAP_EMPLOI) == []


# --- Four-eyes requests -------------------------------------------------------------------


def test_a_request_is_decided_once(backend: Backend) -> None:
    """Of two approvals (a double click, two replicas) only one is recorded. ASVS V8.3.1."""
    requests = backend.requests
    requests.add_request(a_request(backend))
    assert requests.login_taken("new.tm")
    assert requests.login_taken("tm.dupont")  # an account's login
    assert not requests.login_taken("nobody")
    by = {"by_id": backend.agents["ag.admin"], "by_login": "ag.admin", "at": NOW}
    assert requests.decide_request("a" * 32, RequestStatus.APPROVED, **by, created_agent_id=7)
    assert not requests.decide_request("a" * 32, RequestStatus.DENIED, **by)
    assert not requests.decide_request("b" * 32, RequestStatus.DENIED, **by)
    found = requests.request("a" * 32)
    assert found is not None
    assert found.status is RequestStatus.APPROVED
    assert (found.decided_by, found.decided_by_login) == (backend.agents["ag.admin"], "ag.admin")
    assert found.decided_at == NOW
    assert found.created_agent_id == 7
    assert found.grant == frozenset({Role.TRAINING_MANAGER})
    assert found.expires_at == NOW + dt.timedelta(hours=24)
    assert not requests.login_taken("new.tm")  # a decided request no longer holds the login
    assert requests.request("c" * 32) is None


def test_a_decision_keeps_at_most_500_characters_of_reason(backend: Backend) -> None:
    backend.requests.add_request(a_request(backend))
    assert backend.requests.decide_request(
        "a" * 32, RequestStatus.DENIED, by_id=None, by_login="", at=NOW, reason="x" * 600
    )
    found = backend.requests.request("a" * 32)
    assert found is not None
    assert found.reason == "x" * 500
    assert found.decided_by is None


def test_requests_are_listed_newest_first_and_filtered(backend: Backend) -> None:
    requests = backend.requests
    am, tm = backend.agents["am.dupont"], backend.agents["tm.dupont"]
    requests.add_request(a_request(backend, "1" * 32, login="one", at=NOW - 2 * HOUR))
    requests.add_request(a_request(backend, "2" * 32, login="two", at=NOW))
    requests.add_request(
        a_request(
            backend,
            "3" * 32,
            login="tm.dupont",
            at=NOW - HOUR,
            kind=RequestKind.CHANGE_ROLES,
            target=tm,
        )
    )
    requests.decide_request("1" * 32, RequestStatus.CANCELLED, by_id=am, by_login="am", at=NOW)
    assert [r.id for r in requests.requests()] == ["2" * 32, "3" * 32, "1" * 32]
    assert [r.id for r in requests.requests(limit=2)] == ["2" * 32, "3" * 32]
    pending = requests.requests(status=RequestStatus.PENDING)
    assert [r.id for r in pending] == ["2" * 32, "3" * 32]
    assert [r.id for r in requests.requests(target_agent_id=tm)] == ["3" * 32]
    assert len(requests.requests(requested_by=am, org_id=backend.orgs["Formations Dupont"])) == 3
    assert requests.requests(org_id=backend.orgs["Formations Martin"]) == []
    assert requests.requests(requested_by=tm) == []
    times = requests.request_times(am, NOW - HOUR)
    assert sorted(times) == [NOW - HOUR, NOW]  # decided ones count too: the cap is on asking
    assert not requests.login_taken("tm.dupont-x")


def test_expired_requests_are_found(backend: Backend) -> None:
    backend.requests.add_request(a_request(backend))
    assert backend.requests.expired_requests(NOW + dt.timedelta(hours=23)) == []
    expired = backend.requests.expired_requests(NOW + dt.timedelta(hours=24))
    assert [r.id for r in expired] == ["a" * 32]
    backend.requests.decide_request(
        "a" * 32, RequestStatus.EXPIRED, by_id=None, by_login="", at=NOW, reason="expired"
    )
    assert backend.requests.expired_requests(NOW + dt.timedelta(hours=48)) == []


# --- Enrolment links ----------------------------------------------------------------------


def test_enrolment_links_are_single_use_and_replace_each_other(backend: Backend) -> None:
    """ASVS V6.4.1: an activation secret works once; a new link revokes the earlier ones."""
    tokens = backend.tokens
    agent_id = create(backend)
    first = tokens.add_enrolment_token(agent_id, "1" * 64, NOW, NOW + HOUR)
    second = tokens.add_enrolment_token(agent_id, "2" * 64, NOW + HOUR / 2, NOW + 2 * HOUR)
    old = tokens.enrolment_token("1" * 64)
    assert old is not None
    assert old.id == first
    assert old.revoked_at == NOW + HOUR / 2
    assert not old.usable(NOW, 5)
    new = tokens.enrolment_token("2" * 64)
    assert new is not None
    assert (new.agent_id, new.created_at, new.expires_at) == (
        agent_id,
        NOW + HOUR / 2,
        NOW + 2 * HOUR,
    )
    assert new.usable(NOW + HOUR, 5)
    assert tokens.enrolment_token("3" * 64) is None
    tokens.set_pending_totp(second, "P" * 32)
    assert tokens.count_enrolment_failure(second) == 1
    assert tokens.count_enrolment_failure(second) == 2
    pending = tokens.enrolment_token("2" * 64)
    assert pending is not None
    assert (pending.pending_totp_secret, pending.failed_attempts) == ("P" * 32, 2)
    done = {
        "at": NOW + HOUR,
        "password_hash": "h",
        "totp_secret": "S" * 32,
        "totp_step": 42,
        "probation_until": NOW + dt.timedelta(days=14),
    }
    assert not tokens.complete_enrolment(first, agent_id, **done)  # revoked
    assert not tokens.complete_enrolment(second, backend.agents["tm.dupont"], **done)  # not theirs
    assert tokens.complete_enrolment(second, agent_id, **done)
    assert not tokens.complete_enrolment(second, agent_id, **done)  # used
    used = tokens.enrolment_token("2" * 64)
    assert used is not None
    assert used.used_at == NOW + HOUR
    assert used.pending_totp_secret == ""
    standing = backend.accounts.standing(agent_id)
    assert not standing.enrolment_pending
    assert standing.probation_until == NOW + dt.timedelta(days=14)
    assert backend.factors(agent_id) == Factors("h", "S" * 32, 42, 0, 0)
    assert tokens.revoke_enrolment_tokens(agent_id, NOW) == 0  # nothing unused is left


def test_revoking_links_counts_the_unused_ones_of_that_account(backend: Backend) -> None:
    tokens = backend.tokens
    mine, other = backend.agents["tm.dupont"], backend.agents["tm.martin"]
    tokens.add_enrolment_token(mine, "1" * 64, NOW, NOW + HOUR)
    tokens.add_enrolment_token(other, "2" * 64, NOW, NOW + HOUR)
    assert tokens.revoke_enrolment_tokens(mine, NOW + HOUR / 4) == 1
    assert tokens.revoke_enrolment_tokens(mine, NOW + HOUR / 2) == 0
    revoked = tokens.enrolment_token("1" * 64)
    assert revoked is not None
    assert revoked.revoked_at == NOW + HOUR / 4
    kept = tokens.enrolment_token("2" * 64)
    assert kept is not None
    assert kept.revoked_at is None


# --- The organisation kill switch ---------------------------------------------------------


def test_organisation_suspensions_keep_history(backend: Backend) -> None:
    org = backend.orgs["Formations Dupont"]
    s = backend.suspensions
    assert s.org_suspension(org) is None
    assert s.suspend_org(org, "ag.admin", NOW, "CERT")
    assert not s.suspend_org(org, "ag.admin", NOW + HOUR, "again")
    found = s.org_suspension(org)
    assert found is not None
    assert (found.org_id, found.suspended_by, found.suspended_at, found.reason) == (
        org,
        "ag.admin",
        NOW,
        "CERT",
    )
    assert backend.accounts.standing(backend.agents["tm.dupont"]).org_suspended
    assert not backend.accounts.standing(backend.agents["tm.martin"]).org_suspended
    suspended = {a.login: st for a, st in backend.accounts.idle_agents(NOW)}
    assert suspended["tm.dupont"].org_suspended
    assert not suspended["tm.martin"].org_suspended
    assert s.lift_org(org, "ag.admin", NOW + HOUR)
    assert not s.lift_org(org, "ag.admin", NOW + HOUR)
    assert s.org_suspension(org) is None
    assert not backend.accounts.standing(backend.agents["tm.dupont"]).org_suspended
    assert s.suspend_org(org, "ag.sec", NOW + 2 * HOUR, "second time")
    again = s.org_suspension(org)
    assert again is not None
    assert again.reason == "second time"


# --- Access reviews -----------------------------------------------------------------------


def test_review_items_are_decided_once(backend: Backend) -> None:
    org = backend.orgs["Formations Dupont"]
    tm = backend.agents["tm.dupont"]
    r = backend.reviews
    campaign = r.open_campaign(
        org,
        "am.dupont",
        NOW,
        NOW + dt.timedelta(days=14),
        ReviewDecision.REMOVE,
        [(tm, "tm.dupont", "training_manager"), (tm, "tm.dupont", "*")],
    )
    items = r.items_of(campaign)
    assert [i.role for i in items] == ["*", "training_manager"]
    assert all(i.decision is None and i.decided_by == "" and not i.by_default for i in items)
    assert r.decide_item(items[0].id, ReviewDecision.KEEP, "am.dupont", NOW)
    assert not r.decide_item(items[0].id, ReviewDecision.REMOVE, "am.dupont", NOW)
    assert r.decide_item(
        items[1].id, ReviewDecision.REMOVE, "system:deadline", NOW, by_default=True
    )
    decided = r.items_of(campaign)
    assert [(i.decision, i.decided_by, i.by_default) for i in decided] == [
        (ReviewDecision.KEEP, "am.dupont", False),
        (ReviewDecision.REMOVE, "system:deadline", True),
    ]
    assert decided[0].decided_at == NOW
    assert r.items_of(campaign + 1000) == []


def test_campaigns_open_close_once_and_mark_who_is_due(backend: Backend) -> None:
    r = backend.reviews
    dupont, martin = backend.orgs["Formations Dupont"], backend.orgs["Formations Martin"]
    first = r.open_campaign(dupont, "system", NOW - DAY, NOW + DAY, ReviewDecision.KEEP, [])
    second = r.open_campaign(martin, "ag.admin", NOW, NOW + DAY, ReviewDecision.REMOVE, [])
    found = r.campaign(first)
    assert found is not None
    assert (found.org_id, found.opened_by, found.opened_at, found.deadline) == (
        dupont,
        "system",
        NOW - DAY,
        NOW + DAY,
    )
    assert found.default_decision is ReviewDecision.KEEP
    assert found.is_open
    assert found.last_reminder_at is None
    assert r.campaign(first + second + 1000) is None
    assert [c.id for c in r.campaigns()] == [second, first]  # newest first
    assert [c.id for c in r.campaigns(dupont)] == [first]
    assert sorted(c.id for c in r.open_campaigns()) == sorted([first, second])
    due = r.orgs_due_for_review(NOW - dt.timedelta(days=91))
    assert dupont not in due
    assert martin not in due
    assert backend.orgs["Mission Locale Nord"] in due
    assert backend.orgs["Agence Paris 2e"] in due
    assert dupont in r.orgs_due_for_review(NOW)  # opened before the period started
    r.mark_reminded(first, NOW + HOUR)
    reminded = r.campaign(first)
    assert reminded is not None
    assert reminded.last_reminder_at == NOW + HOUR
    assert r.close_campaign(first, NOW + 2 * HOUR)
    assert not r.close_campaign(first, NOW + 3 * HOUR)
    closed = r.campaign(first)
    assert closed is not None
    assert closed.closed_at == NOW + 2 * HOUR
    assert not closed.is_open
    assert [c.id for c in r.open_campaigns()] == [second]


def test_organisations_without_active_accounts_are_not_due(backend: Backend) -> None:
    empty = backend.org("Formations Vides", OrgKind.TRAINING_BODY)
    backend.agent("gone", "Formations Vides", active=False)
    assert empty not in backend.reviews.orgs_due_for_review(NOW)


def test_created_by_since_lists_the_recent_creations_of_a_requester(backend: Backend) -> None:
    """The four-eyes rule follows who created whom (pentest finding 2): the accounts whose
    creation an account requested, created at or after a time, by id."""
    first = create(backend, "new.one")
    second = create(backend, "new.two")
    by = backend.agents["am.dupont"]
    assert backend.accounts.created_by_since(by, NOW - DAY) == sorted([first, second])
    assert backend.accounts.created_by_since(by, NOW + HOUR) == []
    assert backend.accounts.created_by_since(backend.agents["ag.admin"], NOW - DAY) == []
