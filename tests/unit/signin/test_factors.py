"""The signed-in agent's factors (``signin.service.factors``): enrol, remove, step up, change
the password; memory twins and real, I/O-free crypto adapters."""

from __future__ import annotations

import json

import pytest

from rempart.kernel.actors import Role
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    StepUpRequired,
    Unauthenticated,
)
from rempart.kernel.tags import Tag
from rempart.signin.model import digest
from rempart.signin.service import factors, login, sessions
from tests.support.authenticator import SoftAuthenticator
from tests.support.signin_memory import HOME, PASSWORD, Rig, authenticator, rig


def register_key(r: Rig, ctx: RequestContext, auth: SoftAuthenticator) -> int:
    """Register ``auth`` for the context's agent, as the factors page does."""
    handle, options = factors.webauthn_registration_options(r.deps, ctx)
    response = auth.create(json.loads(options))
    return factors.register_webauthn(r.deps, ctx, handle, json.dumps(response), "laptop").id


def test_every_factor_change_needs_a_fresh_proof() -> None:
    """Adding or removing a factor asks for a recent second factor (ASVS V7.5.1)."""
    r = rig()
    agent = r.agent("tm.dupont")
    stale = r.context(agent, fresh=False)
    for change in (
        lambda: factors.totp_enrolment(r.deps, stale),
        lambda: factors.remove_totp(r.deps, stale),
        lambda: factors.new_recovery_codes(r.deps, stale),
        lambda: factors.webauthn_registration_options(r.deps, stale),
        lambda: factors.remove_webauthn(r.deps, stale, 1),
    ):
        with pytest.raises(StepUpRequired):
            change()


def test_security_key_registration_and_sign_in() -> None:
    """A registered key signs in; its counter is stored (ASVS V6.3.3, V6.5.1)."""
    r = rig()
    agent = r.agent("tm.dupont")
    auth = authenticator()
    ctx = r.context(agent)
    key_id = register_key(r, ctx, auth)
    assert [k.id for k in r.store.webauthn_credentials(agent.id)] == [key_id]
    assert Tag.AUTH_FACTOR_ADDED in r.tags()
    accepted = login.submit_password(r.deps, agent.login, PASSWORD, HOME)
    assert "webauthn" in accepted.methods
    options = json.loads(login.webauthn_options(r.deps, accepted.challenge, HOME))
    response = auth.get(options)
    opened = login.finish_with_webauthn(r.deps, accepted.challenge, json.dumps(response), HOME)
    assert opened.session.method == "password+webauthn"
    (stored,) = r.store.webauthn_credentials(agent.id)
    assert stored.sign_count == auth.sign_count


def test_a_cloned_key_counter_going_back_is_refused() -> None:
    """An assertion whose counter does not move forward fails (ASVS V6.5.1)."""
    r = rig()
    agent = r.agent("tm.dupont")
    auth = authenticator()
    register_key(r, r.context(agent), auth)
    auth.sign_count = 10
    accepted = login.submit_password(r.deps, agent.login, PASSWORD, HOME)
    options = json.loads(login.webauthn_options(r.deps, accepted.challenge, HOME))
    login.finish_with_webauthn(r.deps, accepted.challenge, json.dumps(auth.get(options)), HOME)
    auth.sign_count = 3
    again = login.submit_password(r.deps, agent.login, PASSWORD, HOME)
    options = json.loads(login.webauthn_options(r.deps, again.challenge, HOME))
    with pytest.raises(Unauthenticated):
        login.finish_with_webauthn(r.deps, again.challenge, json.dumps(auth.get(options)), HOME)


def test_webauthn_needs_its_options_first() -> None:
    """An assertion without the challenge's WebAuthn options is an invalid request."""
    r = rig()
    agent = r.agent("tm.dupont")
    register_key(r, r.context(agent), authenticator())
    accepted = login.submit_password(r.deps, agent.login, PASSWORD, HOME)
    with pytest.raises(InvalidRequest):
        login.finish_with_webauthn(r.deps, accepted.challenge, "{}", HOME)


def test_totp_enrolment_needs_a_matching_code() -> None:
    """A new secret is active only once a code from it is confirmed; that code is spent."""
    r = rig()
    agent = r.agent("tm.dupont", totp=False)
    ctx = r.context(agent)
    enrol = factors.totp_enrolment(r.deps, ctx)
    assert enrol["otpauth_uri"].startswith("otpauth://totp/")
    with pytest.raises(Unauthenticated):
        factors.confirm_totp(r.deps, ctx, enrol["challenge"], "000000")
    enrol = factors.totp_enrolment(r.deps, ctx)
    r.totp_secrets[agent.id] = enrol["secret"]
    factors.confirm_totp(r.deps, ctx, enrol["challenge"], r.code(agent))
    creds = r.store.credentials_by_id(agent.id)
    assert creds is not None
    assert creds.totp_secret == enrol["secret"]
    accepted = login.submit_password(r.deps, agent.login, PASSWORD, HOME)
    with pytest.raises(Unauthenticated):  # the confirming code cannot sign in
        login.finish_with_totp(r.deps, accepted.challenge, r.code(agent), HOME)


