"""``rempart incident``: who was exposed, and the notification, letters and evidence pack.

For the DPO and the security team, on the machine that holds the journal. ``--journal``
defaults to ``journal.db`` beside the portal's SQLite database (``--db``). Every run that reads
a list of people journals that access (who ran it, the selector, a digest of the list).
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from rempart.incident import wiring
from rempart.incident.model import SENSITIVE, Exposure, Selector, Window
from rempart.incident.service.access import list_digest, operator_entry
from rempart.incident.service.exposure import compute_exposure
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


def _selector(accounts: list[str], org: str, session: str) -> Selector:
    try:
        return Selector.of(accounts, org, session)
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
    since: str | None = SinceOpt,
    until: str | None = UntilOpt,
) -> None:
    """Exactly who was exposed: the people whose data was served to the selection."""
    selector = _selector(account, org, session)
    window = _window(since, until)
    with _journal(journal, db) as store:
        found = compute_exposure(store, selector, window)
        journal_exposure_read(store, found, selector, Tag.INCIDENT_EXPOSURE_COMPUTED)
    with json_file.open("w", encoding="utf-8") as f:
        for chunk in found.json_chunks():
            f.write(chunk)
    _summary(found)
    out.print(f"written to {json_file}")
