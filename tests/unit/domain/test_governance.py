"""The four-eyes rules as properties: whatever the roles, accounts and times, no one alone
creates, grants or approves (ASVS V8.1.1 documented rules, V8.2.1, V8.3.1)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from rempart.governance.model import (
    NATIONAL_ROLES_BY_ORG_KIND,
    NEVER_GRANTABLE,
    ROLES_BY_ORG_KIND,
    AccountRequest,
    AccountStanding,
    GovernanceRules,
    LifecycleAction,
    Refusal,
    RequestKind,
    approval_refusal,
    email_problem,
    grantable_roles,
    inactivity_actions,
    leaves_today,
    login_problem,
    request_refusal,
    request_throttle,
    review_refusal,
    training_attestation_problem,
)
from rempart.kernel.actors import Agent, OrgKind, Role
from tests.factories import NOW, TODAY

RULES = GovernanceRules()
ORG_OF_KIND = {kind: f"ORG-{kind}" for kind in OrgKind}

roles = st.frozensets(st.sampled_from(list(Role)), max_size=4)
kinds = st.sampled_from(list(OrgKind))


@st.composite
def agents(draw: st.DrawFn, agent_id: int | None = None) -> Agent:
    kind = draw(kinds)
    return Agent(
        id=agent_id if agent_id is not None else draw(st.integers(1, 50)),
        login=f"a{draw(st.integers(1, 10**6))}",
        email="a@example.fr",
        org_id=ORG_OF_KIND[kind],
        org_kind=kind,
        roles=draw(roles),
        created_at=NOW - dt.timedelta(days=draw(st.integers(0, 800))),
    )


@st.composite
def standings(draw: st.DrawFn, agent_id: int) -> AccountStanding:
    return AccountStanding(
        agent_id=agent_id,
        created_by=draw(st.none() | st.integers(1, 50)),
        approved_by=draw(st.none() | st.integers(1, 50)),
        probation_until=draw(st.none() | st.just(NOW + dt.timedelta(days=3))),
    )


def request_by(requester: Agent, org_kind: OrgKind, grant: frozenset[Role]) -> AccountRequest:
    return AccountRequest(
        id="r" * 32,
        kind=RequestKind.CREATE_ACCOUNT,
        org_id=ORG_OF_KIND[org_kind],
        requested_by=requester.id,
        requested_by_login=requester.login,
        login="new.person",
        email="new@example.fr",
        grant=grant,
        revoke=frozenset(),
        created_at=NOW,
        expires_at=NOW + RULES.request_ttl,
    )


def agent(kind: OrgKind, *roles_: Role, agent_id: int = 1, age_days: int = 400) -> Agent:
    return Agent(
        id=agent_id,
        login=f"agent{agent_id}",
        email="a@example.fr",
        org_id=ORG_OF_KIND[kind],
        org_kind=kind,
        roles=frozenset(roles_),
        created_at=NOW - dt.timedelta(days=age_days),
    )


@given(agents(), kinds, roles)
def test_never_grantable_roles_are_never_requestable(
    requester: Agent, kind: OrgKind, grant: frozenset[Role]
) -> None:
    """National roles: requested only by a national administrator, for the agency itself
    (and then approved by another one); never by anyone else, never elsewhere."""
    national = requester.org_kind is OrgKind.AGENCY and requester.has(Role.ADMIN)
    if grant & NEVER_GRANTABLE and not (national and kind is OrgKind.AGENCY):
        assert request_refusal(requester, ORG_OF_KIND[kind], kind, grant) is not None


@given(agents(), kinds, roles)
def test_a_request_is_only_accepted_within_the_rules(
    requester: Agent, kind: OrgKind, grant: frozenset[Role]
) -> None:
    """Accepted ⇒ a manager of that very organisation or an agency admin, usable roles only."""
    if request_refusal(requester, ORG_OF_KIND[kind], kind, grant) is None:
        agency_admin = requester.org_kind is OrgKind.AGENCY and requester.has(Role.ADMIN)
        assert agency_admin or (
            requester.has(Role.ACCOUNT_MANAGER) and requester.org_id == ORG_OF_KIND[kind]
        )
        assert grant
        assert grant <= grantable_roles(requester, kind)
        assert grant <= ROLES_BY_ORG_KIND[kind] | NATIONAL_ROLES_BY_ORG_KIND.get(kind, frozenset())


@given(agents(agent_id=7), kinds, roles, st.data())
def test_no_one_approves_their_own_request(
    requester: Agent, kind: OrgKind, grant: frozenset[Role], data: st.DataObject
) -> None:
    standing = data.draw(standings(7))
    refusal = approval_refusal(request_by(requester, kind, grant), requester, standing, NOW, RULES)
    assert refusal is Refusal.SELF_APPROVAL


@given(agents(agent_id=7), agents(agent_id=8), kinds, roles, st.data())
def test_an_approval_stands_only_within_the_rules(
    requester: Agent, approver: Agent, kind: OrgKind, grant: frozenset[Role], data: st.DataObject
) -> None:
    """Accepted ⇒ another person, entitled, old enough, not the requester's creature."""
    standing = data.draw(standings(8))
    request = request_by(requester, kind, grant)
    if approval_refusal(request, approver, standing, NOW, RULES) is None:
        assert approver.id != requester.id
        agency_admin = approver.org_kind is OrgKind.AGENCY and approver.has(Role.ADMIN)
        assert agency_admin or (
            approver.has(Role.ACCOUNT_MANAGER) and approver.org_id == request.org_id
        )
        if Role.ACCOUNT_MANAGER in grant:
            assert agency_admin
        assert requester.id not in (standing.created_by, standing.approved_by)
        assert approver.created_at is not None
        assert NOW - approver.created_at >= RULES.approver_min_age
        assert not standing.on_probation(NOW)


