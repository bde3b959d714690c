"""Sessions (``signin.service.sessions``): binding, expiry, CSRF, step-up, revocation; memory
twins only."""

from __future__ import annotations

import dataclasses

import pytest

from rempart.kernel.actors import Role
from rempart.kernel.context import ClientInfo
from rempart.kernel.errors import (
    AccountLocked,
    CsrfRejected,
    Forbidden,
    SessionRevoked,
    StepUpRequired,
    Unauthenticated,
)
from rempart.kernel.tags import Tag
from rempart.signin.model import AccountLock, EndReason, digest
from rempart.signin.service import factors, login, sessions
from rempart.signin.service.sessions import MAX_LIVE_SESSIONS, Resumption
from tests.support.signin_memory import ELSEWHERE, HOME, PASSWORD, rig


def test_a_live_session_resumes_with_its_context() -> None:
    """The cookie's session gives the agent, the organisation and the freshness window."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    ctx = sessions.resume(r.deps, opened.token, HOME, "GET", None)
    assert (ctx.agent.id, ctx.org.id, ctx.session_id) == (
        agent.id,
        agent.org_id,
        opened.session.public_id,
    )
    assert ctx.is_fresh
    assert not ctx.reproved


def test_only_the_token_hash_is_stored() -> None:
    """The store holds SHA-256 of the 256-bit token, never the token (ASVS V7.2.3)."""
    r = rig()
    opened = r.sign_in(r.agent("tm.dupont"))
    assert r.sessions.get(opened.token) is None
    assert r.sessions.get(digest(opened.token)) is not None
    assert len(opened.token) == 43


@pytest.mark.parametrize("token", [None, "", "short", "x" * 43 + "!", "A" * 43])
def test_missing_malformed_or_unknown_tokens(token: str | None) -> None:
    """No session, a garbage cookie or an unknown token: sign in first."""
    r = rig()
    with pytest.raises(Unauthenticated):
        sessions.resume(r.deps, token, HOME, "GET", None)


def test_a_cookie_replayed_from_another_browser_revokes_the_session() -> None:
    """Another browser ends the session at once, for the owner too (ASVS V7.1.3)."""
    r = rig()
    opened = r.sign_in(r.agent("tm.dupont"))
    thief = dataclasses.replace(HOME, user_agent="curl/8")
    with pytest.raises(SessionRevoked):
        sessions.resume(r.deps, opened.token, thief, "POST", None)  # CSRF is not even checked
    stored = r.sessions.get(digest(opened.token))
    assert stored is not None
    assert stored.end_reason == str(EndReason.BROWSER_CHANGED)
    with pytest.raises(SessionRevoked):
        sessions.resume(r.deps, opened.token, HOME, "GET", None)
    assert r.reasons(Tag.AUTH_SESSION_REVOKED) == [str(EndReason.BROWSER_CHANGED)]


SAME_OPERATOR = dataclasses.replace(HOME, address="192.0.2.77")  # same AS, another line
IPV6_HOME = dataclasses.replace(HOME, address="2001:db8:5:7::10")


@pytest.mark.parametrize(
    "client",
    [
        ELSEWHERE,
        SAME_OPERATOR,  # "same operator, fine" is what infostealer replays count on
        dataclasses.replace(ELSEWHERE, user_agent=HOME.user_agent, network=HOME.network),
    ],
)
def test_a_cookie_replayed_from_another_address_gets_a_step_up_and_nothing_else(
    client: ClientInfo,
) -> None:
    """Bound to the exact address: any other one, even on the same operator's network with the
    copied User-Agent, gets ``step_up_required`` and no context (ASVS V7.1.3, V7.5.3); the
    owner's session goes on where it was opened."""
    r = rig()
    opened = r.sign_in(r.agent("tm.dupont"))
    for method in ("GET", "POST"):
        with pytest.raises(StepUpRequired):
            sessions.resume(r.deps, opened.token, client, method, opened.csrf_token)
    assert sessions.resume(r.deps, opened.token, HOME, "GET", None).agent.login == "tm.dupont"
    events = [e for e in r.journal.entries if e.tag is Tag.AUTH_SESSION_ADDRESS_CHANGED]
    assert len(events) == 2
    assert events[0].details["opened_from_address"] == HOME.address
    assert events[0].details["same_network"] == (client.network == HOME.network)


def test_ipv6_is_bound_to_its_slash_64() -> None:
    """An IPv6 line rotates its interface part on its own: the /64 is the binding."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent, IPV6_HOME)
    same_line = dataclasses.replace(IPV6_HOME, address="2001:db8:5:7:abcd::99")
    assert sessions.resume(r.deps, opened.token, same_line, "GET", None).agent.id == agent.id
    with pytest.raises(StepUpRequired):
        sessions.resume(
            r.deps,
            opened.token,
            dataclasses.replace(IPV6_HOME, address="2001:db8:5:8::10"),
            "GET",
            None,
        )


def test_a_step_up_from_the_new_address_moves_the_session_there() -> None:
    """The owner who moved proves the factor from the new address: the session follows them,
    and the old address is then the one asked (a thief cannot ride along)."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    moved = SAME_OPERATOR
    ctx = sessions.resume(
        r.deps, opened.token, moved, "POST", opened.csrf_token, purpose=Resumption.STEP_UP
    )
    r.clock.advance(31)
    factors.step_up_totp(r.deps, ctx, opened.token, r.code(agent))
    assert sessions.resume(r.deps, opened.token, moved, "GET", None).agent.id == agent.id
    with pytest.raises(StepUpRequired):
        sessions.resume(r.deps, opened.token, HOME, "GET", None)
    assert r.reasons(Tag.AUTH_SESSION_REBOUND) == ["step_up_from_new_address"]


