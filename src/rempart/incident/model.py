"""Incident response, pure: who was exposed, the article 33 draft, the article 34 letters.

*Exposure* is read from the journal's canonical entries, never from its index copies: a person
is exposed when an entry says their data was *served* (decision ``allow`` on a data-serving
tag, with the categories the answer carried) to the selected accounts, session or
organisation within the window. A refused, denied, throttled or not-found request exposes
nobody; a guard entry (an alert, a step-up) serves nothing by itself, the service's own entry
for the same request does. A list (portfolio, roster, export) exposes every person listed, with
the categories shown there (identity, and training on a training roster).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from rempart.journal.model import FORMAT_VERSION, format_time
from rempart.kernel.categories import DataCategory
from rempart.kernel.errors import InvalidRequest
from rempart.kernel.tags import Decision, Tag

# Tags whose allowed answer carries personal data to the caller. Writes whose answer carries
# nothing about the person (attendance marks, a note just typed) are not among them.
SERVING_TAGS = frozenset(
    {
        str(Tag.PORTAL_PERSON_READ),
        str(Tag.PORTAL_PERSON_LOOKUP),
        str(Tag.PORTAL_PORTFOLIO_LIST),
        str(Tag.PORTAL_SESSION_ROSTER),
        str(Tag.PORTAL_ROSTER_EXPORT),
        str(Tag.PORTAL_ENROLMENT_CREATE),
    }
)
ALLOW = str(Decision.ALLOW)
_ALLOWED = b'"decision":"allow"'
_decode = json.JSONDecoder().decode
CATEGORY_ORDER = tuple(str(c) for c in DataCategory)
SENSITIVE = frozenset({str(DataCategory.NIR), str(DataCategory.DISABILITY)})
NOTIFICATION_DELAY = dt.timedelta(hours=72)  # GDPR art. 33(1)


class SelectorKind(StrEnum):
    ACCOUNTS = "accounts"
    ORG = "org"
    SESSION = "session"
    NETWORK = "network"


@dataclass(frozen=True, slots=True)
class Selector:
    """Whose activity is in doubt: some accounts, an organisation or one session."""

    kind: SelectorKind
    values: tuple[str, ...]

    @classmethod
    def of(
        cls,
        accounts: Iterable[str] = (),
        org_id: str = "",
        session_id: str = "",
        network: str = "",
    ) -> Selector:
        """The one selector given; InvalidRequest when none or several are. ``network`` is an
        address or a CIDR block (IPv4 or IPv6), or the network's name as the journal records
        it (the operator, e.g. ``AS3215/FR``)."""
        logins = tuple(dict.fromkeys(a.strip() for a in accounts if a.strip()))
        given = [k for k, v in ((1, logins), (2, org_id), (3, session_id), (4, network)) if v]
        if len(given) != 1:
            raise InvalidRequest(
                "name accounts, an organisation, a session or a network (exactly one)"
            )
        for value in (*logins, org_id, session_id, network):
            if len(value) > 128 or any(ord(ch) < 32 for ch in value):
                raise InvalidRequest("not an account, organisation, session or network")
        if logins:
            return cls(SelectorKind.ACCOUNTS, logins)
        if org_id:
            return cls(SelectorKind.ORG, (org_id.strip(),))
        if network:
            block = _block(network.strip())
            return cls(SelectorKind.NETWORK, (str(block) if block else network.strip(),))
        return cls(SelectorKind.SESSION, (session_id.strip(),))

    def matches_client(self, address: object, network: object) -> bool:
        """For a network selector: whether an entry's client falls in it."""
        block = _block(self.values[0])
        if block is None:
            return network == self.values[0]
        try:
            return ipaddress.ip_address(str(address)) in block
        except ValueError:
            return False

    def as_json(self) -> dict[str, object]:
        """The selector as a record stores it."""
        return {"kind": str(self.kind), "values": list(self.values)}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Selector:
        """The inverse of ``as_json``."""
        values = data.get("values")
        if not isinstance(values, list):
            raise TypeError("selector without values")
        return cls(SelectorKind(str(data.get("kind"))), tuple(str(v) for v in values))

    def describe(self) -> str:
        """In French, for the documents."""
        if self.kind is SelectorKind.ACCOUNTS:
            return "compte(s) " + ", ".join(self.values)
        if self.kind is SelectorKind.ORG:
            return f"organisation {self.values[0]}"
        if self.kind is SelectorKind.NETWORK:
            return f"réseau {self.values[0]}"
        return f"session {self.values[0]}"


