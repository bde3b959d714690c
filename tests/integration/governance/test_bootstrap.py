"""The first national administrators of a production database, and four eyes after them.

On PostgreSQL, as in production: ``rempart admin bootstrap`` creates exactly two national
administrators (refused once one exists), each enrolling through a one-time link; after that
a third national role is granted only when a *second* administrator approves. ASVS V8.2.1,
V8.3.1 (least privilege, four eyes on privilege), V6.4.1 (one-time enrolment links).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from typer.testing import CliRunner

from rempart.bootstrap import Container, build_container
from rempart.cli.main import app as cli
from rempart.db.migrate import upgrade
from rempart.governance.service import enrolment, privileges
from rempart.intake.service import run_import
from rempart.intake.wiring import build_intake, csv_directory
from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.wiring import new_journal_key
from rempart.kernel.actors import Role
from rempart.kernel.clock import ManualClock
from rempart.kernel.context import ClientInfo
from rempart.kernel.identifiers import make_siret
from rempart.kernel.tags import Tag
from rempart.mail.adapters.memory import MemoryMailer
from rempart.settings import Settings
from tests.support.governance import alerts_of, client_as, token_from

SECRET = "a-production-secret-for-this-test-only-0123456789"
CLIENT = ClientInfo(address="192.0.2.50", user_agent="pytest", network="AS-TEST")


@pytest.fixture
def prod(
    fresh_postgres_url: str, clock: ManualClock, journal: MemoryJournal, tmp_path: Path
) -> Iterator[Container]:
    """A production (not demo) portal on PostgreSQL holding only the agency's organisations."""
    upgrade(fresh_postgres_url)
    settings = Settings(
        demo=False,
        db_url=fresh_postgres_url,
        secret_key=SECRET,  # type: ignore[arg-type]
        public_url="https://rempart.test",
        argon2_memory_kib=19456,
        argon2_time_cost=1,
    )
    box = build_container(settings, clock=clock, journal=journal)
    agency = tmp_path / "agency"
    agency.mkdir()
    (agency / "organisations.csv").write_text(
        "id,kind,name,siret,region\n"
        f"AG-NAT,agency,Direction générale,{make_siret('1300000000001')},National\n"
        f"ML-NORD,mission_locale,Mission Locale Nord,{make_siret('1300000000002')},Nord\n",
        encoding="utf-8",
    )
    summary = run_import(
        build_intake(box.engine, box.governance),
        csv_directory(agency),
        ran_by="os:installer",
        source=str(agency),
    )
    assert summary.exit_code() == 0
    yield box
    box.close()


def enrol(box: Container, login: str, clock: ManualClock) -> None:
    mailer = box.mailer
    assert isinstance(mailer, MemoryMailer)
    token = token_from([m for m in mailer.outbox if m.to == f"{login}@agency.example"][-1].body)
    secret = enrolment.begin(box.governance, token)["totp_secret"]
    code = pyotp.TOTP(secret).at(clock.now())
    enrolment.complete(box.governance, token, "correct horse battery staple 77", code, CLIENT)


@pytest.mark.postgres
def test_bootstrap_then_a_third_national_role_needs_a_second_administrator(
    prod: Container, clock: ManualClock, journal: MemoryJournal
) -> None:
    admins = [("nat.one", "nat.one@agency.example"), ("nat.two", "nat.two@agency.example")]
    sent = privileges.bootstrap_admins(prod.governance, "AG-NAT", admins, ran_by="os:installer")
    assert sent == [("nat.one", True), ("nat.two", True)]
    for login, _ in admins:
        agent = prod.portal.store.agent_by_login(login)
        assert agent is not None
        assert agent.roles == frozenset({Role.ADMIN})
        assert prod.governance.standings.standing(agent.id).enrolment_pending
    assert alerts_of(prod, "national_admins_bootstrapped")
    assert [e.tag for e in journal.entries].count(Tag.ADMIN_BOOTSTRAP_CREATED) == 2

    # Once one exists, the bootstrap is refused (and that is journaled and alerted).
    with pytest.raises(privileges.BootstrapRefused):
        privileges.bootstrap_admins(
            prod.governance,
            "AG-NAT",
            [("nat.x", "x@agency.example"), ("nat.y", "y@agency.example")],
            ran_by="os:intruder",
        )
    assert prod.portal.store.agent_by_login("nat.x") is None
    assert alerts_of(prod, "privilege_request_refused")[-1].evidence["ran_by"] == "os:intruder"

    enrol(prod, "nat.one", clock)
    enrol(prod, "nat.two", clock)
    # The bootstrapped administrators approve from day one: they are the root of trust.

    one, two = client_as(prod, "nat.one", clock), client_as(prod, "nat.two", clock)
    asked = one.post(
        "/api/v1/accounts",
        json={"login": "nat.dpo", "email": "nat.dpo@agency.example", "roles": ["dpo"]},
    )
    assert asked.status_code == 202, asked.text
    request_id = asked.json()["request_id"]
    # Not yet: the national role waits for a second administrator.
    assert prod.portal.store.agent_by_login("nat.dpo") is None
    assert alerts_of(prod, "account_requested")[-1].severity == "high"
    # The requester cannot approve their own request.
    mine = one.post(f"/api/v1/accounts/requests/{request_id}/approve")
    assert mine.status_code == 403
    assert prod.portal.store.agent_by_login("nat.dpo") is None
    # A partner's account manager could not even ask.
    approved = two.post(f"/api/v1/accounts/requests/{request_id}/approve")
    assert approved.status_code == 200, approved.text
    third = prod.portal.store.agent_by_login("nat.dpo")
    assert third is not None
    assert third.roles == frozenset({Role.DPO})
    assert prod.governance.standings.standing(third.id).enrolment_pending
    created = alerts_of(prod, "account_created")[-1]
    assert created.severity == "high"
    assert created.evidence["approved_by"] == "nat.two"


@pytest.mark.postgres
def test_the_command_refuses_a_second_bootstrap(
    prod: Container, fresh_postgres_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {
        "REMPART_SECRET_KEY": SECRET,
        "REMPART_JOURNAL_SIGNING_KEY": new_journal_key()[0],
        "REMPART_ARGON2_MEMORY_KIB": "19456",
    }
    journal = f"sqlite:///{tmp_path}/journal.db"
    args = [
        "admin",
        "bootstrap",
        "--db",
        fresh_postgres_url,
        "--journal",
        journal,
        "--org",
        "AG-NAT",
    ]
    first = runner.invoke(
        cli,
        [*args, "--admin", "a.one:a.one@agency.example", "--admin", "a.two:a.two@agency.example"],
        env=env,
    )
    assert first.exit_code == 0, first.output
    again = runner.invoke(
        cli,
        [*args, "--admin", "b.one:b.one@agency.example", "--admin", "b.two:b.two@agency.example"],
        env=env,
    )
    assert again.exit_code == 1
    assert "already exists" in again.output
