"""``rempart import`` on SQLite and PostgreSQL: good rows in, every bad row named, idempotent.

ASVS V2.2.1 (input validated against expected structure: formats, checksums, real dates, known
references), V2.2.3 (combined data consistent: references, date orders), V8.2.1 (privilege
never by import alone: four eyes), V6.4.1 (imported accounts enrol through a one-time link),
V16.3.3 (every import journaled).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import func, insert, select, update
from typer.testing import CliRunner

from rempart.bootstrap import Container, build_container
from rempart.cli.main import app as cli
from rempart.db.engine import make_engine
from rempart.db.migrate import write_meta
from rempart.db.schema.core import AgentRow, AssignmentRow, EnrolmentRow, PersonRow
from rempart.governance.service import enrolment, privileges
from rempart.intake.model import ImportFile
from rempart.intake.service import run_import
from rempart.intake.wiring import build_intake, csv_directory
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.actors import Role
from rempart.kernel.clock import ManualClock
from rempart.kernel.context import ClientInfo
from rempart.kernel.tags import Tag
from rempart.mail.adapters.memory import MemoryMailer
from rempart.settings import Settings
from tests.support.governance import client_as, token_from
from tests.support.intake import (
    CE_ASSIGNED,
    ML_ASSIGNED,
    AgencyFiles,
    agency_files,
    drop_assignments,
    person_row,
)

CLIENT = ClientInfo(address="192.0.2.40", user_agent="pytest", network="AS-TEST")


@pytest.fixture
def box(db_url: str, clock: ManualClock, journal: MemoryJournal) -> Iterator[Container]:
    container = build_container(
        Settings(demo=True, db_url=db_url, public_url="https://rempart.test"),
        clock=clock,
        journal=journal,
    )
    yield container
    container.close()


def load(box: Container, files: AgencyFiles, *, dry_run: bool = False) -> tuple[object, list]:
    rejected: list = []
    summary = run_import(
        build_intake(box.engine, box.governance),
        csv_directory(files.directory),
        ran_by="os:test",
        source=str(files.directory),
        dry_run=dry_run,
        reject=rejected.append,
    )
    return summary, rejected


def count(box: Container, table: type) -> int:
    with box.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def enrol(box: Container, login: str, clock: ManualClock) -> None:
    """Follow the mailed one-time link as the person would."""
    mailer = box.mailer
    assert isinstance(mailer, MemoryMailer)
    body = [m for m in mailer.outbox if m.to == f"{login}@example.fr"][-1].body
    token = token_from(body)
    secret = enrolment.begin(box.governance, token)["totp_secret"]
    code = pyotp.TOTP(secret).at(clock.now())
    enrolment.complete(box.governance, token, "a long enough passphrase 42", code, CLIENT)


def test_good_rows_load_bad_rows_are_named_and_a_second_run_changes_nothing(
    box: Container, tmp_path: Path, clock: ManualClock, journal: MemoryJournal
) -> None:
    files = agency_files(tmp_path / "agency", today=clock.now().date())
    summary, rejected = load(box, files)

    # Every bad row, and only those, is named with its file, line and the column at fault.
    named = {(r.file, r.line): r.reason for r in rejected}
    assert set(named) == set(files.bad)
    for where, column in files.bad.items():
        assert column in named[where], (where, named[where])
    assert summary.exit_code() == 1
    # Every good row is in.
    for file, good in files.good.items():
        counts = summary.files[file]
        assert counts.read - counts.rejected == good, file
        assert counts.inserted == good, file
    assert count(box, PersonRow) == files.good["persons.csv"]
    assert count(box, AssignmentRow) == files.good["assignments.csv"]

    # Privilege never by import alone: the two privileged rows form one request.
    rgc = box.portal.store.agent_by_login("rgc.ml")
    sec = box.portal.store.agent_by_login("sec.national")
    assert rgc is not None
    assert sec is not None
    assert [str(r) for r in rgc.roles] == ["advisor"]
    assert sec.roles == frozenset()
    assert summary.privilege_request is not None
    batch = box.governance.batches.batch(summary.privilege_request)
    assert batch is not None
    assert batch.requested_by == "os:test"
    items = {
        i.login: sorted(str(r) for r in i.roles) for i in box.governance.batches.items_of(batch.id)
    }
    assert items == {"rgc.ml": ["account_manager"], "sec.national": ["security_officer"]}
    # Every new account got its one-time link, and must enrol before anything else.
    assert summary.enrolment_links == files.good["agents.csv"]
    assert box.governance.standings.standing(rgc.id).enrolment_pending
    tags = [e.tag for e in journal.entries]
    assert tags.count(Tag.INTAKE_IMPORT_LOADED) == 1
    loaded = next(e for e in journal.entries if e.tag is Tag.INTAKE_IMPORT_LOADED)
    assert loaded.agent_login == "os:test"
    assert loaded.details["files"]["persons.csv"]["inserted"] == files.good["persons.csv"]
    assert loaded.persons == ()  # counts only: the journal of an import names nobody

    # Second run: nothing changes, nothing is asked again, nobody is mailed again.
    mails = len(box.mailer.outbox)  # type: ignore[attr-defined]
    again, rejected_again = load(box, files)
    assert {(r.file, r.line) for r in rejected_again} == set(files.bad)
    for file, counts in again.files.items():
        assert (counts.inserted, counts.updated, counts.ended) == (0, 0, 0), file
        assert counts.unchanged == files.good[file], file
    assert again.privilege_request is None
    assert len(box.mailer.outbox) == mails  # type: ignore[attr-defined]
    assert len(box.governance.batches.batches()) == 1


def test_the_imported_adviser_sees_exactly_the_people_assigned_to_them(
    box: Container, tmp_path: Path, clock: ManualClock
) -> None:
    files = agency_files(tmp_path / "agency", today=clock.now().date())
    load(box, files)
    enrol(box, "adv.ml", clock)
    enrol(box, "adv.ce", clock)
    # Through the API, as the adviser: one page holds their whole portfolio.
    r = client_as(box, "adv.ml", clock, fresh=False).get("/api/v1/portfolio?page=1&size=100")
    assert r.status_code == 200, r.text
    assert {item["ft_id"] for item in r.json()["items"]} == files.ml_people
    assert r.json()["next_page"] is None
    # A new account's exposure budget is small: the larger portfolio through the scope query.
    agent = box.portal.store.agent_by_login("adv.ce")
    assert agent is not None
    everyone = {
        row[0]
        for row in box.portal.store.portfolio(
            agent, clock.now().date(), clock.now().date(), 0, 10_000
        )
    }
    assert everyone == files.ce_people
    assert len(everyone) == CE_ASSIGNED
    assert len(files.ml_people) == ML_ASSIGNED
    # A record outside the portfolio is answered as absent.
    outsider = sorted(files.ce_people)[0]
    r = client_as(box, "adv.ml", clock).get(f"/api/v1/persons/{outsider}")
    assert r.status_code == 404


def test_rows_removed_upstream_end_the_relation_and_delete_nothing(
    box: Container, tmp_path: Path, clock: ManualClock
) -> None:
    files = agency_files(tmp_path / "agency", today=clock.now().date())
    load(box, files)
    gone = sorted(files.ml_people)[:3]
    drop_assignments(files, {("adv.ml", ft) for ft in gone})
    summary, _ = load(box, files)
    assert summary.files["assignments.csv"].ended == 3
    assert count(box, AssignmentRow) == files.good["assignments.csv"]  # nothing deleted
    agent = box.portal.store.agent_by_login("adv.ml")
    assert agent is not None
    today = clock.now().date()
    left = {r[0] for r in box.portal.store.portfolio(agent, today, today, 0, 100)}
    assert left == files.ml_people - set(gone)  # scope follows at once
    with box.engine.connect() as conn:
        ends = conn.execute(
            select(AssignmentRow.end_date)
            .join(PersonRow, PersonRow.id == AssignmentRow.person_id)
            .where(PersonRow.ft_id.in_(gone))
        ).scalars()
        assert set(ends) == {today - dt.timedelta(days=1)}
    # Once ended, a further run changes nothing.
    third, _ = load(box, files)
    assert third.files["assignments.csv"].ended == 0


def test_a_dry_run_counts_everything_and_writes_nothing(
    box: Container, tmp_path: Path, clock: ManualClock, journal: MemoryJournal
) -> None:
    files = agency_files(tmp_path / "agency", today=clock.now().date())
    summary, rejected = load(box, files, dry_run=True)
    assert {(r.file, r.line) for r in rejected} == set(files.bad)
    assert summary.files["persons.csv"].inserted == files.good["persons.csv"]
    assert count(box, PersonRow) == 0
    assert count(box, AgentRow) == 0
    assert count(box, EnrolmentRow) == 0
    assert box.mailer.outbox == []  # type: ignore[attr-defined]
    assert box.governance.batches.batches() == []
    assert [e.tag for e in journal.entries] == [Tag.INTAKE_IMPORT_DRY_RUN]


def test_the_command_exits_0_1_2_and_writes_the_report(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contract's command line: exit 0 all loaded, 1 some rejected, 2 nothing readable."""

    engine = make_engine(db_url)
    write_meta(engine, "demo", "true")
    engine.dispose()
    journal_url = f"sqlite:///{tmp_path}/journal.db"
    files = agency_files(tmp_path / "agency", today=dt.datetime.now(dt.UTC).date())
    report = tmp_path / "report.json"
    runner = CliRunner()
    args = ["import", "--db", db_url, "--journal", journal_url, str(files.directory)]
    result = runner.invoke(cli, [*args, "--report", str(report)])
    assert result.exit_code == 1, result.output
    written = json.loads(report.read_text(encoding="utf-8"))
    assert {(r["file"], r["line"]) for r in written["rejected"]} == set(files.bad)
    assert written["summary"]["files"]["persons.csv"]["inserted"] == files.good["persons.csv"]

    good = tmp_path / "good"
    good.mkdir()
    rows = files.rows_of(ImportFile.ORGANISATIONS)
    (good / "organisations.csv").write_text(
        "\n".join(",".join(r) for r in rows[:5]) + "\n", encoding="utf-8"
    )
    assert (
        runner.invoke(
            cli, ["import", "--db", db_url, "--journal", journal_url, str(good)]
        ).exit_code
        == 0
    )

    empty = tmp_path / "empty"
    empty.mkdir()
    assert runner.invoke(cli, ["import", "--db", db_url, str(empty)]).exit_code == 2
    (empty / "persons.csv").write_text("not,the,header\n1,2,3\n", encoding="utf-8")
    assert (
        runner.invoke(
            cli, ["import", "--db", db_url, "--journal", journal_url, str(empty)]
        ).exit_code
        == 2
    )