def test_the_december_2025_pattern_is_refused_at_each_step() -> None:
    """A rogue Mission Locale manager: own approval, a fresh accomplice, a manager of its own."""
    rogue = agent(OrgKind.MISSION_LOCALE, Role.ACCOUNT_MANAGER, agent_id=1)
    request = request_by(rogue, OrgKind.MISSION_LOCALE, frozenset({Role.ADVISOR}))
    assert approval_refusal(request, rogue, AccountStanding(1), NOW, RULES) is (
        Refusal.SELF_APPROVAL
    )
    accomplice = agent(OrgKind.MISSION_LOCALE, Role.ACCOUNT_MANAGER, agent_id=2, age_days=2)
    assert approval_refusal(request, accomplice, AccountStanding(2), NOW, RULES) is (
        Refusal.APPROVER_TOO_YOUNG
    )
    creature = agent(OrgKind.MISSION_LOCALE, Role.ACCOUNT_MANAGER, agent_id=3)
    assert (
        approval_refusal(
            request, creature, AccountStanding(3, created_by=1, approved_by=9), NOW, RULES
        )
        is Refusal.APPROVER_CREATED_BY_REQUESTER
    )
    colleague = agent(OrgKind.MISSION_LOCALE, Role.ACCOUNT_MANAGER, agent_id=4)
    manager_request = request_by(rogue, OrgKind.MISSION_LOCALE, frozenset({Role.ACCOUNT_MANAGER}))
    assert approval_refusal(manager_request, colleague, AccountStanding(4), NOW, RULES) is (
        Refusal.NEEDS_AGENCY_ADMIN
    )
    assert approval_refusal(request, colleague, AccountStanding(4), NOW, RULES) is None
    other_org = agent(OrgKind.TRAINING_BODY, Role.ACCOUNT_MANAGER, agent_id=5)
    assert approval_refusal(request, other_org, AccountStanding(5), NOW, RULES) is (
        Refusal.APPROVER_NOT_AUTHORISED
    )


def test_role_changes_must_change_something_and_not_touch_oneself() -> None:
    manager = agent(OrgKind.TRAINING_BODY, Role.ACCOUNT_MANAGER, agent_id=1)
    tm = agent(OrgKind.TRAINING_BODY, Role.TRAINING_MANAGER, agent_id=2)
    org = ORG_OF_KIND[OrgKind.TRAINING_BODY]
    kind = OrgKind.TRAINING_BODY
    assert request_refusal(manager, org, kind, {Role.TRAINING_MANAGER}, (), tm) is (
        Refusal.NOTHING_TO_CHANGE
    )
    assert request_refusal(manager, org, kind, (), {Role.TRAINING_MANAGER}, tm) is None
    assert request_refusal(manager, org, kind, (), {Role.ACCOUNT_MANAGER}, manager) is (
        Refusal.SELF_TARGET
    )
    assert request_refusal(manager, org, kind, {Role.ADVISOR}, (), tm) is (
        Refusal.ROLE_NOT_USED_HERE
    )
    agency_manager = agent(OrgKind.AGENCY, Role.ACCOUNT_MANAGER, agent_id=3)
    dpo = agent(OrgKind.AGENCY, Role.DPO, agent_id=4)
    agency, agency_kind = ORG_OF_KIND[OrgKind.AGENCY], OrgKind.AGENCY
    assert request_refusal(agency_manager, agency, agency_kind, {Role.ADVISOR}, (), dpo) is (
        Refusal.NEVER_GRANTABLE_ROLE
    )


