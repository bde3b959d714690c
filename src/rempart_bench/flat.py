"""The bench's "none" mode: a flat-access policy, as in 2024 and 2025, when an account could
read anyone. It exists only inside the bench, to measure what the scope policy saves."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from rempart.db.schema.core import PersonRow
from rempart.kernel.actors import Agent
from rempart.people.adapters.sql import SqlPortalStore
from rempart.people.model import Assignment, Enrolment, Relations


class FlatAccessStore(SqlPortalStore):
    """A portal store in which every agent is tied to every person (bench only)."""

    def relations(self, person_id: int, agent: Agent) -> Relations:
        """Every person looks enrolled with the agent's body and assigned to the agent."""
        return Relations(
            enrolments=(
                Enrolment(0, 0, person_id, agent.org_id, dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
            ),
            assignments=(
                Assignment(0, agent.id, person_id, agent.org_id, dt.date(2000, 1, 1), None),
            ),
        )

    def portfolio(
        self, agent: Agent, today: dt.date, grace_from: dt.date, offset: int, limit: int
    ) -> list[tuple[str, str, str]]:
        """The whole population."""
        p = PersonRow
        stmt = (
            select(p.ft_id, p.last_name, p.first_name)
            .order_by(p.last_name, p.first_name, p.ft_id)
            .offset(offset)
            .limit(limit)
        )
        with self.db.connect() as conn:
            return [(r.ft_id, r.last_name, r.first_name) for r in conn.execute(stmt)]
