"""The fuzzing harness: one portal per role, each signed in over HTTP, and the tally of answers.

Each role gets its own database and container, so what one role's fuzzing changes (an
organisation suspended, an account locked, a session ended) never blinds another role. The
callers are real sessions: password then TOTP, or a WebAuthn key for the privileged roles, and
the citizen signs in with the code mailed to them. A session the fuzzer ended (logout, a guard
revocation, a lock) is opened again before the next case, so every role keeps fuzzing signed in.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import delete, update

from rempart.bootstrap import Container, build_container
from rempart.db.migrate import upgrade
from rempart.db.schema.core import AgentRow, AppSwitchRow
from rempart.db.schema.governance import OrgSuspensionRow
from rempart.db.schema.signin import AccountLockRow, WebauthnCredentialRow
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.mail.adapters.memory import MemoryMailer
from rempart.web.app import create_app
from tests.factories import NOW, World, standard_world
from tests.support.authenticator import SoftAuthenticator
from tests.support.signin import (
    PUBLIC_URL,
    UA,
    Account,
    approve_first_key,
    auth_settings,
    give_credentials,
    key_sign_in,
    register,
    sign_in,
    totp_proof,
)

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
# Role -> the standard world's agent who holds it ("" for the anonymous caller).
ROLES: dict[str, str] = {
    "anonymous": "",
    "citizen": "",
    "advisor": "ml.adv1",
    "training_manager": "tm.dupont",
    "account_manager": "am.dupont",
    "security_officer": "ag.sec",
    "dpo": "ag.dpo",
    "admin": "ag.admin",
}
PRIVILEGED = {"account_manager", "security_officer", "dpo", "admin"}
SESSION_ENDED = {"unauthenticated", "session_revoked", "account_locked", "access_suspended"}
# The answers that end a session for good; the harness signs in again before the next case.
CITIZEN_COOKIE = "rempart_citizen"


@dataclass
class Tally:
    """What the fuzzer sent and got back, per role."""

    requests: Counter[str] = field(default_factory=Counter)
    phases: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    server_errors: int = 0
    outside_spec: int = 0
    sign_ins: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def count(self, role: str, phase: str, status: int) -> None:
        """One answer received."""
        self.requests[role] += 1
        self.phases[phase] += 1
        self.statuses.setdefault(role, Counter())[status] += 1
        if status >= 500:
            self.server_errors += 1

    @property
    def total(self) -> int:
        """All requests sent, every role together."""
        return sum(self.requests.values())

    def report(self) -> dict[str, Any]:
        """The run's figures, as the report file and the summary line give them."""
        return {
            "requests": self.total,
            "server_errors": self.server_errors,
            "outside_spec": self.outside_spec,
            "seconds": round(time.monotonic() - self.started, 1),
            "per_phase": dict(sorted(self.phases.items())),
            "per_role": {
                role: {
                    "requests": self.requests[role],
                    "sign_ins": self.sign_ins[role],
                    "statuses": {str(k): v for k, v in sorted(self.statuses[role].items())},
                }
                for role in sorted(self.requests)
            },
        }

    def write(self, path: str) -> None:
        """Write the report as JSON (``REMPART_FUZZ_REPORT``)."""
        Path(path).write_text(json.dumps(self.report(), indent=2) + "\n", encoding="utf-8")


TALLY = Tally()


