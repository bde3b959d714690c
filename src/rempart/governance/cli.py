"""``rempart jobs run``: the governance jobs once (``serve`` also runs them periodically)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import typer
from rich.console import Console

from rempart.bootstrap import build_container
from rempart.cli.settings import load_settings
from rempart.governance.service import lifecycle, privileges

app = typer.Typer(help="Scheduled governance jobs.", no_args_is_help=True)
console = Console(stderr=True)


@app.command("run")
def run(
    db: str = typer.Option("sqlite:///rempart.db", "--db", help="Portal database URL."),
    journal: str | None = typer.Option(None, "--journal", help="Journal database URL."),
    config: Path | None = typer.Option(None, "--config", help="File of KEY=value settings."),
) -> None:
    """Expire requests, disable unused accounts and leavers, erase old factors, run reviews,
    erase the people past the retention rule."""
    settings = load_settings(db, journal, [], False, config)
    box = build_container(settings)
    try:
        report = lifecycle.run_jobs(box.governance)
        others = box.run_jobs_once()  # retention
    finally:
        box.close()
    print(json.dumps({**report.as_dict(), **others}, indent=2))
    console.print(
        f"[green]jobs done[/]: {len(report.disabled_inactive)} inactive and "
        f"{len(report.leavers_disabled)} leaver account(s) disabled, "
        f"{report.requests_expired} request(s) expired, {report.campaigns_closed} review(s) closed"
    )


admin_app = typer.Typer(help="National administration.", no_args_is_help=True)


@admin_app.command("bootstrap")
def bootstrap(
    org: str = typer.Option(..., "--org", help="The agency organisation's id (imported first)."),
    admin: list[str] = typer.Option(
        ..., "--admin", help="LOGIN:EMAIL of one of the two first national administrators."
    ),
    db: str = typer.Option("sqlite:///rempart.db", "--db", help="Portal database URL."),
    journal: str | None = typer.Option(None, "--journal", help="Journal database URL."),
    config: Path | None = typer.Option(None, "--config", help="File of KEY=value settings."),
) -> None:
    """Create the first two national administrators, each with a one-time enrolment link.

    Refused once any national administrator exists: national roles are then granted only
    through four eyes among national administrators."""
    pairs = []
    for value in admin:
        login, sep, email = value.partition(":")
        if not sep:
            raise typer.BadParameter(f"{value!r}: expected LOGIN:EMAIL")
        pairs.append((login.strip(), email.strip()))
    settings = load_settings(db, journal, [], False, config)
    box = build_container(settings)
    try:
        ran_by = settings.operator or f"os:{getpass.getuser()}"
        try:
            sent = privileges.bootstrap_admins(box.governance, org, pairs, ran_by=ran_by)
        except privileges.BootstrapRefused as exc:
            console.print(f"[red]refused[/]: {exc}")
            raise typer.Exit(1) from None
    finally:
        box.close()
    for login, delivered in sent:
        state = "enrolment link mailed" if delivered else "[red]mail failed[/]: resend the link"
        console.print(f"[green]{login}[/]: national administrator created; {state}")
