"""Property tests of the identifiers that come from outside: ft_id, NIR, SIRET (ASVS 5.0
V2.2.1: input is validated against an allow-list of its format, V2.1.1: the rules are
documented in one place). Any text gives a clear yes or no, never an exception; the check
digits catch the errors people make when they copy a number."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rempart.kernel.errors import InvalidRequest
from rempart.kernel.identifiers import (
    FT_ID_LETTERS,
    ft_id_from_number,
    is_ft_id,
    is_valid_nir,
    is_valid_siret,
    make_nir,
    make_siret,
    parse_ft_id,
)

ASCII_DIGITS = "0123456789"
digits = st.text(alphabet=ASCII_DIGITS, min_size=1, max_size=20)
# Text a caller might send: anything, and near misses built from the right alphabet
# (Unicode digits and letters included: "٠١٢" is a digit for str.isdigit, not for us).
near_ft_ids = st.text(alphabet=ASCII_DIGITS + "AZaz٠١٢３IOQ \n", min_size=0, max_size=10)
any_text = st.one_of(st.text(max_size=40), near_ft_ids, digits)
nir_bodies = st.builds(
    lambda sex, rest: sex + rest,
    st.sampled_from("12"),
    st.text(alphabet=ASCII_DIGITS, min_size=12, max_size=12),
)
siret_bodies = st.text(alphabet=ASCII_DIGITS, min_size=13, max_size=13)


@given(any_text)
def test_parse_ft_id_accepts_exactly_seven_ascii_digits_and_a_capital(value: str) -> None:
    """Either the ft_id comes back unchanged, or InvalidRequest (a 400), nothing else."""
    expected = (
        len(value) == 8 and all(c in ASCII_DIGITS for c in value[:7]) and "A" <= value[7] <= "Z"
    )
    assert is_ft_id(value) is expected
    if expected:
        assert parse_ft_id(value) == value
    else:
        with pytest.raises(InvalidRequest):
            parse_ft_id(value)


@given(st.one_of(st.none(), st.integers(), st.binary(max_size=8), st.lists(st.text(max_size=8))))
def test_parse_ft_id_refuses_what_is_not_text(value: object) -> None:
    """A JSON number, null or list where an ft_id was expected is a 400, not a crash."""
    with pytest.raises(InvalidRequest):
        parse_ft_id(value)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=10**12))
def test_generated_ft_ids_are_well_formed_and_avoid_misread_letters(number: int) -> None:
    ft_id = ft_id_from_number(number)
    assert is_ft_id(ft_id)
    assert ft_id[7] in FT_ID_LETTERS
    assert not set("IOQ") & set(ft_id)


@given(nir_bodies)
def test_a_nir_with_its_key_is_valid(body: str) -> None:
    nir = make_nir(body)
    assert len(nir) == 15
    assert is_valid_nir(nir)


@given(nir_bodies, st.integers(min_value=0, max_value=14), st.sampled_from(ASCII_DIGITS))
def test_one_wrong_digit_in_a_nir_is_caught(body: str, where: int, digit: str) -> None:
    """The mod-97 key detects every single-digit error."""
    nir = make_nir(body)
    changed = nir[:where] + digit + nir[where + 1 :]
    assert is_valid_nir(changed) is (changed == nir)


@given(nir_bodies, st.integers(min_value=0, max_value=13))
def test_two_swapped_digits_in_a_nir_are_caught(body: str, where: int) -> None:
    """The mod-97 key detects every transposition of two neighbouring digits."""
    nir = make_nir(body)
    swapped = nir[:where] + nir[where + 1] + nir[where] + nir[where + 2 :]
    assert is_valid_nir(swapped) is (swapped == nir)


@given(any_text)
def test_any_text_is_a_nir_or_not_without_an_exception(value: str) -> None:
    valid = is_valid_nir(value)
    if valid:
        assert len(value) == 15
        assert all(c in ASCII_DIGITS for c in value)
        assert value[0] in "12"


@given(siret_bodies)
def test_a_siret_with_its_luhn_digit_is_valid(body: str) -> None:
    siret = make_siret(body)
    assert siret.startswith(body)
    assert is_valid_siret(siret)


@given(siret_bodies, st.integers(min_value=0, max_value=13), st.sampled_from(ASCII_DIGITS))
def test_one_wrong_digit_in_a_siret_is_caught(body: str, where: int, digit: str) -> None:
    """Luhn detects every single-digit error."""
    siret = make_siret(body)
    changed = siret[:where] + digit + siret[where + 1 :]
    assert is_valid_siret(changed) is (changed == siret)


@given(any_text)
def test_any_text_is_a_siret_or_not_without_an_exception(value: str) -> None:
    if is_valid_siret(value):
        assert len(value) == 14
        assert all(c in ASCII_DIGITS for c in value)
