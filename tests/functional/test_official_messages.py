"""Official messages end to end: a one-time code mailed through a real SMTP server on loopback
(aiosmtpd), DKIM-signed with a configured key, carrying its reference in body and header; the
public verification endpoint says genuine for it and one identical "no" for anything else.

ASVS 5.0: V6.3.1 / V2.4.1 (checking references is throttled: 429 with Retry-After), V12.x /
V14.x (mail authenticated: DKIM signature verifies against the published key), V16.3.x (the
message is in the register before it leaves).
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dkim
import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy import text as sql_text

from rempart.bootstrap import Container, build_container
from rempart.kernel.clock import ManualClock
from rempart.kernel.context import ClientInfo
from rempart.messages import model
from rempart.messages.model import Channel
from rempart.web.app import create_app
from tests.factories import World, standard_world
from tests.support.served import free_port
from tests.support.signin import auth_settings, client_for

CHALLENGE = "/api/v1/citizen/challenge"
CHECK = "/api/v1/citizen/messages/verify"
DOMAIN = "rempart.example.fr"
SELECTOR = "rempart2026"
REFERENCE = re.compile(r"Référence : ([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})")


class RawInbox:
    """aiosmtpd handler keeping every message's bytes as they arrived (what DKIM checks)."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.port = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            self.raw.append(bytes(envelope.original_content or envelope.content))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 15.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.raw) >= count:
                    return list(self.raw)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} mails, got {len(self.raw)}")


@pytest.fixture
def dkim_key(tmp_path: Path) -> tuple[Path, bytes]:
    """A fresh RSA-2048 key: its PEM file (the configured key) and the DNS TXT record."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = tmp_path / "dkim.pem"
    path.write_bytes(pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.fixture
def inbox() -> Iterator[RawInbox]:
    handler = RawInbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def box(
    db_url: str, inbox: RawInbox, clock: ManualClock, dkim_key: tuple[Path, bytes]
) -> Iterator[Container]:
    settings = auth_settings(
        db_url,
        smtp_host="127.0.0.1",
        smtp_port=inbox.port,
        mail_from=f"ne-pas-repondre@{DOMAIN}",
        dkim_key_file=str(dkim_key[0]),
        dkim_selector=SELECTOR,
        official_address=f"{DOMAIN}/citoyen",
    )
    c = build_container(settings, clock=clock)  # type: ignore[arg-type]
    yield c
    c.close()


@pytest.fixture
def world(box: Container) -> World:
    return standard_world(box.engine)


@pytest.fixture
def app(box: Container, world: World) -> FastAPI:
    return create_app(box.settings, container=box)


def dns_for(record: bytes) -> Any:
    """dkimpy's DNS lookup, answering only for the agency's selector."""

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode() else None

    return lookup


def mailed_reference(
    app: FastAPI, inbox: RawInbox, world: World, client: TestClient
) -> tuple[str, bytes]:
    trainee = world.persons["trainee"]
    r = client.post(
        CHALLENGE, json={"ft_id": trainee.ft_id, "birth_date": trainee.birth_date.isoformat()}
    )
    assert r.status_code == 202, r.text
    [raw] = inbox.wait_for(1)
    found = REFERENCE.search(raw.decode("utf-8", "replace"))
    if found is None:  # the body may be quoted-printable or base64: read it decoded
        body = _body(raw)
        found = REFERENCE.search(body)
    assert found is not None
    wait_until_delivered(world, found.group(1))
    return found.group(1), raw


def wait_until_delivered(world: World, reference: str, timeout: float = 30.0) -> None:
    """The SMTP server has the mail; the sender records its delivery just after: wait for that
    write, so that it does not land in the middle of what a test observes next."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with world.engine.connect() as conn:
            delivered = conn.execute(
                sql_text("SELECT delivered_at FROM official_messages WHERE reference = :r"),
                {"r": model.parse_reference(reference)},
            ).scalar()
        if delivered is not None:
            return
        time.sleep(0.05)
    raise AssertionError(f"the delivery of {reference} was never recorded")


