"""The journal in the Elastic Common Schema: one ECS event per person an entry concerns.

A SIEM counts what it can see as separate events: a portfolio page that lists forty people is
forty events here (``rempart.person.ft_id`` one each, ``rempart.persons.count`` forty), so
"distinct people per agent per window" is a plain distinct count in any SIEM. An entry that
concerns nobody (a sign-in, an account request) is one event without a person.

``FIELDS`` documents every field the export writes; ``docs/siem.md`` renders it, and a test
holds the mapping and the table to the same set of fields. Standard ECS fields keep their ECS
meaning; everything that is Rempart's own sits under ``rempart.``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rempart.journal.model import StoredEntry, format_time

ECS_VERSION = "8.11.0"
DATASET = "rempart.journal"

# Keys of a guard entry's ``details`` that become their own fields (the rest is evidence).
_GUARD_KEYS = ("rule", "action", "explanation", "severity")
_REQUEST_KEYS = ("request", "found")

# ECS event.category by the tag's source (the first word of ``source:subject:action``).
_CATEGORY = {
    "auth": ["authentication", "session"],
    "portal": ["web"],
    "guard": ["intrusion_detection"],
    "account": ["iam"],
    "admin": ["iam", "configuration"],
    "lifecycle": ["iam"],
    "review": ["iam"],
    "citizen": ["web"],
    "journal": ["database"],
}

# ECS event.severity (a number) for the guard's severities.
SEVERITY_NUMBER = {"info": 1, "low": 21, "medium": 47, "high": 73, "critical": 99}


@dataclass(frozen=True, slots=True)
class Field:
    """One exported field: its name, its type in the index, and what it holds."""

    name: str
    type: str
    description: str
    ecs: bool = True  # a standard ECS field (else Rempart's own, under ``rempart.``)


FIELDS: tuple[Field, ...] = (
    Field("@timestamp", "date", "When the decision was taken (RFC 3339, UTC, microseconds)."),
    Field("ecs.version", "keyword", f"The ECS version the mapping follows ({ECS_VERSION})."),
    Field("message", "text", "One line for humans: what, decision, who."),
    Field("event.id", "keyword", "Unique per event: the journal sequence, then `-N` per person."),
    Field("event.sequence", "long", "The journal entry's sequence number."),
    Field("event.kind", "keyword", "`alert` for the guard's own entries, `event` otherwise."),
    Field("event.category", "keyword[]", "From the tag's source: authentication, web, iam…"),
    Field("event.type", "keyword[]", "`allowed` or `denied`, plus `access`, `change`, `info`…"),
    Field("event.action", "keyword", "The journal tag, `source:subject:action`."),
    Field("event.outcome", "keyword", "`success` when the decision is allow, else `failure`."),
    Field("event.reason", "keyword", "The entry's reason (guard entries: the rule id)."),
    Field("event.severity", "long", "Guard entries: low 21, medium 47, high 73, critical 99."),
    Field("event.dataset", "keyword", f"Always `{DATASET}`."),
    Field("event.module", "keyword", "Always `rempart`."),
    Field("event.provider", "keyword", "Always `rempart`."),
    Field("user.name", "keyword", "The agent's login (absent for a person's own actions)."),
    Field("user.roles", "keyword[]", "The roles the agent held at the time."),
    Field("organization.id", "keyword", "The agent's organisation."),
    Field("source.ip", "ip", "The client address (behind a trusted proxy: the forwarded one)."),
    Field("user_agent.original", "keyword", "The browser's User-Agent."),
    Field("related.user", "keyword[]", "The agent's login, for pivoting."),
    Field("related.ip", "ip[]", "The client address, for pivoting."),
    Field("rempart.journal.seq", "long", "The journal entry's sequence number.", ecs=False),
    Field("rempart.decision", "keyword", "allow, deny, not_found, throttle, step_up…", ecs=False),
    Field("rempart.reason", "keyword", "Why: relation, `unknown`, the guard's rule…", ecs=False),
    Field("rempart.purpose", "keyword", "The purpose declared for a consultation.", ecs=False),
    Field(
        "rempart.session.id", "keyword", "The session (an opaque id, never a cookie).", ecs=False
    ),
    Field("rempart.network", "keyword", "The client's network (AS/country or /24).", ecs=False),
    Field("rempart.person.ft_id", "keyword", "The person concerned (one per event).", ecs=False),
    Field("rempart.persons.count", "long", "People the entry concerns in all.", ecs=False),
    Field("rempart.persons.index", "long", "This event's place among them, from 1.", ecs=False),
    Field("rempart.data.categories", "keyword[]", "Data categories served.", ecs=False),
    Field(
        "rempart.request.kind", "keyword", "Guard entries: read, lookup, list, export.", ecs=False
    ),
    Field(
        "rempart.request.found",
        "boolean",
        "Guard entries: the person asked exists in scope.",
        ecs=False,
    ),
    Field("rempart.guard.rule", "keyword", "The rule that made the guard's decision.", ecs=False),
    Field(
        "rempart.guard.action", "keyword", "What the guard did: step_up, revoke_session…", ecs=False
    ),
    Field("rempart.guard.severity", "keyword", "low, medium, high, critical.", ecs=False),
    Field("rempart.guard.explanation", "text", "The decision in one sentence.", ecs=False),
    Field(
        "rempart.guard.evidence", "flattened", "Observed values, thresholds, baseline.", ecs=False
    ),
    Field("rempart.details", "flattened", "Other recorded details (page, size, rows…).", ecs=False),
    Field("rempart.time.hour", "long", "Hour of the day, UTC (0–23).", ecs=False),
    Field(
        "rempart.time.weekday", "long", "ISO day of the week, UTC (1 Monday – 7 Sunday).", ecs=False
    ),
)


def _event_type(tag: str, allowed: bool) -> list[str]:
    subject_action = tag.split(":", 1)[1] if ":" in tag else tag
    kinds = ["allowed" if allowed else "denied"]
    if subject_action.endswith((":read", ":list", ":lookup", ":export", ":roster")):
        kinds.append("access")
    elif subject_action.endswith((":created", ":create", ":write", ":granted", ":added")):
        kinds.append("creation" if "create" in subject_action else "change")
    elif subject_action.endswith((":revoked", ":removed", ":disabled", ":erased")):
        kinds.append("deletion" if "erased" in subject_action else "change")
    else:
        kinds.append("info")
    return kinds


def _put(target: dict[str, Any], key: str, value: object) -> None:
    if value not in ("", None, (), []):
        target[key] = value


def _guard_parts(
    reason: str, recorded: dict[str, object]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A guard entry's details split into the decision, the request, and the evidence."""
    details = dict(recorded)
    guard = {key: details.pop(key) for key in _GUARD_KEYS if key in details}
    request = {
        "kind" if key == "request" else key: details.pop(key)
        for key in _REQUEST_KEYS
        if key in details
    }
    if details:
        guard["evidence"] = details
    guard.setdefault("rule", reason)
    return guard, request, {}


