"""``seed --history-days``: plausible past activity in the journal, from which the guard learns.

Checks the workload model's promises on a real seeded database: reads stay within each agent's
own people, happen on working days in office hours, and the baselines rebuilt from the journal
give every simulated agent a profile.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rempart.bootstrap import build_container
from rempart.guard.service.baselines import rebuild
from rempart.kernel.clock import ManualClock
from rempart.kernel.tags import Tag
from rempart.settings import Settings
from rempart_bench.history import seed_history
from rempart_bench.load import seed

AS_OF = dt.date(2026, 11, 16)


def test_history_is_written_and_baselines_learn_from_it(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/rempart.db"
    _report, creds = seed(db, 2000, 3, AS_OF)
    written = seed_history(db, None, [c.login for c in creds], AS_OF, 14, 3)
    assert written > 1000
    box = build_container(
        Settings(demo=True, db_url=db, jobs_interval_seconds=0),
        clock=ManualClock(dt.datetime.combine(AS_OF, dt.time(0), tzinfo=dt.UTC)),
    )
    try:
        journal = box.portal.journal
        since = dt.datetime.combine(AS_OF - dt.timedelta(days=14), dt.time(0), tzinfo=dt.UTC)
        until = dt.datetime.combine(AS_OF, dt.time(0), tzinfo=dt.UTC)
        entries = journal.activity(since, until, limit=1_000_000)  # type: ignore[attr-defined]
        reads = [s.entry for s in entries if s.entry.tag is Tag.PORTAL_PERSON_READ]
        assert reads
        store = box.portal.store
        grace = dt.date(2026, 5, 16)
        portfolios: dict[str, set[str]] = {}
        for e in reads[:300]:
            if e.agent_login not in portfolios:
                agent = store.agent_by_login(e.agent_login)
                assert agent is not None
                portfolios[e.agent_login] = {
                    r[0] for r in store.portfolio(agent, AS_OF, grace, 0, 100_000)
                }
            assert set(e.persons) <= portfolios[e.agent_login]
            assert e.at.weekday() < 5
            assert 5 <= e.at.hour <= 18
            assert e.network.startswith(("AS:", "NET:"))
            assert e.agent_roles
        baselines = rebuild(journal, store, until, 14, 0.1)  # type: ignore[arg-type]
        readers = {e.agent_login for e in reads}
        assert readers <= set(baselines.agents)
        some = baselines.agents[sorted(readers)[0]]
        assert some.daily_distinct
        assert some.networks
        assert all(day == 0 for day, _hour in some.usual_hours)
    finally:
        box.close()
