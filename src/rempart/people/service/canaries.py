"""Planting and rotating canary records in the real register (``rempart canary``).

The journal records each run with its count only: the canaries' ft_ids are a secret of the
detection (whoever reads the journal or the SIEM must not learn which records are bait).
Rotation gives every canary a whole new identity, so that a list of canaries that leaked, or
was worked out, is worth nothing afterwards.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from rempart.journal.model import JournalEntry
from rempart.journal.ports import JournalWriter
from rempart.kernel.errors import InvalidRequest
from rempart.kernel.ports import Clock, Transactions
from rempart.kernel.tags import Decision, Tag
from rempart.people.canaries import CanaryIdentity, identity
from rempart.people.ports import CanaryRecords

MAX_PLANT = 10_000
_TRIES = 50  # draws of a free ft_id before giving up (the space holds 230 million)


@dataclass(frozen=True, slots=True)
class CanaryDeps:
    canaries: CanaryRecords
    transactions: Transactions
    journal: JournalWriter
    clock: Clock
    mail_domain: str


def _fresh(deps: CanaryDeps, rng: secrets.SystemRandom) -> CanaryIdentity:
    today = deps.clock.now().date()
    for _ in range(_TRIES):
        candidate = identity(rng, today, deps.mail_domain)
        if not deps.canaries.ft_id_taken(candidate.ft_id):
            return candidate
    raise InvalidRequest("no free ft_id found for a canary")


def _journal(deps: CanaryDeps, tag: Tag, by: str, count: int) -> None:
    total = len(deps.canaries.canary_ids())
    deps.journal.append(
        [
            JournalEntry(
                at=deps.clock.now(),
                tag=tag,
                decision=Decision.ALLOW,
                agent_login=by,
                details={"count": count, "canaries_in_register": total},
            )
        ]
    )


def plant(deps: CanaryDeps, count: int, *, by: str) -> int:
    """Plant ``count`` new canaries; return how many the register now holds."""
    if not 1 <= count <= MAX_PLANT:
        raise InvalidRequest(f"plant 1 to {MAX_PLANT} canaries at a time")
    rng = secrets.SystemRandom()
    with deps.transactions.unit_of_work():
        for _ in range(count):
            deps.canaries.plant_canary(_fresh(deps, rng))
        _journal(deps, Tag.PEOPLE_CANARY_PLANTED, by, count)
    return len(deps.canaries.canary_ids())


def rotate(deps: CanaryDeps, *, by: str) -> int:
    """Give every canary a new identity; return how many were rotated."""
    rng = secrets.SystemRandom()
    with deps.transactions.unit_of_work():
        ids = deps.canaries.canary_ids()
        for canary_id in ids:
            deps.canaries.rekey_canary(canary_id, _fresh(deps, rng))
        _journal(deps, Tag.PEOPLE_CANARY_ROTATED, by, len(ids))
    return len(ids)
