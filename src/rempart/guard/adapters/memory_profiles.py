"""``MemoryProfileStore``: baselines held in memory, rebuilt from the journal periodically."""

from __future__ import annotations

import threading

from rempart.guard.baselines import Baselines
from rempart.guard.profiles import AgentProfile, OrgProfile, PeerProfile


class MemoryProfileStore:
    """Implements ``ProfileStore``; ``replace`` swaps in freshly built baselines atomically."""

    def __init__(self, baselines: Baselines | None = None) -> None:
        self._b = baselines or Baselines({}, {}, {}, {})
        self._lock = threading.Lock()

    def replace(self, baselines: Baselines) -> None:
        """Swap in new baselines."""
        with self._lock:
            self._b = baselines

    def set_agent(self, profile: AgentProfile) -> None:
        """Set one agent's profile (probation of a new account, tests)."""
        with self._lock:
            agents = dict(self._b.agents)
            agents[profile.login] = profile
            self._b = Baselines(agents, self._b.peers, self._b.orgs, self._b.apps)

    def agent(self, login: str) -> AgentProfile | None:
        """One agent's profile."""
        return self._b.agents.get(login)

    def peers(self, group: str) -> PeerProfile | None:
        """A peer group's pooled profile."""
        return self._b.peers.get(group)

    def org(self, org_id: str) -> OrgProfile | None:
        """An organisation's profile."""
        return self._b.orgs.get(org_id)

    def app_daily(self, app: str) -> tuple[int, ...]:
        """An app's distinct people per day."""
        return self._b.apps.get(app, ())
