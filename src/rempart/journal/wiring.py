"""Wires the journal: its SQL store, its signing key, and the stores the maintenance commands open.

Called by ``bootstrap`` (the portal's journal) and by ``rempart journal`` (archives, keys).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rempart.db.engine import is_memory, is_sqlite, sqlite_path
from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.adapters.signing import (
    Ed25519Signer,
    checkpoint_checker,
    verify_signature,
)
from rempart.journal.adapters.sql import SqlJournalStore
from rempart.journal.adapters.witness import Alarm, Ed25519Cosigner, FileState, HttpLog
from rempart.journal.adapters.writer_process import WriterConfig, WriterProcess
from rempart.journal.integrity import Published, SignatureCheck, key_id_of
from rempart.journal.notes import NoteError, parse_verifier_key
from rempart.journal.ports import CheckpointSigner, JournalWriter
from rempart.journal.service import publication as journal_publication
from rempart.journal.service.publication import PublicationDeps
from rempart.journal.service.witness import Witness
from rempart.kernel.clock import SystemClock
from rempart.kernel.errors import InvalidRequest, PolicyError
from rempart.kernel.ports import Clock
from rempart.settings import Settings

log = logging.getLogger("rempart")


def open_journal(settings: Settings, clock: Clock) -> SqlJournalStore:
    """The journal store for ``settings``, its own database, signing with the configured key."""
    url = settings.effective_journal_url()
    if settings.journal_signing_key is None and not settings.demo:
        journal_signer(settings, None)  # refuses, before anything is opened
    if is_memory(url) and not is_memory(settings.db_url) and not settings.demo:
        # A persistent portal with a journal that vanishes on restart would lose evidence.
        raise PolicyError("REMPART_JOURNAL_URL must be set when the portal is not on SQLite")
    store = SqlJournalStore(
        url,
        clock=clock,
        checkpoint_every=settings.journal_checkpoint_every,
        checkpoint_seconds=settings.journal_checkpoint_seconds,
        group_wait=settings.journal_group_wait_ms / 1000,
        group_max=settings.journal_group_max,
        origin=settings.effective_journal_origin(),
        wait_seconds=settings.journal_wait_seconds,
    )
    store.use_signer(journal_signer(settings, store))
    store.start()
    return store


def serving_writer(
    settings: Settings, journal: JournalWriter
) -> Callable[[asyncio.AbstractEventLoop], None]:
    """What the app's lifespan calls with its event loop: with ``journal_writer = "process"``
    on a SQLite journal file, start the writer process and hand it that loop's appends; in
    every other case nothing (the writer thread commits them, as it does for threads)."""
    url = settings.effective_journal_url()
    local_file = is_sqlite(url) and sqlite_path(url) is not None
    if settings.journal_writer != "process" or not local_file:
        return _no_writer_process
    if not isinstance(journal, SqlJournalStore):
        return _no_writer_process  # a journal given by a test, not the configured one
    store = journal
    # The key ``open_journal`` chose (the configured one, or the demo journal's own).
    signer = store.signer
    private = signer.private_raw() if isinstance(signer, Ed25519Signer) else None
    config = WriterConfig(
        url,
        settings.journal_checkpoint_every,
        settings.journal_checkpoint_seconds,
        store.origin,
        private,
    )

    def start(loop: asyncio.AbstractEventLoop) -> None:
        process = WriterProcess(config)
        process.start(loop)
        store.write_elsewhere(process)

    return start


def _no_writer_process(_loop: asyncio.AbstractEventLoop) -> None:
    """The writer thread commits every append."""


def journal_signer(settings: Settings, store: SqlJournalStore | None) -> CheckpointSigner:
    """The configured signing key; in demo mode one generated and kept in the journal itself."""
    if settings.journal_signing_key is not None:
        return Ed25519Signer.from_base64(settings.journal_signing_key.get_secret_value())
    if not settings.demo:
        raise PolicyError(
            "REMPART_JOURNAL_SIGNING_KEY must be set outside demo mode "
            "(base64 of a raw Ed25519 private key; `rempart journal keygen` makes one)"
        )
    if store is None:
        raise PolicyError("a demo journal keeps its generated key in its own database")
    signer = demo_signer(store)
    log.warning(
        "demo mode: the journal's checkpoints are signed with key %s, kept in the journal "
        "database itself, so whoever can write that database can forge them; set "
        "REMPART_JOURNAL_SIGNING_KEY for anything real",
        signer.key_id,
    )
    return signer


def demo_signer(store: SqlJournalStore) -> Ed25519Signer:
    """The demo journal's own signing key, generated on first use."""
    raw = store.demo_private_key()
    if raw is not None:
        return Ed25519Signer.from_raw(raw)
    signer = Ed25519Signer.generate()
    store.register_key(
        signer.public_key,
        signer.key_id,
        note="demo key, stored in the journal itself: not a trust anchor",
        private_key=signer.private_raw(),
    )
    return signer


