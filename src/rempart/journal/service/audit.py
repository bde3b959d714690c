"""Auditing the journal: verify it, prove one entry, query it, apply retention.

These are the tools of the DPO, the auditor and the incident responder (CLI), not of partner
agents; they read the journal database directly and never the portal's.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rempart.journal.integrity import (
    Checkpoint,
    Published,
    Report,
    SignatureCheck,
    base_from_purge,
    purge_boundary,
    verify_rows,
)
from rempart.journal.merkle import Frontier, inclusion_path, leaf_hash, root_from_inclusion
from rempart.journal.model import JournalEntry, StoredEntry, entry_from_canonical, format_time
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


def verify(
    archive: JournalScan,
    signature_ok: SignatureCheck,
    *,
    indexes: bool = True,
    published: Sequence[Published] = (),
    now: dt.datetime | None = None,
    checkpoint_seconds: float = 60.0,
) -> Report:
    """Check chain, Merkle nodes, checkpoints and signatures (and the query indexes).

    ``published`` checkpoints (kept outside the journal) must still be proved by it. With
    ``now``, entries that no valid checkpoint covers although they are older than the
    checkpoint period (``checkpoint_seconds``, and a grace of as much again) are a finding:
    the writer signs at least that often, so their checkpoint was removed, or the portal
    stopped without signing.
    """
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
    verify_rows(archive.rows(after), checkpoints, nodes, signature_ok, base, report, published)
    if now is not None:
        _uncovered(archive, report, checkpoints, signature_ok, now, checkpoint_seconds)
    if indexes:
        worker.join()
        if failed:
            raise failed[0]
        if found and found[0] is not None:
            report.add(found[0], f"the query index rows of entry {found[0]} disagree with it")
    return report


def _uncovered(
    archive: JournalScan,
    report: Report,
    checkpoints: Sequence[Checkpoint],
    signature_ok: SignatureCheck,
    now: dt.datetime,
    period: float,
) -> None:
    """A finding when the entries past the last valid checkpoint are older than its period."""
    covered = max(
        [
            report.base,
            *(
                c.tree_size
                for c in checkpoints
                if c.tree_size <= report.last_seq and signature_ok(c)
            ),
        ]
    )
    if report.last_seq <= covered:
        return
    first = covered + 1
    body = archive.body(first)
    try:
        at = entry_from_canonical(body).at if body is not None else None
    except ValueError:
        at = None  # unreadable: the chain check names this entry already
    if at is not None and (now - at).total_seconds() > 2 * period:
        report.add(
            first,
            f"entries {first}..{report.last_seq} are older than the checkpoint period "
            f"({period:g} s) and no checkpoint covers them: the one that did was removed, "
            "or the portal stopped without signing",
        )


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
