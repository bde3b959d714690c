"""Contract of ``SessionStore`` and ``SessionRevocations``: memory twin and SQL agree on what
ends a session and what each end reports (ASVS V7.4.1 server-side end, V7.4.5 revocation,
V7.2.4 one session per sign-in)."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace

import pytest
from sqlalchemy.exc import IntegrityError

from rempart.signin.model import Session
from tests.factories import NOW
from tests.integration.signin.conftest import ORG_A, ORG_B, Backend


def session(backend: Backend, n: int, login: str = "tm.dupont", **extra: object) -> Session:
    agent_id = backend.agents[login]
    org = ORG_B if login == "ml.adv1" else ORG_A
    values: dict[str, object] = {
        "key": f"{n:064d}",
        "public_id": f"pub-{n}",
        "agent_id": agent_id,
        "org_id": backend.orgs[org],
        "method": "password+totp",
        "created_at": NOW + dt.timedelta(minutes=n),
        "last_seen_at": NOW + dt.timedelta(minutes=n),
        "expires_at": NOW + dt.timedelta(hours=10),
        "fresh_until": NOW + dt.timedelta(minutes=n + 5),
        "address": "192.0.2.10",
        "network": "AS:TEST/FR",
        "country": "FR",
        "user_agent": "Firefox",
    }
    values.update(extra)
    return Session(**values)  # type: ignore[arg-type]


def test_create_and_get(backend: Backend) -> None:
    """A stored session comes back as it was, live; long client fields are cut to size."""
    s = session(backend, 1, enrol_only=True, user_agent="U" * 600, address="A" * 80)
    backend.sessions.create(s)
    got = backend.sessions.get(s.key)
    assert got is not None
    assert got.user_agent == "U" * 512
    assert got.address == "A" * 64
    assert got == replace(s, user_agent="U" * 512, address="A" * 64)
    assert got.ended_at is None
    assert got.end_reason == ""
    assert got.enrol_only
    assert backend.sessions.get("9" * 64) is None


def test_holder_brings_the_account_and_its_organisation(backend: Backend) -> None:
    """The request path's one read: the session, its account, its organisation, and none of
    the account's secrets (ASVS V6.4: read only where they are verified)."""
    s = session(backend, 1)
    backend.sessions.create(s)
    backend.enrol(s.agent_id, password_hash="h", totp_secret="JBSWY3DPEHPK3PXP", locked=True)
    held = backend.sessions.holder(s.key)
    assert held is not None
    assert held.session == s
    creds = backend.credentials.credentials_by_id(s.agent_id)
    assert creds is not None
    assert held.agent == creds.agent
    assert held.locked
    assert not hasattr(held, "credentials")
    assert "JBSWY3DPEHPK3PXP" not in repr(held)
    assert held.org == backend.directory.organisation(backend.orgs[ORG_A])
    backend.sessions.end(s.key, NOW, "logout")
    ended = backend.sessions.holder(s.key)
    assert ended is not None
    assert ended.session.end_reason == "logout"
    assert backend.sessions.holder("9" * 64) is None


def test_keys_and_public_ids_are_unique(backend: Backend) -> None:
    """A second session with a taken key or public id is refused."""
    backend.sessions.create(session(backend, 1))
    with pytest.raises((ValueError, IntegrityError)):
        backend.sessions.create(session(backend, 2, public_id="pub-1"))


def test_touch_moves_last_seen_of_live_sessions_only(backend: Backend) -> None:
    """Activity is noted on a live session; an ended one stays as it ended."""
    s = session(backend, 1)
    backend.sessions.create(s)
    later = NOW + dt.timedelta(minutes=20)
    backend.sessions.touch(s.key, later)
    assert backend.sessions.get(s.key).last_seen_at == later  # type: ignore[union-attr]
    backend.sessions.end(s.key, later, "logout")
    backend.sessions.touch(s.key, later + dt.timedelta(minutes=5))
    assert backend.sessions.get(s.key).last_seen_at == later  # type: ignore[union-attr]


def test_set_fresh_until(backend: Backend) -> None:
    """A step-up moves the freshness window."""
    s = session(backend, 1)
    backend.sessions.create(s)
    until = NOW + dt.timedelta(hours=1)
    backend.sessions.set_fresh_until(s.key, until)
    assert backend.sessions.get(s.key).fresh_until == until  # type: ignore[union-attr]