def test_a_wrong_step_up_from_another_address_gives_nothing() -> None:
    """The thief at another address cannot pass the step-up: the session stays where it was."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    ctx = sessions.resume(
        r.deps, opened.token, ELSEWHERE, "POST", opened.csrf_token, purpose=Resumption.STEP_UP
    )
    with pytest.raises(StepUpRequired):
        factors.step_up_totp(r.deps, ctx, opened.token, "000000")
    with pytest.raises(StepUpRequired):
        sessions.resume(r.deps, opened.token, ELSEWHERE, "GET", None)
    assert sessions.resume(r.deps, opened.token, HOME, "GET", None).agent.id == agent.id


def test_unsafe_methods_need_the_csrf_token() -> None:
    """POST without or with a wrong X-CSRF-Token is refused; with it, accepted (ASVS V3.5.1)."""
    r = rig()
    opened = r.sign_in(r.agent("tm.dupont"))
    with pytest.raises(CsrfRejected):
        sessions.resume(r.deps, opened.token, HOME, "POST", None)
    with pytest.raises(CsrfRejected):
        sessions.resume(r.deps, opened.token, HOME, "DELETE", "0" * 64)
    sessions.resume(r.deps, opened.token, HOME, "POST", opened.csrf_token)
    sessions.resume(r.deps, opened.token, HOME, "GET", None)


def test_idle_timeout() -> None:
    """Fifteen quiet minutes end the session (ASVS V7.3.1)."""
    r = rig()
    opened = r.sign_in(r.agent("tm.dupont"))
    r.clock.advance(r.deps.policy.idle.total_seconds())
    with pytest.raises(Unauthenticated, match="expired"):
        sessions.resume(r.deps, opened.token, HOME, "GET", None)
    stored = r.sessions.get(digest(opened.token))
    assert stored is not None
    assert stored.end_reason == str(EndReason.IDLE)
    assert Tag.AUTH_SESSION_CLOSED in r.tags()  # expiry is not a revocation


def test_activity_keeps_the_session_alive_until_the_absolute_end() -> None:
    """Activity pushes the idle end, never the absolute one (ASVS V7.3.2)."""
    r = rig()
    opened = r.sign_in(r.agent("tm.dupont"))
    step = r.deps.policy.idle.total_seconds() - 60
    while r.clock.now() + r.deps.policy.idle < opened.session.expires_at:
        r.clock.advance(step)
        sessions.resume(r.deps, opened.token, HOME, "GET", None)
    r.clock.set(opened.session.expires_at)
    with pytest.raises(Unauthenticated):
        sessions.resume(r.deps, opened.token, HOME, "GET", None)
    stored = r.sessions.get(digest(opened.token))
    assert stored is not None
    assert stored.end_reason == str(EndReason.ABSOLUTE)


def test_disabled_account_ends_its_sessions() -> None:
    """A deactivated account's next request is refused and its session revoked."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    r.deactivate(agent)
    with pytest.raises(SessionRevoked):
        sessions.resume(r.deps, opened.token, HOME, "GET", None)
    stored = r.sessions.get(digest(opened.token))
    assert stored is not None
    assert stored.end_reason == str(EndReason.ACCOUNT_DISABLED)


def test_locked_outside_the_failure_rule_stops_at_once() -> None:
    """An account flagged locked with no failure lock record (guard, admin) is stopped."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    creds = r.store.credentials_by_id(agent.id)
    assert creds is not None
    r.store.enrol(agent.id, password_hash=creds.password_hash, locked=True)
    with pytest.raises(AccountLocked):
        sessions.resume(r.deps, opened.token, HOME, "GET", None)


def test_a_lock_by_the_guard_or_an_officer_stops_the_open_session_at_once() -> None:
    """A lock record that the guard or the security team placed ends the session on its next
    request, like a lock flag without a record (ASVS V7.4.2)."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    r.store.lock(AccountLock(agent.id, r.clock.now(), "guard:velocity:burst"))
    with pytest.raises(AccountLocked):
        sessions.resume(r.deps, opened.token, HOME, "GET", None)
    stored = r.sessions.get(digest(opened.token))
    assert stored is not None
    assert stored.end_reason == str(EndReason.ACCOUNT_LOCKED)


