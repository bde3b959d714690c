"""What the use cases are given: the ports, wired by ``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass

from rempart.domain.ports import AlertSink, Clock, JournalWriter, PortalStore
from rempart.domain.scope import ScopeRules


@dataclass(frozen=True, slots=True)
class PortalDeps:
    store: PortalStore
    journal: JournalWriter
    clock: Clock
    rules: ScopeRules
    alerts: AlertSink
