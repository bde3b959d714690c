"""Auditing the journal: verify it, prove one entry, query it, apply retention.

These are the tools of the DPO, the auditor and the incident responder (CLI), not of partner
agents; they read the journal database directly and never the portal's.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from dataclasses import dataclass
from typing import Any

from rempart.journal.integrity import (
    Checkpoint,
    Report,
    SignatureCheck,
    base_from_purge,
    purge_boundary,
    verify_rows,
)
from rempart.journal.merkle import Frontier, inclusion_path, leaf_hash, root_from_inclusion
from rempart.journal.model import JournalEntry, StoredEntry, format_time
from rempart.journal.ports import (
    AgentActivity,
    JournalRetention,
    JournalScan,
    JournalWriter,
    PersonAccesses,
    ProofSource,
)
from rempart.kernel.clock import months_before
from rempart.kernel.errors import Conflict, InvalidRequest, JournalTampered, NotFound
from rempart.kernel.tags import Decision, Tag

PROOF_FORMAT = "rempart-journal-inclusion-proof/v1"


def verify(archive: JournalScan, signature_ok: SignatureCheck, *, indexes: bool = True) -> Report:
    """Check chain, Merkle nodes, checkpoints and signatures (and the query indexes)."""
    report = Report()
    base = None
    base_cp = archive.purge_base()
    if base_cp is not None:
        try:
            frontier = Frontier.at(base_cp.tree_size, archive.subtree)
        except JournalTampered:
            report.add(base_cp.tree_size + 1, "Merkle nodes below the purge boundary are missing")
            frontier = Frontier()
        base = base_from_purge(base_cp, frontier, signature_ok, report)
    after = base.size if base else 0
    checkpoints = archive.checkpoints()
    nodes = archive.nodes()
    # The index check runs inside the database while this thread hashes the chain.
    found: list[int | None] = []
    failed: list[BaseException] = []

    def check_indexes() -> None:
        try:
            found.append(archive.index_mismatch(after))
        except Exception as exc:  # noqa: BLE001 - re-raised below, in the caller's thread
            failed.append(exc)

    worker = threading.Thread(target=check_indexes, name="journal-index-check")
    if indexes:
        worker.start()
    verify_rows(archive.rows(after), checkpoints, nodes, signature_ok, base, report)
    if indexes:
        worker.join()
        if failed:
            raise failed[0]
        if found and found[0] is not None:
            report.add(found[0], f"the query index rows of entry {found[0]} disagree with it")
    return report


def prove(archive: ProofSource, seq: int, tree_size: int | None = None) -> dict[str, Any]:
    """An inclusion proof of entry ``seq`` against a signed checkpoint (the latest by default)."""
    body = archive.body(seq)
    if body is None:
        raise NotFound()
    candidates = [
        c
        for c in archive.checkpoints()
        if c.tree_size >= seq and (tree_size is None or c.tree_size == tree_size)
    ]
    if not candidates:
        raise Conflict(
            f"entry {seq} is not covered by a signed checkpoint yet: "
            "wait for the next one or run `rempart journal checkpoint`"
        )
    cp = max(candidates, key=lambda c: (c.tree_size, c.at))
    path = inclusion_path(seq - 1, cp.tree_size, archive.subtree)
    leaf = leaf_hash(body)
    if root_from_inclusion(seq - 1, cp.tree_size, leaf, path) != cp.root:
        raise JournalTampered(seq, f"entry {seq} does not lead to the signed root")
    public_key = archive.public_keys().get(cp.key_id, b"")
    return {
        "format": PROOF_FORMAT,
        "seq": seq,
        "leaf_index": seq - 1,
        "entry": json.loads(body),
        "entry_canonical": body.decode("ascii"),
        "leaf_hash": leaf.hex(),
        "tree_size": cp.tree_size,
        "inclusion_path": [p.hex() for p in path],
        "checkpoint": checkpoint_json(cp),
        "public_key": base64.b64encode(public_key).decode(),
    }


def checkpoint_json(cp: Checkpoint) -> dict[str, Any]:
    """A checkpoint as JSON: every signed field, and the signature in base64."""
    return {
        "tree_size": cp.tree_size,
        "root": cp.root.hex(),
        "chain_head": cp.chain_head.hex(),
        "time": format_time(cp.at),
        "kind": str(cp.kind),
        "key_id": cp.key_id,
        "signature": base64.b64encode(cp.signature).decode(),
    }


def entry_json(stored: StoredEntry) -> dict[str, Any]:
    """An entry for the security team's tools (everything it records)."""
    e = stored.entry
    return {
        "seq": stored.seq,
        "at": format_time(e.at),
        "tag": str(e.tag),
        "decision": str(e.decision),
        "agent_login": e.agent_login,
        "agent_roles": list(e.agent_roles),
        "org_id": e.org_id,
        "session_id": e.session_id,
        "client_address": e.client_address,
        "network": e.network,
        "user_agent": e.user_agent,
        "persons": list(e.persons),
        "categories": list(e.categories),
        "purpose": e.purpose,
        "reason": e.reason,
        "details": e.details,
    }


def who_consulted(
    queries: PersonAccesses, ft_id: str, page: int, size: int
) -> tuple[list[StoredEntry], bool]:
    """One page of the entries concerning a person, newest first; and whether more follow."""
    if page < 1 or not 1 <= size <= 1000:
        raise InvalidRequest("page starts at 1 and size is between 1 and 1000")
    found = queries.who_consulted(ft_id, (page - 1) * size, size + 1)
    return found[:size], len(found) > size


def activity(
    queries: AgentActivity,
    since: dt.datetime,
    until: dt.datetime,
    *,
    agent_login: str = "",
    session_id: str = "",
    limit: int = 10_000,
) -> list[StoredEntry]:
    """What an agent or a session did between two times, oldest first."""
    if not agent_login and not session_id:
        raise InvalidRequest("name an agent or a session")
    if until <= since:
        raise InvalidRequest("the window ends before it starts")
    return queries.activity(
        since, until, agent_login=agent_login, session_id=session_id, limit=limit
    )


@dataclass(frozen=True, slots=True)
class PurgeResult:
    cut: int
    checkpoint: Checkpoint | None


def retention_cutoff(today: dt.date, months: int) -> dt.datetime:
    """The instant before which entries are older than ``months`` months."""
    day = months_before(today, months)
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def purge(
    archive: JournalRetention,
    journal: JournalWriter,
    signature_ok: SignatureCheck,
    before: dt.datetime,
    now: dt.datetime,
    *,
    verify_first: bool = True,
) -> PurgeResult:
    """Delete entries older than ``before`` behind a signed purge checkpoint.

    The journal is verified first: deleting part of a journal that does not verify would
    destroy the evidence of what happened to it.
    """
    if before > now:
        raise InvalidRequest("retention cannot purge entries from the future")
    if verify_first:
        report = verify(archive, signature_ok)
        if not report.ok:
            raise JournalTampered(report.first_bad or 0)
    cut = purge_boundary(archive.last_seq_before(before))
    base = archive.purge_base()
    if cut <= (base.tree_size if base else 0):
        return PurgeResult(cut=base.tree_size if base else 0, checkpoint=None)
    cp = archive.purge(cut)
    journal.append(
        [
            JournalEntry(
                at=now,
                tag=Tag.JOURNAL_RETENTION_PURGED,
                decision=Decision.ALLOW,
                reason="retention",
                details={"up_to_seq": cut, "before": format_time(before)},
            )
        ]
    )
    return PurgeResult(cut=cut, checkpoint=cp)
