"""``rempart``: serve the portal, manage its database, seed a demo population, and more."""

from __future__ import annotations

import typer

from rempart.cli import bench, seed, serve
from rempart.db import cli as db
from rempart.governance import cli as jobs
from rempart.journal import cli as journal_cli

app = typer.Typer(
    name="rempart",
    help="Rempart: a partner portal that opens personal data to partners without leaking it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # a traceback could print secrets from locals
)
app.add_typer(db.app, name="db")
app.add_typer(journal_cli.app, name="journal")
app.add_typer(jobs.app, name="jobs")
app.command("serve")(serve.serve)
app.command("seed")(seed.seed)
app.command("demo-logins")(seed.demo_logins)
app.command("bench")(bench.bench)
