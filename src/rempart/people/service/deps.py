"""What the use cases are given: the ports, wired by ``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass

from rempart.governance.model import GovernanceRules
from rempart.governance.ports import GovernanceStore
from rempart.guard.ports import AlertSink
from rempart.journal.ports import JournalWriter
from rempart.kernel.exposure import ExposureGuard
from rempart.kernel.ports import Clock
from rempart.mail.ports import Mailer
from rempart.people.ports import AccessStandings, PortalStore
from rempart.people.scope import ScopeRules
from rempart.signin.service.deps import AuthDeps


@dataclass(frozen=True, slots=True)
class PortalDeps:
    store: PortalStore
    journal: JournalWriter
    clock: Clock
    rules: ScopeRules
    alerts: AlertSink
    standings: AccessStandings  # the data gate's facts, read on every data request
    guard: ExposureGuard | None = None  # None: scope policy only (the bench's "off")


@dataclass(frozen=True, slots=True)
class GovernanceDeps:
    """What the privileged-account governance use cases are given (four eyes, reviews, ...)."""

    portal: PortalDeps
    store: GovernanceStore
    mailer: Mailer
    rules: GovernanceRules
    auth: AuthDeps  # sign-in: credentials, sessions to revoke, password hashing, TOTP
