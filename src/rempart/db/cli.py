"""``rempart db``: migrations of the portal database."""

from __future__ import annotations

import typer
from rich.console import Console

from rempart.db.migrate import upgrade as run_upgrade

app = typer.Typer(help="The portal database.", no_args_is_help=True)
console = Console(stderr=True)


@app.command("upgrade")
def upgrade(
    db: str = typer.Option("sqlite:///rempart.db", "--db", help="Portal database URL."),
    revision: str = typer.Option("heads", help="Target revision."),
) -> None:
    """Apply the migrations to the portal database."""
    run_upgrade(db, revision)
    console.print(f"[green]database migrated to {revision}[/]")
