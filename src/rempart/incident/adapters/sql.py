"""``SqlIncidents`` and ``SqlOutbox``: incidents, their logs and letters in the portal database."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from rempart.db.rows import utc
from rempart.db.schema.incident import IncidentEventRow, IncidentLetterRow, IncidentRow
from rempart.db.uow import Database, as_database
from rempart.incident.model import (
    EventKind,
    Figures,
    Incident,
    IncidentEvent,
    LetterState,
    LetterTask,
    Selector,
    Window,
)

_DONE = (str(LetterState.SENT), str(LetterState.PRINTED))


def _at(value: dt.datetime | None) -> dt.datetime:
    found = utc(value)
    if found is None:
        raise ValueError("a required time is missing")
    return found


def _incident(r: Any) -> Incident:
    milestones = json.loads(r.milestones or "{}")
    return Incident(
        id=int(r.id),
        title=r.title,
        opened_at=_at(r.opened_at),
        opened_by=r.opened_by,
        selector=Selector.from_json(json.loads(r.selector)),
        window=Window(utc(r.since), utc(r.until)),
        aware_at=_at(r.aware_at),
        alert_id=int(r.alert_id or 0),
        milestones={k: dt.datetime.fromisoformat(v) for k, v in milestones.items()},
        figures=Figures.from_json(json.loads(r.figures)) if r.figures else None,
    )


def _values(incident: Incident) -> dict[str, object]:
    return {
        "title": incident.title[:200],
        "opened_at": incident.opened_at,
        "opened_by": incident.opened_by[:80],
        "selector": json.dumps(incident.selector.as_json()),
        "since": incident.window.since,
        "until": incident.window.until,
        "aware_at": incident.aware_at,
        "alert_id": incident.alert_id,
        "milestones": json.dumps({k: v.isoformat() for k, v in incident.milestones.items()}),
        "figures": json.dumps(incident.figures.as_json()) if incident.figures else "",
    }


class SqlIncidents:
    """Implements ``IncidentStore`` in SQL."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def add(self, incident: Incident) -> Incident:
        """Keep a new incident; return it with its id."""
        with self.db.begin() as conn:
            new_id = conn.execute(
                insert(IncidentRow).values(**_values(incident)).returning(IncidentRow.id)
            ).scalar_one()
        return Incident(**{**_as_dict(incident), "id": int(new_id)})

    def get(self, incident_id: int) -> Incident | None:
        """One incident."""
        with self.db.connect() as conn:
            r = conn.execute(
                select(IncidentRow.__table__).where(IncidentRow.id == incident_id)
            ).first()
        return _incident(r) if r is not None else None

    def recent(self, limit: int) -> list[Incident]:
        """The latest incidents, newest first."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(IncidentRow.__table__).order_by(IncidentRow.id.desc()).limit(limit)
            ).all()
        return [_incident(r) for r in rows]

    def update(self, incident: Incident) -> None:
        """Store the incident as it is now."""
        with self.db.begin() as conn:
            conn.execute(
                update(IncidentRow).where(IncidentRow.id == incident.id).values(**_values(incident))
            )

    def add_event(self, event: IncidentEvent) -> None:
        """Append to the incident's log."""
        with self.db.begin() as conn:
            conn.execute(
                insert(IncidentEventRow).values(
                    incident_id=event.incident_id,
                    at=event.at,
                    kind=str(event.kind),
                    text=event.text,
                    by=event.by[:80],
                    details=json.dumps(event.details, default=str),
                )
            )

    def events(self, incident_id: int) -> list[IncidentEvent]:
        """The incident's log, oldest first."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(IncidentEventRow.__table__)
                .where(IncidentEventRow.incident_id == incident_id)
                .order_by(IncidentEventRow.at, IncidentEventRow.id)
            ).all()
        return [
            IncidentEvent(
                incident_id=int(r.incident_id),
                at=_at(r.at),
                kind=EventKind(r.kind),
                text=r.text,
                by=r.by,
                details=json.loads(r.details or "{}"),
            )
            for r in rows
        ]


def _as_dict(incident: Incident) -> dict[str, Any]:
    return {f: getattr(incident, f) for f in Incident.__dataclass_fields__}


class SqlOutbox:
    """Implements ``LetterOutbox`` in SQL: one row per incident and person."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def plan(self, tasks: Sequence[LetterTask]) -> int:
        """Add the tasks not planned yet; return how many were new."""
        if not tasks:
            return 0
        incident_id = tasks[0].incident_id
        with self.db.begin() as conn:
            have = set(
                conn.execute(
                    select(IncidentLetterRow.ft_id).where(
                        IncidentLetterRow.incident_id == incident_id
                    )
                ).scalars()
            )
            rows = [
                {
                    "incident_id": t.incident_id,
                    "ft_id": t.ft_id,
                    "channel": t.channel,
                    "state": str(t.state),
                    "reference": t.reference,
                    "attempts": 0,
                    "sent_at": None,
                }
                for t in tasks
                if t.incident_id == incident_id and t.ft_id not in have
            ]
            for i in range(0, len(rows), 5000):
                conn.execute(insert(IncidentLetterRow), rows[i : i + 5000])
        return len(rows)

    def due(self, incident_id: int, after_ft_id: str, limit: int) -> list[LetterTask]:
        """Letters not yet sent or printed, by person, after ``after_ft_id``."""
        t = IncidentLetterRow
        with self.db.connect() as conn:
            rows = conn.execute(
                select(t.__table__)
                .where(t.incident_id == incident_id, t.ft_id > after_ft_id, t.state.not_in(_DONE))
                .order_by(t.ft_id)
                .limit(limit)
            ).all()
        return [
            LetterTask(
                incident_id=int(r.incident_id),
                ft_id=r.ft_id,
                channel=r.channel,
                state=LetterState(r.state),
                reference=r.reference,
                attempts=int(r.attempts),
                sent_at=utc(r.sent_at),
            )
            for r in rows
        ]

    def mark(
        self, task: LetterTask, state: LetterState, at: dt.datetime, reference: str = ""
    ) -> None:
        """Record where one letter stands (durably, before the caller goes on)."""
        t = IncidentLetterRow
        values: dict[str, object] = {"state": str(state)}
        if state is LetterState.SENDING:
            values["attempts"] = t.attempts + 1
        if state in (LetterState.SENT, LetterState.PRINTED):
            values["sent_at"] = at
        if reference:
            values["reference"] = func.coalesce(func.nullif(t.reference, ""), reference)
        with self.db.begin() as conn:
            conn.execute(
                update(t)
                .where(t.incident_id == task.incident_id, t.ft_id == task.ft_id)
                .values(**values)
            )

    def progress(self, incident_id: int) -> dict[str, int]:
        """Letters per state."""
        t = IncidentLetterRow
        with self.db.connect() as conn:
            rows = conn.execute(
                select(t.state, func.count()).where(t.incident_id == incident_id).group_by(t.state)
            ).all()
        counts = {str(s): int(n) for s, n in rows}
        return {str(s): counts.get(str(s), 0) for s in LetterState}

    def references(self, incident_id: int) -> dict[str, str]:
        """The reference each planned letter carries, by person."""
        t = IncidentLetterRow
        with self.db.connect() as conn:
            rows = conn.execute(
                select(t.ft_id, t.reference).where(t.incident_id == incident_id)
            ).all()
        return {str(f): str(r) for f, r in rows}
