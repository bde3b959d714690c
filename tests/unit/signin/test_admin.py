"""Administrators and account managers on others' sign-in (``signin.service.admin``) and the
guard's containment (``signin.service.containment``), on memory twins."""

from __future__ import annotations

import pytest

from rempart.kernel.actors import App, Role
from rempart.kernel.errors import Forbidden, NotFound, SessionRevoked, StepUpRequired
from rempart.kernel.tags import Tag
from rempart.signin.model import AccountLock, EndReason, digest
from rempart.signin.service import admin, sessions
from rempart.signin.service.containment import SessionContainment
from tests.support.signin_memory import HOME, ISSUER, rig


def test_account_manager_revokes_sessions_in_their_organisation_only() -> None:
    """Revocation of an account's sessions (ASVS V7.4.5), after a step-up (pentest finding 6:
    a stale session alone disabled colleagues); other organisations look absent."""
    r = rig()
    manager = r.agent("am.dupont", Role.ACCOUNT_MANAGER)
    target = r.agent("tm.dupont")
    outsider = r.agent("tm.martin", org="martin")
    opened = r.sign_in(target)
    with pytest.raises(StepUpRequired):
        admin.revoke_account_sessions(r.deps, r.context(manager, fresh=False), "tm.dupont")
    ctx = r.context(manager)
    assert admin.revoke_account_sessions(r.deps, ctx, "tm.dupont") == 1
    with pytest.raises(SessionRevoked):
        sessions.resume(r.deps, opened.token, HOME, "GET", None)
    with pytest.raises(NotFound):
        admin.revoke_account_sessions(r.deps, ctx, outsider.login)
    with pytest.raises(Forbidden):
        admin.revoke_account_sessions(r.deps, r.context(target), "am.dupont")


def test_an_account_manager_never_ends_a_national_role_s_sessions() -> None:
    """Pentest finding 6: the agency's own account manager cannot end its security officer's
    sessions (the role hierarchy); a security officer can end anyone's."""
    r = rig()
    manager = r.agent("am.agency", Role.ACCOUNT_MANAGER, org="agency")
    officer = r.agent("so.agency", Role.SECURITY_OFFICER, org="agency")
    r.sign_in(officer)
    with pytest.raises(Forbidden):
        admin.revoke_account_sessions(r.deps, r.context(manager), officer.login)
    assert r.sessions.live_of(officer.id, r.clock.now())
    r.sign_in(manager)
    assert admin.revoke_account_sessions(r.deps, r.context(officer), manager.login) == 1


def test_organisation_revocation_is_for_admins_and_security_officers() -> None:
    """Every session of a compromised partner ends at once (July 2025)."""
    r = rig()
    admin_agent = r.agent("ag.admin", Role.ADMIN, org="agency")
    manager = r.agent("am.dupont", Role.ACCOUNT_MANAGER)
    r.sign_in(r.agent("tm.dupont"))
    with pytest.raises(Forbidden):
        admin.revoke_org_sessions(r.deps, r.context(manager), manager.org_id)
    with pytest.raises(StepUpRequired):
        admin.revoke_org_sessions(r.deps, r.context(admin_agent, fresh=False), manager.org_id)
    assert admin.revoke_org_sessions(r.deps, r.context(admin_agent), manager.org_id) == 1
    with pytest.raises(NotFound):
        admin.revoke_org_sessions(r.deps, r.context(admin_agent), "NOPE-0000")


