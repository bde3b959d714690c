"""Scope policy: every role x relation x field, and no access without a relation.

ASVS 5.0: V8.2.1 (function-level access), V8.2.2 (data-specific access: an agent reaches only
the people tied to them), V8.2.3 (field-level access), V8.3.1 (enforced server-side).
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rempart.kernel.actors import OrgKind, Role
from rempart.kernel.categories import DataCategory, Purpose
from rempart.kernel.clock import months_before
from rempart.kernel.errors import Forbidden, InvalidRequest, NotFound
from rempart.people import scope
from rempart.people.model import Assignment, Enrolment, Relations
from tests.factories import TODAY, make_agent, make_person

C = DataCategory
RULES = scope.ScopeRules(enrolment_grace_months=6)

# The expected field matrix, written out independently of the implementation's table.
EXPECTED: dict[tuple[OrgKind, Role, str, Purpose], set[DataCategory]] = {
    (OrgKind.TRAINING_BODY, Role.TRAINING_MANAGER, "enrolment", Purpose.TRAINING_FOLLOW_UP): {
        C.IDENTITY,
        C.CONTACT,
        C.TRAINING,
    },
    (OrgKind.TRAINING_BODY, Role.TRAINING_MANAGER, "enrolment", Purpose.ENROLMENT): {
        C.IDENTITY,
        C.TRAINING,
    },
    (OrgKind.TRAINING_BODY, Role.TRAINING_MANAGER, "enrolment_ended", Purpose.TRAINING_FOLLOW_UP): {
        C.IDENTITY,
        C.TRAINING,
    },
    (OrgKind.MISSION_LOCALE, Role.ADVISOR, "assignment", Purpose.YOUTH_FOLLOW_UP): {
        C.IDENTITY,
        C.CONTACT,
        C.STATUS,
        C.FOLLOW_UP_NOTES,
    },
    (OrgKind.CAP_EMPLOI, Role.ADVISOR, "assignment", Purpose.EMPLOYMENT_SUPPORT): {
        C.IDENTITY,
        C.CONTACT,
        C.STATUS,
        C.FOLLOW_UP_NOTES,
        C.DISABILITY,
    },
    (OrgKind.AGENCY, Role.ADVISOR, "assignment", Purpose.EMPLOYMENT_SUPPORT): {
        C.IDENTITY,
        C.CONTACT,
        C.STATUS,
        C.NIR,
        C.FOLLOW_UP_NOTES,
        C.DISABILITY,
    },
}

FIELDS_OF = {
    C.IDENTITY: {"ft_id", "last_name", "first_name", "birth_date"},
    C.CONTACT: {"email", "phone", "postal_address"},
    C.NIR: {"nir"},
    C.STATUS: {
        "registration_status",
        "registration_date",
        "deregistration_date",
        "last_activity_date",
    },
    C.TRAINING: {"trainings"},
    C.FOLLOW_UP_NOTES: {"follow_up_notes"},
    C.DISABILITY: {"rqth_since"},
}


def relations_for(kind: str, agent_id: int, org_id: str, person_id: int) -> Relations:
    """Relations of the given kind between an agent (and its org) and a person."""
    if kind == "enrolment":
        e = Enrolment(
            1, 1, person_id, org_id, TODAY - dt.timedelta(days=10), TODAY + dt.timedelta(days=10)
        )
        return Relations(enrolments=(e,))
    if kind == "enrolment_ended":
        e = Enrolment(
            1, 1, person_id, org_id, TODAY - dt.timedelta(days=200), TODAY - dt.timedelta(days=60)
        )
        return Relations(enrolments=(e,))
    if kind == "assignment":
        a = Assignment(1, agent_id, person_id, org_id, TODAY - dt.timedelta(days=10), None)
        return Relations(assignments=(a,))
    return Relations()


RELATION_KINDS = ["enrolment", "enrolment_ended", "assignment", "none"]


@pytest.mark.parametrize(
    ("org_kind", "role", "relation", "purpose"),
    list(itertools.product(OrgKind, Role, RELATION_KINDS, Purpose)),
)
def test_every_role_relation_purpose_gives_exactly_the_expected_fields(
    org_kind: OrgKind, role: Role, relation: str, purpose: Purpose
) -> None:
    agent = make_agent(org_kind, {role})
    person = make_person()
    rels = relations_for(relation, agent.id, agent.org_id, person.id)
    expected = EXPECTED.get((org_kind, role, relation, purpose))
    if purpose not in scope.declarable_purposes(agent):
        # The purpose is refused before any record is looked at.
        if scope.declarable_purposes(agent):
            with pytest.raises(InvalidRequest):
                scope.resolve_purpose(agent, str(purpose))
        else:
            with pytest.raises(Forbidden):
                scope.resolve_purpose(agent, str(purpose))
        assert expected is None
        return
    if expected is None:
        with pytest.raises(NotFound):
            scope.decide(agent, rels, TODAY, purpose, RULES)
        return
    decision = scope.decide(agent, rels, TODAY, purpose, RULES)
    assert set(decision.categories) == expected
    record = scope.render_record(
        person, decision.categories, {"trainings": [], "follow_up_notes": []}
    )
    allowed_fields = set().union(*(FIELDS_OF[c] for c in expected))
    assert set(record) == allowed_fields


def test_training_bodies_never_get_nir_or_disability() -> None:
    for relation in scope.RelationKind:
        for purpose in Purpose:
            cats = scope.categories_for(OrgKind.TRAINING_BODY, relation, purpose)
            assert C.NIR not in cats
            assert C.DISABILITY not in cats


def test_disability_only_for_assigned_cap_emploi_or_agency_adviser() -> None:
    for kind in OrgKind:
        for relation in scope.RelationKind:
            for purpose in Purpose:
                if C.DISABILITY in scope.categories_for(kind, relation, purpose):
                    assert kind in {OrgKind.CAP_EMPLOI, OrgKind.AGENCY}
                    assert relation is scope.RelationKind.ASSIGNMENT


def test_withheld_fields_are_absent_not_masked() -> None:
    person = make_person()
    record = scope.render_record(person, frozenset({C.IDENTITY}))
    assert set(record) == FIELDS_OF[C.IDENTITY]
    assert person.nir not in repr(record)


def test_enrolment_grace_period_ends() -> None:
    agent = make_agent(OrgKind.TRAINING_BODY, {Role.TRAINING_MANAGER})
    ended = Enrolment(
        1, 1, 1, agent.org_id, TODAY - dt.timedelta(days=400), TODAY - dt.timedelta(days=190)
    )
    rels = Relations(enrolments=(ended,))
    with pytest.raises(NotFound):
        scope.decide(agent, rels, TODAY, Purpose.TRAINING_FOLLOW_UP, RULES)
    longer = scope.ScopeRules(enrolment_grace_months=12)
    assert scope.decide(agent, rels, TODAY, Purpose.TRAINING_FOLLOW_UP, longer).relation is (
        scope.RelationKind.ENROLMENT_ENDED
    )


def test_another_advisers_assignment_gives_nothing() -> None:
    agent = make_agent(OrgKind.MISSION_LOCALE, {Role.ADVISOR})
    colleague = Assignment(1, agent.id + 1000, 1, agent.org_id, TODAY - dt.timedelta(days=5), None)
    with pytest.raises(NotFound):
        scope.decide(
            agent, Relations(assignments=(colleague,)), TODAY, Purpose.YOUTH_FOLLOW_UP, RULES
        )


def test_months_before_clamps_to_month_end() -> None:
    assert months_before(dt.date(2026, 8, 31), 6) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2026, 1, 15), 1) == dt.date(2025, 12, 15)


dates = st.dates(
    min_value=TODAY - dt.timedelta(days=1500), max_value=TODAY + dt.timedelta(days=1500)
)


@st.composite
def enrolments(draw: st.DrawFn, org_ids: list[str]) -> Enrolment:
    start = draw(dates)
    end = draw(st.dates(min_value=start, max_value=start + dt.timedelta(days=800)))
    return Enrolment(draw(st.integers(1, 9)), 1, 1, draw(st.sampled_from(org_ids)), start, end)


@st.composite
def assignments(draw: st.DrawFn, agent_ids: list[int], org_ids: list[str]) -> Assignment:
    start = draw(dates)
    end = draw(st.none() | st.dates(min_value=start, max_value=start + dt.timedelta(days=800)))
    return Assignment(
        1, draw(st.sampled_from(agent_ids)), 1, draw(st.sampled_from(org_ids)), start, end
    )


@given(
    org_kind=st.sampled_from(list(OrgKind)),
    roles=st.sets(st.sampled_from(list(Role)), min_size=1, max_size=3),
    data=st.data(),
)
def test_no_agent_reaches_a_person_without_a_live_relation(
    org_kind: OrgKind, roles: set[Role], data: st.DataObject
) -> None:
    """Property: whatever the stored relations, a record is returned only when one of them is a
    live enrolment in the agent's own body (training managers) or a live assignment to the agent
    themself (advisers)."""
    agent = make_agent(org_kind, roles, id=7, org_id="ORG-A")
    org_ids = ["ORG-A", "ORG-B"]
    rels = Relations(
        enrolments=tuple(data.draw(st.lists(enrolments(org_ids), max_size=3))),
        assignments=tuple(data.draw(st.lists(assignments([7, 8], org_ids), max_size=3))),
    )
    today = data.draw(dates)
    purposes = scope.declarable_purposes(agent)
    if not purposes:
        assert scope.relation_of(agent, rels, today, RULES) is None
        return
    purpose = data.draw(st.sampled_from(purposes))
    grace_from = months_before(today, RULES.enrolment_grace_months)
    live_enrolment = (
        org_kind is OrgKind.TRAINING_BODY
        and Role.TRAINING_MANAGER in roles
        and any(
            e.org_id == "ORG-A" and e.start_date <= today and e.end_date >= grace_from
            for e in rels.enrolments
        )
    )
    live_assignment = Role.ADVISOR in roles and any(
        a.agent_id == 7
        and a.org_id == "ORG-A"
        and a.start_date <= today
        and (a.end_date is None or a.end_date >= today)
        for a in rels.assignments
    )
    try:
        decision = scope.decide(agent, rels, today, purpose, RULES)
    except NotFound:
        return
    assert live_enrolment or live_assignment
    assert C.IDENTITY in decision.categories