def test_a_canary_never_becomes_a_reference_and_yields_its_ft_id(
    box: Container, tmp_path: Path, clock: ManualClock
) -> None:
    """A canary whose ft_id the agency gives a real person moves aside; it is nobody's
    reference, and neither the import's counts nor its report ever mention it."""

    files = agency_files(tmp_path / "agency", today=clock.now().date())
    canary_ft = person_row(1)["ft_id"]
    with box.engine.begin() as conn:
        conn.execute(
            insert(PersonRow).values(
                ft_id=canary_ft,
                kind="job_seeker",
                nir="",
                last_name="Canari",
                first_name="X",
                birth_date=dt.date(1990, 1, 1),
                email="",
                phone="",
                address_line="",
                postcode="",
                city="",
                registration_status="registered",
                registration_date=dt.date(2020, 1, 1),
                last_activity_date=dt.date(2020, 1, 1),
                is_canary=True,
            )
        )
    summary, rejected = load(box, files)
    assert {(r.file, r.line) for r in rejected} == set(files.bad)
    assert summary.files["persons.csv"].inserted == files.good["persons.csv"]
    person = box.portal.store.person_by_ft_id(canary_ft)
    assert person is not None
    assert not person.is_canary
    assert person.last_name == "Nom1"
    with box.engine.connect() as conn:
        canaries = conn.execute(select(PersonRow.ft_id).where(PersonRow.is_canary)).scalars().all()
    assert len(canaries) == 1
    assert canaries[0] != canary_ft


