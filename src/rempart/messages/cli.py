"""``rempart messages``: look an official message up, or stop vouching for one sent in error."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from rempart.bootstrap import build_container
from rempart.cli.settings import load_settings
from rempart.journal.model import format_time
from rempart.kernel.context import ClientInfo
from rempart.messages.model import display, parse_reference

app = typer.Typer(help="Official messages sent to people.", no_args_is_help=True)
err = Console(stderr=True)

DbOpt = typer.Option("sqlite:///rempart.db", "--db", help="Portal database URL.")
ConfigOpt = typer.Option(None, "--config", help="File of KEY=value settings.")


def _reference(text: str) -> str:
    canonical = parse_reference(text)
    if canonical is None:
        err.print("[red]not a reference[/]: 12 characters from A-Z and 2-9, XXXX-XXXX-XXXX")
        raise typer.Exit(2)
    return display(canonical)


@app.command("revoke")
def revoke(
    reference: str = typer.Argument(..., help="XXXX-XXXX-XXXX"),
    db: str = DbOpt,
    config: Path | None = ConfigOpt,
) -> None:
    """Stop vouching for a message (sent in error): it then verifies as "not from us"."""
    shown = _reference(reference)
    box = build_container(load_settings(db, None, [], False, config))
    try:
        done = box.messages.revoke(shown)
    finally:
        box.close()
    if not done:
        err.print(f"[yellow]{shown}[/]: unknown or already revoked")
        raise typer.Exit(1)
    err.print(f"[green]{shown} revoked[/]")


@app.command("verify")
def verify(
    reference: str = typer.Argument(..., help="XXXX-XXXX-XXXX"),
    db: str = DbOpt,
    config: Path | None = ConfigOpt,
) -> None:
    """What the public check answers for this reference (exit 1 when not genuine)."""
    box = build_container(load_settings(db, None, [], False, config))
    try:
        verdict = box.messages.verify(reference, ClientInfo("cli"))
    finally:
        box.close()
    m = verdict.message
    if m is None:
        print(json.dumps({"genuine": False}))
        raise typer.Exit(1)
    print(
        json.dumps(
            {
                "genuine": True,
                "sent_at": format_time(m.sent_at or m.registered_at),
                "channel": str(m.channel),
                "subject": m.subject,
            },
            ensure_ascii=False,
        )
    )
