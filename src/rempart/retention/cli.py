"""``rempart retention run [--dry-run]``: the retention job once (``serve`` and ``rempart jobs
run`` run it too). Prints the report, in counts: it names nobody."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import typer
from rich.console import Console

from rempart.bootstrap import build_container
from rempart.cli.settings import load_settings
from rempart.retention import service

app = typer.Typer(help="Retention of people's data.", no_args_is_help=True)
console = Console(stderr=True)


@app.command("run")
def run(
    db: str = typer.Option("sqlite:///rempart.db", "--db", help="Portal database URL."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report who is past the rule only."),
    journal: str | None = typer.Option(None, "--journal", help="Journal database URL."),
    config: Path | None = typer.Option(None, "--config", help="File of KEY=value settings."),
) -> None:
    """Erase the people deregistered longer ago than the rule (REMPART_RETENTION_YEARS)."""
    settings = load_settings(db, journal, [], False, config)
    box = build_container(settings)
    try:
        by = settings.operator or f"os:{getpass.getuser()}"
        report = service.run(box.retention, dry_run=dry_run, by=by)
    finally:
        box.close()
    print(json.dumps(report.as_dict(), indent=2))
    verb = "would erase" if dry_run else "erased"
    console.print(
        f"[green]retention[/]: {verb} {report.persons} people deregistered before "
        f"{report.cutoff.isoformat()} (rule: {settings.retention_years} years)"
    )
