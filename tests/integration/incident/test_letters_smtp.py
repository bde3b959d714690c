"""The article 34 letters as official messages through a real SMTP server on loopback
(aiosmtpd): a crash before a letter leaves, a crash after one left but before the outbox knew,
and a server that refuses one message all resume without a duplicate or a gap. Each message
carries its registered reference, in the body and in ``X-Rempart-Reference``."""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from rempart.cli.main import app
from rempart.cli.settings import load_settings
from rempart.incident import wiring
from rempart.incident.model import LetterState
from rempart.incident.ports import Delivery, LetterChannel, OutgoingLetter
from rempart.incident.service.exposure import compute_exposure
from rempart.incident.service.letters import SendDeps, send_letters
from rempart.kernel.clock import SystemClock
from tests.integration.incident.test_report_cli import Portal, attack, portal, run_report

__all__ = ["portal"]  # the fixture, shared with the report's tests


class Inbox:
    """An SMTP server's mailbox; refuses messages to ``refuse`` (451) while it holds them."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        if envelope.rcpt_tos[0] in self.refuse:
            return "451 Try again later"
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class Crash(BaseException):
    """The process dies: nothing after this point runs (not an error the sender handles)."""


class CrashingChannel:
    """The real channel, until the process dies at the n-th letter: before it leaves, or just
    after the server took it (before the outbox could record it)."""

    def __init__(self, inner: LetterChannel, crash_at: int, *, after: bool) -> None:
        self.inner = inner
        self.crash_at = crash_at
        self.after = after
        self.calls = 0

    def deliver(self, letter: OutgoingLetter) -> Delivery:
        self.calls += 1
        if self.calls == self.crash_at and not self.after:
            raise Crash
        result = self.inner.deliver(letter)
        if self.calls == self.crash_at:
            raise Crash
        return result

    def lookup(self, ft_id: str, idempotency_key: str) -> Delivery | None:
        return self.inner.lookup(ft_id, idempotency_key)


def send_command(p: Portal, incident_id: int, *extra: str) -> Any:
    return CliRunner().invoke(
        app,
        [
            "incident",
            "send",
            "--db",
            p.db,
            "--journal",
            p.journal,
            "--incident",
            str(incident_id),
            *extra,
        ],
    )


@pytest.mark.parametrize("after", [False, True], ids=["before-it-leaves", "after-it-left"])
def test_a_crash_and_a_refusal_resume_without_duplicate_or_gap(
    portal: Portal,
    tmp_path: Path,
    smtp: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
    after: bool,
) -> None:
    inbox, port = smtp
    victims = portal.people[:30]
    attack(portal, victims)
    out = tmp_path / "report"
    draft = run_report(portal, out)
    incident_id = int(str(draft["incident_id"]))
    monkeypatch.setenv("REMPART_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REMPART_SMTP_PORT", str(port))
    printed = tmp_path / "printed"
    settings = load_settings(portal.db, portal.journal, [], False, None)
    with ExitStack() as resources:
        records = wiring.open_records(settings, resources)
        journal = wiring.open_journal(portal.journal, None)
        resources.callback(journal.close)
        incident = records.incidents.get(incident_id)
        assert incident is not None
        emails = {
            f: p.email for f in victims if (p := records.people.person_by_ft_id(f)) and p.email
        }
        refused = sorted(emails)[20]
        inbox.refuse.add(emails[refused])
        channel = wiring.letter_channel(settings, records, resources, print_dir=str(printed))
        deps = SendDeps(
            records.outbox,
            CrashingChannel(channel, crash_at=12, after=after),
            records.people,
            journal,
            SystemClock(),
            wiring.contacts(settings),
        )
        exposure = compute_exposure(journal, incident.selector, incident.window)
        with pytest.raises(Crash):
            send_letters(deps, incident, exposure, by="cli:test")
        progress = records.outbox.progress(incident_id)
        assert progress[LetterState.SENDING] == 1  # the letter the crash caught
        delivered_before = len(inbox.messages)
        assert 0 < delivered_before < len(emails)
    # The operator runs the command again: it takes up exactly what is left.
    report_file = tmp_path / "delivery.json"
    result = send_command(
        portal, incident_id, "--report", str(report_file), "--print-dir", str(printed)
    )
    assert result.exit_code == 1, result.output  # the refused letter is reported...
    first = json.loads(report_file.read_text())
    assert first["this_run"]["failed"] == 1
    assert first["this_run"]["resumed_in_doubt"] == 1
    assert first["totals"]["pending"] == 1
    inbox.refuse.clear()  # the server is back
    result = send_command(
        portal, incident_id, "--report", str(report_file), "--print-dir", str(printed)
    )
    assert result.exit_code == 0, result.output  # ...and sent on the next run
    totals = json.loads(report_file.read_text())["totals"]
    assert totals["sent"] == len(emails)
    assert totals["printed"] == len(victims) - len(emails)
    assert totals["pending"] == totals["sending"] == totals["failed"] == 0
    # Nobody twice, nobody missing, and each message is that person's letter.
    counts = Counter(str(m["To"]) for m in inbox.messages)
    assert counts == Counter(emails.values())
    for m in inbox.messages:
        ft_id = next(f for f, e in emails.items() if e == str(m["To"]))
        reference = str(m["X-Rempart-Reference"])
        body = m.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert f"Référence : {reference}" in text
        assert f"(identifiant {ft_id})" in text
        assert "http" not in text
    # A third run has nothing left to do.
    assert send_command(portal, incident_id, "--print-dir", str(printed)).exit_code == 0
    assert len(inbox.messages) == len(emails)