def test_a_failure_lock_lets_the_open_session_finish() -> None:
    """A failure lock (someone guessing the password) does not cut the owner's session."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    r.store.lock(AccountLock(agent.id, r.clock.now(), "failures", (ELSEWHERE.address,)))
    sessions.resume(r.deps, opened.token, HOME, "GET", None)


def test_enrol_only_sessions_may_only_enrol() -> None:
    """A privileged agent's TOTP session only registers a key (ASVS V6.3.4)."""
    r = rig()
    opened = r.sign_in(r.agent("am.dupont", Role.ACCOUNT_MANAGER))
    with pytest.raises(Forbidden):
        sessions.resume(r.deps, opened.token, HOME, "GET", None)
    ctx = sessions.resume(r.deps, opened.token, HOME, "GET", None, allow_enrol_only=True)
    assert ctx.agent.login == "am.dupont"


def test_touch_is_throttled() -> None:
    """Activity is written at most every ``touch_every``: reads stay cheap."""
    r = rig()
    opened = r.sign_in(r.agent("tm.dupont"))
    key = digest(opened.token)
    r.clock.advance(10)
    sessions.resume(r.deps, opened.token, HOME, "GET", None)
    stored = r.sessions.get(key)
    assert stored is not None
    assert stored.last_seen_at == opened.session.last_seen_at
    r.clock.advance(30)
    sessions.resume(r.deps, opened.token, HOME, "GET", None)
    stored = r.sessions.get(key)
    assert stored is not None
    assert stored.last_seen_at == r.clock.now()


def test_step_up_freshness_window() -> None:
    """Privileged actions need a second-factor proof of the last few minutes (ASVS V7.5.1)."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    sessions.require_fresh(sessions.resume(r.deps, opened.token, HOME, "GET", None))
    r.clock.advance(r.deps.policy.step_up.total_seconds() + 1)
    stale = sessions.resume(r.deps, opened.token, HOME, "GET", None)
    with pytest.raises(StepUpRequired):
        sessions.require_fresh(stale)
    sessions.mark_fresh(r.deps, stale, opened.token, "totp")
    again = sessions.resume(r.deps, opened.token, HOME, "GET", None)
    sessions.require_fresh(again)
    assert again.reproved  # proven again after sign-in, not just at it
    assert Tag.AUTH_STEP_UP_SUCCEEDED in r.tags()


def test_logout_ends_the_session_on_the_server() -> None:
    """After logout the token is worthless (ASVS V7.4.1)."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    ctx = sessions.resume(r.deps, opened.token, HOME, "GET", None)
    sessions.logout(r.deps, ctx, opened.token)
    with pytest.raises(Unauthenticated) as exc:
        sessions.resume(r.deps, opened.token, HOME, "GET", None)
    assert not isinstance(exc.value, SessionRevoked)  # a logout is no revocation


def test_a_new_sign_in_ends_the_session_it_replaces() -> None:
    """Signing in again from a browser ends the session that browser still held (V7.2.4)."""
    r = rig()
    agent = r.agent("tm.dupont")
    first = r.sign_in(agent)
    r.clock.advance(31)
    accepted = login.submit_password(r.deps, agent.login, PASSWORD, HOME)
    login.finish_with_totp(r.deps, accepted.challenge, r.code(agent), HOME, replaces=first.token)
    stored = r.sessions.get(digest(first.token))
    assert stored is not None
    assert stored.end_reason == str(EndReason.LOGOUT)


def test_at_most_five_live_sessions() -> None:
    """The oldest session ends when a sixth opens (ASVS V7.1.2)."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = []
    for _ in range(MAX_LIVE_SESSIONS + 1):
        opened.append(r.sign_in(agent))
        r.clock.advance(31)  # a new TOTP step for the next sign-in
    assert len(r.sessions.live_of(agent.id, r.clock.now())) == MAX_LIVE_SESSIONS
    oldest = r.sessions.get(digest(opened[0].token))
    assert oldest is not None
    assert oldest.end_reason == str(EndReason.TOO_MANY)


def test_list_own_and_revoke_others() -> None:
    """The owner sees their live sessions and ends the others after a step-up (ASVS V7.5.2)."""
    r = rig()
    agent = r.agent("tm.dupont")
    first = r.sign_in(agent)
    r.clock.advance(31)
    second = r.sign_in(agent)
    ctx = sessions.resume(r.deps, second.token, HOME, "GET", None)
    listed = sessions.list_own(r.deps, ctx)
    assert [s["current"] for s in listed] == [True, False]
    assert sessions.revoke_others(r.deps, ctx, second.token) == 1
    with pytest.raises(SessionRevoked):
        sessions.resume(r.deps, first.token, HOME, "GET", None)
    r.clock.advance(r.deps.policy.step_up.total_seconds() + 1)
    stale = sessions.resume(r.deps, second.token, HOME, "GET", None)
    with pytest.raises(StepUpRequired):
        sessions.revoke_others(r.deps, stale, second.token)


def test_describe_gives_the_csrf_token_and_the_ends() -> None:
    """The owner's view of the current session."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    ctx = sessions.resume(r.deps, opened.token, HOME, "GET", None)
    seen = sessions.describe(r.deps, ctx, opened.token)
    assert seen["csrf_token"] == opened.csrf_token
    assert seen["expires_at"] == opened.session.expires_at
    assert seen["idle_expires_at"] == r.clock.now() + r.deps.policy.idle