class Portal:
    """One role's portal: its own database, container and app, and a signed-in client."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.login = ROLES[role]
        folder = tempfile.mkdtemp(prefix=f"rempart-fuzz-{role}-")
        url = f"sqlite:///{folder}/rempart.db"
        upgrade(url)
        self.clock = ManualClock(NOW)
        settings = auth_settings(url, insecure_http=True)
        self.container: Container = build_container(
            settings,  # type: ignore[arg-type]
            clock=self.clock,
            journal=MemoryJournal(),
        )
        assert isinstance(self.container.mailer, MemoryMailer)
        self.mailer = self.container.mailer
        self.world: World = standard_world(self.container.engine)
        self.app: FastAPI = create_app(self.container.settings, container=self.container)
        self.client = asgi.get_client(self.app)
        self.client.headers["User-Agent"] = UA
        self.account: Account | None = None
        self.headers: dict[str, str] = {}
        self.stale = True
        self._probe = "/api/v1/citizen/accesses" if role == "citizen" else "/api/v1/me"

    def ready(self) -> None:
        """Sign in again when the last case ended the session."""
        if self.stale and self.role != "anonymous":
            self._sign_in()
            self.stale = False

    def after(self, status: int, body: bytes) -> None:
        """Note an answer that ended the caller's session (a new sign-in comes next)."""
        if status in (401, 403) and self.role != "anonymous":
            code = _code(body)
            if code in SESSION_ENDED and self.client.get(self._probe).status_code != 200:
                self.stale = True

    def _sign_in(self) -> None:
        TALLY.sign_ins[self.role] += 1
        self.client.cookies.clear()
        if self.role == "citizen":
            # Past the codes' throttling window (three codes a day per person).
            self.clock.advance(25 * 3600)
            self.headers = {"X-CSRF-Token": self._citizen_sign_in()}
            return
        self.clock.advance(31)  # a new TOTP step: a code is good once
        self._reopen_account()
        assert self.account is not None
        csrf = sign_in(self.client, self.account, self.clock)  # type: ignore[arg-type]
        if self.role in PRIVILEGED:
            # Privileged roles need a key: a new one each time (the fuzzer may remove factors).
            key = SoftAuthenticator(PUBLIC_URL)
            approve_first_key(
                self.container, self.login, by="ag.admin" if self.login == "ag.sec" else "ag.sec"
            )
            proof = totp_proof(
                self.client,  # type: ignore[arg-type]
                csrf,
                self.account,
                self.clock,
                "webauthn_register",
            )
            assert register(self.client, csrf, key, proof).status_code == 201  # type: ignore[arg-type]
            r = key_sign_in(self.client, self.account, key)  # type: ignore[arg-type]
            assert r.status_code == 200, r.text
            csrf = str(r.json()["csrf_token"])
        self.headers = {"X-CSRF-Token": csrf}

    def _reopen_account(self) -> None:
        """Undo what the fuzzer did to its own account (locks, suspensions, factors)."""
        agent_id = self.world.agents[self.login]
        with self.container.engine.begin() as conn:
            conn.execute(
                update(AgentRow)
                .where(AgentRow.id == agent_id)
                .values(
                    active=True,
                    locked=False,
                    failed_logins=0,
                    end_date=None,
                    training_valid_until=None,
                    disabled_reason="",
                )
            )
            conn.execute(delete(AccountLockRow).where(AccountLockRow.agent_id == agent_id))
            conn.execute(delete(OrgSuspensionRow))
            conn.execute(delete(AppSwitchRow))
            conn.execute(
                delete(WebauthnCredentialRow).where(WebauthnCredentialRow.agent_id == agent_id)
            )
        self.account = give_credentials(self.container.engine, self.login)

    def _citizen_sign_in(self) -> str:
        person = self.world.persons["trainee"]
        before = len(self.mailer.outbox)  # the code is mailed in the background: wait for it
        r = self.client.post(
            "/api/v1/citizen/challenge",
            json={"ft_id": person.ft_id, "birth_date": person.birth_date.isoformat()},
        )
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 10
        mails: list[Any] = []
        while time.monotonic() < deadline:
            mails = [m for m in self.mailer.outbox[before:] if m.to == person.email]
            if mails:
                break
            time.sleep(0.01)
        assert mails, "no code mailed"
        found = re.search(r"\b(\d{6})\b", mails[-1].body)
        assert found, mails[-1].body
        r = self.client.post(
            "/api/v1/citizen/verify",
            json={"challenge_id": r.json()["challenge_id"], "code": found.group(1)},
        )
        assert r.status_code == 200, r.text
        return str(r.json()["csrf_token"])


def _code(body: bytes) -> str:
    try:
        value = json.loads(body)
    except ValueError:
        return ""
    return str(value.get("code", "")) if isinstance(value, dict) else ""


_PORTALS: dict[str, Portal] = {}


def portal(role: str) -> Portal:
    """The role's portal, built on first use."""
    if role not in _PORTALS:
        _PORTALS[role] = Portal(role)
    return _PORTALS[role]


def exchange(role: str, case: schemathesis.Case[Any], phase: str = "cases") -> Any:
    """Send one generated case as ``role``; fail on a 5xx or an answer the spec does not allow."""
    box = portal(role)
    box.ready()
    response = case.call(session=box.client, headers=box.headers)
    TALLY.count(role, phase, response.status_code)
    box.after(response.status_code, response.content)
    assert response.status_code < 500, (role, case.method, case.path, response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/problem+json")
        body = response.json()
        assert isinstance(body["code"], str)
        assert "Traceback" not in response.text
    try:
        if case.method.upper() != case.operation.method.upper():
            # The coverage phase's method the path does not have (TRACE, PATCH...): 405.
            assert response.status_code == 405, (case.method, case.path, response.status_code)
            return response
        case.validate_response(response, checks=CHECKS)
        # Stricter than the status check (which a ``default`` answer satisfies): the status
        # itself is one the operation names.
        documented = case.operation.definition.raw.get("responses", {})
        assert str(response.status_code) in documented, (
            f"{response.status_code} is not documented for {case.method} {case.path}"
        )
    except Exception:
        TALLY.outside_spec += 1
        raise
    return response


def spec_schema() -> schemathesis.BaseSchema:
    """The served OpenAPI spec (the same for every role's app)."""
    return schemathesis.openapi.from_asgi("/openapi.json", portal("anonymous").app)


def setting(variable: str, default: int) -> int:
    """A knob of the run (``REMPART_FUZZ_*``), or its default for the bounded slice."""
    return int(os.environ.get(variable, default))
