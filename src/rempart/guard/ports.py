"""Ports: what the use cases need from the outside world, named for their role."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from rempart.guard.alerts import Alert
from rempart.guard.profiles import AgentProfile, OrgProfile, PeerProfile


class AlertSink(Protocol):
    """Where alerts go: stored for the console and the API, and fanned out (webhook, syslog)."""

    def raise_alert(self, alert: Alert) -> int:
        """Record an alert; return its id."""
        ...

    def alerts_since(self, since: dt.datetime | None, limit: int) -> list[Alert]:
        """Alerts newest first, optionally only those at or after ``since``."""
        ...

    def counts_by_rule(self) -> dict[str, int]:
        """How many alerts each rule raised, all time."""
        ...


class ProfileStore(Protocol):
    """Baselines of past behaviour that the guard derives budgets and usual hours from."""

    def agent(self, login: str) -> AgentProfile | None: ...
    def peers(self, group: str) -> PeerProfile | None: ...
    def org(self, org_id: str) -> OrgProfile | None: ...
    def app_daily(self, app: str) -> tuple[int, ...]: ...


class Containment(Protocol):
    """What the guard and the security team do to stop an abused account, immediately."""

    def revoke_session(self, session_id: str, reason: str) -> None:
        """End one session now."""
        ...

    def lock_account(self, login: str, reason: str) -> None:
        """Lock an account (and end its sessions)."""
        ...

    def suspend_org_app(self, org_id: str, app: str, reason: str) -> None:
        """Suspend one organisation's access to one app."""
        ...
