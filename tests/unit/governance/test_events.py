"""Journal entries and alerts for governance: the same shape for a person and for a job."""

from __future__ import annotations

from rempart.governance.model import GovernanceAlert
from rempart.governance.service.events import SYSTEM, alert, record
from rempart.guard.alerts import Severity
from rempart.kernel.tags import Decision, Tag
from tests.factories import NOW
from tests.unit.governance.conftest import ML, Unit


def test_a_person_s_step_is_journaled_with_their_session_and_the_account_concerned(
    unit: Unit,
) -> None:
    """ASVS V16.3.3: who, when, from where, on which account."""
    subject = unit.people.agent_by_login("ml.adv1")
    record(
        unit.gov,
        unit.ctx("am.ml"),
        Tag.ACCOUNT_END_DATE_SET,
        Decision.ALLOW,
        subject=subject,
        details={"k": 1},
    )
    (entry,) = unit.journal.entries
    assert (entry.agent_login, entry.session_id, entry.client_address) == (
        "am.ml",
        "s-am.ml",
        "192.0.2.10",
    )
    assert entry.details == {"k": 1, "account": "ml.adv1", "account_org_id": unit.orgs[ML]}


def test_a_job_s_step_is_journaled_as_the_system_at_its_own_time(unit: Unit) -> None:
    subject = unit.people.agent_by_login("ml.adv1")
    record(
        unit.gov,
        None,
        Tag.LIFECYCLE_AGENT_DISABLED,
        Decision.REVOKE,
        subject=subject,
        reason="inactive",
    )
    record(unit.gov, None, Tag.REVIEW_CAMPAIGN_CLOSED, Decision.ALLOW, at=NOW.replace(hour=3))
    first, second = unit.journal.entries
    assert (first.agent_login, first.org_id, first.at, first.reason) == (
        SYSTEM,
        unit.orgs[ML],
        NOW,
        "inactive",
    )
    assert (second.org_id, second.at) == ("", NOW.replace(hour=3))


def test_alerts_carry_the_actor_or_the_system(unit: Unit) -> None:
    first = alert(
        unit.gov,
        unit.ctx("am.ml"),
        GovernanceAlert.ACCOUNT_REQUESTED,
        Severity.MEDIUM,
        "x",
        evidence={"a": 1},
    )
    second = alert(
        unit.gov,
        None,
        GovernanceAlert.ACCOUNTS_DISABLED,
        Severity.INFO,
        "y",
        org_id="ORG",
        action_taken="accounts_disabled",
    )
    assert (first, second) == (1, 2)
    by_person, by_job = unit.alerts.items
    assert (by_person.agent_login, by_person.org_id, by_person.session_id, by_person.evidence) == (
        "am.ml",
        unit.orgs[ML],
        "s-am.ml",
        {"a": 1},
    )
    assert (by_job.agent_login, by_job.org_id, by_job.session_id, by_job.at) == (
        SYSTEM,
        "ORG",
        "",
        NOW,
    )
    assert by_job.action_taken == "accounts_disabled"
