"""The published journal (API.md "Journal publication"): the latest checkpoint as a C2SP signed
note, the signer's verifier key, RFC 9162 consistency proofs and witness cosignatures, each read
back by the independent implementation of ``tests/support/transparency.py`` (ASVS V16.4.2 logs
protected from modification, V16.4.3 logs sent to a separate system)."""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient

from rempart.bootstrap import build_container
from rempart.db.migrate import upgrade
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.kernel.clock import SystemClock
from rempart.settings import Settings
from rempart.web.app import create_app
from tests.support import transparency
from tests.support.journal import SIGNER, read

ORIGIN = "portal.example/journal"
PROBLEM = "application/problem+json"


class Witness:
    """A witness key made with nothing but ``cryptography`` (C2SP tlog-cosignature)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = Ed25519PrivateKey.generate()
        self.public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = hashlib.sha256(name.encode() + b"\n\x04" + self.public).digest()[:4]
        key_b64 = base64.b64encode(bytes([4]) + self.public).decode()
        self.vkey = f"{name}+{self.key_id.hex()}+{key_b64}"

    def cosign(self, note: bytes, when: int = 1_790_000_000) -> bytes:
        text = note[: note.rindex(b"\n\n") + 1]
        sig = self.key.sign(b"cosignature/v1\ntime %d\n" % when + text)
        raw = self.key_id + struct.pack(">Q", when) + sig
        line = f"\u2014 {self.name} {base64.b64encode(raw).decode()}\n"
        return note + line.encode()


WITNESS = Witness("witness.example/dpo")


@pytest.fixture
def published(tmp_path: Path) -> Iterator[tuple[TestClient, SqlJournalStore]]:
    db = f"sqlite:///{tmp_path}/rempart.db"
    upgrade(db)
    store = SqlJournalStore(
        f"sqlite:///{tmp_path}/journal.db", clock=SystemClock(), signer=SIGNER, origin=ORIGIN
    )
    store.use_signer(SIGNER)
    settings = Settings(demo=True, db_url=db, journal_witnesses=WITNESS.vkey)
    box = build_container(settings, journal=store)
    try:
        with TestClient(create_app(settings, container=box)) as client:
            yield client, store
    finally:
        box.close()


def test_the_checkpoint_and_key_verify_with_an_independent_signed_note_reader(
    published: tuple[TestClient, SqlJournalStore],
) -> None:
    client, store = published
    none_yet = client.get("/api/v1/journal/checkpoint")
    assert none_yet.status_code == 404
    assert none_yet.headers["content-type"] == PROBLEM
    for i in range(300):
        store.append([read(i)])
    cp = store.checkpoint()
    r = client.get("/api/v1/journal/checkpoint")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    key = client.get("/api/v1/journal/key")
    assert key.status_code == 200
    assert key.text.startswith(f"{ORIGIN}+")
    assert key.text == key.text.strip()  # exactly NAME+HASH+KEY: tools parse it as it is
    origin, size, root = transparency.checkpoint(transparency.verified_text(r.content, key.text))
    assert (origin, size, root) == (ORIGIN, 300, cp.root)
    # The exact C2SP form: three lines, a blank line, one signature line by the origin.
    lines = r.text.split("\n")
    assert lines[3] == ""
    assert lines[4].startswith(f"\u2014 {ORIGIN} ")
    assert lines[5:] == [""]
    # A tampered note no longer verifies.
    forged = r.content.replace(b"300\n", b"299\n", 1)
    with pytest.raises(transparency.Rejected):
        transparency.verified_text(forged, key.text)


def test_consistency_between_two_fetched_checkpoints_verifies_independently(
    published: tuple[TestClient, SqlJournalStore],
) -> None:
    client, store = published
    vkey = None
    heads = []
    for batch in (261, 777):
        for i in range(batch):
            store.append([read(i)])
        store.checkpoint()
        note = client.get("/api/v1/journal/checkpoint").content
        vkey = vkey or client.get("/api/v1/journal/key").text
        heads.append(transparency.checkpoint(transparency.verified_text(note, vkey)))
    (_, m, old), (_, n, new) = heads
    r = client.get("/api/v1/journal/consistency", params={"first": m, "second": n})
    assert r.status_code == 200
    proof = [base64.b64decode(p) for p in r.json()["proof"]]
    assert proof
    assert transparency.consistent(m, n, old, new, proof)
    assert not transparency.consistent(m, n, new, old, proof)


@pytest.mark.parametrize(
    "params",
    [
        {"first": 5, "second": 3},
        {"first": 1, "second": 10_000},
        {"first": -1, "second": 3},
        {"first": "x", "second": 3},
        {"second": 3},
    ],
)
def test_a_bad_consistency_request_is_a_400_problem(
    published: tuple[TestClient, SqlJournalStore], params: dict[str, object]
) -> None:
    client, store = published
    for i in range(10):
        store.append([read(i)])
    r = client.get("/api/v1/journal/consistency", params=params)
    assert r.status_code == 400
    assert r.headers["content-type"] == PROBLEM


def test_a_witness_cosignature_is_verified_recorded_and_served_beside_the_checkpoint(
    published: tuple[TestClient, SqlJournalStore],
) -> None:
    client, store = published
    for i in range(42):
        store.append([read(i)])
    store.checkpoint()
    note = client.get("/api/v1/journal/checkpoint").content
    r = client.post(
        "/api/v1/journal/cosignatures",
        content=WITNESS.cosign(note),
        headers={"content-type": "text/plain"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 1, "tree_size": 42}
    served = client.get("/api/v1/journal/checkpoint").content
    assert transparency.cosigned_at(served, WITNESS.vkey) == 1_790_000_000
    transparency.verified_text(served, client.get("/api/v1/journal/key").text)
    # The public page shows the checkpoint and who cosigned it.
    page = client.get("/journal")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Contre-signatures des témoins" in page.text
    assert WITNESS.name in page.text
    assert ORIGIN in page.text


def test_the_public_page_says_when_nothing_is_published_yet(
    published: tuple[TestClient, SqlJournalStore],
) -> None:
    client, _ = published
    page = client.get("/journal")
    assert page.status_code == 200
    assert "Aucun état du journal n'a encore été publié" in page.text


@pytest.mark.parametrize("case", ["garbage", "unknown witness", "bad cosignature", "not ours"])
def test_cosignatures_that_do_not_hold_are_refused(
    published: tuple[TestClient, SqlJournalStore], case: str
) -> None:
    client, store = published
    for i in range(7):
        store.append([read(i)])
    store.checkpoint()
    note = client.get("/api/v1/journal/checkpoint").content
    body = {
        "garbage": b"\xff\x00 not a note",
        "unknown witness": Witness("witness.example/other").cosign(note),
        "bad cosignature": WITNESS.cosign(note).replace(b"\n7\n", b"\n8\n"),
        "not ours": WITNESS.cosign(note.replace(ORIGIN.encode(), b"other.example/log")),
    }[case]
    r = client.post(
        "/api/v1/journal/cosignatures", content=body, headers={"content-type": "text/plain"}
    )
    assert r.status_code in (400, 403)
    assert r.headers["content-type"] == PROBLEM
    assert b"witness.example" not in client.get("/api/v1/journal/checkpoint").content
