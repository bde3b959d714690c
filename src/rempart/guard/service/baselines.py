"""Rebuilding the guard's baselines from the journal: the last 30 days of real activity."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

from rempart.guard.baselines import Baselines, PastAccess, build_baselines
from rempart.journal.ports import AgentActivity
from rempart.kernel.ports import Directory
from rempart.kernel.tags import Decision, Tag

log = logging.getLogger("rempart.guard")

# Consultations that expose people; sign-in events only teach networks and browsers.
_ACCESS_TAGS = frozenset(
    {
        Tag.PORTAL_PERSON_READ,
        Tag.PORTAL_PERSON_LOOKUP,
        Tag.PORTAL_PORTFOLIO_LIST,
        Tag.PORTAL_SESSION_ROSTER,
        Tag.PORTAL_ROSTER_EXPORT,
        Tag.AUTH_SESSION_OPENED,
    }
)
PAGE = 50_000


def country_of(network: str) -> str:
    """The country a network name carries (``AS:Orange/FR`` -> ``FR``), if any."""
    head, _, tail = network.rpartition("/")
    return tail if head.startswith("AS:") and len(tail) == 2 and tail.isalpha() else ""


def peer_group(org_kind: str, roles: tuple[str, ...] | list[str]) -> str:
    """The peer group of an agent: their organisation's kind and their roles."""
    return f"{org_kind}/{'+'.join(sorted(roles))}"


def past_accesses(
    journal: AgentActivity, portal: Directory, since: dt.datetime, until: dt.datetime
) -> Iterator[PastAccess]:
    """Allowed consultations in ``[since, until)`` read back from the journal."""
    kinds: dict[str, str] = {}
    offset = 0
    while True:
        page = journal.activity(since, until, offset=offset, limit=PAGE)
        for stored in page:
            e = stored.entry
            if e.tag not in _ACCESS_TAGS or e.decision is not Decision.ALLOW or not e.agent_login:
                continue
            if e.org_id not in kinds:
                org = portal.organisation(e.org_id)
                kinds[e.org_id] = str(org.kind) if org else ""
            yield PastAccess(
                at=e.at,
                login=e.agent_login,
                org_id=e.org_id,
                peer_group=peer_group(kinds[e.org_id], e.agent_roles),
                persons=e.persons if e.tag is not Tag.AUTH_SESSION_OPENED else (),
                network=e.network,
                country=country_of(e.network),
                user_agent=e.user_agent,
            )
        if len(page) < PAGE:
            return
        offset += PAGE


def rebuild(
    journal: AgentActivity, portal: Directory, now: dt.datetime, days: int, share: float
) -> Baselines:
    """Baselines of the last ``days`` days."""
    since = now - dt.timedelta(days=days)
    org_app: dict[str, str] = {}

    def with_apps() -> Iterator[PastAccess]:
        for access in past_accesses(journal, portal, since, now):
            if access.org_id not in org_app:
                org = portal.organisation(access.org_id)
                org_app[access.org_id] = str(org.app) if org else ""
            yield access

    # build_baselines reads org_app lazily through the dict it is handed.
    baselines = build_baselines(with_apps(), org_app, share)
    log.info("guard baselines rebuilt: %d agents, %d days", len(baselines.agents), days)
    return baselines
