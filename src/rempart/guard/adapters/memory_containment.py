"""``MemoryContainment``: containment that only records what it was asked to do.

The real one (``signin``'s ``SessionContainment``) ends sessions and locks accounts in the
sign-in stores; this one keeps the orders, in order, so that a unit test of the guard, or the
bench, can see exactly which doors were closed and why.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ContainmentOrder:
    """One containment action: what was acted on, and the rule that asked for it."""

    action: str  # "revoke_session" | "lock_account" | "suspend_org_app"
    target: str  # a session's public id, a login, or "org_id/app"
    reason: str


@dataclass
class MemoryContainment:
    """Implements ``Containment`` by recording each order."""

    orders: list[ContainmentOrder] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def revoke_session(self, session_id: str, reason: str) -> None:
        """Record that the session is to end now."""
        self._record("revoke_session", session_id, reason)

    def lock_account(self, login: str, reason: str) -> None:
        """Record that the account is to be locked."""
        self._record("lock_account", login, reason)

    def suspend_org_app(self, org_id: str, app: str, reason: str) -> None:
        """Record that the organisation's access to the app is to be switched off."""
        self._record("suspend_org_app", f"{org_id}/{app}", reason)

    def _record(self, action: str, target: str, reason: str) -> None:
        with self._lock:
            self.orders.append(ContainmentOrder(action, target, reason))

    @property
    def revoked(self) -> list[str]:
        """Sessions revoked, in order."""
        return [o.target for o in self.orders if o.action == "revoke_session"]

    @property
    def locked(self) -> list[str]:
        """Accounts locked, in order."""
        return [o.target for o in self.orders if o.action == "lock_account"]

    @property
    def suspended(self) -> list[tuple[str, str]]:
        """(organisation, app) switched off, in order."""
        return [
            (org, app)
            for o in self.orders
            if o.action == "suspend_org_app"
            for org, _, app in [o.target.partition("/")]
        ]
