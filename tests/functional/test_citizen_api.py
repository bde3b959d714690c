"""Who consulted my file, end to end: a code mailed through a real SMTP server on loopback, the
person's own list of accesses, and "I don't recognise this" raising an alert.

ASVS 5.0: V6.3.1 throttling with growing delays; V6.5.1 a code works once; V6.5.3 codes from
a CSPRNG; V6.5.5 codes expire (10 min); V6.6.3 out-of-band codes rate-limited; V3.3.1/V3.3.4
cookie Secure/HttpOnly/SameSite; V3.5.1 CSRF; V16.3.1/V16.3.2 every step is journaled.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rempart.bootstrap import Container, build_container
from rempart.journal.adapters.signing import checkpoint_checker
from rempart.journal.service import audit as journal_audit
from rempart.kernel.clock import ManualClock
from rempart.kernel.identifiers import ft_id_from_number
from rempart.kernel.tags import Decision, Tag
from rempart.web.app import create_app
from tests.factories import World, standard_world
from tests.support.served import free_port
from tests.support.signin import auth_settings, client_for, give_credentials, sign_in

CHALLENGE = "/api/v1/citizen/challenge"
VERIFY = "/api/v1/citizen/verify"
ACCESSES = "/api/v1/citizen/accesses"


class Inbox:
    """aiosmtpd handler keeping every message received; can be told to answer slowly."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.delay = 0.0
        self.port = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 15.0) -> list[email.message.Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} mails, got {len(self.messages)}")

    def code_for(self, address: str) -> str:
        for msg in reversed(self.wait_for(1)):
            if msg["To"] == address:
                body = msg.get_payload(decode=True)
                assert isinstance(body, bytes)
                found = re.search(r"\b(\d{6})\b", body.decode())
                assert found, body
                return found.group(1)
        raise AssertionError(f"no mail to {address}")


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A real SMTP server on loopback."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def box(db_url: str, inbox: Inbox, clock: ManualClock) -> Iterator[Container]:
    settings = auth_settings(db_url, smtp_host="127.0.0.1", smtp_port=inbox.port)
    c = build_container(settings, clock=clock)  # type: ignore[arg-type]
    yield c
    c.close()


@pytest.fixture
def world(box: Container) -> World:
    return standard_world(box.engine)


@pytest.fixture
def app(box: Container, world: World) -> FastAPI:
    return create_app(box.settings, container=box)


def person_client(app: FastAPI, address: str = "203.0.113.5") -> TestClient:
    return client_for(app, address=address)


def sign_in_person(client: TestClient, inbox: Inbox, ft_id: str, birth: dt.date, to: str) -> str:
    r = client.post(CHALLENGE, json={"ft_id": ft_id, "birth_date": birth.isoformat()})
    assert r.status_code == 202, r.text
    code = inbox.code_for(to)
    r = client.post(VERIFY, json={"challenge_id": r.json()["challenge_id"], "code": code})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


