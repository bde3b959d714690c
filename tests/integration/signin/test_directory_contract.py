"""Contract of ``AgentDirectory`` and ``AppSwitches``: the memory twin answers as the portal's
SQL store does (ASVS V8.3.1: a kill switch is enforced by the server)."""

from __future__ import annotations

from rempart.kernel.actors import App
from tests.integration.signin.conftest import ORG_A, ORG_B, Backend


def test_agents_by_id_and_login(backend: Backend) -> None:
    """Both look-ups give the same agent, with its organisation and roles."""
    a = backend.agents["am.dupont"]
    by_id = backend.directory.agent_by_id(a)
    assert by_id is not None
    assert by_id == backend.directory.agent_by_login("am.dupont")
    assert by_id.org_id == backend.orgs[ORG_A]
    assert [str(r) for r in by_id.roles] == ["account_manager"]
    assert by_id.privileged
    assert by_id.active
    assert backend.directory.agent_by_login("AM.DUPONT") is None
    assert backend.directory.agent_by_id(999_999) is None


def test_organisations(backend: Backend) -> None:
    """An organisation by id, with its kind and name."""
    org = backend.directory.organisation(backend.orgs[ORG_B])
    assert org is not None
    assert (org.name, str(org.kind)) == (ORG_B, "mission_locale")
    assert backend.directory.organisation("NOPE-0000") is None


def test_app_switches_for_one_organisation_and_for_all(backend: Backend) -> None:
    """An app is off for an organisation when switched off for it or for everyone."""
    a, b = backend.orgs[ORG_A], backend.orgs[ORG_B]
    app = App.TRAINING_FOLLOW_UP
    assert backend.directory.app_enabled(app, a)
    backend.directory.set_app_enabled(app, a, enabled=False)
    assert not backend.directory.app_enabled(app, a)
    assert backend.directory.app_enabled(app, b)
    backend.directory.set_app_enabled(app, None, enabled=False)
    assert not backend.directory.app_enabled(app, b)
    backend.directory.set_app_enabled(app, None, enabled=True)
    backend.directory.set_app_enabled(app, a, enabled=True)
    assert backend.directory.app_enabled(app, a)
    assert backend.directory.app_enabled(app, b)