def _event(stored: StoredEntry, guard: dict[str, Any]) -> dict[str, Any]:
    e = stored.entry
    tag, decision = str(e.tag), str(e.decision)
    source = tag.split(":", 1)[0]
    allowed = decision == "allow"
    event: dict[str, Any] = {
        "kind": "alert" if source == "guard" else "event",
        "category": list(_CATEGORY.get(source, ["web"])),
        "type": _event_type(tag, allowed),
        "action": tag,
        "outcome": "success" if allowed else "failure",
        "sequence": stored.seq,
        "dataset": DATASET,
        "module": "rempart",
        "provider": "rempart",
    }
    _put(event, "reason", e.reason)
    severity = str(guard.get("severity", ""))
    if severity in SEVERITY_NUMBER:
        event["severity"] = SEVERITY_NUMBER[severity]
    return event


def _rempart(
    stored: StoredEntry,
    guard: dict[str, Any],
    request: dict[str, Any],
    details: dict[str, Any],
) -> dict[str, Any]:
    e = stored.entry
    when = e.at.astimezone(dt.UTC)
    out: dict[str, Any] = {
        "journal": {"seq": stored.seq},
        "decision": str(e.decision),
        "time": {"hour": when.hour, "weekday": when.isoweekday()},
    }
    _put(out, "reason", e.reason)
    _put(out, "purpose", e.purpose)
    _put(out, "network", e.network)
    if e.session_id:
        out["session"] = {"id": e.session_id}
    if e.categories:
        out["data"] = {"categories": list(e.categories)}
    for key, block in (("request", request), ("guard", guard), ("details", details)):
        if block:
            out[key] = block
    return out


def _who(stored: StoredEntry) -> dict[str, Any]:
    e = stored.entry
    out: dict[str, Any] = {}
    if e.agent_login:
        out["user"] = {"name": e.agent_login}
        if e.agent_roles:
            out["user"]["roles"] = list(e.agent_roles)
    if e.org_id:
        out["organization"] = {"id": e.org_id}
    if e.client_address:
        out["source"] = {"ip": e.client_address}
    if e.user_agent:
        out["user_agent"] = {"original": e.user_agent}
    related = {
        key: [value] for key, value in (("user", e.agent_login), ("ip", e.client_address)) if value
    }
    if related:
        out["related"] = related
    return out


def ecs_events(stored: StoredEntry) -> Iterator[dict[str, Any]]:
    """The ECS events of one journal entry: one per person it concerns (one if it concerns
    nobody). Empty fields are left out rather than written empty."""
    e = stored.entry
    tag, decision = str(e.tag), str(e.decision)
    if tag.startswith("guard:"):
        guard, request, details = _guard_parts(e.reason, e.details)
    else:
        guard, request, details = {}, {}, dict(e.details)
    event = _event(stored, guard)
    rempart = _rempart(stored, guard, request, details)
    base: dict[str, Any] = {
        "@timestamp": format_time(e.at),
        "ecs": {"version": ECS_VERSION},
        "message": f"{tag} {decision}" + (f" by {e.agent_login}" if e.agent_login else ""),
        **_who(stored),
    }
    persons = sorted(set(e.persons))
    if not persons:
        yield {**base, "event": {**event, "id": str(stored.seq)}, "rempart": rempart}
        return
    for i, ft_id in enumerate(persons, start=1):
        yield {
            **base,
            "event": {**event, "id": f"{stored.seq}-{i}" if len(persons) > 1 else str(stored.seq)},
            "rempart": {
                **rempart,
                "person": {"ft_id": ft_id},
                "persons": {"count": len(persons), "index": i},
            },
        }


def flatten(event: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """An event's leaves by dotted name (``user.name``), as most SIEMs index them."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out