def open_journal_archive(
    url: str, signing_key: str | None = None, origin: str = ""
) -> SqlJournalStore:
    """A journal opened by the maintenance commands: signs with ``signing_key`` when given,
    else with a demo journal's stored key, else not at all (read-only work). Checkpoints it
    signs are published under the journal's recorded origin (``origin`` for a journal that
    has none yet)."""
    path = sqlite_path(url)
    if is_sqlite(url) and (path is None or not path.exists()):
        raise InvalidRequest(f"no journal at {url}")
    store = SqlJournalStore(url, clock=SystemClock(), create=False, origin=origin)
    if signing_key:
        store.use_signer(Ed25519Signer.from_base64(signing_key))
    elif (raw := store.demo_private_key()) is not None:
        store.use_signer(Ed25519Signer.from_raw(raw))
    return store


def create_journal(url: str) -> SqlJournalStore:
    """Create a journal's schema (idempotent): for its owner, before the portal uses it."""
    return SqlJournalStore(url, clock=SystemClock(), create=True)


@dataclass(frozen=True, slots=True)
class TrustAnchors:
    """The public keys a verification trusts, and where they came from."""

    check: SignatureCheck
    key_ids: tuple[str, ...]
    from_journal_itself: bool
    public_keys: list[bytes]  # the keys themselves (published checkpoints name them by hash)


def journal_trust(
    store: SqlJournalStore, public_keys: list[str], signing_key: str | None
) -> TrustAnchors:
    """Keys given by the operator (or derived from the signing key) are trust anchors; failing
    those, the journal's own key table, which an intruder could have rewritten."""
    keys: dict[str, bytes] = {}
    for text in public_keys:
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except ValueError:
            raise InvalidRequest(f"--public-key {text!r} is not base64") from None
        keys[key_id_of(raw)] = raw
    if signing_key:
        signer = Ed25519Signer.from_base64(signing_key)
        keys[signer.key_id] = signer.public_key
    if keys:
        return TrustAnchors(
            checkpoint_checker(keys),
            tuple(keys),
            from_journal_itself=False,
            public_keys=[*keys.values()],
        )
    stored = store.public_keys()
    return TrustAnchors(
        checkpoint_checker(stored),
        tuple(stored),
        from_journal_itself=True,
        public_keys=[*stored.values()],
    )


def new_journal_key() -> tuple[str, str, str]:
    """A fresh signing key: (private key base64, public key base64, key id)."""
    signer = Ed25519Signer.generate()
    return (
        base64.b64encode(signer.private_raw()).decode(),
        base64.b64encode(signer.public_key).decode(),
        signer.key_id,
    )


def witness_keys(text: str) -> tuple[str, ...]:
    """Verifier keys listed in a setting, separated by spaces or commas."""
    return tuple(k for k in re.split(r"[\s,]+", text) if k)


def publication(settings: Settings, journal: JournalWriter) -> PublicationDeps:
    """What the public journal endpoints serve from ``journal``: its checkpoints if it is a
    store that keeps them (the SQL store, or the memory twin of the tests)."""
    try:
        witnesses = tuple(parse_verifier_key(k) for k in witness_keys(settings.journal_witnesses))
    except NoteError as exc:
        raise PolicyError(f"REMPART_JOURNAL_WITNESSES: {exc}") from None
    log = journal if isinstance(journal, SqlJournalStore | MemoryJournal) else None
    return PublicationDeps(log=log, witnesses=witnesses, verify=verify_signature)


def build_witness(
    log_url: str, log_key: str, key_file: Path, state: Path, alert_webhook: str = ""
) -> Witness:
    """A witness of the journal published at ``log_url`` (its checkpoint key ``log_key``,
    NAME+HASH+KEY), cosigning with the key in ``key_file``, remembering in ``state`` (its
    alerts go to ``state`` + ``.alerts`` and to ``alert_webhook``)."""
    try:
        vkey = parse_verifier_key(log_key)
        signer = Ed25519Cosigner.from_text(key_file.read_text(encoding="utf-8"))
    except NoteError as exc:
        raise InvalidRequest(str(exc)) from None
    except OSError as exc:
        raise InvalidRequest(f"cannot read the witness key {key_file}: {exc.strerror}") from None
    return Witness(
        log=HttpLog(log_url),
        log_key=vkey,
        state=FileState(state),
        alarm=Alarm(state.with_name(state.name + ".alerts"), alert_webhook),
        signer=signer,
        verify=verify_signature,
        now=lambda: int(time.time()),
    )


def new_witness_key(name: str) -> tuple[str, str]:
    """A fresh witness key: (private key text, verifier key text)."""
    try:
        signer = Ed25519Cosigner.generate(name)
        return signer.private_text(), signer.verifier_text()
    except NoteError as exc:
        raise InvalidRequest(str(exc)) from None


def read_published(data: bytes, label: str, public_keys: list[bytes]) -> Published:
    """A checkpoint kept outside the journal, its Ed25519 signature checked."""
    return journal_publication.read_published(data, label, public_keys, verify_signature)
