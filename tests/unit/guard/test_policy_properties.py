"""Property tests of the guard's policy file, read from outside at start (ASVS 5.0 V13.1.1
configuration documented and validated, V2.2.1 validated input): any text yields a policy or
a PolicyError, never another exception; any value given is the value the guard runs with."""

from __future__ import annotations

import dataclasses
import math
import re

from hypothesis import given
from hypothesis import strategies as st

from rempart.guard.policy import BudgetPolicy, DetectorPolicy, GuardPolicy, parse_policy
from rempart.kernel.errors import PolicyError

SECTIONS = {"budgets": BudgetPolicy, "detectors": DetectorPolicy}
KEYS = {name: [f.name for f in dataclasses.fields(cls)] for name, cls in SECTIONS.items()}
toml_values = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.sampled_from(["true", '"60"', "[1, 2]", "{a = 1}", "1979-05-27", "nan", "inf", "-0"]),
)


def _document(lines: list[tuple[str, str, str]]) -> str:
    out: list[str] = []
    for section in dict.fromkeys(s for s, _, _ in lines):
        out.append(f"[{section}]")
        out.extend(f"{k} = {v}" for s, k, v in lines if s == section)
    return "\n".join(out) + "\n"


def _parse(text: str) -> GuardPolicy | PolicyError:
    try:
        return parse_policy(text)
    except PolicyError as exc:
        return exc


@given(st.text(max_size=300))
def test_any_text_is_a_policy_or_a_policy_error(text: str) -> None:
    result = _parse(text)
    assert isinstance(result, GuardPolicy | PolicyError)


known_lines = st.lists(
    st.sampled_from(sorted(SECTIONS)).flatmap(
        lambda s: st.tuples(st.just(s), st.sampled_from(KEYS[s]), toml_values)
    ),
    max_size=6,
    unique_by=lambda t: (t[0], t[1]),
)


@given(known_lines)
def test_known_keys_with_any_value_are_taken_or_refused_by_line(
    lines: list[tuple[str, str, str]],
) -> None:
    """A value the guard accepts is the one it runs with; a refusal names a line of the file."""
    text = _document(lines)
    result = _parse(text)
    if isinstance(result, PolicyError):
        found = re.match(r"line (\d+): ", str(result))
        assert found, str(result)
        assert 1 <= int(found.group(1)) <= text.count("\n")
        return
    for section, key, _ in lines:
        value = getattr(getattr(result, section), key)
        assert isinstance(value, int | float)
        assert not isinstance(value, bool)
        assert value >= 0
        assert math.isfinite(value)


@given(
    st.sampled_from(sorted(SECTIONS)).flatmap(
        lambda s: st.tuples(st.just(s), st.sampled_from(KEYS[s]))
    ),
    st.sampled_from(["nan", "inf", "+inf", "-nan"]),
)
def test_a_threshold_that_is_not_a_finite_number_is_refused(
    where: tuple[str, str], value: str
) -> None:
    """``margin = nan`` would pass every bound check (nan compares false) and no budget would
    ever be reached: refused, naming the line."""
    result = _parse(_document([(*where, value)]))
    assert isinstance(result, PolicyError)
    assert str(result).startswith("line 2: ")


@given(
    st.sampled_from(sorted(SECTIONS)),
    st.text(alphabet=st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12),
)
def test_an_unknown_key_is_refused(section: str, key: str) -> None:
    text = _document([(section, key, "1")])
    result = _parse(text)
    if key in KEYS[section]:
        return  # a real key, covered above
    assert isinstance(result, PolicyError)
    assert "unknown key" in str(result)


@given(st.text(min_size=1, max_size=12).filter(lambda s: s not in SECTIONS))
def test_an_unknown_section_is_refused(name: str) -> None:
    quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    result = _parse(f"[{quoted}]\nx = 1\n")
    assert isinstance(result, PolicyError)