def test_the_privileged_rows_take_effect_when_a_national_administrator_approves(
    box: Container, tmp_path: Path, clock: ManualClock
) -> None:
    """V8.2.1: the import alone grants no privileged role; a national administrator does."""
    files = agency_files(tmp_path / "agency", today=clock.now().date())
    summary, _ = load(box, files)
    assert summary.privilege_request is not None
    sent = privileges.bootstrap_admins(
        box.governance,
        "AG-75",
        [("nat.one", "nat.one@example.fr"), ("nat.two", "nat.two@example.fr")],
        ran_by="os:test",
    )
    assert [delivered for _, delivered in sent] == [True, True]
    enrol(box, "nat.one", clock)
    enrol(box, "adv.ml", clock)
    url = f"/api/v1/imports/privileges/{summary.privilege_request}/approve"
    assert client_as(box, "adv.ml", clock).post(url).status_code == 403
    listed = client_as(box, "nat.one", clock).get("/api/v1/imports/privileges")
    assert listed.status_code == 200
    assert listed.json()["items"][0]["status"] == "pending_approval"
    r = client_as(box, "nat.one", clock).post(url)
    assert r.status_code == 200, r.text
    assert {g["login"] for g in r.json()["granted"]} == {"rgc.ml", "sec.national"}
    rgc = box.portal.store.agent_by_login("rgc.ml")
    assert rgc is not None
    assert rgc.roles == frozenset({Role.ADVISOR, Role.ACCOUNT_MANAGER})
    assert client_as(box, "nat.one", clock).post(url).status_code == 409  # decided once
    # The next run keeps the granted roles and asks for nothing.
    again, _ = load(box, files)
    assert again.privilege_request is None
    rgc = box.portal.store.agent_by_login("rgc.ml")
    assert rgc is not None
    assert Role.ACCOUNT_MANAGER in rgc.roles


def test_an_enrolment_the_agency_lists_becomes_confirmed(
    box: Container, tmp_path: Path, clock: ManualClock
) -> None:
    """An enrolment made from an exact lookup waits for the person's code or the agency's
    prescription: the import is that prescription."""
    files = agency_files(tmp_path / "agency", today=clock.now().date())
    load(box, files)
    with box.engine.begin() as conn:
        conn.execute(update(EnrolmentRow).values(confirmed=False))
    summary, _ = load(box, files)
    assert summary.files["enrolments.csv"].updated == files.good["enrolments.csv"]
    with box.engine.connect() as conn:
        assert set(conn.execute(select(EnrolmentRow.confirmed)).scalars()) == {True}
    again, _ = load(box, files)
    assert again.files["enrolments.csv"].updated == 0
