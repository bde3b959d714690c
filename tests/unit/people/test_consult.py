"""Consulting people on memory twins: a record read limited by role, purpose and relation;
the exact lookup; the portfolio and its export; the journal written before data returns.

ASVS 5.0 V8.2.1 (function-level: roles without people are refused), V8.2.2 (data-specific: a
person is reached only through a relation; unknown and out-of-scope answer the same 404, no
IDOR oracle), V8.2.3 (field-level: a withheld field is absent), V8.3.1 (decided in the service
layer), V16.3.2 (every decision, refusals included, is journaled; data leaves only once it is).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

import pytest

from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.model import JournalEntry
from rempart.kernel.categories import DataCategory as C
from rempart.kernel.errors import (
    AccessSuspended,
    BudgetExhausted,
    Forbidden,
    InvalidRequest,
    NotFound,
)
from rempart.kernel.exposure import Exposure, GuardRequest
from rempart.kernel.identifiers import ft_id_from_number
from rempart.kernel.tags import Decision, Tag
from rempart.people.adapters.memory import MemoryExposureGuard, MemoryPeople
from rempart.people.service.consult import (
    consult_person,
    export_portfolio,
    lookup_person,
    portfolio_page,
)
from tests.factories import NOW, TODAY, MemoryWorld
from tests.unit.people.conftest import ContextFor, UseCaseDeps, only_entry, tags

UNKNOWN = ft_id_from_number(999_999)
IDENTITY = {"ft_id", "last_name", "first_name", "birth_date"}
CONTACT = {"email", "phone", "postal_address"}
STATUS = {"registration_status", "registration_date", "deregistration_date", "last_activity_date"}


def ft(world: MemoryWorld, name: str) -> str:
    return world.persons[name].ft_id


# -- a record read, limited by role, purpose and relation ------------------------------------


def test_a_training_manager_reads_a_current_trainee_without_nir_nor_disability(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    record = consult_person(deps, ctx_for("tm.dupont"), ft(world, "trainee"), None)
    assert set(record) == IDENTITY | CONTACT | {"trainings", "purpose"}
    assert record["purpose"] == "training_follow_up"
    assert [t["title"] for t in record["trainings"]] == ["Soudure"]
    assert record["birth_date"] == world.persons["trainee"].birth_date.isoformat()


def test_the_declared_purpose_narrows_the_fields(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    record = consult_person(deps, ctx_for("tm.dupont"), ft(world, "trainee"), "enrolment")
    assert set(record) == IDENTITY | {"trainings", "purpose"}


def test_after_the_training_ended_only_what_reporting_needs(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    """Within the grace months the trainee is still reached, without contact details."""
    record = consult_person(deps, ctx_for("tm.dupont"), ft(world, "trainee_ended"), None)
    assert set(record) == IDENTITY | {"trainings", "purpose"}
    assert only_entry(deps.journal).reason == "enrolment_ended"


def test_the_cap_emploi_adviser_reads_disability_but_not_the_nir(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    record = consult_person(deps, ctx_for("cap.adv"), ft(world, "cap_person"), None)
    assert set(record) == IDENTITY | CONTACT | STATUS | {"follow_up_notes", "rqth_since", "purpose"}
    assert record["rqth_since"] == "2024-03-01"


def test_only_the_agencys_own_adviser_reads_the_nir(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    record = consult_person(deps, ctx_for("ag.adv"), ft(world, "agency_person"), None)
    assert record["nir"] == world.persons["agency_person"].nir
    assert {"rqth_since", "follow_up_notes"} <= set(record)


def test_follow_up_notes_are_the_readers_organisations_only(
    deps: UseCaseDeps, store: MemoryPeople, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    youth = world.persons["youth"]
    store.add_note(youth.id, world.orgs["Mission Locale Nord"], "ml.adv1", NOW, "ours")
    store.add_note(youth.id, world.orgs["Cap emploi 75"], "cap.adv", NOW, "theirs")
    record = consult_person(deps, ctx_for("ml.adv1"), youth.ft_id, None)
    assert [n["text"] for n in record["follow_up_notes"]] == ["ours"]
    assert "rqth_since" not in record
    assert "nir" not in record


@pytest.mark.parametrize(
    ("login", "name"),
    [
        ("tm.martin", "trainee"),  # another training body's trainee
        ("tm.dupont", "trainee_long_ended"),  # ended before the grace months
        ("ml.adv2", "youth"),  # same organisation, another adviser's person
        ("ag.adv", "stranger"),  # nothing ties them
    ],
)
def test_out_of_scope_and_unknown_answer_the_same_not_found(
    deps: UseCaseDeps,
    guard: MemoryExposureGuard,
    world: MemoryWorld,
    ctx_for: ContextFor,
    login: str,
    name: str,
) -> None:
    """Same error, same text, the same request shown to the guard: no way to tell them apart."""
    ctx = ctx_for(login)
    with pytest.raises(NotFound) as out_of_scope:
        consult_person(deps, ctx, ft(world, name), None)
    with pytest.raises(NotFound) as unknown:
        consult_person(deps, ctx, UNKNOWN, None)
    assert str(out_of_scope.value) == str(unknown.value)
    assert out_of_scope.value.args == unknown.value.args
    seen, unseen = guard.requests
    assert (seen.kind, seen.exposed, seen.found, seen.canary) == (
        unseen.kind,
        unseen.exposed,
        unseen.found,
        unseen.canary,
    )
    assert (seen.exposed, seen.found) == ((), False)
    first, second = deps.journal.entries
    assert (first.tag, first.decision, first.reason) == (
        Tag.PORTAL_PERSON_READ,
        Decision.NOT_FOUND,
        "no relation",
    )
    assert (second.decision, second.reason, second.persons) == (
        Decision.NOT_FOUND,
        "unknown",
        (UNKNOWN,),
    )
    assert first.categories == second.categories == ()


def test_roles_that_do_not_consult_people_are_refused_before_any_read(
    deps: UseCaseDeps, guard: MemoryExposureGuard, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    for login in ("am.dupont", "ag.sec", "ag.dpo", "ag.admin"):
        with pytest.raises(Forbidden):
            consult_person(deps, ctx_for(login), ft(world, "agency_person"), None)
    assert guard.requests == []


def test_a_purpose_the_role_may_not_declare_is_invalid(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    with pytest.raises(InvalidRequest, match="may not be declared"):
        consult_person(deps, ctx_for("ml.adv1"), ft(world, "youth"), "training_follow_up")
    with pytest.raises(InvalidRequest, match="unknown purpose"):
        consult_person(deps, ctx_for("ml.adv1"), ft(world, "youth"), "curiosity")
    with pytest.raises(InvalidRequest, match="ft_id"):
        consult_person(deps, ctx_for("ml.adv1"), "12345", None)
    assert deps.journal.entries == []


def test_the_gate_runs_before_any_person_is_read(
    deps: UseCaseDeps,
    store: MemoryPeople,
    guard: MemoryExposureGuard,
    world: MemoryWorld,
    ctx_for: ContextFor,
) -> None:
    store.suspend_organisation(world.orgs["Mission Locale Nord"])
    with pytest.raises(AccessSuspended):
        consult_person(deps, ctx_for("ml.adv1"), ft(world, "youth"), None)
    assert guard.requests == []
    assert deps.journal.entries == []


# -- canaries --------------------------------------------------------------------------------


def test_the_guard_is_told_a_canary_was_touched_in_scope_or_not(
    deps: UseCaseDeps, guard: MemoryExposureGuard, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    canary = world.person("canary", 5001, is_canary=True)
    world.assign("canary", "ml.adv1", "Mission Locale Nord", TODAY - dt.timedelta(days=3))
    consult_person(deps, ctx_for("ml.adv1"), canary.ft_id, None)
    with pytest.raises(NotFound):
        consult_person(deps, ctx_for("ml.adv2"), canary.ft_id, None)
    assert [(r.canary, r.found) for r in guard.requests] == [(True, True), (True, False)]
    assert [r.canary for r in guard.requests if r.asked == (UNKNOWN,)] == []


def test_a_guard_hiding_a_canary_answers_the_ordinary_not_found(
    deps: UseCaseDeps, journal: MemoryJournal, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    """The inline guard turns a canary into a 404: no data, and only its refusal journaled."""
    canary = world.person("canary", 5001, is_canary=True)
    world.assign("canary", "ml.adv1", "Mission Locale Nord", TODAY - dt.timedelta(days=3))
    hiding = replace(deps, guard=MemoryExposureGuard(journal=journal, refusal=NotFound()))
    with pytest.raises(NotFound) as hidden:
        consult_person(hiding, ctx_for("ml.adv1"), canary.ft_id, None)
    assert str(hidden.value) == str(NotFound())
    assert tags(journal) == [Tag.GUARD_REQUEST_DENIED]


# -- the journal, the guard, and the order they come in ------------------------------------


def test_a_read_is_journaled_with_its_relation_categories_and_purpose(
    deps: UseCaseDeps, guard: MemoryExposureGuard, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    ctx = ctx_for("cap.adv")
    consult_person(deps, ctx, ft(world, "cap_person"), None)
    entry = only_entry(deps.journal)
    assert (entry.tag, entry.decision, entry.reason, entry.purpose) == (
        Tag.PORTAL_PERSON_READ,
        Decision.ALLOW,
        "assignment",
        "employment_support",
    )
    assert entry.persons == (ft(world, "cap_person"),)
    assert set(entry.categories) == {
        C.IDENTITY,
        C.CONTACT,
        C.STATUS,
        C.FOLLOW_UP_NOTES,
        C.DISABILITY,
    }
    assert (entry.agent_login, entry.org_id, entry.session_id) == (
        "cap.adv",
        ctx.org.id,
        ctx.session_id,
    )
    [asked] = guard.requests
    assert replace(asked, scope_size=None) == GuardRequest(
        Exposure.READ,
        asked=(ft(world, "cap_person"),),
        exposed=(ft(world, "cap_person"),),
        found=True,
        canary=False,
    )
    assert asked.scope_size is not None
    assert asked.scope_size() >= 1  # the guard may ask how many people the scope holds


class JournalDown(MemoryJournal):
    """A journal whose durable commit fails; remembers what the guard had seen by then."""

    def __init__(self, guard: MemoryExposureGuard) -> None:
        super().__init__()
        self.guard = guard
        self.guard_requests_at_append: list[int] = []

    def append(self, entries: Sequence[JournalEntry]) -> int:
        self.guard_requests_at_append.append(len(self.guard.requests))
        raise OSError("journal unreachable")


def test_no_record_leaves_when_its_journal_entry_cannot_be_written(
    deps: UseCaseDeps, guard: MemoryExposureGuard, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    """The entry is written after the guard admitted the read and before the record returns."""
    down = JournalDown(guard)
    broken = replace(deps, journal=down)
    with pytest.raises(OSError, match="journal unreachable"):
        consult_person(broken, ctx_for("tm.dupont"), ft(world, "trainee"), None)
    assert down.guard_requests_at_append == [1]


def test_a_refusing_guard_stops_the_record_and_its_refusal_is_the_journaled_entry(
    deps: UseCaseDeps, journal: MemoryJournal, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    """As today: the data path writes no read entry; the guard journals its refusal and raises."""
    refusing = MemoryExposureGuard(journal=journal, refusal=BudgetExhausted("budget", 60))
    stopped = replace(deps, guard=refusing)
    with pytest.raises(BudgetExhausted):
        consult_person(stopped, ctx_for("tm.dupont"), ft(world, "trainee"), None)
    entry = only_entry(journal)
    assert (entry.tag, entry.decision, entry.persons) == (
        Tag.GUARD_REQUEST_DENIED,
        Decision.DENY,
        (ft(world, "trainee"),),
    )
    assert [r.kind for r in refusing.requests] == [Exposure.READ]


# -- the exact lookup ------------------------------------------------------------------------


def test_the_lookup_needs_both_the_ft_id_and_the_birth_date(
    deps: UseCaseDeps, guard: MemoryExposureGuard, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    """Outside scope, the right pair gives the minimal fields; anything else gives nothing."""
    stranger = world.persons["stranger"]
    ctx = ctx_for("tm.dupont")
    assert lookup_person(deps, ctx, stranger.ft_id, stranger.birth_date) == [
        {
            "ft_id": stranger.ft_id,
            "last_name": stranger.last_name,
            "first_name": stranger.first_name,
        }
    ]
    wrong_day = stranger.birth_date + dt.timedelta(days=1)
    assert lookup_person(deps, ctx, stranger.ft_id, wrong_day) == []
    assert lookup_person(deps, ctx, UNKNOWN, stranger.birth_date) == []
    decisions = [(e.tag, e.decision, e.categories) for e in deps.journal.entries]
    assert decisions == [
        (Tag.PORTAL_PERSON_LOOKUP, Decision.ALLOW, (C.IDENTITY,)),
        (Tag.PORTAL_PERSON_LOOKUP, Decision.NOT_FOUND, ()),
        (Tag.PORTAL_PERSON_LOOKUP, Decision.NOT_FOUND, ()),
    ]
    assert [(r.kind, r.found, r.exposed) for r in guard.requests] == [
        (Exposure.LOOKUP, True, (stranger.ft_id,)),
        (Exposure.LOOKUP, False, ()),
        (Exposure.LOOKUP, False, ()),
    ]


def test_the_lookup_never_finds_a_canary(
    deps: UseCaseDeps, guard: MemoryExposureGuard, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    canary = world.person("canary", 5001, is_canary=True)
    assert lookup_person(deps, ctx_for("tm.dupont"), canary.ft_id, canary.birth_date) == []
    [asked] = guard.requests
    assert (asked.canary, asked.found) == (True, False)


def test_the_lookup_is_refused_to_roles_without_people(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    stranger = world.persons["stranger"]
    with pytest.raises(Forbidden):
        lookup_person(deps, ctx_for("am.dupont"), stranger.ft_id, stranger.birth_date)
    assert deps.journal.entries == []


def test_a_refused_lookup_returns_nothing(
    deps: UseCaseDeps, journal: MemoryJournal, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    stranger = world.persons["stranger"]
    refusing = MemoryExposureGuard(journal=journal, refusal=Forbidden("guard"))
    stopped = replace(deps, guard=refusing)
    with pytest.raises(Forbidden):
        lookup_person(stopped, ctx_for("tm.dupont"), stranger.ft_id, stranger.birth_date)
    assert tags(journal) == [Tag.GUARD_REQUEST_DENIED]


# -- the portfolio and its export ------------------------------------------------------------


def add_trainees(world: MemoryWorld, count: int) -> None:
    for i in range(count):
        name = f"extra{i}"
        world.person(name, 6000 + i)
        world.enrol(name, "Soudure", "Formations Dupont", TODAY - dt.timedelta(days=1), TODAY)


def test_the_portfolio_pages_by_name_and_says_when_there_is_more(
    deps: UseCaseDeps, guard: MemoryExposureGuard, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    add_trainees(world, 3)  # 5 people in all: the trainee, the ended one, three more
    ctx = ctx_for("tm.dupont")
    pages = [portfolio_page(deps, ctx, n, 2) for n in (1, 2, 3)]
    assert [p.next_page for p in pages] == [2, 3, None]
    names = [i["last_name"] for p in pages for i in p.items]
    assert names == sorted(names)
    assert len(names) == 5
    assert set(pages[0].items[0]) == {"ft_id", "last_name", "first_name"}
    assert [r.kind for r in guard.requests] == [Exposure.LIST] * 3
    assert guard.requests[0].exposed == tuple(i["ft_id"] for i in pages[0].items)
    entry = deps.journal.entries[0]
    assert (entry.tag, entry.details) == (Tag.PORTAL_PORTFOLIO_LIST, {"page": 1, "size": 2})
    assert entry.persons == tuple(i["ft_id"] for i in pages[0].items)


def test_an_exact_last_page_has_no_next_one(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    page = portfolio_page(deps, ctx_for("tm.dupont"), 1, 2)
    assert (len(page.items), page.next_page) == (2, None)
    empty = portfolio_page(deps, ctx_for("tm.dupont"), 9, 2)
    assert (empty.items, empty.next_page) == ([], None)
    assert deps.journal.entries[-1].categories == ()


@pytest.mark.parametrize(("page", "size"), [(0, 10), (-1, 10), (1, 0), (1, 101)])
def test_the_portfolio_pages_from_one_and_holds_one_to_a_hundred(
    deps: UseCaseDeps, ctx_for: ContextFor, page: int, size: int
) -> None:
    with pytest.raises(InvalidRequest):
        portfolio_page(deps, ctx_for("tm.dupont"), page, size)
    assert deps.journal.entries == []


def test_a_hundred_is_the_largest_page(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    add_trainees(world, 110)
    page = portfolio_page(deps, ctx_for("tm.dupont"), 1, 100)
    assert (len(page.items), page.next_page) == (100, 2)


def test_roles_without_people_have_no_portfolio_nor_export(
    deps: UseCaseDeps, ctx_for: ContextFor
) -> None:
    with pytest.raises(Forbidden):
        portfolio_page(deps, ctx_for("ag.sec"), 1, 10)
    with pytest.raises(Forbidden):
        export_portfolio(deps, ctx_for("ag.dpo"))


def test_the_export_is_the_whole_portfolio_journaled_as_one_export(
    deps: UseCaseDeps, guard: MemoryExposureGuard, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    add_trainees(world, 3)
    ctx = ctx_for("tm.dupont")
    rows = export_portfolio(deps, ctx)
    assert len(rows) == 5
    assert all(set(r) == {"ft_id", "last_name", "first_name"} for r in rows)
    [asked] = guard.requests
    assert (asked.kind, asked.exposed) == (Exposure.EXPORT, tuple(r["ft_id"] for r in rows))
    entry = only_entry(deps.journal)
    assert (entry.tag, entry.details, entry.categories) == (
        Tag.PORTAL_ROSTER_EXPORT,
        {"rows": 5},
        (C.IDENTITY,),
    )


def test_a_refused_export_returns_no_row(
    deps: UseCaseDeps, journal: MemoryJournal, ctx_for: ContextFor
) -> None:
    refusing = MemoryExposureGuard(journal=journal, refusal=Forbidden("export ceiling"))
    stopped = replace(deps, guard=refusing)
    with pytest.raises(Forbidden, match="export ceiling"):
        export_portfolio(stopped, ctx_for("tm.dupont"))
    assert tags(journal) == [Tag.GUARD_REQUEST_DENIED]


def test_only_roles_that_enrol_use_the_exact_lookup(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    """A leaked (ft_id, birth date) pair answers names only to those who enrol people."""
    stranger = world.persons["stranger"]
    for login in ("ml.adv1", "cap.adv"):
        with pytest.raises(Forbidden, match="only roles that enrol"):
            lookup_person(deps, ctx_for(login), stranger.ft_id, stranger.birth_date)
    assert lookup_person(deps, ctx_for("tm.dupont"), stranger.ft_id, stranger.birth_date)
