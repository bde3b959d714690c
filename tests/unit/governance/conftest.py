"""Governance use cases on memory twins only: no database, no network, a clock that stands still."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from rempart.governance.adapters.memory import (
    MemoryAccountRequestStore,
    MemoryAccountStore,
    MemoryEnrolmentTokenStore,
    MemoryGovernanceTables,
    MemoryOrgSuspensionStore,
    MemoryPrivilegeBatchStore,
    MemoryReviewStore,
)
from rempart.governance.model import GovernanceRules
from rempart.governance.service.deps import GovernanceDeps
from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.actors import Organisation, OrgKind, Role
from rempart.kernel.clock import ManualClock
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.identifiers import make_siret
from rempart.kernel.tags import Tag
from rempart.kernel.transactions import MemoryTransactions
from rempart.mail.adapters.memory import MemoryMailer
from rempart.mail.ports import Mailer
from rempart.signin.adapters.hashing import LocalHashingWork
from rempart.signin.adapters.memory_attempts import MemoryAttemptCounter
from rempart.signin.model import AuthPolicy, Session
from rempart.signin.service.deps import AuthDeps
from tests.factories import NOW
from tests.unit.governance.twins import (
    FixedLocator,
    MemoryChallenges,
    MemoryCredentials,
    MemoryPeople,
    MemorySessions,
    SaltedHasher,
    StepTotp,
)
from tests.unit.twins import Unused

CLIENT = ClientInfo(address="192.0.2.10", user_agent="pytest", network="AS-TEST")
ML = "Mission Locale Nord"
DUPONT = "Formations Dupont"
AGENCY = "Agence Paris 2e"


@dataclass
class Unit:
    """A small governance world on memory twins, with handles on every twin."""

    tables: MemoryGovernanceTables
    clock: ManualClock
    journal: MemoryJournal
    alerts: MemoryAlertStore
    mailer: MemoryMailer
    people: MemoryPeople
    credentials: MemoryCredentials
    sessions: MemorySessions
    totp: StepTotp
    transactions: MemoryTransactions
    rules: GovernanceRules
    orgs: dict[str, str] = field(default_factory=dict)  # name -> id
    agents: dict[str, int] = field(default_factory=dict)  # login -> id

    @property
    def gov(self) -> GovernanceDeps:
        """The governance deps (built anew: tests may swap the mailer or the rules)."""
        return build_deps(self)

    def org(self, name: str, kind: OrgKind) -> str:
        """Store an organisation."""
        org_id = f"{kind.value[:3].upper()}-{len(self.orgs) + 1:04d}"
        self.tables.add_organisation(
            Organisation(org_id, kind, name, make_siret(f"{len(self.orgs) + 1:013d}"))
        )
        self.orgs[name] = org_id
        return org_id

    def agent(self, login: str, org: str, *roles: Role, **extra: Any) -> int:
        """Store an account created 400 days ago (unless said) in organisation ``org``."""
        extra.setdefault("created_at", NOW - dt.timedelta(days=400))
        self.agents[login] = self.tables.add_account(login, self.orgs[org], roles, **extra)
        return self.agents[login]

    def ctx(self, login: str, *, fresh: bool = True) -> RequestContext:
        """A request as ``login``, signed in; ``fresh``: second factor just proven again."""
        agent = self.people.agent_by_login(login)
        assert agent is not None
        org = self.people.organisation(agent.org_id)
        assert org is not None
        now = self.clock.now()
        return RequestContext(
            agent=agent,
            org=org,
            session_id=f"s-{login}",
            client=CLIENT,
            now=now,
            fresh_until=now + dt.timedelta(minutes=5) if fresh else None,
        )

    def signed_in(self, login: str) -> Session:
        """Open a live session for ``login``."""
        agent = self.people.agent_by_login(login)
        assert agent is not None
        now = self.clock.now()
        session = Session(
            key=secrets.token_hex(16),
            public_id=secrets.token_hex(8),
            agent_id=agent.id,
            org_id=agent.org_id,
            method="totp",
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=10),
            fresh_until=None,
            address=CLIENT.address,
            network=CLIENT.network,
            country="FR",
            user_agent=CLIENT.user_agent,
        )
        self.sessions.create(session)
        return session

    def row(self, login: str) -> Any:
        """The stored account ``login`` (its columns)."""
        return self.tables.accounts[self.agents[login]]

    def tags(self) -> list[Tag]:
        """The journal's tags, oldest first."""
        return [e.tag for e in self.journal.entries]

    def entries(self, tag: Tag) -> list[Any]:
        """The journal entries of one tag."""
        return [e for e in self.journal.entries if e.tag is tag]

    def alert_rules(self) -> list[str]:
        """The rules of the alerts raised, oldest first."""
        return [a.rule for a in self.alerts.items]

    def mails_to(self, address: str) -> list[Any]:
        """The messages kept for ``address``."""
        return [m for m in self.mailer.outbox if m.to == address]


