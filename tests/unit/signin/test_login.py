"""Password then second factor (``signin.service.login``), on memory twins only."""

from __future__ import annotations

import datetime as dt

import pytest

from rempart.kernel.actors import Role
from rempart.kernel.context import ClientInfo
from rempart.kernel.errors import (
    AccessSuspended,
    AccountLocked,
    Forbidden,
    Throttled,
    Unauthenticated,
)
from rempart.kernel.tags import Tag
from rempart.signin.adapters.passwords import Argon2PasswordHasher
from rempart.signin.model import AccountLock, FactorAction, digest
from rempart.signin.service import factors, login
from rempart.signin.service.login import PasswordAccepted
from tests.support.signin_memory import ELSEWHERE, HOME, PASSWORD, Rig, rig

LATER = 1000.0  # seconds: past the longest throttle delay


def fail_password(r: Rig, login_name: str, client: ClientInfo = HOME) -> Exception:
    """One wrong password, then wait out the throttle."""
    with pytest.raises((Unauthenticated, AccountLocked)) as exc:
        login.submit_password(r.deps, login_name, "wrong password", client)
    r.clock.advance(LATER)
    return exc.value


def test_password_then_totp_opens_a_session() -> None:
    """The right password gives a challenge, a fresh TOTP code a session (ASVS V6.3.3)."""
    r = rig()
    agent = r.agent("tm.dupont")
    accepted = login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)
    assert accepted.methods == ["totp"]
    opened = login.finish_with_totp(r.deps, accepted.challenge, r.code(agent), HOME)
    assert opened.session.agent_id == agent.id
    assert opened.session.method == "password+totp"
    assert r.sessions.get(digest(opened.token)) == opened.session
    assert r.challenges.get(digest(accepted.challenge)) is None  # the challenge is spent
    assert Tag.AUTH_LOGIN_SUCCEEDED in r.tags()


def test_wrong_password_and_unknown_login_answer_the_same() -> None:
    """No account enumeration: an unknown login gets the wrong-password answer (ASVS V6.3.8)."""
    r = rig()
    r.agent("tm.dupont")
    wrong = fail_password(r, "tm.dupont")
    unknown = fail_password(r, "nobody")
    assert type(wrong) is type(unknown) is Unauthenticated
    assert str(wrong) == str(unknown)
    assert r.reasons(Tag.AUTH_LOGIN_FAILED) == ["bad credentials", "bad credentials"]
    assert all(e.agent_login == "" for e in r.journal.entries if e.reason and not e.org_id)


def test_failures_are_throttled() -> None:
    """After a few free attempts the next one must wait (ASVS V6.3.1)."""
    r = rig()
    r.agent("tm.dupont")
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            login.submit_password(r.deps, "tm.dupont", "nope", HOME)
    with pytest.raises(Throttled):
        login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)
    assert Tag.AUTH_LOGIN_THROTTLED in r.tags()


def test_account_locks_after_lock_after_failures() -> None:
    """Ten consecutive failures lock the account; then even the right password is refused."""
    r = rig()
    agent = r.agent("tm.dupont")
    for _ in range(r.deps.policy.lock_after):
        fail_password(r, "tm.dupont")
    creds = r.store.credentials_by_id(agent.id)
    assert creds is not None
    assert creds.locked
    lock = r.store.lock_of(agent.id)
    assert lock is not None
    assert lock.addresses == (HOME.address,)
    assert Tag.AUTH_ACCOUNT_LOCKED in r.tags()
    with pytest.raises(AccountLocked):
        login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)


def test_locked_account_self_unlocks_from_a_clean_address_after_the_delay() -> None:
    """Right password and second factor, from an address that never failed, after the delay."""
    r = rig(lock_after=3)
    agent = r.agent("tm.dupont")
    for _ in range(3):
        fail_password(r, "tm.dupont", ELSEWHERE)
    clean = ClientInfo("192.0.2.50", HOME.user_agent, HOME.network, "FR")
    with pytest.raises(AccountLocked):  # too early
        login.submit_password(r.deps, "tm.dupont", PASSWORD, clean)
    r.clock.advance(31 * 60)
    with pytest.raises(AccountLocked):  # the attacking address never unlocks it
        login.submit_password(r.deps, "tm.dupont", PASSWORD, ELSEWHERE)
    accepted = login.submit_password(r.deps, "tm.dupont", PASSWORD, clean)
    login.finish_with_totp(r.deps, accepted.challenge, r.code(agent), clean)
    creds = r.store.credentials_by_id(agent.id)
    assert creds is not None
    assert not creds.locked
    assert Tag.AUTH_ACCOUNT_UNLOCKED in r.tags()


