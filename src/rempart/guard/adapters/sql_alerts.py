"""``SqlAlertStore``: alerts kept in the portal database for the console and the API."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Engine, func, insert, select

from rempart.db.rows import utc
from rempart.db.schema.core import AlertRow
from rempart.db.uow import Database, as_database
from rempart.guard.alerts import Alert, Severity


class SqlAlertStore:
    """Implements ``AlertSink`` in SQL."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def raise_alert(self, alert: Alert) -> int:
        """Store the alert; return its id."""
        with self.db.begin() as conn:
            res = conn.execute(
                insert(AlertRow).values(
                    at=alert.at,
                    rule=alert.rule,
                    severity=str(alert.severity),
                    agent_login=alert.agent_login,
                    org_id=alert.org_id,
                    session_id=alert.session_id,
                    action_taken=alert.action_taken,
                    explanation=alert.explanation,
                    evidence=json.dumps(alert.evidence, sort_keys=True, default=str),
                )
            )
            return int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0

    def counts_by_rule(self) -> dict[str, int]:
        """Alerts per rule."""
        with self.db.connect() as conn:
            rows = conn.execute(select(AlertRow.rule, func.count()).group_by(AlertRow.rule)).all()
        return {str(r[0]): int(r[1]) for r in rows}

    def alerts_since(self, since: dt.datetime | None, limit: int) -> list[Alert]:
        """Alerts newest first."""
        stmt = select(AlertRow.__table__).order_by(AlertRow.at.desc(), AlertRow.id.desc())
        if since is not None:
            stmt = stmt.where(AlertRow.at >= since)
        with self.db.connect() as conn:
            rows = conn.execute(stmt.limit(limit)).all()
        return [
            Alert(
                id=r.id,
                at=utc(r.at),
                rule=r.rule,
                severity=Severity(r.severity),
                agent_login=r.agent_login,
                org_id=r.org_id,
                session_id=r.session_id,
                action_taken=r.action_taken,
                explanation=r.explanation,
                evidence=json.loads(r.evidence),
            )
            for r in rows
        ]
