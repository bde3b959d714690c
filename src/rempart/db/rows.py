"""Rows to models for what several capabilities read: agents, and UTC times.

SQLite hands datetimes back naive; everything Rempart stores is UTC, so readers attach the zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, overload

from rempart.kernel.actors import Agent, Organisation, OrgKind, Role


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


def agent_from_mapping(m: Mapping[Any, Any], prefix: str = "") -> Agent:
    """Domain agent from a result mapping whose agent columns are named ``prefix + column``
    and which carries the organisation's kind as ``prefix + "org_kind"``."""
    return Agent(
        id=m[prefix + "id"],
        login=m[prefix + "login"],
        email=m[prefix + "email"],
        org_id=m[prefix + "org_id"],
        org_kind=OrgKind(m[prefix + "org_kind"]),
        roles=frozenset(Role(r) for r in m[prefix + "roles"].split() if r),
        active=bool(m[prefix + "active"]),
        created_at=utc(m[prefix + "created_at"]),
        end_date=m[prefix + "end_date"],
        training_valid_until=m[prefix + "training_valid_until"],
        probation_until=utc(m[prefix + "probation_until"]),
    )


def organisation_from_mapping(m: Mapping[Any, Any], prefix: str = "") -> Organisation:
    """Domain organisation from a result mapping whose columns are named ``prefix + column``."""
    return Organisation(
        m[prefix + "id"],
        OrgKind(m[prefix + "kind"]),
        m[prefix + "name"],
        m[prefix + "siret"],
        m[prefix + "region"],
    )
