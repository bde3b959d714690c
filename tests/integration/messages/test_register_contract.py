"""``MemoryMessageRegister`` and ``SqlMessageRegister`` keep the register alike (SQLite,
PostgreSQL and the twin).

The messages' unit tests run on the twin; these assertions run on all three, so an idempotency
key still sends once, a message is still handed over once, and misses are still counted per
address and for everyone (ASVS V2.4.1 anti-automation, V16.3.x the register).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from rempart.db.uow import Database
from rempart.messages.adapters.memory import MemoryMessageRegister
from rempart.messages.adapters.sql import SqlMessageRegister
from rempart.messages.model import Channel, Check, OfficialMessage
from rempart.messages.ports import MessageRegister
from tests.factories import NOW
from tests.support.portal_db import BACKENDS, portal_database


@pytest.fixture(params=BACKENDS)
def register(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MessageRegister]:
    if request.param == "memory":
        yield MemoryMessageRegister()
        return
    db = portal_database(request, tmp_path)
    yield SqlMessageRegister(db)
    db.engine.dispose()


def entry(
    reference: str, *, ft_id: str = "0000001K", minutes: int = 0, key: str = ""
) -> OfficialMessage:
    return OfficialMessage(
        reference=reference,
        ft_id=ft_id,
        channel=Channel.EMAIL,
        subject="Votre dossier",
        content_hash="cd" * 32,
        body="Bonjour.\n\nRéférence : ABCD-EFGH-2345\n",
        registered_at=NOW + dt.timedelta(minutes=minutes),
        key=key,
    )


def test_an_entry_reads_back_by_reference_and_by_key(register: MessageRegister) -> None:
    assert register.add(entry("ABCDEFGH2345", key="incident:1:0000001K"))
    got = register.get("ABCDEFGH2345")
    assert got == entry("ABCDEFGH2345", key="incident:1:0000001K")
    assert got is not None
    assert got.registered_at.tzinfo is not None
    assert register.by_key("incident:1:0000001K") == got
    assert register.get("ZZZZZZZZZZZZ") is None
    assert register.by_key("other") is None


def test_a_key_is_taken_once(register: MessageRegister) -> None:
    assert register.add(entry("ABCDEFGH2345", key="k1"))
    assert not register.add(entry("ZYXWVUTS9876", key="k1"))
    assert register.get("ZYXWVUTS9876") is None
    # Entries without a key never collide.
    assert register.add(entry("AAAABBBBCCCC"))
    assert register.add(entry("DDDDEEEEFFFF"))


def test_a_message_is_handed_over_once_then_delivered(register: MessageRegister) -> None:
    register.add(entry("ABCDEFGH2345"))
    assert register.mark_sent("ABCDEFGH2345", NOW)
    assert not register.mark_sent("ABCDEFGH2345", NOW + dt.timedelta(seconds=1))
    assert not register.mark_sent("ZZZZZZZZZZZZ", NOW)
    register.mark_delivered("ABCDEFGH2345", NOW + dt.timedelta(seconds=2))
    got = register.get("ABCDEFGH2345")
    assert got is not None
    assert (got.sent_at, got.delivered_at) == (NOW, NOW + dt.timedelta(seconds=2))


def test_revoked_once(register: MessageRegister) -> None:
    register.add(entry("ABCDEFGH2345"))
    assert register.revoke("ABCDEFGH2345", NOW)
    assert not register.revoke("ABCDEFGH2345", NOW)
    assert not register.revoke("ZZZZZZZZZZZZ", NOW)
    got = register.get("ABCDEFGH2345")
    assert got is not None
    assert got.revoked_at == NOW


def test_a_persons_messages_newest_first(register: MessageRegister) -> None:
    register.add(entry("AAAAAAAAAAAA", minutes=0))
    register.add(entry("BBBBBBBBBBBB", minutes=5))
    register.add(entry("CCCCCCCCCCCC", ft_id="0000002K", minutes=7))
    assert [m.reference for m in register.of_person("0000001K", 10)] == [
        "BBBBBBBBBBBB",
        "AAAAAAAAAAAA",
    ]
    assert [m.reference for m in register.of_person("0000001K", 1)] == ["BBBBBBBBBBBB"]
    assert register.of_person("0000009Z", 10) == []


def test_misses_are_counted_per_address_and_for_everyone(register: MessageRegister) -> None:
    long = "x" * 80
    for minutes, address, genuine in (
        (0, "192.0.2.1", False),
        (1, "192.0.2.1", False),
        (2, "192.0.2.1", True),
        (3, "192.0.2.2", False),
        (4, long, False),
    ):
        register.add_check(Check(address, NOW + dt.timedelta(minutes=minutes), genuine))
    mine = register.misses_since(NOW, client_address="192.0.2.1")
    assert (mine.count, mine.last_at) == (2, NOW + dt.timedelta(minutes=1))
    assert (
        register.misses_since(NOW + dt.timedelta(minutes=1), client_address="192.0.2.1").count == 1
    )
    assert register.misses_since(NOW, client_address=long).count == 1  # kept to 64 characters
    everyone = register.misses_since(NOW)
    assert (everyone.count, everyone.last_at) == (4, NOW + dt.timedelta(minutes=4))
    assert register.misses_since(NOW + dt.timedelta(hours=1)).count == 0


@pytest.fixture(params=[b for b in BACKENDS if b != "memory"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    db = portal_database(request, tmp_path)
    yield db
    db.engine.dispose()


def test_a_taken_key_leaves_the_unit_of_work_usable(database: Database) -> None:
    register = SqlMessageRegister(database)
    register.add(entry("ABCDEFGH2345", key="k1"))
    with database.unit_of_work():
        assert not register.add(replace(entry("ZYXWVUTS9876"), key="k1"))
        assert register.add(entry("AAAABBBBCCCC"))
    assert register.get("AAAABBBBCCCC") is not None
    assert register.get("ZYXWVUTS9876") is None