def build_deps(u: Unit, mailer: Mailer | None = None) -> GovernanceDeps:
    """Governance deps on the unit's twins (the same twins every time: same state)."""
    t = u.tables
    accounts = MemoryAccountStore(t)
    reviews = MemoryReviewStore(t)
    creds: Any = u.credentials  # one twin for the credential ports governance reaches
    auth = AuthDeps(
        credentials=creds,
        logins=Unused("login records"),  # type: ignore[arg-type]
        locks=creds,
        totp_secrets=Unused("TOTP secrets"),  # type: ignore[arg-type]
        webauthn_keys=creds,
        recovery_codes=creds,
        identities=creds,
        challenges=MemoryChallenges(),
        sessions=u.sessions,  # type: ignore[arg-type]
        revocations=u.sessions,  # type: ignore[arg-type]
        directory=u.people,
        apps=u.people,
        hasher=SaltedHasher(),
        work=LocalHashingWork(),
        totp=u.totp,
        webauthn=Unused("WebAuthn ceremonies"),  # type: ignore[arg-type]
        federation=None,
        locator=FixedLocator(),
        attempts=MemoryAttemptCounter(),
        journal=u.journal,
        alerts=u.alerts,
        mailer=mailer or u.mailer,
        clock=u.clock,
        policy=AuthPolicy(),
        secret=b"unit-test-secret",
    )
    return GovernanceDeps(
        standings=accounts,
        accounts=accounts,
        listings=accounts,
        requests=MemoryAccountRequestStore(t),
        tokens=MemoryEnrolmentTokenStore(t),
        org_suspensions=MemoryOrgSuspensionStore(t),
        campaigns=reviews,
        review_items=reviews,
        transactions=u.transactions,
        directory=u.people,
        apps=u.people,
        journal=u.journal,
        alerts=u.alerts,
        clock=u.clock,
        mailer=mailer or u.mailer,
        rules=u.rules,
        auth=auth,
        batches=MemoryPrivilegeBatchStore(t),
    )


def make_unit(rules: GovernanceRules | None = None) -> Unit:
    """The world of the governance unit tests: an agency, a training body, a mission locale."""
    tables = MemoryGovernanceTables()
    u = Unit(
        tables=tables,
        clock=ManualClock(NOW),
        journal=MemoryJournal(),
        alerts=MemoryAlertStore(),
        mailer=MemoryMailer(),
        people=MemoryPeople(tables),
        credentials=MemoryCredentials(tables),
        sessions=MemorySessions(),
        totp=StepTotp(),
        transactions=MemoryTransactions(),
        rules=rules or GovernanceRules(public_url="https://rempart.example"),
    )
    u.org(AGENCY, OrgKind.AGENCY)
    u.org(DUPONT, OrgKind.TRAINING_BODY)
    u.org("Formations Martin", OrgKind.TRAINING_BODY)
    u.org(ML, OrgKind.MISSION_LOCALE)
    u.agent("ag.admin", AGENCY, Role.ADMIN)
    u.agent("ag.admin2", AGENCY, Role.ADMIN)
    u.agent("ag.sec", AGENCY, Role.SECURITY_OFFICER)
    u.agent("ag.dpo", AGENCY, Role.DPO)
    u.agent("am.ml", ML, Role.ACCOUNT_MANAGER)
    u.agent("am2.ml", ML, Role.ACCOUNT_MANAGER)
    u.agent("ml.adv1", ML, Role.ADVISOR)
    u.agent("am.dupont", DUPONT, Role.ACCOUNT_MANAGER)
    u.agent("tm.dupont", DUPONT, Role.TRAINING_MANAGER)
    u.agent("tm.martin", "Formations Martin", Role.TRAINING_MANAGER)
    return u


@pytest.fixture
def unit() -> Unit:
    """A fresh governance world on memory twins."""
    return make_unit()


def advance(u: Unit, delta: dt.timedelta) -> None:
    """Let time pass."""
    u.clock.set(u.clock.now() + delta)


def with_rules(u: Unit, **changes: Any) -> None:
    """Change the governance rules in force."""
    u.rules = replace(u.rules, **changes)
