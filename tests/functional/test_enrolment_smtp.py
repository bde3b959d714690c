"""Enrolment links through a real SMTP server on loopback (aiosmtpd), end to end."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pyotp
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from rempart.bootstrap import Container, build_container
from rempart.db.schema.governance import EnrolmentTokenRow
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.actors import Role
from rempart.kernel.clock import ManualClock
from rempart.kernel.tags import Decision, Tag
from tests.factories import standard_world
from tests.support.governance import anonymous, client_as, token_from
from tests.support.served import free_port
from tests.support.signin import auth_settings

ML = "Mission Locale Nord"
STRONG = "Sept chevaux gris traversent la rivière en hiver"


class Inbox:
    """An SMTP handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


def smtp_box(db_url: str, port: int, clock: ManualClock, journal: MemoryJournal) -> Container:
    settings = auth_settings(db_url, smtp_host="127.0.0.1", smtp_port=port)
    box = build_container(settings, clock=clock, journal=journal)  # type: ignore[arg-type]
    world = standard_world(box.engine)
    world.agent("am.ml", ML, Role.ACCOUNT_MANAGER)
    world.agent("am2.ml", ML, Role.ACCOUNT_MANAGER)
    return box


def request_and_approve(box: Container, clock: ManualClock) -> Any:
    r = client_as(box, "am.ml", clock).post(
        "/api/v1/accounts",
        json={"login": "mailed.adv", "email": "mailed.adv@ml.example", "roles": ["advisor"]},
    )
    assert r.status_code == 202, r.text
    return client_as(box, "am2.ml", clock).post(
        f"/api/v1/accounts/requests/{r.json()['request_id']}/approve"
    )


def test_enrolment_link_is_mailed_over_smtp_and_works_once(
    db_url: str, smtp_port: int, inbox: Inbox, clock: ManualClock, journal: MemoryJournal
) -> None:
    """The link reaches the new person's mailbox; only its hash is stored; it works once.

    ASVS V6.4.1 (activation secrets random, short-lived, single use), V6.5.2 (stored hashed).
    """
    box = smtp_box(db_url, smtp_port, clock, journal)
    try:
        r = request_and_approve(box, clock)
        assert r.status_code == 200
        assert r.json()["enrolment_link_sent"] is True
        assert len(inbox.messages) == 1
        message = inbox.messages[0]
        assert message["To"] == "mailed.adv@ml.example"
        assert message["Subject"] == "Rempart: activate your account"
        body = message.get_content()
        token = token_from(body)
        assert body.count("https://rempart.test/enrol?token=") == 1
        with box.engine.connect() as c:
            stored = c.execute(select(EnrolmentTokenRow.token_hash)).scalars().all()
        assert stored == [hashlib.sha256(token.encode()).hexdigest()]

        anon = anonymous(box)
        secret = anon.post("/api/v1/enrolment/begin", json={"token": token}).json()["totp_secret"]
        done = anon.post(
            "/api/v1/enrolment/complete",
            json={"token": token, "password": STRONG, "code": pyotp.TOTP(secret).at(clock.now())},
        )
        assert done.status_code == 200, done.text
        replay = anon.post(
            "/api/v1/enrolment/complete",
            json={"token": token, "password": STRONG, "code": pyotp.TOTP(secret).at(clock.now())},
        )
        assert replay.status_code == 401
        assert replay.json()["code"] == "unauthenticated"
    finally:
        box.close()


def test_a_mail_outage_does_not_undo_the_approval(
    db_url: str, smtp_port: int, clock: ManualClock, journal: MemoryJournal
) -> None:
    """No SMTP server listening: the approval stands, the failure is journaled, and a manager
    sends a new link once mail is back. ASVS V16.5.2 (graceful degradation), V16.3.4."""
    box = smtp_box(db_url, smtp_port, clock, journal)
    try:
        r = request_and_approve(box, clock)
        assert r.status_code == 200
        assert r.json()["enrolment_link_sent"] is False
        assert box.portal.store.agent_by_login("mailed.adv") is not None
        sent = [e for e in journal.entries if e.tag is Tag.ACCOUNT_ENROLMENT_SENT]
        assert sent[-1].decision is Decision.DENY
        assert sent[-1].reason == "mail not delivered"

        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        try:
            again = client_as(box, "am2.ml", clock).post(
                "/api/v1/accounts/mailed.adv/enrolment-link"
            )
            assert again.json()["enrolment_link_sent"] is True
        finally:
            controller.stop()
        assert len(inbox.messages) == 1
        token = token_from(inbox.messages[0].get_content())
        assert (
            anonymous(box).post("/api/v1/enrolment/begin", json={"token": token}).status_code == 200
        )
    finally:
        box.close()
