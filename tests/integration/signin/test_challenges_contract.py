"""Contract of ``ChallengeStore``: a pending ceremony step is taken at most once (ASVS V6.5.1),
in the memory twin as in SQL."""

from __future__ import annotations

import datetime as dt
import threading

from rempart.signin.model import Challenge, ChallengeKind
from tests.factories import NOW
from tests.integration.signin.conftest import Backend


def challenge(backend: Backend, key: str = "k" * 64, **extra: object) -> Challenge:
    values: dict[str, object] = {
        "key": key,
        "kind": ChallengeKind.MFA,
        "agent_id": backend.agents["tm.dupont"],
        "created_at": NOW,
        "expires_at": NOW + dt.timedelta(minutes=5),
        "network": "AS:TEST/FR",
        "user_agent": "Firefox",
        "payload": {"methods": "totp webauthn"},
    }
    values.update(extra)
    return Challenge(**values)  # type: ignore[arg-type]


def test_put_and_get(backend: Backend) -> None:
    """What was stored comes back as it was."""
    c = challenge(backend)
    backend.challenges.put(c)
    assert backend.challenges.get(c.key) == c
    assert backend.challenges.get("x" * 64) is None


def test_update_records_attempts_and_payload(backend: Backend) -> None:
    """Attempts and ceremony data change; the rest stays; unknown keys are ignored."""
    c = challenge(backend)
    backend.challenges.put(c)
    backend.challenges.update(c.key, attempts=2, payload={"methods": "totp", "webauthn": "abc"})
    got = backend.challenges.get(c.key)
    assert got is not None
    assert (got.attempts, dict(got.payload)) == (2, {"methods": "totp", "webauthn": "abc"})
    assert (got.kind, got.network, got.expires_at) == (c.kind, c.network, c.expires_at)
    backend.challenges.update("x" * 64, attempts=1, payload={})
    assert backend.challenges.get("x" * 64) is None


def test_take_succeeds_once(backend: Backend) -> None:
    """Only the first take wins; the challenge is gone after it."""
    c = challenge(backend)
    backend.challenges.put(c)
    assert backend.challenges.take(c.key)
    assert not backend.challenges.take(c.key)
    assert backend.challenges.get(c.key) is None


def test_racing_takes_have_one_winner(backend: Backend) -> None:
    """Two requests finishing one sign-in at once: one goes on."""
    c = challenge(backend)
    backend.challenges.put(c)
    results: list[bool] = []
    start = threading.Barrier(4)

    def attempt() -> None:
        start.wait()
        results.append(backend.challenges.take(c.key))

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]


def test_purge_forgets_only_expired(backend: Backend) -> None:
    """Challenges that expired strictly before the cut-off are forgotten."""
    old = challenge(backend, "a" * 64, expires_at=NOW - dt.timedelta(seconds=1))
    edge = challenge(backend, "b" * 64, expires_at=NOW)
    live = challenge(backend, "c" * 64)
    for c in (old, edge, live):
        backend.challenges.put(c)
    backend.challenges.purge(NOW)
    assert backend.challenges.get(old.key) is None
    assert backend.challenges.get(edge.key) == edge
    assert backend.challenges.get(live.key) == live
