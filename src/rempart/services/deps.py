"""What the use cases are given: the ports, wired by ``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rempart.domain.ports import AlertSink, Clock, JournalWriter, PortalStore
from rempart.domain.scope import ScopeRules

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