def test_a_person_sees_who_consulted_their_file_and_flags_an_access(
    app: FastAPI, box: Container, world: World, inbox: Inbox, clock: ManualClock
) -> None:
    trainee = world.persons["trainee"]
    # Real agents sign in and consult: one reads the trainee, another is refused.
    reader = client_for(app, address="198.51.100.7")
    sign_in(reader, give_credentials(box.engine, "tm.dupont"), clock)
    assert reader.get(f"/api/v1/persons/{trainee.ft_id}").status_code == 200
    other = client_for(app, address="198.51.100.8")
    sign_in(other, give_credentials(box.engine, "tm.martin"), clock)
    assert other.get(f"/api/v1/persons/{trainee.ft_id}").status_code == 404

    person = person_client(app)
    r = person.post(CHALLENGE, json={"ft_id": trainee.ft_id, "birth_date": str(trainee.birth_date)})
    assert r.status_code == 202
    challenge_id = r.json()["challenge_id"]
    code = inbox.code_for(trainee.email)
    wrong = "000000" if code != "000000" else "111111"
    assert (
        person.post(VERIFY, json={"challenge_id": challenge_id, "code": wrong}).status_code == 401
    )
    r = person.post(VERIFY, json={"challenge_id": challenge_id, "code": code})
    assert r.status_code == 200, r.text
    csrf = r.json()["csrf_token"]
    cookie = r.headers["set-cookie"]
    assert "rempart_citizen=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert "Secure" in cookie
    assert "Path=/api/v1/citizen" in cookie
    # The code works once.
    again = person_client(app, "203.0.113.99").post(
        VERIFY, json={"challenge_id": challenge_id, "code": code}
    )
    assert again.status_code == 401

    r = person.get(ACCESSES)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["organisation"] for i in items] == ["Formations Martin", "Formations Dupont"]
    refused, read = items
    assert read["role"] == "training_manager"
    assert read["action"] == "portal:person:read"
    assert read["action_label"] == "Consultation de votre dossier"
    assert read["purpose"] == "training_follow_up"
    assert read["decision"] == "allow"
    assert "contact" in read["data_categories"]
    assert refused["decision"] == "not_found"
    assert refused["data_categories"] == []
    assert "tm.dupont" not in r.text  # the agent's login stays internal
    assert r.json()["next_page"] is None

    # Flagging needs the CSRF token; it raises one alert, once.
    url = f"{ACCESSES}/{read['seq']}/flag"
    denied = person.post(url, json={"comment": "je ne connais pas cet organisme"})
    assert denied.status_code == 403
    assert denied.json()["code"] == "csrf"
    h = {"X-CSRF-Token": csrf}
    assert person.post(url, json={"comment": "je ne connais pas"}, headers=h).status_code == 202
    assert person.post(url, json={}, headers=h).status_code == 202
    flagged = [a for a in box.alerts.alerts_since(None, 50) if a.rule == "citizen_flag"]
    assert len(flagged) == 1
    alert = flagged[0]
    assert alert.agent_login == "tm.dupont"
    assert alert.org_id == world.orgs["Formations Dupont"]
    assert alert.evidence["journal_seq"] == read["seq"]
    assert trainee.ft_id not in alert.explanation  # evidence names the entry, not the person
    # An entry that does not concern this person cannot be flagged (nor learned about).
    journal = box.portal.journal
    elsewhere = next(
        seq
        for seq in range(1, 100)
        if (e := journal.entry(seq)) and trainee.ft_id not in e.entry.persons  # type: ignore[attr-defined]
    )
    for seq in (elsewhere, 10**9):
        assert person.post(f"{ACCESSES}/{seq}/flag", json={}, headers=h).status_code == 404

    # Every step is in the journal, which still verifies.
    tags = [s.entry.tag for s in journal.who_consulted(trainee.ft_id, 0, 50)]  # type: ignore[attr-defined]
    for tag in (
        Tag.CITIZEN_CHALLENGE_SENT,
        Tag.CITIZEN_SESSION_OPENED,
        Tag.CITIZEN_ACCESS_LOG_READ,
        Tag.CITIZEN_ACCESS_FLAGGED,
    ):
        assert tag in tags
    keys = journal.public_keys()  # type: ignore[attr-defined]
    assert journal_audit.verify(journal, checkpoint_checker(keys)).ok  # type: ignore[arg-type]

    # Without the session, nothing.
    anonymous = person_client(app, "203.0.113.77")
    assert anonymous.get(ACCESSES).status_code == 401
    assert person.post("/api/v1/citizen/logout", headers=h).status_code == 204
    assert person.get(ACCESSES).status_code == 401


