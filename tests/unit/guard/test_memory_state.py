"""The memory state's record-read admission (one person) answers as its general case does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.guard.adapters.memory_state import MemoryGuardState
from rempart.guard.state import Window

WINDOWS = (
    Window("agent:a:hour", 60, 4),
    Window("agent:a:day", 300, 6),
    Window("org:o:day", 300, 5),
    Window("vel:a", 20, 10**9),
)

reads = st.lists(
    st.tuples(st.integers(0, 30), st.sampled_from(["p1", "p2", "p3", "p4", "p5", "p6", "p7"])),
    min_size=1,
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(reads)
def test_one_person_at_a_time_is_admitted_exactly_as_a_list_of_them(
    steps: list[tuple[int, str]],
) -> None:
    fast, general = MemoryGuardState(), MemoryGuardState()
    now = 0.0
    for gap, person in steps:
        now += gap
        # A list naming the same person twice takes the general path (it deduplicates first).
        assert fast.admit(WINDOWS, [person], now) == general.admit(WINDOWS, [person, person], now)
    for w in WINDOWS:
        assert fast.distinct(w.key, w.seconds, now) == general.distinct(w.key, w.seconds, now)
