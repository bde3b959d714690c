"""What the use cases are given: the ports, wired by ``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rempart.domain.governance import GovernanceRules
from rempart.domain.ports import (
    AlertSink,
    Clock,
    GovernanceStore,
    JournalWriter,
    Mailer,
    PortalStore,
)
from rempart.domain.scope import ScopeRules
from rempart.services.signin.deps import AuthDeps

if TYPE_CHECKING:
    from rempart.services.guard import Guard


@dataclass(frozen=True, slots=True)
class PortalDeps:
    store: PortalStore
    journal: JournalWriter
    clock: Clock
    rules: ScopeRules
    alerts: AlertSink
    guard: Guard | None = None  # None: scope policy only (tests of scope, the bench's "off")
    # Account standing for the data gate (org suspended, second factor not enrolled yet);
    # None only in unit tests of the scope policy.
    governance: GovernanceStore | None = None


@dataclass(frozen=True, slots=True)
class GovernanceDeps:
    """What the privileged-account governance use cases are given (four eyes, reviews, ...)."""

    portal: PortalDeps
    store: GovernanceStore
    mailer: Mailer
    rules: GovernanceRules
    auth: AuthDeps  # sign-in: credentials, sessions to revoke, password hashing, TOTP
