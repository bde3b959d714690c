"""The signed-in agent's factors (``signin.service.factors``): enrol, remove, step up, change
the password, each behind a proof made for it (``signin.service.proofs``); memory twins and
real, I/O-free crypto adapters."""

from __future__ import annotations

import json

import pytest

from rempart.kernel.actors import Role
from rempart.kernel.context import RequestContext
from rempart.kernel.errors import (
    AccountLocked,
    Conflict,
    Forbidden,
    InvalidRequest,
    StepUpRequired,
    Unauthenticated,
)
from rempart.kernel.tags import Tag
from rempart.signin.model import FactorAction, digest
from rempart.signin.service import factors, login, proofs, sessions
from tests.support.authenticator import SoftAuthenticator
from tests.support.signin_memory import HOME, PASSWORD, Rig, authenticator, rig


def register_key(
    r: Rig, ctx: RequestContext, auth: SoftAuthenticator, proof: str | None = None
) -> int:
    """Register ``auth`` for the context's agent, as the factors page does."""
    proof = proof or r.prove(ctx, FactorAction.WEBAUTHN_REGISTER)
    handle, options = factors.webauthn_registration_options(r.deps, ctx, proof)
    response = auth.create(json.loads(options))
    return factors.register_webauthn(r.deps, ctx, handle, json.dumps(response), "laptop").id


def key_proof(r: Rig, ctx: RequestContext, auth: SoftAuthenticator, action: FactorAction) -> str:
    """A proof ticket for ``action`` made with the security key ``auth``."""
    handle, options = proofs.webauthn_proof_options(r.deps, ctx, action)
    return proofs.prove_with_webauthn(
        r.deps, ctx, handle, json.dumps(auth.get(json.loads(options)))
    ).token


def test_every_factor_change_needs_a_proof_made_for_it() -> None:
    """The sign-in's freshness is no proof: a change without its own ticket is refused,
    journaled and alerted, and nothing changes (ASVS V6.4.4, V7.5.1; pentest finding 1)."""
    r = rig()
    agent = r.agent("tm.dupont")
    fresh = r.context(agent, fresh=True)  # inside the sign-in's five minutes
    for change in (
        lambda: factors.totp_enrolment(r.deps, fresh, None),
        lambda: factors.remove_totp(r.deps, fresh, None),
        lambda: factors.new_recovery_codes(r.deps, fresh, None),
        lambda: factors.webauthn_registration_options(r.deps, fresh, None),
        lambda: factors.remove_webauthn(r.deps, fresh, 1, None),
        lambda: factors.change_password(r.deps, fresh, "t", PASSWORD, "x" * 30, True, None),
    ):
        with pytest.raises(StepUpRequired):
            change()
    assert r.store.recovery_codes_left(agent.id) == 0
    assert r.tags().count(Tag.AUTH_FACTOR_REFUSED) == 6
    assert [a.rule for a in r.alerts.items] == ["factor_change_refused"] * 6


def test_a_proof_serves_one_action_of_one_session_once() -> None:
    """A ticket names its action and its session; it is spent by the change it proves."""
    r = rig()
    agent = r.agent("tm.dupont")
    ctx = r.context(agent)
    proof = r.prove(ctx, FactorAction.RECOVERY_CODES)
    with pytest.raises(StepUpRequired):  # another action
        factors.totp_enrolment(r.deps, ctx, proof)
    proof = r.prove(ctx, FactorAction.RECOVERY_CODES)
    r.clock.advance(30)
    elsewhere = r.context(agent, r.sign_in(agent))
    with pytest.raises(StepUpRequired):  # another session of the same agent
        factors.new_recovery_codes(r.deps, elsewhere, proof)
    proof = r.prove(ctx, FactorAction.RECOVERY_CODES)
    assert len(factors.new_recovery_codes(r.deps, ctx, proof)) == 10
    with pytest.raises(StepUpRequired):  # spent
        factors.new_recovery_codes(r.deps, ctx, proof)
    proof = r.prove(ctx, FactorAction.RECOVERY_CODES)
    r.clock.advance(r.deps.policy.proof_ttl.total_seconds())
    with pytest.raises(StepUpRequired):  # expired
        factors.new_recovery_codes(r.deps, ctx, proof)