def test_unlock_needs_a_fresh_proof_and_the_right_role() -> None:
    """Unlocking opens a door: step-up, an account manager or an admin, never oneself."""
    r = rig()
    manager = r.agent("am.dupont", Role.ACCOUNT_MANAGER)
    officer = r.agent("ag.sec", Role.SECURITY_OFFICER, org="agency")
    target = r.agent("tm.dupont")
    r.store.lock(AccountLock(target.id, r.clock.now(), "failures"))
    with pytest.raises(StepUpRequired):
        admin.unlock(r.deps, r.context(manager, fresh=False), "tm.dupont")
    with pytest.raises(Forbidden):
        admin.unlock(r.deps, r.context(officer), "tm.dupont")
    with pytest.raises(Forbidden):
        admin.unlock(r.deps, r.context(manager), "am.dupont")
    admin.unlock(r.deps, r.context(manager), "tm.dupont")
    creds = r.store.credentials_by_id(target.id)
    assert creds is not None
    assert not creds.locked
    assert r.store.lock_of(target.id) is None
    assert Tag.AUTH_ACCOUNT_UNLOCKED in r.tags()


def test_only_admins_link_identities() -> None:
    """Linking a provider identity is an administrator's act, after a step-up (ASVS V6.8.1)."""
    r = rig()
    admin_agent = r.agent("ag.admin", Role.ADMIN, org="agency")
    manager = r.agent("am.dupont", Role.ACCOUNT_MANAGER)
    target = r.agent("tm.dupont")
    with pytest.raises(Forbidden):
        admin.link_identity(r.deps, r.context(manager), "tm.dupont", ISSUER, "sub-1")
    with pytest.raises(StepUpRequired):
        admin.link_identity(r.deps, r.context(admin_agent, fresh=False), "tm.dupont", ISSUER, "s")
    admin.link_identity(r.deps, r.context(admin_agent), "tm.dupont", ISSUER, "sub-1")
    assert r.store.agent_by_identity(ISSUER, "sub-1") == target.id
    admin.unlink_identity(r.deps, r.context(admin_agent), "tm.dupont", ISSUER, "sub-1")
    assert r.store.agent_by_identity(ISSUER, "sub-1") is None
    with pytest.raises(NotFound):
        admin.unlink_identity(r.deps, r.context(admin_agent), "tm.dupont", ISSUER, "sub-1")
    assert Tag.AUTH_IDENTITY_LINKED in r.tags()
    assert Tag.AUTH_IDENTITY_UNLINKED in r.tags()


def test_containment_revokes_one_session_by_its_public_id() -> None:
    """The guard ends a session; its next request is refused as revoked (ASVS V7.4.5)."""
    r = rig()
    opened = r.sign_in(r.agent("tm.dupont"))
    guard = SessionContainment(r.deps)
    guard.revoke_session(opened.session.public_id, "impossible travel")
    guard.revoke_session(opened.session.public_id, "impossible travel")  # once is enough
    assert r.reasons(Tag.AUTH_SESSION_REVOKED) == [str(EndReason.GUARD)]
    with pytest.raises(SessionRevoked):
        sessions.resume(r.deps, opened.token, HOME, "GET", None)


def test_containment_locks_and_ends_every_session() -> None:
    """Locking an abused account ends all its sessions at once."""
    r = rig()
    agent = r.agent("tm.dupont")
    opened = r.sign_in(agent)
    SessionContainment(r.deps).lock_account("tm.dupont", "bulk export")
    SessionContainment(r.deps).lock_account("nobody", "bulk export")  # unknown: nothing to do
    creds = r.store.credentials_by_id(agent.id)
    assert creds is not None
    assert creds.locked
    stored = r.sessions.get(digest(opened.token))
    assert stored is not None
    assert stored.end_reason == str(EndReason.ACCOUNT_LOCKED)


def test_containment_switches_an_app_off_for_one_organisation() -> None:
    """The kill switch of one partner's app (ASVS V8.3.1)."""
    r = rig()
    SessionContainment(r.deps).suspend_org_app("FOR-0001", str(App.TRAINING_FOLLOW_UP), "abuse")
    assert not r.directory.app_enabled(App.TRAINING_FOLLOW_UP, "FOR-0001")
    assert r.directory.app_enabled(App.TRAINING_FOLLOW_UP, "FOR-0002")
    assert Tag.ADMIN_APP_SUSPENDED in r.tags()
