"""The security console's use cases on memory twins: read an alert, see an account, contain it.

ASVS 5.0: V8.2.1 (only the security team reaches these functions), V8.3.1 (decided on the
server, from the caller's roles), V7.4.x (locking or suspending ends the sessions at once),
V16.3.x (each containment is journaled with the officer and the alert behind it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from rempart.console import service
from rempart.governance.service.deps import GovernanceDeps
from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.guard.alerts import Alert, Severity
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.actors import Agent, Organisation, OrgKind, Role
from rempart.kernel.clock import ManualClock
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.errors import Forbidden, NotFound
from rempart.kernel.tags import Tag
from rempart.kernel.transactions import MemoryTransactions
from rempart.people.scope import ScopeRules
from rempart.people.service.deps import PortalDeps
from rempart.signin.model import AuthPolicy, Session
from rempart.signin.service.deps import AuthDeps
from tests.factories import NOW, make_agent
from tests.unit.twins import MemoryCredentialStore, MemoryPortalStore, MemorySessionStore, Unused

AGENCY = Organisation("ORG-FT", OrgKind.MISSION_LOCALE, "Agence", "00000000000001")
TRAINER = Organisation("ORG-OF", OrgKind.TRAINING_BODY, "Formation Plus", "00000000000002")
NOT_TEAM = [Role.ADVISOR, Role.ACCOUNT_MANAGER, Role.TRAINING_MANAGER, Role.DPO]


@dataclass
class Rig:
    gov: GovernanceDeps
    deps: PortalDeps
    portal: MemoryPortalStore
    sessions: MemorySessionStore
    credentials: MemoryCredentialStore
    journal: MemoryJournal
    alerts: MemoryAlertStore
    officer: Agent
    suspect: Agent

    def ctx(self, *roles: Role) -> RequestContext:
        agent = self.officer
        if roles:
            agent = make_agent(OrgKind.MISSION_LOCALE, set(roles), org_id=AGENCY.id)
        return RequestContext(agent, AGENCY, "s-officer", ClientInfo("192.0.2.9"), NOW)

    def session(self, key: str, agent: Agent, *, seen_minutes_ago: int = 0) -> None:
        seen = NOW - dt.timedelta(minutes=seen_minutes_ago)
        self.sessions.create(
            Session(
                key=key,
                public_id=f"pub-{key}",
                agent_id=agent.id,
                org_id=agent.org_id,
                method="password+totp",
                created_at=seen,
                last_seen_at=seen,
                expires_at=NOW + dt.timedelta(hours=8),
                fresh_until=None,
                address="203.0.113.5",
                network="AS:Evil/XX",
                country="XX",
                user_agent="curl",
            )
        )


@pytest.fixture
def rig() -> Rig:
    portal = MemoryPortalStore()
    officer = make_agent(
        OrgKind.MISSION_LOCALE, {Role.SECURITY_OFFICER}, login="sec.officer", org_id=AGENCY.id
    )
    suspect = make_agent(OrgKind.TRAINING_BODY, {Role.ADVISOR}, login="of.adv", org_id=TRAINER.id)
    portal.add(AGENCY, TRAINER, officer, suspect)
    journal, alerts, clock = MemoryJournal(), MemoryAlertStore(), ManualClock(NOW)
    sessions, credentials = MemorySessionStore(), MemoryCredentialStore(portal)
    deps = PortalDeps(
        store=portal,
        journal=journal,
        clock=clock,
        rules=ScopeRules(),
        standings=Unused("standings"),  # type: ignore[arg-type]
        transactions=MemoryTransactions(),
    )
    auth = AuthDeps(
        credentials=credentials,  # type: ignore[arg-type]
        logins=Unused("logins"),  # type: ignore[arg-type]
        locks=credentials,  # type: ignore[arg-type]
        totp_secrets=Unused("totp secrets"),  # type: ignore[arg-type]
        webauthn_keys=Unused("webauthn keys"),  # type: ignore[arg-type]
        recovery_codes=Unused("recovery codes"),  # type: ignore[arg-type]
        identities=Unused("identities"),  # type: ignore[arg-type]
        challenges=Unused("challenges"),  # type: ignore[arg-type]
        sessions=sessions,  # type: ignore[arg-type]
        revocations=sessions,  # type: ignore[arg-type]
        directory=portal,  # type: ignore[arg-type]
        apps=portal,  # type: ignore[arg-type]
        hasher=Unused("hasher"),  # type: ignore[arg-type]
        work=Unused("hashing work"),  # type: ignore[arg-type]
        totp=Unused("totp"),  # type: ignore[arg-type]
        webauthn=Unused("webauthn"),  # type: ignore[arg-type]
        federation=None,
        locator=Unused("locator"),  # type: ignore[arg-type]
        attempts=Unused("attempts"),  # type: ignore[arg-type]
        journal=journal,
        alerts=alerts,
        mailer=Unused("mailer"),  # type: ignore[arg-type]
        clock=clock,
        policy=AuthPolicy(),
        secret=b"s" * 32,
    )
    unused = {
        name: Unused(name)
        for name in (
            "standings",
            "accounts",
            "listings",
            "requests",
            "tokens",
            "org_suspensions",
            "campaigns",
            "review_items",
            "transactions",
            "mailer",
            "rules",
            "batches",
        )
    }
    gov = GovernanceDeps(
        directory=portal,  # type: ignore[arg-type]
        apps=portal,  # type: ignore[arg-type]
        journal=journal,
        alerts=alerts,
        clock=clock,
        auth=auth,
        **unused,  # type: ignore[arg-type]
    )
    return Rig(gov, deps, portal, sessions, credentials, journal, alerts, officer, suspect)


def raise_alert(rig: Rig, rule: str, minutes: int = 0) -> int:
    return rig.alerts.raise_alert(
        Alert(NOW + dt.timedelta(minutes=minutes), rule, Severity.HIGH, "x", agent_login="of.adv")
    )


@pytest.mark.parametrize("role", [Role.SECURITY_OFFICER, Role.ADMIN])
def test_the_team_opens_an_alert_by_id(rig: Rig, role: Role) -> None:
    """V8.2.1: security officers and admins read alerts."""
    raise_alert(rig, "guard:canary")
    second = raise_alert(rig, "guard:velocity")
    found = service.alert_by_id(rig.alerts, rig.ctx(role), second)
    assert (found.id, found.rule) == (second, "guard:velocity")
    with pytest.raises(NotFound):
        service.alert_by_id(rig.alerts, rig.ctx(role), 999)


@pytest.mark.parametrize("role", NOT_TEAM)
def test_nobody_else_reads_alerts_or_volumes(rig: Rig, role: Role) -> None:
    """V8.2.1: any other role is refused, whatever the alert."""
    alert_id = raise_alert(rig, "guard:canary")
    with pytest.raises(Forbidden):
        service.alert_by_id(rig.alerts, rig.ctx(role), alert_id)
    with pytest.raises(Forbidden):
        service.alerts_per_rule(rig.alerts, rig.ctx(role), NOW)
    with pytest.raises(Forbidden):
        service.journal_volumes(rig.deps, rig.ctx(role), NOW, NOW)


def test_alerts_per_rule_most_frequent_first(rig: Rig) -> None:
    for rule, minutes in [("b", 0), ("a", 1), ("b", 2), ("c", -5)]:
        raise_alert(rig, rule, minutes)
    assert service.alerts_per_rule(rig.alerts, rig.ctx(), NOW) == [("b", 2), ("a", 1)]


def test_journal_volumes(rig: Rig) -> None:
    rig.session("k1", rig.suspect)
    service.lock_account(rig.gov, rig.ctx(), "of.adv", 1)
    rows = service.journal_volumes(rig.deps, rig.ctx(), NOW, NOW + dt.timedelta(days=1))
    assert rows == [(NOW.date(), TRAINER.id, 2)]


def test_account_state_shows_locks_live_sessions_and_the_app(rig: Rig) -> None:
    rig.session("k1", rig.suspect)
    rig.session("k2", rig.suspect, seen_minutes_ago=60)  # idle past the policy: not live
    state = service.account_state(rig.gov, rig.ctx(), "of.adv")
    assert state == service.AccountState(
        login="of.adv",
        org_id=TRAINER.id,
        active=True,
        locked=False,
        live_sessions=1,
        app=str(TRAINER.app),
        app_enabled=True,
    )
    assert service.account_state(rig.gov, rig.ctx(), "nobody") is None
    assert service.account_state(rig.gov, rig.ctx(), "x" * 65) is None
    assert service.account_state(rig.gov, rig.ctx(), "") is None


@pytest.mark.parametrize("role", NOT_TEAM)
def test_account_state_and_containment_are_for_the_team_only(rig: Rig, role: Role) -> None:
    """V8.2.1, V8.3.1: the roles decide on the server; nothing is changed when refused."""
    rig.session("k1", rig.suspect)
    with pytest.raises(Forbidden):
        service.account_state(rig.gov, rig.ctx(role), "of.adv")
    with pytest.raises(Forbidden):
        service.lock_account(rig.gov, rig.ctx(role), "of.adv", 1)
    with pytest.raises(Forbidden):
        service.suspend_org_app(rig.gov, rig.ctx(role), TRAINER.id, 1)
    assert rig.credentials.locked == {}
    assert rig.sessions.live_of(rig.suspect.id, NOW) != []
    assert rig.portal.app_enabled(TRAINER.app, TRAINER.id)
    assert rig.journal.entries == []


def test_lock_ends_the_sessions_and_is_journaled(rig: Rig) -> None:
    """V7.4.x, V16.3.x: the lock takes effect at once and names the officer and the alert."""
    rig.session("k1", rig.suspect)
    rig.session("k2", rig.suspect)
    rig.session("k3", rig.officer)
    assert service.lock_account(rig.gov, rig.ctx(), "of.adv", 7) == 2
    lock = rig.credentials.lock_of(rig.suspect.id)
    assert lock is not None
    assert lock.reason == "locked by sec.officer (alert 7)"
    assert rig.sessions.live_of(rig.suspect.id, NOW) == []
    assert len(rig.sessions.live_of(rig.officer.id, NOW)) == 1
    tags = [e.tag for e in rig.journal.entries]
    assert tags == [Tag.AUTH_ACCOUNT_LOCKED, Tag.AUTH_SESSION_REVOKED, Tag.AUTH_SESSION_REVOKED]
    assert rig.journal.entries[0].details == {"by": "sec.officer", "alert_id": 7}
    state = service.account_state(rig.gov, rig.ctx(), "of.adv")
    assert state is not None
    assert (state.locked, state.live_sessions) == (True, 0)


def test_lock_refuses_the_officers_own_account_and_unknown_ones(rig: Rig) -> None:
    with pytest.raises(Forbidden):
        service.lock_account(rig.gov, rig.ctx(), "sec.officer", 1)
    with pytest.raises(NotFound):
        service.lock_account(rig.gov, rig.ctx(), "nobody", 1)
    assert rig.credentials.locked == {}


def test_suspending_an_app_for_one_organisation(rig: Rig) -> None:
    """V7.4.x: every session of that organisation ends; other organisations keep working."""
    rig.session("k1", rig.suspect)
    rig.session("k3", rig.officer)
    facts = service.suspend_org_app(rig.gov, rig.ctx(), TRAINER.id, 9)
    assert facts == {
        "app": str(TRAINER.app),
        "org_id": TRAINER.id,
        "sessions_ended": 1,
        "alert_id": 9,
    }
    assert not rig.portal.app_enabled(TRAINER.app, TRAINER.id)
    assert rig.portal.app_enabled(AGENCY.app, AGENCY.id)
    assert rig.sessions.live_of(rig.suspect.id, NOW) == []
    assert len(rig.sessions.live_of(rig.officer.id, NOW)) == 1
    assert Tag.ADMIN_APP_SUSPENDED in [e.tag for e in rig.journal.entries]
    (alert,) = rig.alerts.items
    assert alert.agent_login == "sec.officer"
    assert alert.action_taken == "app_suspended"
    state = service.account_state(rig.gov, rig.ctx(), "of.adv")
    assert state is not None
    assert state.app_enabled is False


def test_suspend_refuses_the_officers_own_organisation_and_unknown_ones(rig: Rig) -> None:
    with pytest.raises(Forbidden):
        service.suspend_org_app(rig.gov, rig.ctx(), AGENCY.id, 1)
    with pytest.raises(NotFound):
        service.suspend_org_app(rig.gov, rig.ctx(), "ORG-NONE", 1)
    with pytest.raises(NotFound):
        service.suspend_org_app(rig.gov, rig.ctx(), "X" * 33, 1)
    assert rig.portal.switches == {}
