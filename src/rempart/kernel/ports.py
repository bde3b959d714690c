"""Ports: what the use cases need from the outside world, named for their role."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from rempart.kernel.actors import Agent, App, Organisation


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """Current time, timezone-aware UTC."""
        ...


class Directory(Protocol):
    """Who the accounts and organisations are: every capability names agents and organisations."""

    def agent_by_id(self, agent_id: int) -> Agent | None: ...
    def agent_by_login(self, login: str) -> Agent | None: ...
    def organisation(self, org_id: str) -> Organisation | None: ...


class AppSwitches(Protocol):
    """The partner apps' kill switches, for everyone or for one organisation."""

    def app_enabled(self, app: App, org_id: str) -> bool:
        """False when the app is switched off for everyone or for this organisation."""
        ...

    def set_app_enabled(self, app: App, org_id: str | None, enabled: bool) -> None:
        """Switch an app on or off, for everyone (``org_id`` None) or one organisation."""
        ...
