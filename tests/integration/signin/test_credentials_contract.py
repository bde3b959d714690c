"""Contract of ``CredentialStore``, ``LoginRecords``, ``AccountLocks`` and ``TotpSecrets``:
the memory twin and the SQL store give the same answers (ASVS V6.3.1 lock after failures,
V6.5.1 a TOTP step is accepted once)."""

from __future__ import annotations

import datetime as dt
import threading

from rempart.signin.model import AccountLock
from tests.factories import NOW
from tests.integration.signin.conftest import Backend

HASH = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"


def test_credentials_by_login_and_id(backend: Backend) -> None:
    """Both look-ups give the agent with its organisation kind and its stored secrets."""
    agent_id = backend.agents["tm.dupont"]
    backend.enrol(agent_id, password_hash=HASH, totp_secret="JBSWY3DPEHPK3PXP")
    by_login = backend.credentials.credentials("tm.dupont")
    by_id = backend.credentials.credentials_by_id(agent_id)
    assert by_login is not None
    assert by_login == by_id
    assert by_login.agent.login == "tm.dupont"
    assert by_login.agent.org_id == backend.orgs["Formations Dupont"]
    assert str(by_login.agent.org_kind) == "training_body"
    assert (by_login.password_hash, by_login.totp_secret, by_login.totp_last_step) == (
        HASH,
        "JBSWY3DPEHPK3PXP",
        0,
    )
    assert not by_login.locked
    assert by_login.failed_logins == 0


def test_unknown_account_has_no_credentials(backend: Backend) -> None:
    """An unknown login or id, or a login differing in case, finds nothing."""
    assert backend.credentials.credentials("nobody") is None
    assert backend.credentials.credentials("TM.DUPONT") is None
    assert backend.credentials.credentials_by_id(999_999) is None


def test_an_agent_without_secrets_reads_as_empty(backend: Backend) -> None:
    """A freshly created account has no password, no TOTP, no lock."""
    creds = backend.credentials.credentials("ml.adv1")
    assert creds is not None
    assert (creds.password_hash, creds.totp_secret, creds.locked) == ("", "", False)


def test_set_password_hash(backend: Backend) -> None:
    """The new hash replaces the old one for that account only."""
    a, b = backend.agents["tm.dupont"], backend.agents["am.dupont"]
    backend.enrol(a, password_hash="old")
    backend.enrol(b, password_hash="other")
    backend.credentials.set_password_hash(a, HASH)
    assert backend.credentials.credentials_by_id(a).password_hash == HASH  # type: ignore[union-attr]
    assert backend.credentials.credentials_by_id(b).password_hash == "other"  # type: ignore[union-attr]


def test_failures_count_up_and_success_resets(backend: Backend) -> None:
    """Consecutive failures are counted per account; a success resets the count."""
    a, b = backend.agents["tm.dupont"], backend.agents["am.dupont"]
    assert [backend.credentials.record_failed_login(a) for _ in range(3)] == [1, 2, 3]
    assert backend.credentials.record_failed_login(b) == 1
    assert backend.credentials.credentials_by_id(a).failed_logins == 3  # type: ignore[union-attr]
    backend.credentials.record_success(a, NOW)
    assert backend.credentials.credentials_by_id(a).failed_logins == 0  # type: ignore[union-attr]
    assert backend.credentials.record_failed_login(a) == 1
    assert backend.credentials.credentials_by_id(b).failed_logins == 1  # type: ignore[union-attr]


def test_lock_records_why_when_and_where(backend: Backend) -> None:
    """A lock sets the flag and keeps its reason, time and addresses (ASVS V6.3.1)."""
    a = backend.agents["tm.dupont"]
    assert backend.credentials.lock_of(a) is None
    backend.credentials.lock(AccountLock(a, NOW, "failures", ("192.0.2.1",)))
    assert backend.credentials.credentials_by_id(a).locked  # type: ignore[union-attr]
    assert backend.credentials.lock_of(a) == AccountLock(a, NOW, "failures", ("192.0.2.1",))
    assert backend.credentials.lock_of(backend.agents["am.dupont"]) is None