def test_failures_against_a_locked_account_remember_the_address() -> None:
    """Every address that keeps guessing is kept with the lock (for the security team)."""
    r = rig(lock_after=2)
    agent = r.agent("tm.dupont")
    fail_password(r, "tm.dupont", HOME)
    fail_password(r, "tm.dupont", HOME)
    fail_password(r, "tm.dupont", ELSEWHERE)
    lock = r.store.lock_of(agent.id)
    assert lock is not None
    assert lock.addresses == (HOME.address, ELSEWHERE.address)


def test_unknown_login_locks_like_a_real_one() -> None:
    """An unknown login answers "locked" after as many failures (no enumeration by lockout)."""
    r = rig(lock_after=3)
    for _ in range(3):
        fail_password(r, "nobody")
    with pytest.raises(AccountLocked):
        login.submit_password(r.deps, "nobody", PASSWORD, HOME)


def test_suspended_account_is_refused_after_the_password() -> None:
    """A disabled account gets no challenge."""
    r = rig()
    r.deactivate(r.agent("tm.dupont"))
    with pytest.raises(AccessSuspended):
        login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)


def test_no_second_factor_no_session() -> None:
    """An account without any second factor cannot sign in (ASVS V6.3.3)."""
    r = rig()
    r.agent("tm.dupont", totp=False)
    with pytest.raises(Forbidden):
        login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)


def test_replayed_totp_step_is_refused() -> None:
    """A code already used (here: at sign-in) cannot open a second session (ASVS V6.5.1)."""
    r = rig()
    agent = r.agent("tm.dupont")
    r.sign_in(agent)
    again = login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)
    with pytest.raises(Unauthenticated, match="already used"):
        login.finish_with_totp(r.deps, again.challenge, r.code(agent), HOME)
    assert "code already used" in r.reasons(Tag.AUTH_MFA_FAILED)


def test_an_older_step_is_refused_after_a_newer_one() -> None:
    """The previous step's code, still within drift, is older than the step used: refused."""
    r = rig()
    agent = r.agent("tm.dupont")
    accepted = login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)
    login.finish_with_totp(r.deps, accepted.challenge, r.code(agent, +1), HOME)
    again = login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)
    with pytest.raises(Unauthenticated):
        login.finish_with_totp(r.deps, again.challenge, r.code(agent), HOME)


def test_wrong_codes_use_up_the_challenge_and_count_towards_the_lock() -> None:
    """Five wrong codes end the challenge; each failure counts for the account lock."""
    r = rig()
    agent = r.agent("tm.dupont")
    accepted = login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)
    for _ in range(r.deps.policy.challenge_attempts):
        with pytest.raises(Unauthenticated):
            login.finish_with_totp(r.deps, accepted.challenge, "000000", HOME)
        r.clock.advance(5)  # past the short throttle delays, well inside the challenge's life
    assert r.challenges.get(digest(accepted.challenge)) is None
    creds = r.store.credentials_by_id(agent.id)
    assert creds is not None
    assert creds.failed_logins == r.deps.policy.challenge_attempts


def test_challenge_is_bound_to_network_and_browser() -> None:
    """A challenge replayed from elsewhere is destroyed, not just refused."""
    r = rig()
    agent = r.agent("tm.dupont")
    accepted = login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)
    with pytest.raises(Unauthenticated):
        login.finish_with_totp(r.deps, accepted.challenge, r.code(agent), ELSEWHERE)
    with pytest.raises(Unauthenticated):
        login.finish_with_totp(r.deps, accepted.challenge, r.code(agent), HOME)