def test_a_citizen_cookie_is_worth_nothing_from_elsewhere(
    app: FastAPI, world: World, inbox: Inbox
) -> None:
    """Pentest finding 6: the citizen session is bound like an agent's; its cookie copied to
    another address gets 401 session_revoked and the session ends for the copy's owner too."""
    trainee = world.persons["trainee"]
    person = person_client(app, "203.0.113.5")
    sign_in_person(person, inbox, trainee.ft_id, trainee.birth_date, trainee.email)
    assert person.get(ACCESSES).status_code == 200
    thief = person_client(app, "198.51.100.200")
    thief.cookies.set("rempart_citizen", person.cookies["rempart_citizen"])
    r = thief.get(ACCESSES)
    assert (r.status_code, r.json()["code"]) == (401, "session_revoked")
    assert person.get(ACCESSES).status_code == 401


def test_the_answer_never_says_whether_the_person_exists(
    app: FastAPI, world: World, inbox: Inbox
) -> None:
    trainee = world.persons["trainee"]
    client = person_client(app)
    answers = [
        client.post(
            CHALLENGE, json={"ft_id": trainee.ft_id, "birth_date": str(trainee.birth_date)}
        ),
        client.post(CHALLENGE, json={"ft_id": trainee.ft_id, "birth_date": "1999-01-01"}),
        client.post(
            CHALLENGE, json={"ft_id": ft_id_from_number(9_999_999), "birth_date": "1990-01-01"}
        ),
    ]
    assert {a.status_code for a in answers} == {202}
    shapes = [
        (
            sorted(a.json()),
            a.json()["detail"],
            sorted(a.headers.keys()),
            len(a.json()["challenge_id"]),
        )
        for a in answers
    ]
    assert shapes[0] == shapes[1] == shapes[2]
    # Only the real person with the right birth date gets a mail.
    inbox.wait_for(1)
    time.sleep(0.5)
    assert [m["To"] for m in inbox.messages] == [trainee.email]
    # A guessed code on a pretend challenge fails exactly like a wrong one on a real one.
    wrong = [
        client.post(VERIFY, json={"challenge_id": a.json()["challenge_id"], "code": "123456"})
        for a in answers[1:]
    ]
    assert {w.status_code for w in wrong} == {401}
    assert wrong[0].content == wrong[1].content


def test_mail_delivery_does_not_show_in_the_response_time(
    app: FastAPI, world: World, inbox: Inbox
) -> None:
    inbox.delay = 2.0  # a slow SMTP server
    trainee = world.persons["trainee"]
    started = time.monotonic()
    r = person_client(app).post(
        CHALLENGE, json={"ft_id": trainee.ft_id, "birth_date": str(trainee.birth_date)}
    )
    assert r.status_code == 202
    assert time.monotonic() - started < 1.5
    assert inbox.wait_for(1)[0]["To"] == trainee.email


def test_codes_expire_and_allow_five_tries(
    app: FastAPI, world: World, inbox: Inbox, clock: ManualClock
) -> None:
    trainee = world.persons["trainee"]
    client = person_client(app)
    body = {"ft_id": trainee.ft_id, "birth_date": str(trainee.birth_date)}
    first = client.post(CHALLENGE, json=body).json()["challenge_id"]
    code = inbox.code_for(trainee.email)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        r = client.post(VERIFY, json={"challenge_id": first, "code": wrong})
        assert r.status_code == 401
        assert r.json()["code"] == "unauthenticated"
    # The sixth try is refused even with the right code.
    assert client.post(VERIFY, json={"challenge_id": first, "code": code}).status_code == 401

    second = client.post(CHALLENGE, json=body).json()["challenge_id"]
    inbox.wait_for(2)
    code2 = inbox.code_for(trainee.email)
    clock.advance(10 * 60 + 1)  # ten minutes later: expired
    assert client.post(VERIFY, json={"challenge_id": second, "code": code2}).status_code == 401