def test_an_enrolment_challenge_belongs_to_its_session() -> None:
    """Another session of the same agent cannot finish someone else's enrolment."""
    r = rig()
    agent = r.agent("tm.dupont")
    enrol = factors.totp_enrolment(r.deps, r.context(agent))
    other = r.context(agent, r.sign_in(agent))
    with pytest.raises(Unauthenticated):
        factors.confirm_totp(r.deps, other, enrol["challenge"], "123456")


def test_the_last_factor_cannot_be_removed() -> None:
    """Removing the only way to sign in is refused (ASVS V6.4.2)."""
    r = rig()
    agent = r.agent("tm.dupont")
    ctx = r.context(agent)
    with pytest.raises(Conflict):
        factors.remove_totp(r.deps, ctx)
    key_id = register_key(r, ctx, authenticator())
    factors.remove_totp(r.deps, ctx)  # the key remains
    with pytest.raises(Conflict):
        factors.remove_webauthn(r.deps, ctx, key_id)
    assert Tag.AUTH_FACTOR_REMOVED in r.tags()


def test_new_recovery_codes_replace_the_old_ones() -> None:
    """Ten 120-bit codes, shown once; the previous set stops working (ASVS V6.5.2)."""
    r = rig()
    agent = r.agent("tm.dupont")
    ctx = r.context(agent)
    first = factors.new_recovery_codes(r.deps, ctx)
    second = factors.new_recovery_codes(r.deps, ctx)
    assert len(second) == 10
    assert len(set(first) | set(second)) == 20
    assert r.store.recovery_codes_left(agent.id) == 10
    accepted = login.submit_password(r.deps, agent.login, PASSWORD, HOME)
    with pytest.raises(Unauthenticated):
        login.finish_with_recovery_code(r.deps, accepted.challenge, first[0], HOME)


def test_list_factors() -> None:
    """What the agent has enrolled and what sign-in will accept."""
    r = rig()
    agent = r.agent("tm.dupont")
    ctx = r.context(agent)
    factors.new_recovery_codes(r.deps, ctx)
    r.store.link_identity(agent.id, "https://idp.example", "sub-1", r.clock.now())
    seen = factors.list_factors(r.deps, ctx)
    assert seen["totp"] == {"enrolled": True}
    assert seen["recovery_codes"] == {"left": 10}
    assert seen["sign_in_methods"] == ["totp", "recovery_code"]
    assert seen["federated_identities"] == [{"issuer": "https://idp.example", "subject": "sub-1"}]


def test_step_up_with_totp_refuses_a_replayed_step() -> None:
    """Step-up proves a new code; the sign-in's own code is spent already (ASVS V6.5.1)."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    ctx = sessions.resume(r.deps, opened.token, HOME, "GET", None)
    with pytest.raises(StepUpRequired):
        factors.step_up_totp(r.deps, ctx, opened.token, r.code(agent))
    until = factors.step_up_totp(r.deps, ctx, opened.token, r.code(agent, +1))
    stored = r.sessions.get(digest(opened.token))
    assert stored is not None
    assert stored.fresh_until == until
    assert "step-up: wrong or already used code" in r.reasons(Tag.AUTH_MFA_FAILED)


def test_privileged_step_up_is_by_key_only() -> None:
    """A privileged agent confirms with the security key, never TOTP (ASVS V6.3.4)."""
    r = rig()
    manager = r.agent("am.dupont", Role.ACCOUNT_MANAGER)
    auth = authenticator()
    ctx = r.context(manager)
    register_key(r, ctx, auth)
    accepted = login.submit_password(r.deps, manager.login, PASSWORD, HOME)
    assert accepted.methods == ["webauthn"]
    options = json.loads(login.webauthn_options(r.deps, accepted.challenge, HOME))
    session = login.finish_with_webauthn(
        r.deps, accepted.challenge, json.dumps(auth.get(options)), HOME
    )
    live = sessions.resume(r.deps, session.token, HOME, "GET", None)
    with pytest.raises(Forbidden):
        factors.step_up_totp(r.deps, live, session.token, r.code(manager, +1))
    r.clock.advance(60)
    handle, options_json = factors.webauthn_step_up_options(r.deps, live)
    response = auth.get(json.loads(options_json))
    factors.step_up_webauthn(r.deps, live, session.token, handle, json.dumps(response))
    assert sessions.resume(r.deps, session.token, HOME, "GET", None).reproved


def test_change_password_needs_the_current_one_and_the_policy() -> None:
    """The current password is checked, the new one meets the policy (ASVS V6.2.2, V6.2.3)."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    r.clock.advance(31)
    other = r.sign_in(agent)
    ctx = sessions.resume(r.deps, opened.token, HOME, "GET", None)
    with pytest.raises(Unauthenticated):
        factors.change_password(r.deps, ctx, opened.token, "wrong", "x" * 20, True)
    with pytest.raises(InvalidRequest):
        factors.change_password(r.deps, ctx, opened.token, PASSWORD, "short", True)
    new = "Sept grues cendrées volent vers le sud ce soir"
    assert factors.change_password(r.deps, ctx, opened.token, PASSWORD, new, True) == 1
    creds = r.store.credentials_by_id(agent.id)
    assert creds is not None
    assert r.deps.hasher.verify(creds.password_hash, new)
    stored = r.sessions.get(digest(other.token))
    assert stored is not None
    assert stored.ended_at is not None
    assert Tag.AUTH_PASSWORD_CHANGED in r.tags()