def _body(raw: bytes) -> str:
    message = email.message_from_bytes(raw)
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_a_code_mail_is_dkim_signed_carries_its_reference_and_verifies_as_genuine(
    app: FastAPI, box: Container, inbox: RawInbox, world: World, dkim_key: tuple[Path, bytes]
) -> None:
    client = client_for(app, address="203.0.113.5")
    reference, raw = mailed_reference(app, inbox, world, client)
    # The header and the body say the same reference; the body holds no link.
    header = re.search(rb"^X-Rempart-Reference: (\S+)\r?$", raw, re.MULTILINE)
    assert header is not None
    assert header.group(1).decode() == reference
    body = _body(raw)
    assert f"Référence : {reference}" in body
    assert not model.has_link(body)
    assert f"{DOMAIN}/citoyen" in body
    # The DKIM signature verifies against the key the domain publishes (lookup injected).
    assert raw.startswith(b"DKIM-Signature:")
    signed = re.search(rb"h=([^;]+);", raw.replace(b"\r\n\t", b"").replace(b"\r\n ", b""))
    assert signed is not None
    assert b"x-rempart-reference" in signed.group(1).lower()
    assert dkim.verify(raw, dnsfunc=dns_for(dkim_key[1]))
    # ... and fails when the mail was altered on the way, or signed by another key.
    assert not dkim.verify(
        raw.replace(reference.encode(), b"AAAA-BBBB-CCCC"), dnsfunc=dns_for(dkim_key[1])
    )
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    other_record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(
        other.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert not dkim.verify(raw, dnsfunc=dns_for(other_record))
    # The verification endpoint says genuine: when, by mail, about what.
    r = client.post(CHECK, json={"reference": reference})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["genuine"] is True
    assert answer["channel"] == "email"
    assert answer["subject"] == "Votre code pour consulter les accès à votre dossier"
    assert dt.datetime.fromisoformat(answer["sent_at"]).tzinfo is not None
    # The register holds the message, its code masked.
    [entry] = box.messages.messages_of(world.persons["trainee"].ft_id)
    assert entry.display_reference == reference
    assert entry.channel is Channel.EMAIL
    assert model.MASK in entry.body
    assert entry.delivered_at is not None


def test_forged_malformed_unknown_and_revoked_references_get_byte_identical_answers(
    app: FastAPI, box: Container, inbox: RawInbox, world: World
) -> None:
    client = client_for(app, address="203.0.113.5")
    reference, _ = mailed_reference(app, inbox, world, client)
    trainee = world.persons["trainee"]
    revoked = box.messages.send_official_message(
        trainee.ft_id, Channel.LETTER, "Courrier envoyé par erreur", "Bonjour."
    )
    assert box.messages.verify(revoked, ClientInfo("192.0.2.99")).genuine
    assert box.messages.revoke(revoked)
    asks = ["n'importe quoi", "", "ABCD-EFGH-IJK0", "Z" * 5000, "ZZZZ-ZZZZ-ZZZZ", revoked]
    answers = [client.post(CHECK, json={"reference": text}) for text in asks]
    assert {(a.status_code, a.headers["content-type"], a.content) for a in answers} == {
        (200, "application/json", b'{"genuine":false}')
    }
    assert client.post(CHECK, json={"reference": reference}).json()["genuine"] is True


def test_guessing_references_is_throttled_with_a_problem(app: FastAPI, world: World) -> None:
    client = client_for(app, address="203.0.113.77")
    for _ in range(model.CHECKS_PER_ADDRESS.free):
        assert client.post(CHECK, json={"reference": "ZZZZ-ZZZZ-ZZZZ"}).status_code == 200
    r = client.post(CHECK, json={"reference": "ZZZZ-ZZZZ-ZZZY"})
    assert r.status_code == 429
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "throttled"
    assert int(r.headers["Retry-After"]) >= 1
    # Another address still gets its answer.
    other = client_for(app, address="203.0.113.78")
    assert other.post(CHECK, json={"reference": "ZZZZ-ZZZZ-ZZZZ"}).status_code == 200


def test_genuine_and_not_genuine_answers_run_the_same_statements(
    app: FastAPI, box: Container, inbox: RawInbox, world: World
) -> None:
    """A genuine, an unknown and a malformed reference make the server run the very same
    database statements, so their answer times differ only by noise (measured side by side
    in ``rempart_bench.message_checks``, not here: a timed test would only measure the
    machine's load)."""
    client = client_for(app, address="203.0.113.5")
    reference, _ = mailed_reference(app, inbox, world, client)
    kinds = {"genuine": reference, "unknown": "ZZZZ-ZZZZ-ZZZZ", "malformed": "pas une référence"}
    statements: dict[str, list[str]] = {}
    for i, (kind, text) in enumerate(kinds.items()):
        seen: list[str] = []

        def record(
            conn: object, cursor: object, statement: str, *args: object, seen: list[str] = seen
        ) -> None:
            seen.append(statement)

        c = client_for(app, address=f"198.51.{100 + i}.1")  # a fresh address: no throttle
        event.listen(box.engine, "before_cursor_execute", record)
        try:
            assert c.post(CHECK, json={"reference": text}).status_code == 200
        finally:
            event.remove(box.engine, "before_cursor_execute", record)
        statements[kind] = seen
    assert statements["genuine"], "the check reads the register"
    assert statements["genuine"] == statements["unknown"] == statements["malformed"]


TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def page_token(client: TestClient, path: str = "/citoyen") -> str:
    r = client.get(path)
    assert r.status_code == 200, r.text
    found = TOKEN.search(r.text)
    assert found is not None
    return found.group(1)


def check_on_page(client: TestClient, reference: str, *, page: str = "/citoyen") -> Any:
    return client.post(
        "/citoyen/verifier-un-message",
        data={"csrf_token": page_token(client, page), "reference": reference},
    )


def test_the_citizen_page_checks_a_message_and_the_person_sees_their_messages(
    app: FastAPI, box: Container, inbox: RawInbox, world: World
) -> None:
    client = client_for(app, address="203.0.113.5")
    start = client.get("/citoyen")
    assert "Ce message vient-il vraiment de nous ?" in start.text
    assert 'href="/citoyen/apres-un-incident"' in start.text
    reference, raw = mailed_reference(app, inbox, world, client)
    genuine = check_on_page(client, reference.lower())
    assert genuine.status_code == 200
    assert "Oui, ce message vient bien de nous." in genuine.text
    assert "Votre code pour consulter les accès à votre dossier" in genuine.text
    assert "Le message tel que nous l'avons envoyé" not in genuine.text  # not signed in
    forged = [check_on_page(client, text) for text in ("ZZZZ-ZZZZ-ZZZZ", "n'importe quoi")]
    assert {(f.status_code, f.text) for f in forged} == {(200, forged[0].text)}
    assert "Nous n'avons pas envoyé de message avec cette référence." in forged[0].text
    assert "33700" in forged[0].text
    # Signed in with the code that mail carried, the person sees the message's content.
    code = re.search(r"Votre code : (\d{6})", _body(raw))
    assert code is not None
    challenge = re.search(r'name="challenge_id" value="([^"]+)"', _code_page(client, world))
    assert challenge is not None
    _, second = inbox.wait_for(2)
    second_code = re.search(r"Votre code : (\d{6})", _body(second))
    assert second_code is not None
    r = client.post(
        "/citoyen/verification",
        data={
            "csrf_token": page_token(client),
            "challenge_id": challenge.group(1),
            "code": second_code.group(1),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    mine = client.get("/citoyen/messages")
    assert mine.status_code == 200
    second_ref = REFERENCE.search(_body(second))
    assert second_ref is not None
    for ref in (reference, second_ref.group(1)):
        assert ref in mine.text
    assert second_code.group(1) not in mine.text  # the register masks the code
    signed_in = check_on_page(client, reference, page="/citoyen/messages")
    assert "Le message tel que nous l'avons envoyé" in signed_in.text
    # The same list through the API, in the API's own session.
    listed = _api_messages(client, inbox, world)
    assert reference in [m["reference"] for m in listed]
    assert all(model.MASK in m["content"] for m in listed)
    advice = client.get("/citoyen/apres-un-incident")
    assert advice.status_code == 200
    assert "Ne cliquez pas sur un lien" in advice.text


def _api_messages(client: TestClient, inbox: RawInbox, world: World) -> list[dict[str, Any]]:
    trainee = world.persons["trainee"]
    assert client.get("/api/v1/citizen/messages").status_code == 401
    before = len(inbox.raw)
    r = client.post(
        CHALLENGE, json={"ft_id": trainee.ft_id, "birth_date": trainee.birth_date.isoformat()}
    )
    raw = inbox.wait_for(before + 1)[-1]
    code = re.search(r"Votre code : (\d{6})", _body(raw))
    assert code is not None
    v = client.post(
        "/api/v1/citizen/verify",
        json={"challenge_id": r.json()["challenge_id"], "code": code.group(1)},
    )
    assert v.status_code == 200, v.text
    r = client.get("/api/v1/citizen/messages")
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    assert len(items) == before + 1
    return items


def _code_page(client: TestClient, world: World) -> str:
    trainee = world.persons["trainee"]
    r = client.post(
        "/citoyen/code",
        data={
            "csrf_token": page_token(client),
            "ft_id": trainee.ft_id,
            "birth_date": trainee.birth_date.isoformat(),
        },
    )
    assert r.status_code == 200, r.text
    return r.text


def test_my_messages_needs_the_one_time_code(app: FastAPI) -> None:
    client = client_for(app, address="203.0.113.5")
    r = client.get("/citoyen/messages", follow_redirects=False)
    assert r.status_code in (303, 401)
    assert "Mes messages officiels" not in r.text


def test_the_page_form_is_throttled_too(app: FastAPI, world: World) -> None:
    client = client_for(app, address="203.0.113.90")
    for _ in range(model.CHECKS_PER_ADDRESS.free):
        assert check_on_page(client, "ZZZZ-ZZZZ-ZZZZ").status_code == 200
    r = check_on_page(client, "ZZZZ-ZZZZ-ZZZY")
    assert r.status_code == 429
    assert "Trop de références" in r.text
    assert int(r.headers["Retry-After"]) >= 1
