"""``SqlPersonErasure``: retention's erasure across the portal's tables, in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, delete, func, select, update

from rempart.db.schema.citizen import CitizenChallengeRow, CitizenFlagRow
from rempart.db.schema.core import (
    AssignmentRow,
    AttendanceRow,
    EnrolmentRow,
    FollowUpNoteRow,
    PersonRow,
)
from rempart.db.schema.incident import IncidentLetterRow
from rempart.db.schema.intake import PersonConfirmationRow
from rempart.db.schema.messages import OfficialMessageRow
from rempart.db.uow import Database, as_database

# Rows about a person, by person id then by ft_id; deleted before the person themself.
_BY_PERSON: tuple[Any, ...] = (
    AttendanceRow,
    FollowUpNoteRow,
    EnrolmentRow,
    AssignmentRow,
    PersonConfirmationRow,
)
_BY_FT_ID: tuple[Any, ...] = (CitizenChallengeRow, CitizenFlagRow, IncidentLetterRow)


class SqlPersonErasure:
    """Implements ``PersonErasure`` on the portal database."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def past(
        self, deregistered_before: dt.date, after_id: int, limit: int
    ) -> list[tuple[int, str]]:
        """Real people deregistered before the day, by id."""
        p = PersonRow
        stmt = (
            select(p.id, p.ft_id)
            .where(
                p.deregistration_date.is_not(None),
                p.deregistration_date < deregistered_before,
                p.is_canary.is_(False),
                p.id > after_id,
            )
            .order_by(p.id)
            .limit(limit)
        )
        with self.db.connect() as conn:
            return [(int(r.id), str(r.ft_id)) for r in conn.execute(stmt)]

    def related(self, person_ids: Sequence[int], ft_ids: Sequence[str]) -> dict[str, int]:
        """Rows about these people, per table."""
        out: dict[str, int] = {"persons": len(person_ids)}
        with self.db.connect() as conn:
            for table in _BY_PERSON:
                out[table.__tablename__] = int(
                    conn.execute(
                        select(func.count()).where(table.person_id.in_(person_ids))
                    ).scalar_one()
                )
            for table in (*_BY_FT_ID, OfficialMessageRow):
                out[table.__tablename__] = int(
                    conn.execute(select(func.count()).where(table.ft_id.in_(ft_ids))).scalar_one()
                )
        return out

    def erase(self, person_ids: Sequence[int], ft_ids: Sequence[str]) -> dict[str, int]:
        """Delete the people and everything about them; anonymise their messages."""
        out: dict[str, int] = {}
        with self.db.begin() as conn:
            for table in _BY_PERSON:
                out[table.__tablename__] = conn.execute(
                    delete(table).where(table.person_id.in_(person_ids))
                ).rowcount
            for table in _BY_FT_ID:
                out[table.__tablename__] = conn.execute(
                    delete(table).where(table.ft_id.in_(ft_ids))
                ).rowcount
            # The reference stays verifiable ("yes, we sent this"); nothing left names anyone.
            out[OfficialMessageRow.__tablename__] = conn.execute(
                update(OfficialMessageRow)
                .where(OfficialMessageRow.ft_id.in_(ft_ids))
                .values(ft_id="", body="", key=None)
            ).rowcount
            out["persons"] = conn.execute(
                delete(PersonRow).where(PersonRow.id.in_(person_ids))
            ).rowcount
        return out