def test_end_once_with_its_reason(backend: Backend) -> None:
    """A session ends once: the first reason and time stay."""
    s = session(backend, 1)
    backend.sessions.create(s)
    at = NOW + dt.timedelta(minutes=30)
    assert backend.sessions.end(s.key, at, "network_changed")
    assert not backend.sessions.end(s.key, at + dt.timedelta(minutes=1), "logout")
    got = backend.sessions.get(s.key)
    assert got is not None
    assert (got.ended_at, got.end_reason) == (at, "network_changed")
    assert not backend.sessions.end("9" * 64, at, "logout")


def test_end_public(backend: Backend) -> None:
    """The guard ends a session by the id journals show; once."""
    s = session(backend, 1)
    backend.sessions.create(s)
    assert backend.sessions.end_public("pub-1", NOW, "revoked_by_guard")
    assert not backend.sessions.end_public("pub-1", NOW, "revoked_by_guard")
    assert not backend.sessions.end_public("pub-404", NOW, "revoked_by_guard")
    assert backend.sessions.get(s.key).end_reason == "revoked_by_guard"  # type: ignore[union-attr]


def test_end_all_of_an_agent_except_one(backend: Backend) -> None:
    """Ends the agent's live sessions but the one kept; returns them as they were."""
    for n in (1, 2, 3):
        backend.sessions.create(session(backend, n))
    backend.sessions.create(session(backend, 4, login="am.dupont"))
    backend.sessions.end(f"{3:064d}", NOW, "logout")
    at = NOW + dt.timedelta(hours=1)
    ended = backend.sessions.end_all(
        at, "revoked_by_user", agent_id=backend.agents["tm.dupont"], except_key=f"{2:064d}"
    )
    assert [s.public_id for s in ended] == ["pub-1"]
    assert ended[0].ended_at is None  # what it was before it ended
    assert backend.sessions.get(f"{1:064d}").end_reason == "revoked_by_user"  # type: ignore[union-attr]
    assert backend.sessions.get(f"{2:064d}").ended_at is None  # type: ignore[union-attr]
    assert backend.sessions.get(f"{3:064d}").end_reason == "logout"  # type: ignore[union-attr]
    assert backend.sessions.get(f"{4:064d}").ended_at is None  # type: ignore[union-attr]


def test_end_all_of_an_organisation(backend: Backend) -> None:
    """Ends every live session of the organisation's agents, nobody else's."""
    backend.sessions.create(session(backend, 1))
    backend.sessions.create(session(backend, 2, login="am.dupont"))
    backend.sessions.create(session(backend, 3, login="ml.adv1"))
    ended = backend.sessions.end_all(NOW, "revoked_by_administrator", org_id=backend.orgs[ORG_A])
    assert sorted(s.public_id for s in ended) == ["pub-1", "pub-2"]
    assert backend.sessions.get(f"{3:064d}").ended_at is None  # type: ignore[union-attr]
    both = backend.sessions.end_all(
        NOW, "x", agent_id=backend.agents["ml.adv1"], org_id=backend.orgs[ORG_A]
    )
    assert both == []  # the filters combine: that agent is not in that organisation


def test_end_all_needs_a_target(backend: Backend) -> None:
    """Ending "all sessions" of nobody in particular is a programming error."""
    backend.sessions.create(session(backend, 1))
    with pytest.raises(ValueError, match="agent or an organisation"):
        backend.sessions.end_all(NOW, "x")
    assert backend.sessions.get(f"{1:064d}").ended_at is None  # type: ignore[union-attr]


def test_live_of_newest_first_without_ended_or_expired(backend: Backend) -> None:
    """Live means not ended and before the absolute end (idle time is the service's rule)."""
    backend.sessions.create(session(backend, 1))
    backend.sessions.create(session(backend, 2))
    backend.sessions.create(session(backend, 3, expires_at=NOW + dt.timedelta(minutes=30)))
    backend.sessions.create(session(backend, 4))
    backend.sessions.create(session(backend, 5, login="am.dupont"))
    backend.sessions.end(f"{4:064d}", NOW, "logout")
    now = NOW + dt.timedelta(minutes=30)
    live = backend.sessions.live_of(backend.agents["tm.dupont"], now)
    assert [s.public_id for s in live] == ["pub-2", "pub-1"]


def test_racing_ends_have_one_winner(backend: Backend) -> None:
    """A logout racing a revocation: one of them ends the session."""
    s = session(backend, 1)
    backend.sessions.create(s)
    results: list[bool] = []
    start = threading.Barrier(4)

    def attempt(i: int) -> None:
        start.wait()
        if i % 2:
            results.append(backend.sessions.end(s.key, NOW, "logout"))
        else:
            results.append(backend.sessions.end_public("pub-1", NOW, "revoked_by_guard"))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