def test_challenge_expires() -> None:
    """A challenge is good for ``challenge_ttl`` only."""
    r = rig()
    agent = r.agent("tm.dupont")
    accepted = login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)
    r.clock.advance(r.deps.policy.challenge_ttl.total_seconds())
    with pytest.raises(Unauthenticated):
        login.finish_with_totp(r.deps, accepted.challenge, r.code(agent), HOME)


def test_privileged_agent_with_totp_only_gets_an_enrol_only_session() -> None:
    """An account manager without a key may use TOTP once, to register one (ASVS V6.3.4)."""
    r = rig()
    manager = r.agent("am.dupont", Role.ACCOUNT_MANAGER)
    opened = r.sign_in(manager)
    assert opened.session.enrol_only


def test_recovery_code_signs_in_once() -> None:
    """A recovery code is a second factor, spent at first use (ASVS V6.5.1)."""
    r = rig()
    agent = r.agent("tm.dupont")
    ctx = r.context(agent)
    codes = factors.new_recovery_codes(r.deps, ctx, r.prove(ctx, FactorAction.RECOVERY_CODES))
    accepted = login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)
    assert "recovery_code" in accepted.methods
    opened = login.finish_with_recovery_code(r.deps, accepted.challenge, codes[0].lower(), HOME)
    assert opened.session.method == "password+recovery_code"
    assert r.store.recovery_codes_left(agent.id) == len(codes) - 1
    again = login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)
    with pytest.raises(Unauthenticated):
        login.finish_with_recovery_code(r.deps, again.challenge, codes[0], HOME)


def test_a_method_not_offered_is_refused() -> None:
    """The challenge says which factors this account may use; others are forbidden."""
    r = rig()
    r.agent("tm.dupont")
    accepted: PasswordAccepted = login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)
    with pytest.raises(Forbidden):
        login.finish_with_recovery_code(r.deps, accepted.challenge, "AAAA-BBBB", HOME)


def test_weak_stored_hash_is_upgraded_at_sign_in() -> None:
    """A hash made with weaker parameters is replaced while the password is at hand."""
    r = rig()
    agent = r.agent("tm.dupont")
    weak = Argon2PasswordHasher(time_cost=2, memory_kib=8, parallelism=1).hash(PASSWORD)
    r.store.set_password_hash(agent.id, weak)
    login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)
    creds = r.store.credentials_by_id(agent.id)
    assert creds is not None
    assert creds.password_hash != weak
    assert r.deps.hasher.verify(creds.password_hash, PASSWORD)


def test_challenge_handles_are_never_stored_in_clear() -> None:
    """The store keeps the SHA-256 of a challenge handle only (ASVS V6.5.2)."""
    r = rig()
    r.agent("tm.dupont")
    accepted = login.submit_password(r.deps, "tm.dupont", PASSWORD, HOME)
    assert r.challenges.get(accepted.challenge) is None
    found = r.challenges.get(digest(accepted.challenge))
    assert found is not None
    assert found.expires_at == r.clock.now() + dt.timedelta(minutes=5)


@pytest.mark.parametrize("reason", ["guard:canary:touched", "console: suspected theft"])
def test_a_lock_placed_by_the_guard_or_an_officer_never_lifts_itself(reason: str) -> None:
    """Only the failures lock lifts itself after the delay; the guard's and the security
    team's locks take a human, however long the wait and however clean the address
    (ASVS V6.3.1, V8.3.1: unlocking is an administrative decision)."""
    r = rig(lock_after=3)
    agent = r.agent("tm.dupont")
    r.store.lock(AccountLock(agent.id, r.clock.now(), reason))
    clean = ClientInfo("192.0.2.50", HOME.user_agent, HOME.network, "FR")
    r.clock.advance(7 * 24 * 3600)
    with pytest.raises(AccountLocked):
        login.submit_password(r.deps, "tm.dupont", PASSWORD, clean)
    creds = r.store.credentials_by_id(agent.id)
    assert creds is not None
    assert creds.locked
    assert Tag.AUTH_ACCOUNT_UNLOCKED not in r.tags()
