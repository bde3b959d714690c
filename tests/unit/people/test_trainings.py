"""The training follow-up app and follow-up notes on memory twins.

ASVS 5.0 V8.2.1 (only a training body's training managers use the app; only assigned advisers
write notes), V8.2.2 (another body's training or session, a person not enrolled, a person not
followed: 404), V8.3.1 (decided in the service layer), V16.3.2 (journaled before any write or
any data leaves; a refused request leaves nothing behind).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

import pytest

from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.model import JournalEntry
from rempart.kernel.actors import App
from rempart.kernel.categories import DataCategory as C
from rempart.kernel.errors import AccessSuspended, Forbidden, InvalidRequest, NotFound
from rempart.kernel.exposure import Exposure
from rempart.kernel.identifiers import ft_id_from_number
from rempart.kernel.tags import Decision, Tag
from rempart.people.adapters.memory import MemoryExposureGuard, MemoryPeople
from rempart.people.model import AttendanceMark
from rempart.people.service.consult import consult_person
from rempart.people.service.trainings import (
    add_follow_up_note,
    confirm_enrolment,
    enrol_person,
    list_trainings,
    record_attendance,
    session_attendance,
    training_detail,
)
from tests.factories import NOW, TODAY, MemoryWorld
from tests.unit.people.conftest import ContextFor, UseCaseDeps, only_entry, tags


class JournalDown(MemoryJournal):
    """A journal whose durable commit fails."""

    def append(self, entries: Sequence[JournalEntry]) -> int:
        raise OSError("journal unreachable")


def refusing(deps: UseCaseDeps, journal: MemoryJournal) -> UseCaseDeps:
    """The same deps behind a guard that refuses everything (and journals it)."""
    return replace(deps, guard=MemoryExposureGuard(journal=journal, refusal=Forbidden("guard")))


# -- who uses the app ------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["am.dupont", "ml.adv1", "ag.adv", "ag.admin"])
def test_only_a_training_bodys_training_managers_use_the_app(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor, login: str
) -> None:
    ctx = ctx_for(login)
    with pytest.raises(Forbidden, match="training managers"):
        list_trainings(deps, ctx)
    with pytest.raises(Forbidden):
        training_detail(deps, ctx, world.trainings["Soudure"])
    with pytest.raises(Forbidden):
        session_attendance(deps, ctx, world.sessions["Soudure#1"])


def test_the_app_switched_off_stops_its_training_managers(
    deps: UseCaseDeps, store: MemoryPeople, ctx_for: ContextFor
) -> None:
    store.set_app_enabled(App.TRAINING_FOLLOW_UP, None, False)
    with pytest.raises(AccessSuspended):
        list_trainings(deps, ctx_for("tm.dupont"))


# -- trainings and sessions ------------------------------------------------------------------


def test_the_trainings_list_is_the_callers_bodys_newest_first(
    deps: UseCaseDeps, ctx_for: ContextFor
) -> None:
    got = list_trainings(deps, ctx_for("tm.dupont"))
    assert [t["title"] for t in got] == ["Soudure", "Bureautique", "Anglais"]
    assert got[0]["start_date"] == (TODAY - dt.timedelta(days=30)).isoformat()
    assert set(got[0]) == {"id", "title", "start_date", "end_date"}
    assert [t["title"] for t in list_trainings(deps, ctx_for("tm.martin"))] == ["Cuisine"]


def test_a_trainings_detail_has_its_sessions_and_its_enrolled_people_by_name_only(
    deps: UseCaseDeps, guard: MemoryExposureGuard, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    trainee = world.persons["trainee"]
    got = training_detail(deps, ctx_for("tm.dupont"), world.trainings["Soudure"])
    assert [s["label"] for s in got["sessions"]] == ["Séance 1", "Séance 2"]
    assert [e["ft_id"] for e in got["enrolled"]] == [trainee.ft_id]
    assert set(got["enrolled"][0]) == {"ft_id", "last_name", "first_name", "start_date", "end_date"}
    [asked] = guard.requests
    assert (asked.kind, asked.exposed) == (Exposure.LIST, (trainee.ft_id,))
    entry = only_entry(deps.journal)
    assert (entry.tag, entry.persons, entry.details) == (
        Tag.PORTAL_SESSION_ROSTER,
        (trainee.ft_id,),
        {"training_id": world.trainings["Soudure"]},
    )


def test_another_bodys_training_or_session_is_not_found(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    ctx = ctx_for("tm.dupont")
    for training_id in (world.trainings["Cuisine"], 999_999):
        with pytest.raises(NotFound):
            training_detail(deps, ctx, training_id)
    for session_id in (world.sessions["Cuisine#1"], 999_999):
        with pytest.raises(NotFound):
            session_attendance(deps, ctx, session_id)
        with pytest.raises(NotFound):
            record_attendance(deps, ctx, session_id, {})
    assert deps.journal.entries == []


def test_a_refused_roster_shows_nobody(
    deps: UseCaseDeps, journal: MemoryJournal, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    stopped = refusing(deps, journal)
    with pytest.raises(Forbidden, match="guard"):
        training_detail(stopped, ctx_for("tm.dupont"), world.trainings["Soudure"])
    with pytest.raises(Forbidden, match="guard"):
        session_attendance(stopped, ctx_for("tm.dupont"), world.sessions["Soudure#1"])
    assert tags(journal) == [Tag.GUARD_REQUEST_DENIED] * 2


# -- attendance ------------------------------------------------------------------------------


def test_attendance_is_recorded_then_shown_on_the_roster(
    deps: UseCaseDeps, store: MemoryPeople, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    ctx, sid = ctx_for("tm.dupont"), world.sessions["Soudure#1"]
    trainee = world.persons["trainee"]
    before = session_attendance(deps, ctx, sid)
    assert before["attendance"][0]["mark"] is None
    assert before["training"] == {"id": world.trainings["Soudure"], "title": "Soudure"}
    assert record_attendance(deps, ctx, sid, {trainee.ft_id: "present"}) == {
        "session_id": sid,
        "recorded": 1,
    }
    after = session_attendance(deps, ctx, sid)
    assert [(a["ft_id"], a["mark"]) for a in after["attendance"]] == [(trainee.ft_id, "present")]
    assert store.attendance_of(sid) == {trainee.id: AttendanceMark.PRESENT}
    write = deps.journal.entries[1]
    assert (write.tag, write.persons, write.categories, write.details) == (
        Tag.PORTAL_ATTENDANCE_WRITE,
        (trainee.ft_id,),
        (C.TRAINING,),
        {"session_id": sid},
    )


@pytest.mark.parametrize(
    ("who", "mark", "error"),
    [
        ("youth", "present", NotFound),  # not enrolled in this training
        ("stranger", "late", InvalidRequest),
        ("1234", "present", InvalidRequest),  # not an ft_id
    ],
)
def test_one_bad_mark_and_none_is_recorded(
    deps: UseCaseDeps,
    store: MemoryPeople,
    world: MemoryWorld,
    ctx_for: ContextFor,
    who: str,
    mark: str,
    error: type[Exception],
) -> None:
    """A good mark beside a bad one is not kept either: the request is taken whole or not."""
    world.enrol("stranger", "Soudure", "Formations Dupont", TODAY, TODAY + dt.timedelta(days=60))
    sid = world.sessions["Soudure#1"]
    bad = world.persons[who].ft_id if who in world.persons else who
    marks = {world.persons["trainee"].ft_id: "absent", bad: mark}
    with pytest.raises(error):
        record_attendance(deps, ctx_for("tm.dupont"), sid, marks)
    assert store.attendance_of(sid) == {}
    assert deps.journal.entries == []


def test_at_most_five_hundred_marks_at_once(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    marks = {ft_id_from_number(i): "present" for i in range(501)}
    with pytest.raises(InvalidRequest, match="500"):
        record_attendance(deps, ctx_for("tm.dupont"), world.sessions["Soudure#1"], marks)


def test_no_mark_is_stored_unless_its_journal_entry_is(
    deps: UseCaseDeps, store: MemoryPeople, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    sid, trainee = world.sessions["Soudure#1"], world.persons["trainee"]
    with pytest.raises(OSError, match="journal unreachable"):
        record_attendance(
            replace(deps, journal=JournalDown()),
            ctx_for("tm.dupont"),
            sid,
            {trainee.ft_id: "present"},
        )
    assert store.attendance_of(sid) == {}


# -- enrolment by the exact lookup -----------------------------------------------------------


def test_a_person_is_enrolled_with_their_ft_id_and_birth_date(
    deps: UseCaseDeps, guard: MemoryExposureGuard, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    """The enrolment starts today in a running training and ends with it; twice is once."""
    stranger, tid = world.persons["stranger"], world.trainings["Soudure"]
    ctx = ctx_for("tm.dupont")
    got = enrol_person(deps, ctx, tid, stranger.ft_id, stranger.birth_date)
    assert got == {
        "training_id": tid,
        "ft_id": stranger.ft_id,
        "last_name": stranger.last_name,
        "first_name": stranger.first_name,
        "start_date": TODAY.isoformat(),
        "end_date": (TODAY + dt.timedelta(days=60)).isoformat(),
        "confirmed": False,
    }
    assert enrol_person(deps, ctx, tid, stranger.ft_id, stranger.birth_date) == got
    enrolled = [p.ft_id for _, p in world.store.enrolments_of_training(tid)]
    assert enrolled.count(stranger.ft_id) == 1
    assert [(r.kind, r.found) for r in guard.requests] == [(Exposure.LOOKUP, True)] * 2
    entry = deps.journal.entries[0]
    assert (entry.tag, entry.decision, entry.categories) == (
        Tag.PORTAL_ENROLMENT_CREATE,
        Decision.ALLOW,
        (C.IDENTITY, C.TRAINING),
    )


def test_an_enrolment_in_a_training_yet_to_start_starts_with_it(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    start = TODAY + dt.timedelta(days=10)
    tid = world.training("Plomberie", "Formations Dupont", start, start + dt.timedelta(days=20))
    stranger = world.persons["stranger"]
    got = enrol_person(deps, ctx_for("tm.dupont"), tid, stranger.ft_id, stranger.birth_date)
    assert got["start_date"] == start.isoformat()


def test_a_wrong_birth_date_an_unknown_person_or_a_canary_enrol_nobody(
    deps: UseCaseDeps, store: MemoryPeople, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    """The same 404 each time, journaled as not found; nothing is written."""
    stranger, tid = world.persons["stranger"], world.trainings["Soudure"]
    canary = world.person("canary", 7001, is_canary=True)
    attempts = [
        (stranger.ft_id, stranger.birth_date + dt.timedelta(days=1)),
        (ft_id_from_number(999_999), stranger.birth_date),
        (canary.ft_id, canary.birth_date),
    ]
    for ft_id, birth_date in attempts:
        with pytest.raises(NotFound):
            enrol_person(deps, ctx_for("tm.dupont"), tid, ft_id, birth_date)
    assert [(e.tag, e.decision) for e in deps.journal.entries] == [
        (Tag.PORTAL_ENROLMENT_CREATE, Decision.NOT_FOUND)
    ] * 3
    assert len(store.enrolments_of_training(tid)) == 1


def test_no_enrolment_in_an_ended_or_another_bodys_training(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    stranger = world.persons["stranger"]
    ctx = ctx_for("tm.dupont")
    with pytest.raises(InvalidRequest, match="ended"):
        enrol_person(deps, ctx, world.trainings["Bureautique"], stranger.ft_id, stranger.birth_date)
    with pytest.raises(NotFound):
        enrol_person(deps, ctx, world.trainings["Cuisine"], stranger.ft_id, stranger.birth_date)


def test_a_refused_or_unjournaled_enrolment_writes_nothing(
    deps: UseCaseDeps,
    journal: MemoryJournal,
    store: MemoryPeople,
    world: MemoryWorld,
    ctx_for: ContextFor,
) -> None:
    stranger, tid = world.persons["stranger"], world.trainings["Soudure"]
    ctx = ctx_for("tm.dupont")
    with pytest.raises(Forbidden, match="guard"):
        enrol_person(refusing(deps, journal), ctx, tid, stranger.ft_id, stranger.birth_date)
    assert tags(journal) == [Tag.GUARD_REQUEST_DENIED]
    with pytest.raises(OSError, match="journal unreachable"):
        enrol_person(
            replace(deps, journal=JournalDown()), ctx, tid, stranger.ft_id, stranger.birth_date
        )
    assert store.relations(stranger.id, ctx.agent).enrolments == ()


# -- follow-up notes -------------------------------------------------------------------------


def test_the_assigned_adviser_writes_a_note(
    deps: UseCaseDeps, store: MemoryPeople, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    youth = world.persons["youth"]
    got = add_follow_up_note(deps, ctx_for("ml.adv1"), youth.ft_id, "  Rendez-vous pris.  ")
    assert got == {"written_at": NOW.isoformat(), "author": "ml.adv1", "text": "Rendez-vous pris."}
    [note] = store.notes_of(youth.id, world.orgs["Mission Locale Nord"])
    assert (note.author_login, note.text) == ("ml.adv1", "Rendez-vous pris.")
    entry = only_entry(deps.journal)
    assert (entry.tag, entry.persons, entry.categories, entry.purpose) == (
        Tag.PORTAL_NOTE_WRITE,
        (youth.ft_id,),
        (C.FOLLOW_UP_NOTES,),
        "youth_follow_up",
    )


@pytest.mark.parametrize(
    ("login", "name"),
    [
        ("ml.adv2", "youth"),  # same organisation, not their person
        ("ml.adv1", "cap_person"),  # nothing ties them
        ("tm.dupont", "trainee"),  # a training body keeps no follow-up notes
        ("ml.adv1", None),  # nobody has this ft_id
    ],
)
def test_a_note_about_someone_not_followed_is_not_found(
    deps: UseCaseDeps,
    store: MemoryPeople,
    world: MemoryWorld,
    ctx_for: ContextFor,
    login: str,
    name: str | None,
) -> None:
    ft_id = world.persons[name].ft_id if name else ft_id_from_number(999_999)
    with pytest.raises(NotFound):
        add_follow_up_note(deps, ctx_for(login), ft_id, "note")
    assert deps.journal.entries == []
    for p in world.persons.values():
        for org in world.orgs.values():
            assert store.notes_of(p.id, org) == []


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001])
def test_a_note_holds_one_to_four_thousand_characters(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor, text: str
) -> None:
    with pytest.raises(InvalidRequest, match="4000"):
        add_follow_up_note(deps, ctx_for("ml.adv1"), world.persons["youth"].ft_id, text)


def test_roles_without_people_write_no_note(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    with pytest.raises(Forbidden):
        add_follow_up_note(deps, ctx_for("ag.sec"), world.persons["agency_person"].ft_id, "x")


def test_no_note_is_stored_unless_its_journal_entry_is(
    deps: UseCaseDeps, store: MemoryPeople, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    youth = world.persons["youth"]
    with pytest.raises(OSError, match="journal unreachable"):
        add_follow_up_note(
            replace(deps, journal=JournalDown()), ctx_for("ml.adv1"), youth.ft_id, "x"
        )
    assert store.notes_of(youth.id, world.orgs["Mission Locale Nord"]) == []


def test_the_gate_stops_a_note_at_once(
    deps: UseCaseDeps, store: MemoryPeople, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    store.set_enrolment_pending(world.agents["ml.adv1"], True)
    with pytest.raises(AccessSuspended):
        add_follow_up_note(deps, ctx_for("ml.adv1"), world.persons["youth"].ft_id, "x")


def test_a_roster_of_a_training_ended_long_ago_lists_nobody(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    """Rosters follow the records' grace rule: a training that ended 700 days ago no longer
    lists its trainees' names; one that ended within the grace period still does."""
    long_ago = training_detail(deps, ctx_for("tm.dupont"), world.trainings["Anglais"])
    assert long_ago["enrolled"] == []
    assert world.persons["trainee_long_ended"].ft_id not in str(long_ago)
    recent = training_detail(deps, ctx_for("tm.dupont"), world.trainings["Bureautique"])
    assert [e["ft_id"] for e in recent["enrolled"]] == [world.persons["trainee_ended"].ft_id]


