"""Journal entries: one per access decision, written before any data leaves.

An entry's *canonical form* is the exact byte string the journal stores, hashes and signs
(stable JSON: sorted keys, no spaces, ASCII only, UTC times with microseconds). It escapes
every control character, so nothing an agent or a client types can forge a line or a field
of the journal (ASVS V16.4.1).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from enum import StrEnum
from json.encoder import encode_basestring_ascii as _quote  # the C quoting json.dumps uses


class Tag(StrEnum):
    """What happened, shaped ``source:subject:action``."""

    PORTAL_PERSON_READ = "portal:person:read"
    PORTAL_PERSON_LOOKUP = "portal:person:lookup"
    PORTAL_PORTFOLIO_LIST = "portal:portfolio:list"
    PORTAL_TRAINING_LIST = "portal:training:list"
    PORTAL_SESSION_ROSTER = "portal:session:roster"
    PORTAL_ATTENDANCE_WRITE = "portal:attendance:write"
    PORTAL_ENROLMENT_CREATE = "portal:enrolment:create"
    PORTAL_NOTE_WRITE = "portal:note:write"
    PORTAL_ROSTER_EXPORT = "portal:roster:export"
    ADMIN_APP_SUSPENDED = "admin:app:suspended"
    ADMIN_APP_RESUMED = "admin:app:resumed"
    AUTH_LOGIN_SUCCEEDED = "auth:login:succeeded"
    AUTH_LOGIN_FAILED = "auth:login:failed"
    AUTH_MFA_FAILED = "auth:mfa:failed"
    AUTH_ACCOUNT_LOCKED = "auth:account:locked"
    AUTH_ACCOUNT_UNLOCKED = "auth:account:unlocked"
    AUTH_SESSION_OPENED = "auth:session:opened"
    AUTH_SESSION_CLOSED = "auth:session:closed"
    AUTH_SESSION_REVOKED = "auth:session:revoked"
    AUTH_STEP_UP_SUCCEEDED = "auth:step_up:succeeded"
    AUTH_RECOVERY_CODE_USED = "auth:recovery_code:used"
    AUTH_FACTOR_ADDED = "auth:factor:added"
    AUTH_FACTOR_REMOVED = "auth:factor:removed"
    AUTH_LOGIN_THROTTLED = "auth:login:throttled"
    AUTH_PASSWORD_CHANGED = "auth:password:changed"  # noqa: S105 - a tag, not a password
    AUTH_IDENTITY_LINKED = "auth:identity:linked"
    AUTH_IDENTITY_UNLINKED = "auth:identity:unlinked"
    GUARD_REQUEST_DENIED = "guard:request:denied"
    GUARD_SESSION_REVOKED = "guard:session:revoked"
    GUARD_ACCOUNT_LOCKED = "guard:account:locked"
    GUARD_BUDGET_EXHAUSTED = "guard:budget:exhausted"
    ACCOUNT_REQUEST_CREATED = "account:request:created"
    ACCOUNT_REQUEST_APPROVED = "account:request:approved"
    ACCOUNT_REQUEST_REFUSED = "account:request:refused"
    ACCOUNT_REQUEST_THROTTLED = "account:request:throttled"
    ACCOUNT_REQUEST_DENIED = "account:request:denied"
    ACCOUNT_REQUEST_CANCELLED = "account:request:cancelled"
    ACCOUNT_REQUEST_EXPIRED = "account:request:expired"
    ACCOUNT_APPROVAL_REFUSED = "account:approval:refused"
    ACCOUNT_AGENT_CREATED = "account:agent:created"
    ACCOUNT_AGENT_UNLOCKED = "account:agent:unlocked"
    ACCOUNT_ROLE_GRANTED = "account:role:granted"
    ACCOUNT_ROLE_REVOKED = "account:role:revoked"
    ACCOUNT_ENROLMENT_SENT = "account:enrolment:sent"
    ACCOUNT_ENROLMENT_COMPLETED = "account:enrolment:completed"
    ACCOUNT_ENROLMENT_FAILED = "account:enrolment:failed"
    ACCOUNT_FACTORS_RESET = "account:factors:reset"
    ACCOUNT_TRAINING_ATTESTED = "account:training:attested"
    ACCOUNT_END_DATE_SET = "account:end_date:set"
    ACCOUNT_IDENTITY_LINKED = "account:identity:linked"
    ACCOUNT_IDENTITY_REFUSED = "account:identity:refused"
    ADMIN_ACCOUNT_SUSPENDED = "admin:account:suspended"
    ADMIN_ACCOUNT_LIFTED = "admin:account:lifted"
    ADMIN_ORG_SUSPENDED = "admin:org:suspended"
    ADMIN_ORG_LIFTED = "admin:org:lifted"
    LIFECYCLE_AGENT_DISABLED = "lifecycle:agent:disabled"
    LIFECYCLE_FACTORS_ERASED = "lifecycle:factors:erased"
    REVIEW_CAMPAIGN_OPENED = "review:campaign:opened"
    REVIEW_CAMPAIGN_REMINDED = "review:campaign:reminded"
    REVIEW_ITEM_DECIDED = "review:item:decided"
    REVIEW_CAMPAIGN_CLOSED = "review:campaign:closed"
    CITIZEN_ACCESS_LOG_READ = "citizen:access_log:read"
    CITIZEN_ACCESS_FLAGGED = "citizen:access:flagged"
    CITIZEN_CHALLENGE_SENT = "citizen:challenge:sent"
    CITIZEN_CHALLENGE_FAILED = "citizen:challenge:failed"
    CITIZEN_SESSION_OPENED = "citizen:session:opened"
    JOURNAL_RETENTION_PURGED = "journal:retention:purged"


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    NOT_FOUND = "not_found"
    THROTTLE = "throttle"
    STEP_UP = "step_up"
    REVOKE = "revoke"
    LOCK = "lock"


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
