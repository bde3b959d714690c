"""Retention: a person past the rule is erased everywhere in the portal, and their "who
consulted my file" page then says nothing more is on file.

GDPR art. 5(1)(e) (storage limitation); ASVS V14.2.7 (sensitive data kept only as long as
needed, then deleted), V16.3.3 (the job is journaled, in counts only).
"""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from sqlalchemy import func, insert, select, update

from rempart.bootstrap import Container
from rempart.db.schema.citizen import CitizenChallengeRow
from rempart.db.schema.core import AssignmentRow, EnrolmentRow, FollowUpNoteRow, PersonRow
from rempart.kernel.clock import ManualClock
from rempart.retention import service as retention
from rempart.retention.model import CEILING_YEARS, RetentionRule
from tests.factories import World
from tests.functional.test_citizen_api import (  # the same portal, SMTP server and person
    ACCESSES,
    CHALLENGE,
    Inbox,
    app,  # noqa: F401 - fixture
    box,  # noqa: F401 - fixture
    inbox,  # noqa: F401 - fixture
    person_client,
    sign_in_person,
    world,  # noqa: F401 - fixture
)
from tests.support.signin import client_for, give_credentials, sign_in


def rows_about(portal: Container, person_id: int, ft_id: str) -> dict[str, int]:
    with portal.engine.connect() as conn:
        out = {
            t.__tablename__: int(
                conn.execute(select(func.count()).where(t.person_id == person_id)).scalar_one()
            )
            for t in (EnrolmentRow, AssignmentRow, FollowUpNoteRow)
        }
        out["persons"] = int(
            conn.execute(select(func.count()).where(PersonRow.ft_id == ft_id)).scalar_one()
        )
        out["citizen_challenges"] = int(
            conn.execute(
                select(func.count()).where(CitizenChallengeRow.ft_id == ft_id)
            ).scalar_one()
        )
    return out


def test_a_person_past_the_rule_is_erased_and_their_page_says_nothing_is_on_file(
    app: FastAPI,  # noqa: F811
    box: Container,  # noqa: F811
    world: World,  # noqa: F811
    inbox: Inbox,  # noqa: F811
    clock: ManualClock,
) -> None:
    trainee = world.persons["trainee"]
    today = clock.now().date()
    years = box.retention.rule.years_after_deregistration
    gone = today - dt.timedelta(days=366 * years + 30)
    with box.engine.begin() as conn:
        conn.execute(
            update(PersonRow)
            .where(PersonRow.id == trainee.id)
            .values(registration_status="deregistered", deregistration_date=gone)
        )
        conn.execute(
            insert(FollowUpNoteRow).values(
                person_id=trainee.id,
                org_id=world.orgs["Formations Dupont"],
                author_login="tm.dupont",
                written_at=clock.now(),
                text="Très assidu.",
            )
        )
    # A partner reads the file; the person signs in and sees that access.
    reader = client_for(app, address="198.51.100.7")
    sign_in(reader, give_credentials(box.engine, "tm.dupont"), clock)
    assert reader.get(f"/api/v1/persons/{trainee.ft_id}").status_code == 200
    person = person_client(app)
    sign_in_person(person, inbox, trainee.ft_id, trainee.birth_date, trainee.email)
    before = person.get(ACCESSES).json()
    assert before["nothing_on_file"] is False
    assert before["items"]
    held = rows_about(box, trainee.id, trainee.ft_id)
    assert all(held[t] > 0 for t in ("persons", "enrolments", "follow_up_notes"))
    assert held["citizen_challenges"] > 0

    # The dry run first: it counts, names nobody, erases nothing.
    review = retention.run(box.retention, dry_run=True)
    assert review.persons == 1
    assert review.rows["enrolments"] == 1
    assert review.rows["follow_up_notes"] == 1
    assert rows_about(box, trainee.id, trainee.ft_id)["persons"] == 1

    # The job (as `rempart jobs run` and `serve` run it) erases the person everywhere.
    report = box.run_jobs_once()["retention"]
    assert report["persons"] == 1  # type: ignore[index]
    assert set(rows_about(box, trainee.id, trainee.ft_id).values()) == {0}
    assert box.portal.store.person_by_ft_id(trainee.ft_id) is None
    # Everyone else is still there (nobody else is past the rule).
    assert box.portal.store.person_by_ft_id(world.persons["youth"].ft_id) is not None
    # The partner now gets what any unknown person gets.
    assert reader.get(f"/api/v1/persons/{trainee.ft_id}").status_code == 404

    # The person's page says there is nothing more on file.
    after = person.get(ACCESSES)
    assert after.status_code == 200
    assert after.json() == {"items": [], "next_page": None, "nothing_on_file": True}
    # And they can no longer get a code (the same answer as anyone else's).
    mails = len(inbox.messages)
    r = person_client(app, "203.0.113.77").post(
        CHALLENGE, json={"ft_id": trainee.ft_id, "birth_date": trainee.birth_date.isoformat()}
    )
    assert r.status_code == 202
    assert len(inbox.messages) == mails


def test_the_rule_is_bounded_by_its_legal_ceiling() -> None:
    """Code du travail R. 5312-44: twenty years at most after registration ends."""
    assert RetentionRule(CEILING_YEARS).cutoff(dt.date(2026, 6, 1)) == dt.date(2006, 6, 1)
    for years in (0, CEILING_YEARS + 1):
        try:
            RetentionRule(years)
        except ValueError:
            continue
        raise AssertionError(f"{years} years accepted")
    assert RetentionRule(2).cutoff(dt.date(2028, 2, 29)) == dt.date(2026, 2, 28)
