"""Rows to models for what several capabilities read: agents, and UTC times.

SQLite hands datetimes back naive; everything Rempart stores is UTC, so readers attach the zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, overload

from rempart.kernel.actors import Agent, OrgKind, Role


@overload
def utc(value: dt.datetime) -> dt.datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: dt.datetime | None) -> dt.datetime | None:
    """``value`` as an aware UTC datetime (None stays None)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def agent_from_row(row: Any, org_kind: str) -> Agent:
    """Domain agent from an ``agents`` row (an ORM object or anything with its attributes)."""
    return Agent(
        id=row.id,
        login=row.login,
        email=row.email,
        org_id=row.org_id,
        org_kind=OrgKind(org_kind),
        roles=frozenset(Role(r) for r in row.roles.split() if r),
        active=row.active,
        created_at=utc(row.created_at),
        end_date=row.end_date,
        training_valid_until=row.training_valid_until,
        probation_until=utc(row.probation_until),
    )