class Notices:
    """The person's mailbox, as people's use cases reach it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send_code(self, ft_id: str, subject: str, body: str, code: str) -> None:
        assert code in body
        self.sent.append((ft_id, subject, code))


def test_an_enrolment_from_a_lookup_opens_no_contact_data_until_the_person_confirms(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    """A leaked (ft_id, birth date) pair enrols, but the record shows no contact data until the
    person gives back the code sent to the address on file; a wrong code is refused, counted,
    journaled; the right one confirms (ASVS V8.2.2: data access by relation, least data)."""
    notices = Notices()
    deps = replace(deps, notices=notices)
    stranger, tid = world.persons["stranger"], world.trainings["Soudure"]
    ctx = ctx_for("tm.dupont")
    enrol_person(deps, ctx, tid, stranger.ft_id, stranger.birth_date)
    [(to, _subject, code)] = notices.sent
    assert to == stranger.ft_id
    record = consult_person(deps, ctx, stranger.ft_id, None)
    assert {"email", "phone", "postal_address"}.isdisjoint(record)
    assert record["ft_id"] == stranger.ft_id
    wrong = "0" * 8 if code != "0" * 8 else "1" * 8
    with pytest.raises(InvalidRequest):
        confirm_enrolment(deps, ctx, tid, stranger.ft_id, wrong)
    assert "email" not in consult_person(deps, ctx, stranger.ft_id, None)
    assert confirm_enrolment(deps, ctx, tid, stranger.ft_id, code)["confirmed"] is True
    assert consult_person(deps, ctx, stranger.ft_id, None)["email"] == stranger.email
    decisions = [
        e.decision for e in deps.journal.entries if e.tag is Tag.PORTAL_ENROLMENT_CONFIRMED
    ]
    assert decisions == [Decision.DENY, Decision.ALLOW]


def test_a_confirmation_code_is_good_a_few_times_only(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    """Five wrong codes and even the right one is refused: no guessing the 8 digits."""
    notices = Notices()
    deps = replace(deps, notices=notices)
    stranger, tid = world.persons["stranger"], world.trainings["Soudure"]
    ctx = ctx_for("tm.dupont")
    enrol_person(deps, ctx, tid, stranger.ft_id, stranger.birth_date)
    code = notices.sent[0][2]
    for n in range(5):
        guess = f"{(int(code) + n + 1) % 10**8:08d}"
        with pytest.raises(InvalidRequest):
            confirm_enrolment(deps, ctx, tid, stranger.ft_id, guess)
    with pytest.raises(InvalidRequest):
        confirm_enrolment(deps, ctx, tid, stranger.ft_id, code)


def test_the_agencys_enrolments_are_confirmed_relations(
    deps: UseCaseDeps, world: MemoryWorld, ctx_for: ContextFor
) -> None:
    """The agency's prescription (seeded or imported enrolments) opens the contact data."""
    trainee = world.persons["trainee"]
    assert consult_person(deps, ctx_for("tm.dupont"), trainee.ft_id, None)["email"] == trainee.email
