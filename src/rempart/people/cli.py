"""``rempart canary plant --count N`` and ``rempart canary rotate``: bait in the real register.

Canaries are never shown by a legitimate flow (portfolio, lookup, import, retention, a
person's own page); reading one raises the guard's canary alert. Runs print counts only.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import typer
from rich.console import Console

from rempart.bootstrap import build_container
from rempart.cli.settings import load_settings
from rempart.kernel.errors import InvalidRequest
from rempart.people.service import canaries

app = typer.Typer(help="Canary records in the register.", no_args_is_help=True)
console = Console(stderr=True)

DbOpt = typer.Option("sqlite:///rempart.db", "--db", help="Portal database URL.")
JournalOpt = typer.Option(None, "--journal", help="Journal database URL.")
ConfigOpt = typer.Option(None, "--config", help="File of KEY=value settings.")


@app.command("plant")
def plant(
    count: int = typer.Option(..., "--count", help="How many canaries to plant."),
    db: str = DbOpt,
    journal: str | None = JournalOpt,
    config: Path | None = ConfigOpt,
) -> None:
    """Plant N canary records (plausible people nobody follows)."""
    settings = load_settings(db, journal, [], False, config)
    box = build_container(settings)
    try:
        total = canaries.plant(
            box.canaries, count, by=settings.operator or f"os:{getpass.getuser()}"
        )
    except InvalidRequest as exc:
        console.print(f"[red]refused[/]: {exc.detail}")
        raise typer.Exit(2) from None
    finally:
        box.close()
    console.print(f"[green]{count} canaries planted[/]; the register now holds {total}")


@app.command("rotate")
def rotate(
    db: str = DbOpt, journal: str | None = JournalOpt, config: Path | None = ConfigOpt
) -> None:
    """Give every canary a new identity (a leaked list is then worth nothing)."""
    settings = load_settings(db, journal, [], False, config)
    box = build_container(settings)
    try:
        done = canaries.rotate(box.canaries, by=settings.operator or f"os:{getpass.getuser()}")
    finally:
        box.close()
    console.print(f"[green]{done} canaries rotated[/]")
