"""Journal entries: one per access decision, written before any data leaves.

An entry's *canonical form* is the exact byte string the journal stores, hashes and signs
(stable JSON: sorted keys, no spaces, ASCII only, UTC times with microseconds). It escapes
every control character, so nothing an agent or a client types can forge a line or a field
of the journal (ASVS V16.4.1)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as _quote  # the C quoting json.dumps uses

from rempart.kernel.tags import Decision, Tag


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """An access decision as the journal records it (sequence and hashes added on append)."""

    at: dt.datetime
    tag: Tag
    decision: Decision
    agent_login: str = ""
    org_id: str = ""
    session_id: str = ""
    client_address: str = ""
    network: str = ""
    user_agent: str = ""
    persons: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    purpose: str = ""
    reason: str = ""
    details: dict[str, object] = field(default_factory=dict)
    agent_roles: tuple[str, ...] = ()  # roles held at the time: a person sees "which role"


FORMAT_VERSION = 1


# One encoder, built once: the canonical form must not depend on call-site arguments.
_ENCODER = json.JSONEncoder(
    sort_keys=True,
    separators=(",", ":"),
    ensure_ascii=True,
    allow_nan=False,
    default=str,  # a date or an enum in ``details`` is recorded as its text
)


def format_time(at: dt.datetime) -> str:
    """RFC 3339 UTC with microseconds and ``Z``; a naive time is taken as UTC (ASVS V16.2.2)."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> dt.datetime:
    """The inverse of ``format_time``."""
    return dt.datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=dt.UTC)


def canonical_bytes(entry: JournalEntry, at_text: str | None = None) -> bytes:
    """The entry's canonical form: what is stored, hashed into the chain and the Merkle tree.

    ``at_text`` is ``format_time(entry.at)`` when the caller has it already.
    """
    try:
        return _fast_canonical(entry, at_text or format_time(entry.at))
    except TypeError:  # a non-text value somewhere: let the general encoder render it
        return reference_canonical_bytes(entry)


def reference_canonical_bytes(entry: JournalEntry) -> bytes:
    """The canonical form by definition: ``json.dumps`` with sorted keys, compact, ASCII."""
    return _ENCODER.encode(
        {
            "v": FORMAT_VERSION,
            "at": format_time(entry.at),
            "tag": str(entry.tag),
            "decision": str(entry.decision),
            "agent_login": entry.agent_login,
            "agent_roles": list(entry.agent_roles),
            "org_id": entry.org_id,
            "session_id": entry.session_id,
            "client_address": entry.client_address,
            "network": entry.network,
            "user_agent": entry.user_agent,
            # A set: sorted, so the child index table can be checked against it in SQL.
            "persons": sorted(set(entry.persons)),
            "categories": list(entry.categories),
            "purpose": entry.purpose,
            "reason": entry.reason,
            "details": entry.details,
        }
    ).encode("ascii")


def _fast_canonical(entry: JournalEntry, at_text: str) -> bytes:
    # The same bytes as ``reference_canonical_bytes`` (a test holds them equal), written out
    # key by key in sorted order: every request pays for this, and it is twice as fast.
    s = _quote
    return (
        f'{{"agent_login":{s(entry.agent_login)},'
        f'"agent_roles":[{",".join(map(s, entry.agent_roles))}],'
        f'"at":"{at_text}",'
        f'"categories":[{",".join(map(s, entry.categories))}],'
        f'"client_address":{s(entry.client_address)},'
        f'"decision":{s(entry.decision)},'
        f'"details":{_ENCODER.encode(entry.details) if entry.details else "{}"},'
        f'"network":{s(entry.network)},'
        f'"org_id":{s(entry.org_id)},'
        f'"persons":[{",".join(map(s, sorted(set(entry.persons))))}],'
        f'"purpose":{s(entry.purpose)},'
        f'"reason":{s(entry.reason)},'
        f'"session_id":{s(entry.session_id)},'
        f'"tag":{s(entry.tag)},'
        f'"user_agent":{s(entry.user_agent)},'
        f'"v":{FORMAT_VERSION}}}'
    ).encode("ascii")


def entry_from_canonical(data: bytes) -> JournalEntry:
    """Read an entry back from its canonical form (raises ValueError on anything else)."""
    try:
        d = json.loads(data)
        if d.get("v") != FORMAT_VERSION:
            raise ValueError(f"unknown journal entry format {d.get('v')!r}")
        return JournalEntry(
            at=parse_time(d["at"]),
            tag=Tag(d["tag"]),
            decision=Decision(d["decision"]),
            agent_login=d["agent_login"],
            org_id=d["org_id"],
            session_id=d["session_id"],
            client_address=d["client_address"],
            network=d["network"],
            user_agent=d["user_agent"],
            persons=tuple(d["persons"]),
            categories=tuple(d["categories"]),
            purpose=d["purpose"],
            reason=d["reason"],
            details=dict(d["details"]),
            agent_roles=tuple(d["agent_roles"]),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a canonical journal entry: {exc}") from exc


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as read back from the journal, with its sequence number."""

    seq: int
    entry: JournalEntry
