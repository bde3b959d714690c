"""Ports: what the use cases need from the outside world, named for their role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from rempart.guard.alerts import Alert
from rempart.guard.profiles import AgentProfile, OrgProfile, PeerProfile
from rempart.guard.state import Admission, Window


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

    def agent(self, login: str) -> AgentProfile | None:
        """One agent's profile, if the journal showed enough of them."""
        ...

    def peers(self, group: str) -> PeerProfile | None:
        """The pooled profile of a peer group (organisation kind and roles)."""
        ...

    def org(self, org_id: str) -> OrgProfile | None:
        """An organisation's profile."""
        ...

    def app_daily(self, app: str) -> tuple[int, ...]:
        """An app's distinct people per day, over the baseline period."""
        ...


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


class GuardState(Protocol):
    """Counters shared by every replica (memory in one process, Redis across several)."""

    def admit(self, windows: Sequence[Window], members: Sequence[str], now: float) -> Admission:
        """Atomically add ``members`` to every window, unless one would exceed its limit."""
        ...

    def distinct(self, key: str, seconds: int, now: float) -> int:
        """Members currently in a window."""
        ...

    def count_event(self, key: str, seconds: int, now: float) -> int:
        """Record one event; return the events within the window, this one included."""
        ...

    def push_recent(self, key: str, value: int, keep: int) -> tuple[int, ...]:
        """Append a value to a short history; return it, oldest first."""
        ...

    def get(self, key: str, now: float) -> str | None:
        """A small remembered value, unless it expired by ``now``."""
        ...

    def put(self, key: str, value: str, ttl_seconds: int, now: float) -> None:
        """Remember a small value until ``now + ttl_seconds`` (the guard's clock, not Redis')."""
        ...

    def ping(self) -> None:
        """Raise when the state cannot be reached (the guard then fails closed)."""
        ...
