"""Governance test helpers: clients acting as an agent with (or without) a fresh second factor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from rempart.bootstrap import Container
from rempart.guard.alerts import Alert
from rempart.kernel.actors import Role
from rempart.kernel.clock import ManualClock
from rempart.mail.adapters.memory import MemoryMailer
from rempart.web.app import create_app
from rempart.web.deps import current_context
from tests.conftest import context_for
from tests.factories import World, standard_world

AsFresh = Callable[..., TestClient]
STEP_UP = dt.timedelta(minutes=5)


def client_as(
    container: Container, login: str, clock: ManualClock, *, fresh: bool = True
) -> TestClient:
    """A client acting as ``login``; ``fresh``: the second factor was just proven again."""
    app = create_app(container.settings, container=container)

    def ctx() -> object:
        base = context_for(container, login, clock)
        return replace(base, fresh_until=base.now + STEP_UP) if fresh else base

    app.dependency_overrides[current_context] = ctx
    return TestClient(app, raise_server_exceptions=False)


def anonymous(container: Container) -> TestClient:
    """A client with no session (the enrolment pages)."""
    app = create_app(container.settings, container=container)
    return TestClient(app, raise_server_exceptions=False)


def alert_rules(container: Container) -> list[str]:
    """The rules of every alert raised so far, oldest first."""
    return [a.rule for a in reversed(container.alerts.alerts_since(None, 1000))]


def alerts_of(container: Container, rule: str) -> list[Alert]:
    """The alerts raised under ``rule``, oldest first."""
    return [a for a in reversed(container.alerts.alerts_since(None, 1000)) if a.rule == rule]


def token_from(body: str) -> str:
    """The enrolment token in a mailed link."""
    link = next(line for line in body.splitlines() if "/enrol?token=" in line)
    return parse_qs(urlsplit(link.strip()).query)["token"][0]


def last_mail_to(container: Container, address: str) -> str:
    """The body of the last message the in-memory mailer kept for ``address``."""
    mailer = container.mailer
    assert isinstance(mailer, MemoryMailer)
    return [m for m in mailer.outbox if m.to == address][-1].body


def governance_world(container: Container) -> World:
    """The standard world plus the extra account managers the four-eyes tests need."""
    w = standard_world(container.engine)
    w.agent("am.ml", "Mission Locale Nord", Role.ACCOUNT_MANAGER)
    w.agent("am2.ml", "Mission Locale Nord", Role.ACCOUNT_MANAGER)
    w.agent("am2.dupont", "Formations Dupont", Role.ACCOUNT_MANAGER)
    return w


def fresh_clients(container: Container, clock: ManualClock) -> AsFresh:
    """``as_fresh(login)``: a client acting as ``login``, second factor just proven again."""

    def make(login: str, *, fresh: bool = True) -> TestClient:
        return client_as(container, login, clock, fresh=fresh)

    return make