def test_a_proof_needs_a_new_code_and_counts_towards_the_lock() -> None:
    """The code the sign-in used, or a wrong one, proves nothing; failures are throttled and
    lock the account like sign-in failures (ASVS V6.3.1, V6.5.1)."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    ctx = r.context(agent, opened)
    with pytest.raises(StepUpRequired):  # the sign-in's own code
        proofs.prove_with_totp(r.deps, ctx, FactorAction.TOTP_ENROL, r.code(agent))
    for _ in range(r.deps.policy.lock_after):
        r.clock.advance(1000)
        with pytest.raises(StepUpRequired):
            proofs.prove_with_totp(r.deps, ctx, FactorAction.TOTP_ENROL, "000000")
    creds = r.store.credentials_by_id(agent.id)
    assert creds is not None
    assert creds.locked
    assert "factor proof: wrong or already used code" in r.reasons(Tag.AUTH_MFA_FAILED)


def test_every_change_notifies_the_holder_and_alerts() -> None:
    """A notice goes to the address on file (in French, no link) and an alert to the security
    team for every factor change (pentest finding 7)."""
    r = rig()
    agent = r.agent("tm.dupont")
    ctx = r.context(agent)
    factors.new_recovery_codes(r.deps, ctx, r.prove(ctx, FactorAction.RECOVERY_CODES))
    (mail,) = r.mailer.outbox
    assert mail.to == agent.email
    assert "codes de secours" in mail.body
    assert "http" not in mail.body
    (alert,) = r.alerts.items
    assert alert.rule == "factor_changed"
    assert alert.severity == "medium"
    assert alert.evidence["action"] == "recovery_codes"
    assert alert.evidence["proof"] == "totp"


def test_a_privileged_first_passkey_needs_a_second_person() -> None:
    """Password + TOTP alone never register a privileged account's first key: someone else
    approves it first, once (pentest finding 7)."""
    r = rig(webauthn_only_for_privileged=True)
    manager = r.agent("am.dupont", Role.ACCOUNT_MANAGER)
    officer = r.agent("so.agency", Role.SECURITY_OFFICER, org="agency")
    ctx = r.context(manager)
    with pytest.raises(Forbidden):
        register_key(r, ctx, authenticator())
    assert r.store.webauthn_credentials(manager.id) == []
    proofs.approve_first_key(r.deps, r.context(officer), manager)
    register_key(r, ctx, authenticator())
    assert len(r.store.webauthn_credentials(manager.id)) == 1
    rules = [a.rule for a in r.alerts.items]
    assert rules[-3:] == ["first_key_approved", "factor_changed", "factor_changed"][-3:] or (
        "factor_changed" in rules
    )
    assert [a.severity for a in r.alerts.items if a.rule == "factor_changed"] == ["high"]


def test_a_privileged_self_approval_counts_for_nothing() -> None:
    """An approval recorded by the account itself does not open the ceremony."""
    r = rig(webauthn_only_for_privileged=True)
    manager = r.agent("am.dupont", Role.ACCOUNT_MANAGER)
    ctx = r.context(manager)
    proofs.approve_first_key(r.deps, ctx, manager)
    with pytest.raises(Forbidden):
        register_key(r, ctx, authenticator())


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
    r.clock.advance(30)
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
    agent = r.agent("tm.dupont")
    ctx = r.context(agent)
    enrol = factors.totp_enrolment(r.deps, ctx, r.prove(ctx, FactorAction.TOTP_ENROL))
    assert enrol["otpauth_uri"].startswith("otpauth://totp/")
    with pytest.raises(Unauthenticated):
        factors.confirm_totp(r.deps, ctx, enrol["challenge"], "000000")
    enrol = factors.totp_enrolment(r.deps, ctx, r.prove(ctx, FactorAction.TOTP_ENROL))
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
    ctx = r.context(agent)
    enrol = factors.totp_enrolment(r.deps, ctx, r.prove(ctx, FactorAction.TOTP_ENROL))
    r.clock.advance(30)
    other = r.context(agent, r.sign_in(agent))
    with pytest.raises(Unauthenticated):
        factors.confirm_totp(r.deps, other, enrol["challenge"], "123456")


def test_the_last_factor_cannot_be_removed() -> None:
    """Removing the only way to sign in is refused (ASVS V6.4.2)."""
    r = rig()
    agent = r.agent("tm.dupont")
    ctx = r.context(agent)
    with pytest.raises(Conflict):
        factors.remove_totp(r.deps, ctx, r.prove(ctx, FactorAction.TOTP_REMOVE))
    key = authenticator()
    key_id = register_key(r, ctx, key)
    factors.remove_totp(r.deps, ctx, r.prove(ctx, FactorAction.TOTP_REMOVE))  # the key remains
    with pytest.raises(Conflict):
        factors.remove_webauthn(
            r.deps, ctx, key_id, key_proof(r, ctx, key, FactorAction.WEBAUTHN_REMOVE)
        )
    assert Tag.AUTH_FACTOR_REMOVED in r.tags()


def test_new_recovery_codes_replace_the_old_ones() -> None:
    """Ten 120-bit codes, shown once; the previous set stops working (ASVS V6.5.2)."""
    r = rig()
    agent = r.agent("tm.dupont")
    ctx = r.context(agent)
    first = factors.new_recovery_codes(r.deps, ctx, r.prove(ctx, FactorAction.RECOVERY_CODES))
    second = factors.new_recovery_codes(r.deps, ctx, r.prove(ctx, FactorAction.RECOVERY_CODES))
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
    factors.new_recovery_codes(r.deps, ctx, r.prove(ctx, FactorAction.RECOVERY_CODES))
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
    officer = r.agent("so.agency", Role.SECURITY_OFFICER, org="agency")
    auth = authenticator()
    ctx = r.context(manager)
    proofs.approve_first_key(r.deps, r.context(officer), manager)
    register_key(r, ctx, auth)
    r.clock.advance(30)
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


def test_change_password_needs_a_proof_the_current_one_and_the_policy() -> None:
    """Behind a proof; the new password's policy is checked before the current password, so a
    weak new one says nothing about it (ASVS V6.2.2, V6.2.3; pentest finding 3)."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    r.clock.advance(31)
    other = r.sign_in(agent)
    ctx = sessions.resume(r.deps, opened.token, HOME, "GET", None)
    action = FactorAction.PASSWORD_CHANGE
    with pytest.raises(InvalidRequest):  # weak: refused whether the current one is right or not
        factors.change_password(
            r.deps, ctx, opened.token, "wrong", "short", True, r.prove(ctx, action)
        )
    with pytest.raises(Unauthenticated):
        factors.change_password(
            r.deps,
            ctx,
            opened.token,
            "wrong",
            "Sept grues cendrées volent vers le nord",
            True,
            r.prove(ctx, action),
        )
    new = "Sept grues cendrées volent vers le sud ce soir"
    r.clock.advance(60)  # past the account's throttle delay
    assert (
        factors.change_password(
            r.deps, ctx, opened.token, PASSWORD, new, True, r.prove(ctx, action)
        )
        == 1
    )
    creds = r.store.credentials_by_id(agent.id)
    assert creds is not None
    assert r.deps.hasher.verify(creds.password_hash, new)
    stored = r.sessions.get(digest(other.token))
    assert stored is not None
    assert stored.ended_at is not None
    assert Tag.AUTH_PASSWORD_CHANGED in r.tags()
    assert "password change: wrong current password" in r.reasons(Tag.AUTH_LOGIN_FAILED)


def test_change_password_failures_lock_like_sign_in() -> None:
    """Wrong current passwords count towards the account's lock; a locked account changes
    nothing any more (pentest finding 3: the password oracle)."""
    r = rig()
    agent = r.agent("tm.dupont")
    ctx = r.context(agent)
    action = FactorAction.PASSWORD_CHANGE
    new = "Sept grues cendrées volent vers le sud ce soir"
    for _ in range(r.deps.policy.lock_after):
        r.clock.advance(1000)
        with pytest.raises(Unauthenticated):
            factors.change_password(r.deps, ctx, "t", "guess", new, False, r.prove(ctx, action))
    r.clock.advance(1000)
    with pytest.raises(AccountLocked):
        factors.change_password(r.deps, ctx, "t", PASSWORD, new, False, r.prove(ctx, action))
