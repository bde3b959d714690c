"""Security events (``signin.service.events``): one shape, no secrets (ASVS V16.2.1, V16.2.5)."""

from __future__ import annotations

import pytest

from rempart.kernel.errors import Unauthenticated
from rempart.kernel.tags import Decision, Tag
from rempart.signin.service import login
from rempart.signin.service.events import emit
from tests.support.signin_memory import HOME, PASSWORD, rig


def test_an_event_carries_who_when_and_from_where() -> None:
    """Time, account, organisation, session, address, network and browser are recorded."""
    r = rig()
    agent = r.agent("tm.dupont")
    emit(
        r.deps,
        Tag.AUTH_LOGIN_FAILED,
        Decision.DENY,
        HOME,
        agent=agent,
        session_id="s1",
        reason="why",
        details={"n": 1},
    )
    (e,) = r.journal.entries
    assert (e.at, e.tag, e.decision) == (r.clock.now(), Tag.AUTH_LOGIN_FAILED, Decision.DENY)
    assert (e.agent_login, e.org_id, e.session_id) == ("tm.dupont", agent.org_id, "s1")
    assert (e.client_address, e.network, e.user_agent) == (
        HOME.address,
        HOME.network,
        HOME.user_agent,
    )
    assert (e.reason, dict(e.details)) == ("why", {"n": 1})


def test_no_secret_reaches_the_journal() -> None:
    """Passwords, codes, tokens and unknown logins never appear in an event."""
    r = rig()
    agent = r.agent("tm.dupont")
    typed_in_login = "my-password-typed-in-the-login-field"
    with pytest.raises(Unauthenticated):
        login.submit_password(r.deps, typed_in_login, PASSWORD, HOME)
    opened = r.sign_in(agent)
    code = r.code(agent)
    text = repr(r.journal.entries)
    for secret in (PASSWORD, typed_in_login, opened.token, opened.csrf_token):
        assert secret not in text
    assert all(code not in f"{e.reason} {e.details}" for e in r.journal.entries)