def test_a_wrong_birth_date_never_blocks_the_real_person(
    app: FastAPI, world: World, inbox: Inbox, clock: ManualClock
) -> None:
    """Pentest finding 5, over HTTP and SMTP: code requests with a wrong birth date, as many as
    the throttle allows, then the real person (right birth date, another address) asks: 202 at
    once and the code reaches their mailbox."""
    trainee = world.persons["trainee"]
    wrong = {"ft_id": trainee.ft_id, "birth_date": str(trainee.birth_date - dt.timedelta(days=3))}
    statuses = [
        person_client(app, f"203.0.113.{i + 1}").post(CHALLENGE, json=wrong).status_code
        for i in range(5)
    ]
    assert statuses[:3] == [202, 202, 202]
    assert 429 in statuses  # the abuser's pair is throttled...
    right = {"ft_id": trainee.ft_id, "birth_date": str(trainee.birth_date)}
    r = person_client(app, "198.51.100.61").post(CHALLENGE, json=right)
    assert r.status_code == 202  # ...the person's is not
    inbox.wait_for(1)
    assert inbox.code_for(trainee.email)


def test_code_requests_slow_down_per_person_and_per_address(
    app: FastAPI, world: World, inbox: Inbox, clock: ManualClock
) -> None:
    trainee = world.persons["trainee"]
    body = {"ft_id": trainee.ft_id, "birth_date": str(trainee.birth_date)}
    for i in range(3):  # three codes, from three places: free
        assert (
            person_client(app, f"203.0.113.{i + 1}").post(CHALLENGE, json=body).status_code == 202
        )
    r = person_client(app, "203.0.113.50").post(CHALLENGE, json=body)
    assert r.status_code == 429
    assert r.json()["code"] == "throttled"
    first_wait = int(r.headers["Retry-After"])
    assert first_wait >= 59
    clock.advance(first_wait)
    assert person_client(app, "203.0.113.51").post(CHALLENGE, json=body).status_code == 202
    r = person_client(app, "203.0.113.52").post(CHALLENGE, json=body)
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > first_wait  # growing delays

    # One address asking about many people: enumeration, slowed down too.
    scanner = person_client(app, "192.0.2.200")
    statuses = [
        scanner.post(
            CHALLENGE, json={"ft_id": ft_id_from_number(5_000_000 + i), "birth_date": "1990-01-01"}
        ).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [202] * 10
    assert statuses[10] == 429


def test_malformed_requests_are_400_problems(app: FastAPI, world: World) -> None:
    client = person_client(app)
    for body in (
        {"ft_id": "123", "birth_date": "1990-01-01"},
        {"ft_id": "0412345K", "birth_date": "not a date"},
        {"ft_id": "0412345K"},
        {"ft_id": "0412345K", "birth_date": "1990-01-01", "extra": 1},
    ):
        r = client.post(CHALLENGE, json=body)
        assert r.status_code == 400, body
        assert r.headers["content-type"] == "application/problem+json"
    assert client.post(VERIFY, json={"challenge_id": "x" * 65, "code": "1"}).status_code == 400


def test_the_citizen_endpoints_are_in_the_openapi_spec(app: FastAPI, world: World) -> None:
    paths = TestClient(app).get("/openapi.json").json()["paths"]
    for path in (CHALLENGE, VERIFY, ACCESSES, f"{ACCESSES}/{{seq}}/flag", "/api/v1/citizen/logout"):
        assert path in paths
    assert "202" in paths[CHALLENGE]["post"]["responses"]
    assert "429" in paths[CHALLENGE]["post"]["responses"]


def test_decisions_are_recorded_for_unknown_people_too(
    app: FastAPI, box: Container, world: World
) -> None:
    unknown = ft_id_from_number(8_888_888)
    person_client(app).post(CHALLENGE, json={"ft_id": unknown, "birth_date": "1990-01-01"})
    found = box.portal.journal.who_consulted(unknown, 0, 10)  # type: ignore[attr-defined]
    assert [(s.entry.tag, s.entry.decision) for s in found] == [
        (Tag.CITIZEN_CHALLENGE_SENT, Decision.NOT_FOUND)
    ]
