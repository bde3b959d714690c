"""``MemoryCitizenStore`` and ``SqlCitizenStore`` keep codes, sessions and flags alike.

The citizen service's unit tests run on the twin; these assertions run on both, so a code
still works once, its tries are still counted, and a flag is still kept once (ASVS V6.3.1,
V6.4.x: one-time codes with bounded attempts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from rempart.citizen.adapters.memory import MemoryCitizenStore
from rempart.citizen.adapters.sql import SqlCitizenStore
from rempart.citizen.model import CitizenChallenge, CitizenFlag, CitizenSession
from rempart.citizen.ports import CitizenStore
from tests.factories import NOW
from tests.support.portal_db import BACKENDS, portal_database


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CitizenStore]:
    if request.param == "memory":
        yield MemoryCitizenStore()
        return
    db = portal_database(request, tmp_path)
    yield SqlCitizenStore(db)
    db.engine.dispose()


def challenge(
    cid: str,
    ft_id: str = "0000001K",
    address: str = "192.0.2.1",
    minutes: int = 0,
    pair: str = "p1" * 32,
) -> CitizenChallenge:
    at = NOW + dt.timedelta(minutes=minutes)
    return CitizenChallenge(
        id=cid,
        ft_id=ft_id,
        client_address=address,
        created_at=at,
        expires_at=at + dt.timedelta(minutes=10),
        code_hash="ab" * 32,
        pair_key=pair,
    )


def test_a_challenge_reads_back(store: CitizenStore) -> None:
    store.add_challenge(challenge("c1", address="x" * 80))
    got = store.challenge("c1")
    assert got is not None
    assert got == challenge("c1", address="x" * 64)  # the address is kept to 64 characters
    assert got.created_at.tzinfo is not None
    assert store.challenge("nope") is None


def test_challenges_are_counted_per_pair_and_per_address(store: CitizenStore) -> None:
    """Per (ft_id, birth date) pair and per address: a wrong birth date's requests (another
    pair, same ft_id) do not count against the real person's (pentest finding 5)."""
    store.add_challenge(challenge("c1", minutes=0))
    store.add_challenge(challenge("c2", minutes=5))
    store.add_challenge(challenge("c3", pair="p2" * 32, minutes=7))  # same ft_id, wrong date
    store.add_challenge(challenge("c4", address="198.51.100.9", minutes=9))
    per_pair = store.challenges_since(NOW, pair_key="p1" * 32)
    assert (per_pair.count, per_pair.last_at) == (3, NOW + dt.timedelta(minutes=9))
    per_address = store.challenges_since(NOW + dt.timedelta(minutes=1), client_address="192.0.2.1")
    assert (per_address.count, per_address.last_at) == (2, NOW + dt.timedelta(minutes=7))
    none = store.challenges_since(NOW + dt.timedelta(hours=1), pair_key="p1" * 32)
    assert (none.count, none.last_at) == (0, None)


def test_tries_are_counted_and_a_code_is_used_once(store: CitizenStore) -> None:
    store.add_challenge(challenge("c1"))
    assert [store.record_attempt("c1") for _ in range(3)] == [1, 2, 3]
    got = store.challenge("c1")
    assert got is not None
    assert got.attempts == 3
    assert store.consume("c1", NOW) is True
    assert store.consume("c1", NOW) is False
    used = store.challenge("c1")
    assert used is not None
    assert used.consumed_at == NOW
    assert store.consume("unknown", NOW) is False


def test_sessions(store: CitizenStore) -> None:
    s = CitizenSession("t" * 64, "c" * 64, "0000001K", NOW, NOW + dt.timedelta(minutes=15))
    store.add_session(s)
    assert store.session("t" * 64) == s
    assert store.session("u" * 64) is None
    store.end_session("t" * 64)
    assert store.session("t" * 64) is None
    store.end_session("t" * 64)  # ending twice is harmless


def test_a_flag_is_kept_once_per_person_and_entry(store: CitizenStore) -> None:
    assert store.flagged("0000001K", 7) is False
    assert store.add_flag(CitizenFlag("0000001K", 7, NOW, "not me", 3)) is True
    assert store.add_flag(CitizenFlag("0000001K", 7, NOW, "again", 4)) is False
    assert store.flagged("0000001K", 7) is True
    assert store.flagged("0000002K", 7) is False
    assert store.add_flag(CitizenFlag("0000002K", 7, NOW)) is True