def test_relocking_replaces_the_record(backend: Backend) -> None:
    """A second lock replaces the first record instead of adding one."""
    a = backend.agents["tm.dupont"]
    backend.credentials.lock(AccountLock(a, NOW, "failures", ("192.0.2.1",)))
    later = NOW + dt.timedelta(hours=1)
    backend.credentials.lock(AccountLock(a, later, "guard: impossible travel"))
    assert backend.credentials.lock_of(a) == AccountLock(a, later, "guard: impossible travel")


def test_lock_addresses_are_unique_and_bounded(backend: Backend) -> None:
    """Addresses that failed against a locked account: each once, at most 32 of them."""
    a = backend.agents["tm.dupont"]
    backend.credentials.add_lock_address(a, "192.0.2.9")  # no lock yet: nothing to add to
    assert backend.credentials.lock_of(a) is None
    many = tuple(f"198.51.100.{i}" for i in range(40))
    backend.credentials.lock(AccountLock(a, NOW, "failures", many))
    assert backend.credentials.lock_of(a).addresses == many[:32]  # type: ignore[union-attr]
    backend.credentials.add_lock_address(a, "203.0.113.1")
    assert len(backend.credentials.lock_of(a).addresses) == 32  # type: ignore[union-attr]

    b = backend.agents["am.dupont"]
    backend.credentials.lock(AccountLock(b, NOW, "failures", ("192.0.2.1",)))
    backend.credentials.add_lock_address(b, "192.0.2.2")
    backend.credentials.add_lock_address(b, "192.0.2.1")
    backend.credentials.add_lock_address(b, "192.0.2.2")
    assert backend.credentials.lock_of(b).addresses == ("192.0.2.1", "192.0.2.2")  # type: ignore[union-attr]


def test_unlock_lifts_the_lock_and_resets_failures(backend: Backend) -> None:
    """Unlocking clears the flag, the record and the failure count."""
    a = backend.agents["tm.dupont"]
    for _ in range(4):
        backend.credentials.record_failed_login(a)
    backend.credentials.lock(AccountLock(a, NOW, "failures"))
    backend.credentials.unlock(a)
    creds = backend.credentials.credentials_by_id(a)
    assert creds is not None
    assert not creds.locked
    assert creds.failed_logins == 0
    assert backend.credentials.lock_of(a) is None


def test_a_flag_without_record_reads_as_locked_without_lock(backend: Backend) -> None:
    """An account locked outside the failure rule has the flag but no lock record."""
    a = backend.agents["tm.dupont"]
    backend.enrol(a, password_hash=HASH, locked=True)
    assert backend.credentials.credentials_by_id(a).locked  # type: ignore[union-attr]
    assert backend.credentials.lock_of(a) is None


def test_totp_steps_move_forward_only(backend: Backend) -> None:
    """A step is accepted once and only when newer than the last one (ASVS V6.5.1)."""
    a = backend.agents["tm.dupont"]
    backend.credentials.set_totp(a, "JBSWY3DPEHPK3PXP", 100)
    assert not backend.credentials.use_totp_step(a, 100)
    assert not backend.credentials.use_totp_step(a, 99)
    assert backend.credentials.use_totp_step(a, 101)
    assert not backend.credentials.use_totp_step(a, 101)
    assert backend.credentials.use_totp_step(a, 105)
    assert backend.credentials.credentials_by_id(a).totp_last_step == 105  # type: ignore[union-attr]


def test_clearing_totp(backend: Backend) -> None:
    """``set_totp`` with "" forgets the secret and resets the step."""
    a = backend.agents["tm.dupont"]
    backend.credentials.set_totp(a, "JBSWY3DPEHPK3PXP", 100)
    backend.credentials.set_totp(a, "", 0)
    creds = backend.credentials.credentials_by_id(a)
    assert creds is not None
    assert (creds.totp_secret, creds.totp_last_step) == ("", 0)


def test_racing_totp_steps_have_one_winner(backend: Backend) -> None:
    """Two requests racing with one code: exactly one is accepted."""
    a = backend.agents["tm.dupont"]
    backend.credentials.set_totp(a, "JBSWY3DPEHPK3PXP", 0)
    results: list[bool] = []
    start = threading.Barrier(4)

    def attempt() -> None:
        start.wait()
        results.append(backend.credentials.use_totp_step(a, 7))

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
