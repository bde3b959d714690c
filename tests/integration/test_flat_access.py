"""The bench's "none" mode: the flat access of 2024-2025, in which any account reads anyone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rempart.db.engine import make_engine
from rempart.db.uow import Database
from rempart_bench.flat import FlatAccessStore
from rempart_bench.load import seed

AS_OF = dt.date(2026, 11, 16)
PERSONS = 2000


def test_flat_access_ties_every_agent_to_the_whole_population(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/rempart.db"
    report, creds = seed(db, PERSONS, 3, AS_OF)
    engine = make_engine(db)
    try:
        store = FlatAccessStore(Database(engine))
        agent = store.agent_by_login(creds[0].login)
        assert agent is not None
        everyone = store.portfolio(agent, AS_OF, AS_OF, 0, 10 * PERSONS)
        assert len(everyone) == report.persons
        assert everyone == sorted(everyone, key=lambda r: (r[1], r[2], r[0]))
        relations = store.relations(1, agent)
        assert relations.enrolments[0].org_id == agent.org_id
        assert relations.assignments[0].agent_id == agent.id
    finally:
        engine.dispose()
