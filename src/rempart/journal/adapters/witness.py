"""The witness's parts: the log over HTTP, its state file, its alarm, its Ed25519 key."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import os
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rempart.journal.notes import (
    COSIGNATURE_V1,
    NoteError,
    key_hash,
    parse_signer_key,
    signer_key,
    verifier_key,
)
from rempart.journal.service.witness import LogUnreachable

log = logging.getLogger("rempart.witness")

_RAW = serialization.Encoding.Raw


class HttpLog:
    """Implements ``WitnessedLog`` over the portal's public journal endpoints."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, client: httpx.Client | None = None):
        self._base = base_url.rstrip("/")
        self._client = client or httpx.Client(
            timeout=timeout, headers={"User-Agent": "rempart-witness"}
        )

    def _get(self, path: str, **params: int) -> httpx.Response:
        try:
            r = self._client.get(f"{self._base}/api/v1/journal/{path}", params=params)
        except httpx.HTTPError as exc:
            raise LogUnreachable(f"{self._base}: {exc.__class__.__name__}") from None
        if r.status_code >= 500:
            raise LogUnreachable(f"{self._base}: HTTP {r.status_code}")
        return r

    def checkpoint(self) -> bytes:
        """The latest signed checkpoint (an HTTP error is no checkpoint: unreachable)."""
        r = self._get("checkpoint")
        if r.status_code != 200:
            raise LogUnreachable(f"{self._base}: HTTP {r.status_code}")
        return r.content

    def consistency(self, first: int, second: int) -> list[bytes]:
        """The proof; a log that refuses to give one gives an empty proof (which fails)."""
        r = self._get("consistency", first=first, second=second)
        if r.status_code != 200:
            return []
        try:
            return [base64.b64decode(p, validate=True) for p in r.json()["proof"]]
        except (ValueError, KeyError, TypeError, binascii.Error):
            return []

    def submit(self, note: bytes) -> None:
        """POST the cosigned checkpoint back to the log."""
        try:
            r = self._client.post(
                f"{self._base}/api/v1/journal/cosignatures",
                content=note,
                headers={"Content-Type": "text/plain; charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            raise LogUnreachable(f"{self._base}: {exc.__class__.__name__}") from None
        if r.status_code != 200:
            raise LogUnreachable(f"{self._base} refused the cosignature: HTTP {r.status_code}")


class FileState:
    """Implements ``WitnessState``: one file holding the last cosigned checkpoint."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> bytes | None:
        """The file's bytes, or None when there is no file yet."""
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def save(self, note: bytes) -> None:
        """Write a temporary file, fsync it, rename it over the state, fsync the directory."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, note)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class Alarm:
    """Implements ``WitnessAlarm``: an error line in the witness's log, a JSON line in its
    alerts file (beside the state), and a POST to its operator's webhook when configured."""

    def __init__(self, alerts_file: Path, webhook_url: str = "") -> None:
        self.alerts_file = alerts_file
        self.webhook_url = webhook_url
        self._last: tuple[str, str] | None = None  # the refusal raised last, while it lasts

    def alert(self, kind: str, detail: str, evidence: dict[str, str]) -> None:
        """Raise the alert on every channel; a channel that fails does not stop the others.
        The same refusal of the same checkpoint, round after round, is logged each time but
        raised once."""
        log.error("witness refuses to cosign: %s", detail)
        seen = (kind, evidence.get("served", ""))
        if seen == self._last:
            return
        self._last = seen
        record = {
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "rule": f"witness:journal:{kind}",
            "severity": "critical",
            "explanation": detail,
            "evidence": evidence,
        }
        line = json.dumps(record, sort_keys=True) + "\n"
        with self.alerts_file.open("a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        if self.webhook_url:
            try:
                httpx.post(self.webhook_url, json=record, timeout=5.0)
            except httpx.HTTPError:
                log.exception("the witness's alert webhook did not answer")


class Ed25519Cosigner:
    """Implements ``Cosigner`` with the witness's Ed25519 private key."""

    def __init__(self, name: str, private_key: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(private_key)
        self.name = name
        self.public_key = self._key.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)

    @classmethod
    def generate(cls, name: str) -> Ed25519Cosigner:
        """A fresh key."""
        raw = Ed25519PrivateKey.generate().private_bytes(
            _RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return cls(name, raw)

    @classmethod
    def from_text(cls, text: str) -> Ed25519Cosigner:
        """From ``PRIVATE+KEY+NAME+HASH+base64(0x04 ‖ key)``; the hash must match."""
        name, sig_type, private, expected = parse_signer_key(text)
        if sig_type != COSIGNATURE_V1:
            raise NoteError("a witness key has signature type 0x04 (tlog-cosignature)")
        signer = cls(name, private)
        if key_hash(name, COSIGNATURE_V1, signer.public_key) != expected:
            raise NoteError("the witness key's hash does not match its key")
        return signer

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature."""
        return self._key.sign(message)

    def private_text(self) -> str:
        """The key in the signed-note private form (keep it secret)."""
        raw = self._key.private_bytes(
            _RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return signer_key(self.name, COSIGNATURE_V1, self.public_key, raw)

    def verifier_text(self) -> str:
        """The verifier key to give the log (``REMPART_JOURNAL_WITNESSES``) and its readers."""
        return verifier_key(self.name, COSIGNATURE_V1, self.public_key).text()
