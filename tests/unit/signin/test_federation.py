"""Federated sign-in (``signin.service.federation``) against the memory identity provider:
linked identities only, the acr checked on the server, one use per response."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from rempart.kernel.actors import Role
from rempart.kernel.errors import (
    AccessSuspended,
    AccountLocked,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    Unauthenticated,
)
from rempart.signin.model import AccountLock
from rempart.signin.service import federation
from tests.support.signin_memory import ELSEWHERE, HOME, ISSUER, Rig, rig

CALLBACK = "https://rempart.test/auth/oidc/callback"


def provider_signs_in(r: Rig, subject: str, acr: str) -> tuple[str, str, str]:
    """Start at Rempart, sign in at the provider: (state, code, browser cookie)."""
    url, browser = federation.start(r.deps, HOME, CALLBACK)
    state = parse_qs(urlsplit(url).query)["state"][0]
    return state, r.federation.authorize(state, subject, acr), browser


def finish(r: Rig, state: str, code: str, browser: str | None, **kw: object) -> object:
    values: dict[str, object] = {"issuer": ISSUER, "error": None, "client": HOME}
    values.update(kw)
    client = values.pop("client")
    return federation.finish(
        r.deps,
        client,  # type: ignore[arg-type]
        CALLBACK,
        state=state,
        code=code,
        browser=browser,
        **values,  # type: ignore[arg-type]
    )


def test_a_linked_identity_at_the_required_level_signs_in() -> None:
    """(issuer, sub) linked beforehand and a strong enough acr open a session (ASVS V6.8.1)."""
    r = rig()
    agent = r.agent("tm.dupont")
    federation.link(r.deps, agent.id, ISSUER, "sub-1", r.clock.now())
    state, code, browser = provider_signs_in(r, "sub-1", "eidas2")
    opened = finish(r, state, code, browser)
    assert opened.session.agent_id == agent.id  # type: ignore[attr-defined]
    assert opened.session.method == "oidc:eidas2"  # type: ignore[attr-defined]


def test_an_unlinked_identity_is_refused() -> None:
    """The federation never creates nor guesses an account (Dec 2025, ASVS V10.5.2)."""
    r = rig()
    r.agent("tm.dupont")
    state, code, browser = provider_signs_in(r, "tm.dupont", "eidas3")
    with pytest.raises(Forbidden, match="not linked"):
        finish(r, state, code, browser)


@pytest.mark.parametrize(("roles", "acr"), [((), "eidas1"), ((Role.ADMIN,), "eidas2")])
def test_a_weaker_acr_is_refused(roles: tuple[Role, ...], acr: str) -> None:
    """eidas1 is never enough; privileged accounts need eidas3 (ASVS V6.8.4)."""
    r = rig()
    agent = r.agent("u", *roles, org="agency")
    federation.link(r.deps, agent.id, ISSUER, "sub-1", r.clock.now())
    state, code, browser = provider_signs_in(r, "sub-1", acr)
    with pytest.raises(Forbidden, match="weaker"):
        finish(r, state, code, browser)


def test_the_response_comes_back_to_the_browser_that_asked() -> None:
    """Another browser's callback is refused (ASVS V10.1.2), and the state is spent anyway."""
    r = rig()
    agent = r.agent("tm.dupont")
    federation.link(r.deps, agent.id, ISSUER, "sub-1", r.clock.now())
    state, code, browser = provider_signs_in(r, "sub-1", "eidas2")
    with pytest.raises(InvalidRequest):
        finish(r, state, code, "another-browser")
    with pytest.raises(Unauthenticated):
        finish(r, state, code, browser)


def test_the_flow_is_bound_to_network_and_expires() -> None:
    """A callback from another network, or too late, is refused."""
    r = rig()
    agent = r.agent("tm.dupont")
    federation.link(r.deps, agent.id, ISSUER, "sub-1", r.clock.now())
    state, code, browser = provider_signs_in(r, "sub-1", "eidas2")
    with pytest.raises(Unauthenticated):
        finish(r, state, code, browser, client=ELSEWHERE)
    state, code, browser = provider_signs_in(r, "sub-1", "eidas2")
    r.clock.advance(r.deps.policy.oidc_ttl.total_seconds())
    with pytest.raises(Unauthenticated):
        finish(r, state, code, browser)


def test_a_mixed_up_issuer_is_refused() -> None:
    """RFC 9207: a response naming another issuer is refused (ASVS V10.2.2)."""
    r = rig()
    agent = r.agent("tm.dupont")
    federation.link(r.deps, agent.id, ISSUER, "sub-1", r.clock.now())
    state, code, browser = provider_signs_in(r, "sub-1", "eidas2")
    with pytest.raises(Unauthenticated):
        finish(r, state, code, browser, issuer="https://evil.example")


def test_provider_error_and_locked_or_suspended_accounts() -> None:
    """A provider refusal, a locked or a suspended account: no session."""
    r = rig()
    agent = r.agent("tm.dupont")
    federation.link(r.deps, agent.id, ISSUER, "sub-1", r.clock.now())
    state, code, browser = provider_signs_in(r, "sub-1", "eidas2")
    with pytest.raises(Unauthenticated):
        finish(r, state, code, browser, error="access_denied")
    r.store.lock(AccountLock(agent.id, r.clock.now(), "failures"))
    state, code, browser = provider_signs_in(r, "sub-1", "eidas2")
    with pytest.raises(AccountLocked):
        finish(r, state, code, browser)
    r.store.unlock(agent.id)
    r.deactivate(agent)
    state, code, browser = provider_signs_in(r, "sub-1", "eidas2")
    with pytest.raises(AccessSuspended):
        finish(r, state, code, browser)


def test_an_identity_links_once_and_no_federation_means_not_found() -> None:
    """Linking a linked identity is a conflict; without a provider the routes do not exist."""
    r = rig()
    a, b = r.agent("a"), r.agent("b")
    federation.link(r.deps, a.id, ISSUER, "sub-1", r.clock.now())
    with pytest.raises(Conflict):
        federation.link(r.deps, b.id, ISSUER, "sub-1", r.clock.now())
    off = rig(federation=False)
    with pytest.raises(NotFound):
        federation.start(off.deps, HOME, CALLBACK)
