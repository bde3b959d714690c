"""``rempart incident``: who was exposed, and the notification, letters and evidence pack.

For the DPO and the security team, on the machine that holds the journal. ``--journal``
defaults to ``journal.db`` beside the portal's SQLite database (``--db``). Every run that reads
a list of people journals that access (who ran it, the selector, a digest of the list).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from rempart.cli.settings import load_settings
from rempart.incident import wiring
from rempart.incident.model import SENSITIVE, Exposure, Selector, Window, format_left
from rempart.incident.service.access import list_digest, operator_entry
from rempart.incident.service.exposure import compute_exposure
from rempart.incident.service.letters import SendDeps, send_letters
from rempart.incident.service.report import ReportDeps, find_or_open, write_report
from rempart.kernel.clock import SystemClock
from rempart.kernel.errors import RempartError
from rempart.kernel.tags import Tag
from rempart.settings import Settings

if TYPE_CHECKING:  # a type only: the wiring picks and opens the implementation
    from rempart.journal.adapters.sql import SqlJournalStore

app = typer.Typer(
    help="Incident response: exposure, GDPR notification, letters, evidence.",
    no_args_is_help=True,
)
err = Console(stderr=True)
out = Console(highlight=False)

DbOpt = typer.Option("sqlite:///rempart.db", "--db", help="Portal database URL.")
JournalOpt = typer.Option(
    None, "--journal", help="Journal database URL (default: journal.db beside --db)."
)
AccountOpt = typer.Option([], "--account", help="An account in doubt (repeat for several).")
OrgOpt = typer.Option("", "--org", help="An organisation in doubt (every account of it).")
SessionOpt = typer.Option("", "--session", help="One session in doubt.")
NetworkOpt = typer.Option(
    "", "--network", help="A network in doubt: an address, a CIDR block or the operator's name."
)
SinceOpt = typer.Option(None, "--since", help="RFC 3339 start (absent: unbounded).")
UntilOpt = typer.Option(None, "--until", help="RFC 3339 end, inclusive (absent: unbounded).")


def _time(text: str | None, name: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an RFC 3339 time", param_hint=name) from None
    if value.tzinfo is None:
        raise typer.BadParameter("an RFC 3339 time carries its offset", param_hint=name)
    return value.astimezone(dt.UTC)


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _journal_url(journal: str | None, db: str) -> str:
    return Settings.model_construct(db_url=db, journal_url=journal or "").effective_journal_url()


@contextmanager
def _journal(journal: str | None, db: str) -> Iterator[SqlJournalStore]:
    try:
        store = wiring.open_journal(
            _journal_url(journal, db), os.environ.get("REMPART_JOURNAL_SIGNING_KEY") or None
        )
    except RempartError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from None
    try:
        yield store
    except RempartError as exc:
        err.print(f"[red]{exc.detail or exc.code}[/]")
        raise typer.Exit(1) from None
    finally:
        store.close()


def _selector(accounts: list[str], org: str, session: str, network: str = "") -> Selector:
    try:
        return Selector.of(accounts, org, session, network)
    except RempartError as exc:
        raise typer.BadParameter(exc.detail) from None


def _window(since: str | None, until: str | None) -> Window:
    try:
        return Window(_time(since, "--since"), _time(until, "--until"))
    except RempartError as exc:
        raise typer.BadParameter(exc.detail) from None


def _summary(found: Exposure) -> None:
    counts = found.by_category()
    out.print(
        f"{len(found.persons)} people exposed ({found.records} records, "
        f"{len(found.entries)} journal entries) in {found.computed_in_seconds:.2f} s"
    )
    out.print("  " + ", ".join(f"{c}: {n}" for c, n in counts.items() if n))
    sensitive = {c: counts[c] for c in sorted(SENSITIVE) if counts[c]}
    if sensitive:
        out.print(
            "  [bold red]SENSITIVE DATA SERVED[/]: "
            + ", ".join(f"{c} for {n} people" for c, n in sensitive.items())
        )


def journal_exposure_read(
    store: SqlJournalStore, found: Exposure, selector: Selector, tag: Tag
) -> None:
    """Record that the operator read this list of people."""
    store.append(
        [
            operator_entry(
                dt.datetime.now(dt.UTC),
                _operator(),
                tag,
                details={
                    "selector": selector.as_json(),
                    "window": found.window.as_json(),
                    "persons": len(found.persons),
                    "persons_sha256": list_digest(found.persons),
                },
            )
        ]
    )


@app.command()
def exposure(
    json_file: Path = typer.Option(..., "--json", help="Where to write the exposure (JSON)."),
    db: str = DbOpt,
    journal: str | None = JournalOpt,
    account: list[str] = AccountOpt,
    org: str = OrgOpt,
    session: str = SessionOpt,
    network: str = NetworkOpt,
    since: str | None = SinceOpt,
    until: str | None = UntilOpt,
) -> None:
    """Exactly who was exposed: the people whose data was served to the selection."""
    selector = _selector(account, org, session, network)
    window = _window(since, until)
    with _journal(journal, db) as store:
        found = compute_exposure(store, selector, window)
        journal_exposure_read(store, found, selector, Tag.INCIDENT_EXPOSURE_COMPUTED)
    with json_file.open("w", encoding="utf-8") as f:
        for chunk in found.json_chunks():
            f.write(chunk)
    _summary(found)
    out.print(f"written to {json_file}")


AwareOpt = typer.Option(..., "--aware-at", help="RFC 3339 time the controller became aware.")


@app.command()
def report(
    out_dir: Path = typer.Option(..., "--out", help="Directory to write the report into."),
    aware_at: str = AwareOpt,
    db: str = DbOpt,
    journal: str | None = JournalOpt,
    account: list[str] = AccountOpt,
    org: str = OrgOpt,
    network: str = NetworkOpt,
    since: str | None = SinceOpt,
    until: str | None = UntilOpt,
    config: Path | None = typer.Option(None, "--config", help="KEY=value settings file."),
) -> None:
    """The art. 33 draft, one art. 34 letter per exposed person, and the evidence pack.

    Opens the incident (or takes up the one open for the same selection and awareness);
    run again, it drafts a complementary notification when the figures have changed.
    """
    selector = _selector(account, org, "", network)
    window = _window(since, until)
    aware = _time(aware_at, "--aware-at")
    assert aware is not None  # a required option
    settings = load_settings(db, journal, [], False, config)
    key = os.environ.get("REMPART_JOURNAL_SIGNING_KEY") or None
    operator = _operator()
    with ExitStack() as resources, _journal(journal or settings.journal_url or None, db) as store:
        records = wiring.open_records(settings, resources)
        now = dt.datetime.now(dt.UTC)
        deps = ReportDeps(
            journal=store,
            people=records.people,
            incidents=records.incidents,
            outbox=records.outbox,
            contacts=wiring.contacts(settings),
            can_sign=bool(key) or store.demo_private_key() is not None,
        )
        incident = find_or_open(
            records.incidents, selector, window, aware, by=f"cli:{operator}", now=now
        )
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("letters", total=None)
            result = write_report(
                deps,
                incident,
                out_dir,
                now=now,
                by=f"cli:{operator}",
                progress=lambda n: bar.update(task, completed=n),
            )
        journal_exposure_read(store, result.exposure, selector, Tag.INCIDENT_REPORT_WRITTEN)
    _summary(result.exposure)
    out.print(
        f"incident {result.incident.id}: {result.draft['kind']} notification draft, "
        f"deadline {result.draft['deadline']} ({format_left(result.incident.deadline - now)} left)"
    )
    out.print(f"{result.letters} letters, evidence pack of {result.manifest['entries']} entries")
    out.print(f"written to {out_dir}")


@app.command()
def send(
    incident_id: int = typer.Option(..., "--incident", min=1, help="The incident's number."),
    db: str = DbOpt,
    journal: str | None = JournalOpt,
    report_file: Path | None = typer.Option(None, "--report", help="Delivery report (JSON)."),
    print_dir: Path = typer.Option(
        Path("letters-printed"), "--print-dir", help="Where the letters for the post go."
    ),
    config: Path | None = typer.Option(None, "--config", help="KEY=value settings file."),
) -> None:
    """Send the letters planned by ``report`` as official messages (mail, or printed for the
    post); resumable: run it again after any stop, nobody gets a letter twice."""
    settings = load_settings(db, journal, [], False, config)
    operator = f"cli:{_operator()}"
    with ExitStack() as resources, _journal(journal or settings.journal_url or None, db) as store:
        records = wiring.open_records(settings, resources)
        if not settings.smtp_host:
            err.print("[red]no SMTP server: set REMPART_SMTP_HOST and REMPART_SMTP_PORT[/]")
            raise typer.Exit(2)
        channel = wiring.letter_channel(settings, records, resources, print_dir=str(print_dir))
        incident = records.incidents.get(incident_id)
        if incident is None:
            err.print(f"[red]no incident {incident_id}[/]")
            raise typer.Exit(2)
        found = compute_exposure(store, incident.selector, incident.window)
        journal_exposure_read(store, found, incident.selector, Tag.INCIDENT_PERSONS_READ)
        deps = SendDeps(
            records.outbox, channel, records.people, store, SystemClock(), wiring.contacts(settings)
        )
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
        ) as bar:
            task = bar.add_task("letters sent", total=None)
            delivery = send_letters(
                deps,
                incident,
                found,
                by=operator,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    doc = delivery.as_json()
    if report_file is not None:
        report_file.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    out.print(json.dumps(doc["this_run"]) + " " + json.dumps(doc["totals"]))
    if delivery.failed:
        raise typer.Exit(1)
