"""Ports: what the use cases need from the outside world, named for their role."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
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


class Transactions(Protocol):
    """Units of work: what a use case writes inside one is committed together, or not at all.

    ``rempart.db.uow.Database`` is the portal database's; a nested unit of work joins the one
    already open (the web layer opens one per HTTP request).
    """

    def unit_of_work(self) -> AbstractContextManager[object]:
        """Run the block in one transaction: commit when it returns, roll back when it raises."""
        ...

    def settle(self) -> None:
        """Commit what the current unit of work has written so far; it goes on in a new
        transaction. A use case calls it before it waits on the event loop (for the journal's
        commit): SQLite has one writer, and a write lock held across that wait would stall any
        other request that writes on the loop until its busy timeout."""
        ...
