"""What the use cases are given: the ports, wired by ``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rempart.governance.model import GovernanceRules
from rempart.governance.ports import GovernanceStore
from rempart.guard.ports import AlertSink
from rempart.journal.ports import JournalWriter
from rempart.kernel.ports import Clock
from rempart.mail.ports import Mailer
from rempart.people.ports import PortalStore
from rempart.people.scope import ScopeRules
from rempart.signin.service.deps import AuthDeps

if TYPE_CHECKING:
    from rempart.guard.service.inline import Guard


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
