"""The lifecycle jobs on the portal database: each step is one unit of work, so a failure in
the middle of a step undoes that step whole and leaves the steps before it done.

ASVS V8.3.1: an account is never left half disabled (off, yet with its requests and links
alive, or the reverse) by a failure in the middle of the job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from rempart.bootstrap import Container, build_container
from rempart.db.schema.core import AgentRow
from rempart.governance.adapters.sql import SqlEnrolmentTokenStore
from rempart.governance.model import RequestStatus
from rempart.governance.service import accounts, lifecycle
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.settings import Settings
from tests.conftest import context_for
from tests.factories import NOW, World, standard_world


@pytest.fixture
def box(db_url: str) -> Iterator[Container]:
    c = build_container(
        Settings(demo=True, db_url=db_url), clock=ManualClock(NOW), journal=MemoryJournal()
    )
    yield c
    c.close()


@pytest.fixture
def world(box: Container) -> World:
    w = standard_world(box.engine)
    with box.engine.begin() as c:  # everyone busy but the two accounts the test lets lapse
        c.execute(update(AgentRow).values(last_used_at=NOW))
        c.execute(
            update(AgentRow)
            .where(AgentRow.login.in_(["am.dupont", "tm.dupont"]))
            .values(last_used_at=NOW - dt.timedelta(days=100))
        )
    return w


def test_a_failing_step_is_undone_whole_and_the_steps_before_it_stay_done(
    box: Container, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    gov = box.governance
    assert gov is not None
    ctx = context_for(box, "am.dupont", ManualClock(NOW - dt.timedelta(hours=1)), fresh=True)
    request_id = accounts.request_account(
        gov, ctx, "new.tm", "new.tm@example.fr", ["training_manager"]
    )["request_id"]
    real = SqlEnrolmentTokenStore.revoke_enrolment_tokens

    def fails_for_tm(self: SqlEnrolmentTokenStore, agent_id: int, at: dt.datetime) -> int:
        if agent_id == world.agents["tm.dupont"]:
            raise RuntimeError("the database went away mid-step")
        return real(self, agent_id, at)

    monkeypatch.setattr(SqlEnrolmentTokenStore, "revoke_enrolment_tokens", fails_for_tm)
    with pytest.raises(RuntimeError):
        lifecycle.run_jobs(gov, NOW)
    # am.dupont's step (by login, first) committed: off, its pending request cancelled.
    am = box.portal.store.agent_by_login("am.dupont")
    assert am is not None
    assert not am.active
    assert gov.standings.standing(am.id).disabled_reason == "inactive"
    request = gov.requests.request(request_id)
    assert request is not None
    assert request.status is RequestStatus.CANCELLED
    # tm.dupont's step failed after switching the account off: nothing of it is left.
    tm = box.portal.store.agent_by_login("tm.dupont")
    assert tm is not None
    assert tm.active
    assert gov.standings.standing(tm.id).disabled_reason == ""

    monkeypatch.undo()
    report = lifecycle.run_jobs(gov, NOW)  # the next run finishes the work
    assert report.disabled_inactive == ["tm.dupont"]
