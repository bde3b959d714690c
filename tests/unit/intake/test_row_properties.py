"""Property tests of the import's CSV rows (``intake.model``), the agency's own files read
from outside: any row is a loaded row or ``Invalid`` naming a column, never another exception,
whatever the day the import runs; a refusal never quotes the value it refused, and a valid row
keeps its values (ASVS 5.0 V2.2.1 validated input, V2.2.3 combined data reasonable, V14.2.x
no personal data in reports)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rempart.intake.model import (
    COLUMNS,
    ImportFile,
    Invalid,
    parse_agent,
    parse_assignment,
    parse_enrolment,
    parse_org,
    parse_person,
    parse_training,
)
from rempart.kernel.identifiers import ft_id_from_number, make_nir, make_siret

PARSERS: dict[ImportFile, Callable[[Mapping[str, str], dt.date], Any]] = {
    ImportFile.ORGANISATIONS: parse_org,
    ImportFile.AGENTS: parse_agent,
    ImportFile.PERSONS: parse_person,
    ImportFile.TRAININGS: parse_training,
    ImportFile.ENROLMENTS: parse_enrolment,
    ImportFile.ASSIGNMENTS: parse_assignment,
}
days = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))
# Values a column might hold: anything, and the plausible shapes of every column's type.
plausible = st.one_of(
    st.text(max_size=40),
    days.map(dt.date.isoformat),
    st.dates().map(dt.date.isoformat),
    st.sampled_from(["", " ", "2024-02-30", "2024-13-01", "0000-00-00", "٢٠٢٤-٠١-٠١", "1e3"]),
    st.integers(min_value=0, max_value=10**8).map(ft_id_from_number),
    st.sampled_from(["job_seeker", "youth", "registered", "deregistered", "agency",
                     "training_body", "advisor", "admin", "advisor admin", "TRA-0001"]),
    st.text(alphabet="0123456789", min_size=13, max_size=13).map(make_siret),
    st.text(alphabet="0123456789", min_size=12, max_size=12).map(lambda b: make_nir("1" + b)),
)  # fmt: skip


VALID_PERSON = {
    "ft_id": "0412345K",
    "kind": "job_seeker",
    "nir": make_nir("1850175123456"),
    "last_name": "Martin",
    "first_name": "Léa",
    "birth_date": "1985-01-17",
    "email": "lea.martin@example.fr",
    "phone": "06 12 34 56 78",
    "address_line": "3 rue de la Paix",
    "postcode": "75002",
    "city": "Paris",
    "registration_status": "registered",
    "registration_date": "2024-03-01",
    "deregistration_date": "",
    "rqth_since": "",
}
VALID_ROW_LEAP = dict(VALID_PERSON)


def rows(file: ImportFile) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(dict.fromkeys(COLUMNS[file], plausible))


@given(st.sampled_from(list(ImportFile)).flatmap(lambda f: st.tuples(st.just(f), rows(f))), days)
@example((ImportFile.PERSONS, VALID_ROW_LEAP), dt.date(2028, 2, 29))
@settings(max_examples=600)
def test_any_row_is_loaded_or_refused_by_column_whatever_the_day(
    file_row: tuple[ImportFile, dict[str, str]], today: dt.date
) -> None:
    file, row = file_row
    try:
        PARSERS[file](row, today)
    except Invalid as exc:
        refused: Invalid | None = exc
    else:
        refused = None
    if refused is not None:
        assert refused.column in COLUMNS[file]
        # The report travels between teams: it names the rule, never the value (a NIR, a
        # birth date, a phone number, an address).
        for value in row.values():
            v = value.strip()
            if sum(c.isdigit() for c in v) >= 6 or "@" in v:
                assert v not in refused.reason


@given(days.filter(lambda d: d >= dt.date(2024, 3, 1)))
@example(dt.date(2028, 2, 29))
def test_a_valid_person_is_loaded_on_any_day_after_their_registration(today: dt.date) -> None:
    """February 29th included: a year from a leap day is not a date to compute carelessly."""
    person = parse_person(VALID_PERSON, today)
    assert person.ft_id == "0412345K"


@given(days)
@example(dt.date(2028, 2, 29))
def test_dates_a_year_ahead_are_the_limit_on_any_day(today: dt.date) -> None:
    row = dict(VALID_PERSON, registration_status="registered")
    training = {"id": "7", "org_id": "TRA-0001", "title": "Soudure", "start_date": "",
                "end_date": ""}  # fmt: skip
    start = today.isoformat()
    try:
        later = today.replace(year=today.year + 1)
    except ValueError:  # February 29th: a year later is March 1st
        later = dt.date(today.year + 1, 3, 1)
    ok = parse_training(dict(training, start_date=start, end_date=start), today)
    assert ok.start_date == today
    too_far = dict(training, start_date=start, end_date=(later + dt.timedelta(days=1)).isoformat())
    with pytest.raises(Invalid) as caught:
        parse_training(too_far, today)
    assert caught.value.column == "end_date"
    assert row["registration_status"] == "registered"
