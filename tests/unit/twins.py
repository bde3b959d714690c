"""Memory twins of other capabilities' ports, for the unit tests of guard, citizen and console.

``people`` and ``signin`` have no memory adapters of their own yet; these are small but keep the
SQL stores' rules for the methods the services here call (an app switched off for everyone or
for one organisation; a lock replacing the previous one; ending only live sessions). A
collaborator a use case must not reach is an ``Unused``: touching it fails the test.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field, replace

from rempart.kernel.actors import Agent, App, Organisation
from rempart.people.model import Person
from rempart.signin.model import AccountLock, Credentials, Session

ALL_ORGS = "*"


class Unused:
    """A collaborator the use case under test has no business calling."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> object:
        raise AssertionError(f"the use case reached {self._name}.{attr}")


@dataclass
class MemoryPortalStore:
    """The part of ``PortalStore`` the guard, citizen and console use cases read."""

    agents: dict[int, Agent] = field(default_factory=dict)
    orgs: dict[str, Organisation] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
    switches: dict[tuple[str, str], bool] = field(default_factory=dict)

    def add(self, *items: Agent | Organisation | Person) -> None:
        """Store agents, organisations and people."""
        for item in items:
            if isinstance(item, Agent):
                self.agents[item.id] = item
            elif isinstance(item, Organisation):
                self.orgs[item.id] = item
            else:
                self.persons[item.ft_id] = item

    def agent_by_id(self, agent_id: int) -> Agent | None:
        return self.agents.get(agent_id)

    def agent_by_login(self, login: str) -> Agent | None:
        return next((a for a in self.agents.values() if a.login == login), None)

    def organisation(self, org_id: str) -> Organisation | None:
        return self.orgs.get(org_id)

    def person_by_ft_id(self, ft_id: str) -> Person | None:
        return self.persons.get(ft_id)

    def app_enabled(self, app: App, org_id: str) -> bool:
        """False when the app is switched off for everyone or for this organisation."""
        return all(self.switches.get((str(app), key), True) for key in (ALL_ORGS, org_id))

    def set_app_enabled(self, app: App, org_id: str | None, enabled: bool) -> None:
        self.switches[(str(app), org_id or ALL_ORGS)] = enabled


@dataclass
class MemoryCredentialStore:
    """The part of ``CredentialStore`` containment uses: credentials and locks."""

    portal: MemoryPortalStore
    locked: dict[int, AccountLock] = field(default_factory=dict)

    def credentials_by_id(self, agent_id: int) -> Credentials | None:
        agent = self.portal.agent_by_id(agent_id)
        if agent is None:
            return None
        return Credentials(agent, "", "", 0, locked=agent_id in self.locked, failed_logins=0)

    def lock(self, lock: AccountLock) -> None:
        """Lock the account; a new lock replaces the previous one."""
        self.locked[lock.agent_id] = lock

    def lock_of(self, agent_id: int) -> AccountLock | None:
        return self.locked.get(agent_id)


@dataclass
class MemorySessionStore:
    """The part of ``SessionStore`` containment and the console use."""

    sessions: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def create(self, session: Session) -> None:
        self.sessions[session.key] = session

    def get(self, key: str) -> Session | None:
        return self.sessions.get(key)

    def end_public(self, public_id: str, at: dt.datetime, reason: str) -> bool:
        key = next((k for k, s in self.sessions.items() if s.public_id == public_id), None)
        return key is not None and self.end(key, at, reason)

    def end(self, key: str, at: dt.datetime, reason: str) -> bool:
        with self._lock:
            s = self.sessions.get(key)
            if s is None or s.ended_at is not None:
                return False
            self.sessions[key] = replace(s, ended_at=at, end_reason=reason)
            return True

    def end_all(
        self,
        at: dt.datetime,
        reason: str,
        *,
        agent_id: int | None = None,
        org_id: str | None = None,
        except_key: str | None = None,
    ) -> list[Session]:
        """End every live session of an agent or an organisation; return them as they were."""
        if agent_id is None and org_id is None:
            raise ValueError("end_all needs an agent or an organisation")
        with self._lock:
            ended = [
                s
                for s in self.sessions.values()
                if s.ended_at is None
                and (agent_id is None or s.agent_id == agent_id)
                and (org_id is None or s.org_id == org_id)
                and s.key != except_key
            ]
            for s in ended:
                self.sessions[s.key] = replace(s, ended_at=at, end_reason=reason)
        return ended

    def live_of(self, agent_id: int, now: dt.datetime) -> list[Session]:
        """The agent's sessions not ended nor past their absolute end, newest first."""
        live = [
            s
            for s in self.sessions.values()
            if s.agent_id == agent_id and s.ended_at is None and s.expires_at > now
        ]
        return sorted(live, key=lambda s: s.created_at, reverse=True)