def _block(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """An address or a CIDR block, or None when ``text`` is a network's name."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Window:
    """``[since, until]``; None is unbounded."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.until < self.since:
            raise InvalidRequest("the window ends before it starts")

    def holds(self, at: dt.datetime) -> bool:
        """True when ``at`` is inside the window."""
        return (self.since is None or at >= self.since) and (self.until is None or at <= self.until)

    def as_json(self) -> dict[str, str | None]:
        """The contract's ``window`` object."""
        return {
            "since": format_time(self.since) if self.since else None,
            "until": format_time(self.until) if self.until else None,
        }


@dataclass(slots=True)
class PersonExposure:
    """What left about one person: categories, first and last access, how many accesses."""

    ft_id: str
    categories: set[str]
    first_at: str  # canonical journal times (fixed width: they sort like time)
    last_at: str
    accesses: int = 1
    seqs: list[int] = field(default_factory=list)

    def ordered_categories(self) -> list[str]:
        """The categories in the contract's order."""
        return [c for c in CATEGORY_ORDER if c in self.categories]

    def as_json(self) -> dict[str, object]:
        """One item of the contract's ``persons``."""
        return {
            "ft_id": self.ft_id,
            "categories": self.ordered_categories(),
            "first_at": self.first_at,
            "last_at": self.last_at,
            "accesses": self.accesses,
        }


@dataclass(frozen=True, slots=True)
class Served:
    """One journal entry that served data: to whom, about whom, which categories."""

    seq: int
    at: str
    persons: tuple[str, ...]
    categories: tuple[str, ...]


def served(  # noqa: PLR0911 - one early return per reason an entry serves nothing
    seq: int, body: bytes, selector: Selector, bounds: tuple[str | None, str | None]
) -> Served | None:
    """The data an entry served within the selector and window, or None.

    The entry is read from its canonical (hashed) form and checked against the selector
    again: the index that found it is only a copy.
    """
    # In the canonical form a quote inside a value is always escaped, so this exact byte
    # string appears only as the entry's own decision: an entry without it allowed nothing,
    # and is not worth parsing (a refused, denied or not-found request).
    if _ALLOWED not in body:
        return None
    try:
        d = _decode(body.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return None
    if (
        not isinstance(d, dict)
        or d.get("v") != FORMAT_VERSION
        or d.get("decision") != ALLOW
        or d.get("tag") not in SERVING_TAGS
    ):
        return None
    categories, persons = d.get("categories"), d.get("persons")
    if not categories or not persons:
        return None
    kind = selector.kind
    if kind is SelectorKind.ACCOUNTS:
        if d.get("agent_login") not in selector.values:
            return None
    elif kind is SelectorKind.NETWORK:
        if not selector.matches_client(d.get("client_address"), d.get("network")):
            return None
    elif d.get("org_id" if kind is SelectorKind.ORG else "session_id") != selector.values[0]:
        return None
    at = str(d.get("at"))
    lo, hi = bounds
    # Canonical times are fixed-width UTC text: they compare like the times they spell.
    if (lo is not None and at < lo) or (hi is not None and at > hi):
        return None
    return Served(seq, at, tuple(persons), tuple(c for c in categories if c in CATEGORY_ORDER))


@dataclass(slots=True)
class Exposure:
    """Everyone exposed, built one served entry at a time (no cap, order irrelevant)."""

    window: Window
    persons: dict[str, PersonExposure] = field(default_factory=dict)
    records: int = 0  # person-entries served: the "approximate number of records"
    entries: list[int] = field(default_factory=list)  # the journal entries in scope
    computed_in_seconds: float = 0.0

    def add(self, item: Served) -> None:
        """Count one served entry."""
        self.entries.append(item.seq)
        cats = item.categories
        at = item.at
        for ft_id in item.persons:
            self.records += 1
            p = self.persons.get(ft_id)
            if p is None:
                self.persons[ft_id] = PersonExposure(ft_id, set(cats), at, at, 1, [item.seq])
                continue
            p.categories.update(cats)
            p.accesses += 1
            p.seqs.append(item.seq)
            p.first_at = min(p.first_at, at)
            p.last_at = max(p.last_at, at)

    def by_category(self) -> dict[str, int]:
        """People exposed per category, every category named (zero included)."""
        counts = dict.fromkeys(CATEGORY_ORDER, 0)
        for p in self.persons.values():
            for c in p.categories:
                counts[c] += 1
        return counts

    @property
    def sensitive(self) -> bool:
        """True when a NIR or disability data was served."""
        return any(p.categories & SENSITIVE for p in self.persons.values())

    def set_aside(self, ft_ids: Iterable[str]) -> int:
        """Take these records out of the people counted (canaries: no one to notify) and
        return how many were; their journal entries stay in ``entries``, as evidence."""
        taken = 0
        for ft_id in ft_ids:
            p = self.persons.pop(ft_id, None)
            if p is not None:
                self.records -= p.accesses
                taken += 1
        return taken

    def sorted_persons(self) -> list[PersonExposure]:
        """Everyone exposed, by identifier."""
        return [self.persons[k] for k in sorted(self.persons)]

    @property
    def started_at(self) -> str | None:
        """The first access in scope."""
        return min((p.first_at for p in self.persons.values()), default=None)

    @property
    def ended_at(self) -> str | None:
        """The last access in scope."""
        return max((p.last_at for p in self.persons.values()), default=None)

    def json_chunks(self) -> Iterator[str]:
        """The contract's JSON document, in pieces (a million people never sit in one string)."""
        yield '{"window": ' + json.dumps(self.window.as_json())
        yield ', "total_persons": ' + str(len(self.persons))
        yield ', "persons": ['
        first = True
        for p in self.sorted_persons():
            yield ("" if first else ", ") + json.dumps(p.as_json())
            first = False
        yield '], "by_category": ' + json.dumps(self.by_category())
        yield f', "computed_in_seconds": {round(self.computed_in_seconds, 3)}}}\n'


def exposure_of(rows: Iterable[tuple[int, bytes]], selector: Selector, window: Window) -> Exposure:
    """Everyone the rows show exposed (each entry counted once, whichever index found it)."""
    found = Exposure(window)
    bounds = (window.as_json()["since"], window.as_json()["until"])
    seen: set[int] = set()
    for seq, body in rows:
        if seq in seen:
            continue
        seen.add(seq)
        item = served(seq, body, selector, bounds)
        if item is not None:
            found.add(item)
    found.entries.sort()
    return found


def deadline_of(aware_at: dt.datetime) -> dt.datetime:
    """Article 33: 72 hours after the controller became aware of the breach."""
    return aware_at + NOTIFICATION_DELAY


def time_left(aware_at: dt.datetime, now: dt.datetime) -> dt.timedelta:
    """What is left of the 72 hours (negative once past)."""
    return deadline_of(aware_at) - now


def format_left(left: dt.timedelta) -> str:
    """``41 h 12 min`` or ``dépassé de 3 h 05 min``."""
    minutes = int(abs(left.total_seconds()) // 60)
    text = f"{minutes // 60} h {minutes % 60:02d} min"
    return text if left.total_seconds() >= 0 else f"dépassé de {text}"


# -- incidents as records --------------------------------------------------------------------


class Milestone(StrEnum):
    """The timeline the regulator asks about."""

    DETECTED = "detected"
    AWARE = "aware"
    CONTAINED = "contained"
    NOTIFIED = "notified"
    INFORMED = "informed"  # the people were told (art. 34)


class EventKind(StrEnum):
    TIMELINE = "timeline"
    CONTAINMENT = "containment"
    DOCUMENT = "document"
    NOTIFICATION = "notification"  # a draft of art. 33, initial or complementary
    PERSONS_READ = "persons_read"  # someone read the list of people


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of a notification: what changes calls for a complementary one."""

    persons: int
    records: int
    by_category: dict[str, int]
    sensitive: bool

    @classmethod
    def of(cls, exposure: Exposure) -> Figures:
        """The figures of an exposure."""
        return cls(
            len(exposure.persons), exposure.records, exposure.by_category(), exposure.sensitive
        )

    def as_json(self) -> dict[str, object]:
        """As stored and shown."""
        return {
            "persons": self.persons,
            "records": self.records,
            "by_category": dict(self.by_category),
            "sensitive": self.sensitive,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Figures:
        """The inverse of ``as_json``."""
        cats = data.get("by_category")
        return cls(
            int(str(data.get("persons", 0))),
            int(str(data.get("records", 0))),
            {str(k): int(str(v)) for k, v in cats.items()} if isinstance(cats, dict) else {},
            bool(data.get("sensitive")),
        )


@dataclass(frozen=True, slots=True)
class Incident:
    """A personal data breach being handled: whose activity, when, what was done about it."""

    id: int
    title: str
    opened_at: dt.datetime
    opened_by: str
    selector: Selector
    window: Window
    aware_at: dt.datetime
    alert_id: int = 0
    milestones: dict[str, dt.datetime] = field(default_factory=dict)
    figures: Figures | None = None

    @property
    def deadline(self) -> dt.datetime:
        """Article 33: notify the regulator by then."""
        return deadline_of(self.aware_at)

    def timeline(self) -> list[tuple[str, dt.datetime]]:
        """The milestones reached, in time order (awareness always among them)."""
        points = {**self.milestones, str(Milestone.AWARE): self.aware_at}
        return sorted(points.items(), key=lambda kv: kv[1])


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """One line of an incident's log: a milestone, a containment action, a document, a draft."""

    incident_id: int
    at: dt.datetime
    kind: EventKind
    text: str
    by: str
    details: dict[str, object] = field(default_factory=dict)


def needs_complement(previous: Figures | None, current: Figures) -> bool:
    """True when a notification was drafted already and the figures have changed since."""
    return previous is not None and previous != current


# -- letters (art. 34) ----------------------------------------------------------------------


class LetterState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # handed to the channel; the outcome is not recorded yet
    SENT = "sent"
    PRINTED = "printed"  # no e-mail address: a letter for the post
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class LetterTask:
    """One person to tell, and where that stands."""

    incident_id: int
    ft_id: str
    channel: str  # "email" or "letter"
    state: LetterState = LetterState.PENDING
    reference: str = ""
    attempts: int = 0
    sent_at: dt.datetime | None = None

    @property
    def idempotency_key(self) -> str:
        """The same letter, whatever the number of attempts: at most one message per key."""
        return f"incident:{self.incident_id}:{self.ft_id}"