@given(st.lists(st.integers(0, 7 * 24 * 60), max_size=30))
def test_throttle_never_lets_more_than_the_limits_through(minutes_ago: list[int]) -> None:
    """Whatever the history, an accepted request keeps both limits."""
    recent = [NOW - dt.timedelta(minutes=m) for m in minutes_ago]
    verdict = request_throttle(recent, NOW, RULES)
    in_burst = sum(1 for t in recent if NOW - RULES.burst_window < t <= NOW)
    in_week = sum(1 for t in recent if NOW - dt.timedelta(days=7) < t <= NOW)
    if verdict is None:
        assert in_burst < RULES.burst_limit
        assert in_week < RULES.weekly_cap
    else:
        assert verdict.retry_after >= 1
        later = NOW + dt.timedelta(seconds=verdict.retry_after)
        after = request_throttle(recent, later, RULES)
        assert (
            after is None
            or after.limit != verdict.limit
            or after.retry_after < (verdict.retry_after)
        )


def test_inactivity_and_leavers() -> None:
    a = agent(OrgKind.MISSION_LOCALE, Role.ADVISOR)
    used = lambda days: AccountStanding(1, last_used_at=NOW - dt.timedelta(days=days))  # noqa: E731
    assert inactivity_actions(a, used(89), NOW, RULES) == frozenset()
    assert inactivity_actions(a, used(90), NOW, RULES) == {LifecycleAction.DISABLE}
    assert inactivity_actions(a, used(180), NOW, RULES) == {
        LifecycleAction.DISABLE,
        LifecycleAction.ERASE_FACTORS,
    }
    # Never used: counted from its creation.
    assert inactivity_actions(a, AccountStanding(1), NOW, RULES) == {
        LifecycleAction.DISABLE,
        LifecycleAction.ERASE_FACTORS,
    }
    from dataclasses import replace

    assert leaves_today(replace(a, end_date=TODAY), TODAY)
    assert not leaves_today(replace(a, end_date=TODAY + dt.timedelta(days=1)), TODAY)
    assert not leaves_today(replace(a, end_date=TODAY, active=False), TODAY)


def test_reviewers_and_inputs() -> None:
    manager = agent(OrgKind.CAP_EMPLOI, Role.ACCOUNT_MANAGER, agent_id=1)
    admin = agent(OrgKind.AGENCY, Role.ADMIN, agent_id=2)
    org = ORG_OF_KIND[OrgKind.CAP_EMPLOI]
    colleague = agent(OrgKind.CAP_EMPLOI, Role.ADVISOR, agent_id=3)
    assert review_refusal(manager, org, colleague) is None
    assert review_refusal(manager, org, manager) is Refusal.SELF_TARGET
    assert review_refusal(manager, ORG_OF_KIND[OrgKind.AGENCY]) is Refusal.APPROVER_NOT_AUTHORISED
    assert review_refusal(admin, org, manager) is None
    agency = ORG_OF_KIND[OrgKind.AGENCY]
    agency_manager = agent(OrgKind.AGENCY, Role.ACCOUNT_MANAGER, agent_id=4)
    officer = agent(OrgKind.AGENCY, Role.SECURITY_OFFICER, agent_id=5)
    assert review_refusal(agency_manager, agency, officer) is Refusal.NEVER_GRANTABLE_ROLE
    assert review_refusal(admin, agency, officer) is None
    assert login_problem("ab")
    assert login_problem("Upper.case")
    assert not login_problem("jane.doe-2")
    assert email_problem("no-at-sign")
    assert not email_problem("jane@example.fr")
    assert training_attestation_problem(TODAY, TODAY, RULES)
    assert training_attestation_problem(TODAY + dt.timedelta(days=400), TODAY, RULES)
    assert training_attestation_problem(TODAY + dt.timedelta(days=365), TODAY, RULES) is None
