"""Browser-test helpers: the demo under test, its mail, TOTP codes, sign-in, screenshots."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pyotp

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"


class Inbox:
    """An SMTP handler keeping every message the server sends."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, *, after: int = 0, timeout: float = 15.0) -> EmailMessage:
        """The first message to ``to`` among those received after the first ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages[after:]:
                if message["To"] == to:
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no mail to {to} within {timeout} s")


class Codes:
    """TOTP codes as an authenticator app gives them: never the same step twice per account
    (the server refuses a replayed step), waiting for the next step when needed."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    def next(self, secret: str) -> str:
        totp = pyotp.TOTP(secret)
        while True:
            now = int(time.time()) // 30
            # The server accepts one step of drift; the next step stays valid for 30 s or more.
            for step in (now, now + 1):
                if step > self.last.get(secret, 0):
                    self.last[secret] = step
                    return totp.generate_otp(step)
            time.sleep(1)


@dataclass
class Demo:
    """The running demo: its URL, its agents' credentials, its database, its mail."""

    base_url: str
    db_path: Path
    agents: list[dict[str, Any]]
    inbox: Inbox
    log_path: Path
    codes: Codes = field(default_factory=Codes)
    taken: set[str] = field(default_factory=set)

    def agent(self, org_kind: str, role: str, *, org_id: str | None = None) -> dict[str, Any]:
        """An agent with this role not used by another test yet (sessions stay independent)."""
        today = dt.datetime.now(dt.UTC).date().isoformat()
        for a in self.agents:
            if (
                a["org_kind"] == org_kind
                and role in a["roles"]
                and (org_id is None or a["org_id"] == org_id)
                and a["login"] not in self.taken
                and (a.get("training_valid_until") or "9999") >= today
            ):
                self.taken.add(a["login"])
                return a
        raise LookupError(f"no free {org_kind} {role} in the demo")

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """Read the demo database directly (test set-up only: canaries, birth dates)."""
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(sql, params).fetchall()

    def code(self, agent: dict[str, Any]) -> str:
        """The agent's next TOTP code."""
        return self.codes.next(agent["totp_secret"])


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as a test artefact."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def watch(page: Any) -> list[str]:
    """Collect what the browser complains about: CSP violations and script errors (not the
    4xx statuses some pages answer with on purpose)."""
    problems: list[str] = []

    def on_console(message: Any) -> None:
        text = str(message.text)
        if "Content Security Policy" in text or (
            message.type == "error" and not text.startswith("Failed to load resource")
        ):
            problems.append(text)

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def sign_in(page: Any, demo: Demo, agent: dict[str, Any], *, screenshots: str = "") -> None:
    """Password, then the TOTP code, through the pages; ends on the home page."""
    page.goto("/")
    page.get_by_label("Identifiant").fill(agent["login"])
    page.get_by_label("Mot de passe").fill(agent["password"])
    if screenshots:
        shot(page, f"{screenshots}-connexion")
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("heading", name="Confirmez votre connexion").wait_for()
    page.get_by_label("Code à 6 chiffres").fill(demo.code(agent))
    if screenshots:
        shot(page, f"{screenshots}-second-facteur")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r".*/accueil$"))


def pass_step_up(page: Any, demo: Demo, agent: dict[str, Any]) -> bool:
    """If the page asks for the second factor again (new network, off hours, sensitive
    action), give the next code; True when it did."""
    heading = page.get_by_role("heading", name="Confirmez votre identité")
    if heading.count() == 0:
        return False
    page.get_by_label("Code à 6 chiffres").fill(demo.code(agent))
    page.get_by_role("button", name="Confirmer et continuer").click()
    page.wait_for_load_state()
    return True
