"""``rempart jobs run``: the governance jobs once (``serve`` also runs them periodically)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from rempart.bootstrap import build_container
from rempart.cli.settings import load_settings
from rempart.governance.service import lifecycle

app = typer.Typer(help="Scheduled governance jobs.", no_args_is_help=True)
console = Console(stderr=True)


@app.command("run")
def run(
    db: str = typer.Option("sqlite:///rempart.db", "--db", help="Portal database URL."),
    journal: str | None = typer.Option(None, "--journal", help="Journal database URL."),
    config: Path | None = typer.Option(None, "--config", help="File of KEY=value settings."),
) -> None:
    """Expire requests, disable unused accounts and leavers, erase old factors, run reviews."""
    settings = load_settings(db, journal, [], False, config)
    box = build_container(settings)
    try:
        report = lifecycle.run_jobs(box.governance)
    finally:
        box.close()
    print(json.dumps(report.as_dict(), indent=2))
    console.print(
        f"[green]jobs done[/]: {len(report.disabled_inactive)} inactive and "
        f"{len(report.leavers_disabled)} leaver account(s) disabled, "
        f"{report.requests_expired} request(s) expired, {report.campaigns_closed} review(s) closed"
    )
