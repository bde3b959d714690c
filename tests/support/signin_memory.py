"""An ``AuthDeps`` built from memory twins only (no database, no network), for unit tests.

The crypto ports are the real adapters (argon2id with tiny costs, pyotp, py_webauthn): they do
no I/O. The federation and the locator are their memory twins.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

import pyotp

from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.actors import Agent, Organisation, OrgKind, Role
from rempart.kernel.clock import ManualClock
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.tags import Tag
from rempart.mail.adapters.memory import MemoryMailer
from rempart.signin.adapters.dbsc import Es256DeviceProofs
from rempart.signin.adapters.hashing import LocalHashingWork
from rempart.signin.adapters.memory import (
    MemoryChallengeStore,
    MemoryCredentialStore,
    MemoryDirectory,
    MemoryFederation,
    MemoryLocator,
    MemorySessionStore,
)
from rempart.signin.adapters.memory_attempts import MemoryAttemptCounter
from rempart.signin.adapters.passwords import Argon2PasswordHasher
from rempart.signin.adapters.totp import PyotpTotp
from rempart.signin.adapters.webauthn import PyWebauthn
from rempart.signin.model import AuthPolicy, FactorAction
from rempart.signin.service import login, proofs
from rempart.signin.service.deps import AuthDeps
from rempart.signin.service.sessions import OpenedSession
from tests.factories import NOW
from tests.support.authenticator import SoftAuthenticator

PASSWORD = "Quatre chevaux blancs sautent la haie 2026"
ORIGIN = "https://rempart.test"
ISSUER = "https://idp.example"
HOME = ClientInfo(
    address="192.0.2.10", user_agent="Firefox/140", network="AS:HOME/FR", country="FR"
)
ELSEWHERE = ClientInfo(
    address="203.0.113.66", user_agent="Firefox/140", network="AS:HOSTER/NL", country="NL"
)
ORGS = {
    "dupont": Organisation("FOR-0001", OrgKind.TRAINING_BODY, "Formations Dupont", "1" * 14),
    "martin": Organisation("FOR-0002", OrgKind.TRAINING_BODY, "Formations Martin", "2" * 14),
    "agency": Organisation("AGE-0003", OrgKind.AGENCY, "Agence Paris 2e", "3" * 14),
}


@dataclass
class Rig:
    """The sign-in use cases' dependencies, and handles on the twins behind them."""

    deps: AuthDeps
    directory: MemoryDirectory
    store: MemoryCredentialStore
    sessions: MemorySessionStore
    challenges: MemoryChallengeStore
    journal: MemoryJournal
    clock: ManualClock
    federation: MemoryFederation
    alerts: MemoryAlertStore
    mailer: MemoryMailer
    totp_secrets: dict[int, str] = field(default_factory=dict)
    _next_id: int = 1

    def agent(self, login: str, *roles: Role, org: str = "dupont", totp: bool = True) -> Agent:
        """Store an active agent with the standard password and (by default) a TOTP secret."""
        o = ORGS[org]
        agent = Agent(
            id=self._next_id,
            login=login,
            email=f"{login}@example.fr",
            org_id=o.id,
            org_kind=o.kind,
            roles=frozenset(roles or {Role.TRAINING_MANAGER}),
            created_at=NOW - dt.timedelta(days=400),
        )
        self._next_id += 1
        self.directory.put_agent(agent)
        secret = pyotp.random_base32(32) if totp else ""
        self.store.enrol(
            agent.id, password_hash=self.deps.hasher.hash(PASSWORD), totp_secret=secret
        )
        self.totp_secrets[agent.id] = secret
        return agent

    def deactivate(self, agent: Agent) -> Agent:
        """The account is disabled (what governance does on a leaver)."""
        gone = replace(agent, active=False)
        self.directory.put_agent(gone)
        return gone

    def code(self, agent: Agent, offset_steps: int = 0) -> str:
        """The agent's TOTP code at the clock's time (shifted by whole steps)."""
        at = self.clock.now() + dt.timedelta(seconds=30 * offset_steps)
        return pyotp.TOTP(self.totp_secrets[agent.id]).at(at)

    def sign_in(self, agent: Agent, client: ClientInfo = HOME) -> OpenedSession:
        """Password then TOTP, as the login page does."""
        accepted = login.submit_password(self.deps, agent.login, PASSWORD, client)
        return login.finish_with_totp(self.deps, accepted.challenge, self.code(agent), client)

    def context(
        self, agent: Agent, opened: OpenedSession | None = None, *, fresh: bool = True
    ) -> RequestContext:
        """The request context of ``agent`` (in ``opened``'s session when given)."""
        org = self.directory.organisation(agent.org_id)
        assert org is not None
        now = self.clock.now()
        return RequestContext(
            agent=self.directory.agent_by_id(agent.id) or agent,
            org=org,
            session_id=opened.session.public_id if opened else f"s-{agent.login}",
            client=HOME,
            now=now,
            fresh_until=now + dt.timedelta(minutes=5) if fresh else None,
        )

    def prove(self, ctx: RequestContext, action: FactorAction) -> str:
        """A proof ticket for ``action``: half a minute later, the app's new code."""
        self.clock.advance(30)
        return proofs.prove_with_totp(self.deps, ctx, action, self.code(ctx.agent)).token

    def tags(self) -> list[Tag]:
        """The tags of every event journalled so far."""
        return [e.tag for e in self.journal.entries]

    def reasons(self, tag: Tag) -> list[str]:
        """The reasons of the events with ``tag``."""
        return [e.reason for e in self.journal.entries if e.tag == tag]


def rig(*, federation: bool = True, **policy: Any) -> Rig:
    """A fresh set of twins around today's rules (``policy`` overrides ``AuthPolicy`` fields)."""
    clock = ManualClock(NOW)
    directory = MemoryDirectory(organisations=list(ORGS.values()))
    store = MemoryCredentialStore(directory)
    sessions = MemorySessionStore(store)
    challenges = MemoryChallengeStore()
    journal = MemoryJournal()
    alerts = MemoryAlertStore()
    mailer = MemoryMailer()
    fed = MemoryFederation(ISSUER)
    rules = AuthPolicy(rp_id="rempart.test", origin=ORIGIN, **policy)
    deps = AuthDeps(
        credentials=store,
        logins=store,
        locks=store,
        totp_secrets=store,
        webauthn_keys=store,
        recovery_codes=store,
        identities=store,
        challenges=challenges,
        sessions=sessions,
        revocations=sessions,
        directory=directory,
        apps=directory,
        hasher=Argon2PasswordHasher(time_cost=1, memory_kib=8, parallelism=1),
        work=LocalHashingWork(),
        totp=PyotpTotp(),
        webauthn=PyWebauthn(rules.rp_id, rules.rp_name, ORIGIN),
        federation=fed if federation else None,
        locator=MemoryLocator({HOME.address: (HOME.network, HOME.country)}),
        attempts=MemoryAttemptCounter(),
        journal=journal,
        alerts=alerts,
        mailer=mailer,
        clock=clock,
        policy=rules,
        secret=secrets.token_bytes(32),
        devices=Es256DeviceProofs(),
    )
    return Rig(deps, directory, store, sessions, challenges, journal, clock, fed, alerts, mailer)


def authenticator() -> SoftAuthenticator:
    """A software security key for the rig's relying party."""
    return SoftAuthenticator(ORIGIN)


def as_json(data: dict[str, Any]) -> str:
    """A browser's PublicKeyCredential as the JSON the API receives."""
    return json.dumps(data)
