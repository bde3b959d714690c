"""The synthetic population: deterministic, well-formed, and shaped as the design asks."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from functools import cache
from random import Random

import pytest
from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st

from rempart.kernel.actors import OrgKind, Role
from rempart.kernel.identifiers import is_ft_id, is_valid_nir, is_valid_siret
from rempart.people.model import PersonKind, RegistrationStatus
from rempart_bench.population import (
    BASE32,
    CHUNK,
    Chunk,
    Population,
    demo_password_hasher,
    hash_credentials,
    pareto_sizes,
    split_total,
)

TODAY = dt.date(2026, 11, 16)


@cache
def population(size: int, seed: int = 7) -> Population:
    return Population(size, seed, TODAY)


@cache
def all_rows(size: int, seed: int = 7) -> Chunk:
    """Every chunk of a population merged into one (small populations only)."""
    merged = Chunk()
    for chunk in population(size, seed).chunks():
        for name in ("persons", "enrolments", "assignments", "notes", "attendance"):
            getattr(merged, name).extend(getattr(chunk, name))
    return merged


def test_same_seed_same_population_and_another_seed_another() -> None:
    a = Population(3000, 11, TODAY)
    b = Population(3000, 11, TODAY)
    assert a.chunk(0) == b.chunk(0)
    assert a.organisation_rows() == b.organisation_rows()
    assert a.training_rows() == b.training_rows()
    assert list(a.session_rows()) == list(b.session_rows())
    assert a.credentials() == b.credentials()
    c = Population(3000, 12, TODAY)
    assert c.chunk(0).persons != a.chunk(0).persons
    assert c.credentials()[0].password != a.credentials()[0].password


def test_a_chunk_does_not_depend_on_the_chunks_before_it() -> None:
    size = 2 * CHUNK + 500
    first = Population(size, 3, TODAY)
    first.chunk(1)
    later = first.chunk(2)
    assert Population(size, 3, TODAY).chunk(2) == later


def test_nir_is_valid_and_matches_sex_birth_year_and_month() -> None:
    pop = population(3000)
    male = set(pop.pools.male_names) - set(pop.pools.female_names)
    female = set(pop.pools.female_names) - set(pop.pools.male_names)
    for p in all_rows(3000).persons:
        nir, birth = str(p["nir"]), p["birth_date"]
        assert isinstance(birth, dt.date)
        assert is_valid_nir(nir), nir
        assert nir[1:3] == f"{birth.year % 100:02d}"
        assert nir[3:5] == f"{birth.month:02d}"
        if p["first_name"] in male:
            assert nir[0] == "1"
        elif p["first_name"] in female:
            assert nir[0] == "2"


def test_ft_ids_are_unique_well_formed_and_spread_through_the_space() -> None:
    persons = all_rows(3000).persons
    ft_ids = [str(p["ft_id"]) for p in persons]
    assert all(is_ft_id(f) for f in ft_ids)
    assert len(set(ft_ids)) == len(ft_ids) == 3000
    numbers = sorted(int(f[:7]) for f in ft_ids)
    assert numbers[0] < 1_000_000
    assert numbers[-1] > 9_000_000
    assert len({f[-1] for f in ft_ids}) > 15  # many letters in use, not one block


def test_ft_ids_of_a_full_scale_population_are_unique() -> None:
    # The permutation depends on the seed alone: check it over six million ids.
    pop = population(3000)
    ids = range(1, 6_000_001, 97)
    ft_ids = {pop.ft_id(i) for i in ids}
    assert len(ft_ids) == len(ids)


def test_people_look_like_people() -> None:
    persons = all_rows(3000).persons
    kinds = Counter(p["kind"] for p in persons)
    assert kinds[PersonKind.YOUTH.value] == pytest.approx(3000 * 0.15, rel=0.05)
    for p in persons:
        birth = p["birth_date"]
        assert isinstance(birth, dt.date)
        age = (TODAY - birth).days / 365.25
        if p["kind"] == PersonKind.YOUTH.value:
            assert 16 <= age < 26
        else:
            assert 18 <= age < 65
        assert str(p["email"]).endswith(".example")  # reserved TLD: no real mailbox
        phone = str(p["phone"])
        assert len(phone) == 10
        assert phone[:2] in ("06", "07")
        assert phone.isdigit()
        assert len(str(p["postcode"])) == 5
        reg = p["registration_date"]
        assert isinstance(reg, dt.date)
        assert birth < reg <= TODAY
        last = p["last_activity_date"]
        assert isinstance(last, dt.date)
        assert reg <= last <= TODAY
        dereg = p["deregistration_date"]
        status = p["registration_status"]
        assert (dereg is not None) == (status == RegistrationStatus.DEREGISTERED.value)
    rqth = sum(p["rqth_since"] is not None for p in persons) / len(persons)
    assert 0.015 < rqth < 0.05


def test_in_training_status_matches_a_current_enrolment() -> None:
    rows = all_rows(3000)
    current = {
        e["person_id"]
        for e in rows.enrolments
        if isinstance(e["end_date"], dt.date)
        and isinstance(e["start_date"], dt.date)
        and e["end_date"] >= TODAY
    }
    trainings = {t.id: t for t in population(3000).trainings}
    running = {
        e["person_id"]
        for e in rows.enrolments
        if trainings[int(str(e["training_id"]))].start
        <= TODAY.toordinal()
        <= trainings[int(str(e["training_id"]))].end
    }
    in_training = {
        p["id"] for p in rows.persons if p["registration_status"] == RegistrationStatus.IN_TRAINING
    }
    assert in_training == running
    assert running <= current


def test_enrolments_mix_current_recently_ended_and_long_ago() -> None:
    ends = [e["end_date"] for e in all_rows(3000).enrolments]
    assert len(ends) == population(3000).totals.enrolments
    current = sum(1 for d in ends if isinstance(d, dt.date) and d >= TODAY)
    recent = sum(
        1 for d in ends if isinstance(d, dt.date) and TODAY - dt.timedelta(days=180) <= d < TODAY
    )
    old = len(ends) - current - recent
    assert current > recent > 0
    assert old > 0


def test_training_sessions_fall_on_weekdays_within_the_training() -> None:
    pop = population(3000)
    trainings = {t.id: t for t in pop.trainings}
    ids = []
    for s in pop.session_rows():
        day = s["day"]
        assert isinstance(day, dt.date)
        assert day.weekday() < 5
        t = trainings[int(str(s["training_id"]))]
        assert t.start <= day.toordinal() <= t.end
        ids.append(s["id"])
    assert ids == list(range(1, pop.session_count + 1))


def test_every_mission_locale_adviser_has_50_to_150_youths() -> None:
    size = 20_000  # large enough for tens of advisers
    pop = population(size)
    advisers = set(pop.mission_locale.agent_ids)
    youths = {p["id"] for p in all_rows(size).persons if p["kind"] == PersonKind.YOUTH.value}
    caseload: dict[object, set[object]] = defaultdict(set)
    for a in all_rows(size).assignments:
        if a["agent_id"] in advisers and a["end_date"] is None:
            assert a["person_id"] in youths
            caseload[a["agent_id"]].add(a["person_id"])
    assert len(advisers) >= 20
    assert set(caseload) == advisers
    assert all(50 <= len(people) <= 150 for people in caseload.values())
    assert sum(len(people) for people in caseload.values()) == pop.totals.youths_followed


def test_cap_emploi_follows_people_with_rqth_and_agencies_follow_job_seekers() -> None:
    size = 20_000
    pop = population(size)
    persons = {p["id"]: p for p in all_rows(size).persons}
    cap = set(pop.cap_emploi.agent_ids)
    agency = set(pop.agency.agent_ids)
    cap_people, agency_people = set(), set()
    for a in all_rows(size).assignments:
        if a["agent_id"] in cap:
            assert persons[a["person_id"]]["rqth_since"] is not None
            cap_people.add(a["person_id"])
        elif a["agent_id"] in agency:
            assert persons[a["person_id"]]["kind"] == PersonKind.JOB_SEEKER.value
            agency_people.add(a["person_id"])
    assert len(cap_people) == pop.totals.cap_emploi_followed
    assert len(agency_people) == pop.totals.agency_followed


def test_assignments_are_dated_and_ended_ones_precede_the_current_one() -> None:
    rows = all_rows(3000)
    by_person: dict[object, list[dict[str, object]]] = defaultdict(list)
    for a in rows.assignments:
        start, end = a["start_date"], a["end_date"]
        assert isinstance(start, dt.date)
        assert start <= TODAY
        assert end is None or (isinstance(end, dt.date) and start <= end)
        by_person[a["person_id"]].append(a)
    with_history = [v for v in by_person.values() if len(v) > 1]
    assert with_history  # some people were followed by a colleague before
    for history in with_history:
        assert len({h["org_id"] for h in history}) == 1
        assert len({h["agent_id"] for h in history}) == len(history)


def test_training_bodies_have_a_long_tail_of_sizes() -> None:
    size = 60_000
    pop = population(size)
    bodies = [o for o in pop.orgs if o.kind is OrgKind.TRAINING_BODY]
    assert len(bodies) == round(size / 150)
    trainees: Counter[str] = Counter()
    for t, prev, cum in zip(
        pop.trainings, [0, *pop.training_prefix], pop.training_prefix, strict=False
    ):
        trainees[t.org_id] += cum - prev
    sizes = sorted(trainees[b.id] for b in bodies)
    assert sum(sizes) == pop.totals.enrolments
    assert sizes[-1] > 10 * statistics.median(sizes)
    assert sizes[len(sizes) // 2] < statistics.mean(sizes)  # skewed: median below mean


def test_organisations_and_their_agents() -> None:
    pop = population(3000)
    sirets = [o.siret for o in pop.orgs]
    assert all(is_valid_siret(s) for s in sirets)
    assert len(set(sirets)) == len(sirets)
    kinds = Counter(o.kind for o in pop.orgs)
    assert set(kinds) == set(OrgKind)
    assert kinds[OrgKind.AGENCY] == 1
    roles_by_org: dict[str, Counter[Role]] = defaultdict(Counter)
    for agent in pop.agents:
        for role in agent.roles:
            roles_by_org[agent.org_id][role] += 1
    for org in pop.orgs:
        assert roles_by_org[org.id][Role.ACCOUNT_MANAGER] >= 2, org
        if org.kind is OrgKind.TRAINING_BODY:
            assert roles_by_org[org.id][Role.TRAINING_MANAGER] >= 1
        if org.kind in (OrgKind.MISSION_LOCALE, OrgKind.CAP_EMPLOI):
            assert roles_by_org[org.id][Role.ADVISOR] >= 1
    agency = next(o for o in pop.orgs if o.kind is OrgKind.AGENCY)
    for role in (Role.SECURITY_OFFICER, Role.DPO, Role.ADMIN, Role.ADVISOR):
        assert roles_by_org[agency.id][role] >= 1
    logins = [a.login for a in pop.agents]
    assert len(set(logins)) == len(logins)


def test_agents_dates() -> None:
    agents = population(20_000).agents
    created = [a.created_at for a in agents]
    assert all(c.tzinfo is not None and c.date() < TODAY for c in created)
    assert any(c.date() > TODAY - dt.timedelta(days=60) for c in created)
    assert any(c.date() < TODAY - dt.timedelta(days=3 * 365) for c in created)
    future = sum(a.training_valid_until >= TODAY for a in agents) / len(agents)
    assert 0.85 < future < 1


def test_credentials_are_strong_unique_and_reproducible() -> None:
    creds = population(3000).credentials()
    assert len(creds) == len(population(3000).agents)
    for c in creds:
        pw = c.password
        assert len(pw) >= 16
        assert any(ch.islower() for ch in pw)
        assert any(ch.isupper() for ch in pw)
        assert any(ch.isdigit() for ch in pw)
        assert any(not ch.isalnum() for ch in pw)
        assert len(c.totp_secret) == 32
        assert set(c.totp_secret) <= set(BASE32)
    assert len({c.password for c in creds}) == len(creds)
    assert len({c.totp_secret for c in creds}) == len(creds)
    assert len({c.salt for c in creds}) == len(creds)


def test_demo_hashes_verify_and_ask_for_a_rehash_at_production_cost() -> None:
    creds = population(3000).credentials()[:3]
    hashes = hash_credentials(creds)
    assert hashes == hash_credentials(creds)  # seeded salts: reproducible
    assert len(set(hashes)) == len(hashes)
    production = PasswordHasher()
    for c, h in zip(creds, hashes, strict=True):
        assert h.startswith("$argon2id$")
        assert production.verify(h, c.password)
        assert production.check_needs_rehash(h)
    assert not demo_password_hasher().check_needs_rehash(hashes[0])


def test_canaries_are_about_one_per_ten_thousand_and_scattered() -> None:
    size = 60_000
    canaries = Population(size, 7, TODAY).canary_ids
    assert len(canaries) == 6
    assert min(canaries) < size / 3
    assert max(canaries) > 2 * size / 3


def test_canaries_are_reached_by_no_relation() -> None:
    rows = all_rows(20_000)
    canaries = {p["id"] for p in rows.persons if p["is_canary"]}
    assert len(canaries) == population(20_000).totals.canaries == 5
    for table in (rows.enrolments, rows.assignments, rows.notes, rows.attendance):
        assert table
        assert not canaries & {r["person_id"] for r in table}
    canary_rows = [p for p in rows.persons if p["is_canary"]]
    assert all(p["registration_status"] != RegistrationStatus.IN_TRAINING for p in canary_rows)


def test_a_small_population_still_has_five_canaries() -> None:
    assert population(3000).totals.canaries == 5
    assert sum(bool(p["is_canary"]) for p in all_rows(3000).persons) == 5


def test_notes_and_attendance_belong_to_the_follow_up_and_the_training() -> None:
    pop = population(3000)
    rows = all_rows(3000)
    advisers = {
        login: org
        for pool in (pop.agency, pop.mission_locale, pop.cap_emploi)
        for login, org in zip(pool.logins, pool.org_ids, strict=True)
    }
    followed = {(a["person_id"], a["org_id"]) for a in rows.assignments}
    assert rows.notes
    for note in rows.notes:
        assert advisers[str(note["author_login"])] == note["org_id"]
        assert (note["person_id"], note["org_id"]) in followed
    enrolled = {e["person_id"] for e in rows.enrolments}
    assert rows.attendance
    assert {a["person_id"] for a in rows.attendance} <= enrolled


@given(
    total=st.integers(0, 5000),
    bounds=st.sampled_from([(50, 150), (100, 300), (8, 20), (10, 12)]),
    seed=st.integers(0, 1000),
)
def test_split_total_sums_exactly_within_bounds(
    total: int, bounds: tuple[int, int], seed: int
) -> None:
    lo, hi = bounds
    parts = split_total(total, lo, hi, Random(seed))
    assert sum(parts) == total
    assert all(p <= hi for p in parts)
    if total >= lo and hi >= 2 * lo - 1:
        assert all(p >= lo for p in parts)


@given(total=st.integers(0, 10_000), count=st.integers(1, 300), seed=st.integers(0, 1000))
def test_pareto_sizes_sum_exactly(total: int, count: int, seed: int) -> None:
    sizes = pareto_sizes(total, count, 1.3, Random(seed))
    assert len(sizes) == count
    assert sum(sizes) == total
    if total >= count:
        assert min(sizes) >= 1
