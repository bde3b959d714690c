"""``rempart witness``: cosign the journal's checkpoints only while it grows honestly.

Run it apart from the portal (another machine, another operator: the DPO, the CNIL), with
its own key (``rempart witness keygen``) and its own state file. Give the portal the
witness's verifier key (``REMPART_JOURNAL_WITNESSES``) so that it records and serves the
cosignatures beside its checkpoint.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer
from rich.console import Console

from rempart.journal.service.witness import Verdict, witness_round
from rempart.journal.wiring import build_witness, new_witness_key
from rempart.kernel.errors import RempartError

app = typer.Typer(
    help="A witness of the access journal: cosigns its checkpoints only if it grew honestly.",
    no_args_is_help=True,
)
err = Console(stderr=True)
out = Console(highlight=False)


@app.command()
def keygen(
    name: str = typer.Option(..., "--name", help="The witness's key name, e.g. dpo.example.fr/w1"),
    key_file: Path = typer.Option(..., "--key-file", help="Where to write the private key."),
) -> None:
    """Make the witness's key: the private key goes to KEY_FILE (mode 600), the verifier key
    to give the portal and the journal's readers is printed."""
    try:
        private, public = new_witness_key(name)
    except RempartError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from None
    if key_file.exists():
        err.print(f"[red]{key_file} exists: not overwriting a witness key[/]")
        raise typer.Exit(2)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(private + "\n")
    out.print(public)


@app.command()
def run(
    log: str = typer.Option(..., "--log", help="The portal's base URL (https://...)."),
    log_key: str = typer.Option(
        ..., "--log-key", help="The journal's verifier key (GET /api/v1/journal/key)."
    ),
    key_file: Path = typer.Option(..., "--key-file", help="The witness's private key."),
    state: Path = typer.Option(..., "--state", help="The witness's state file."),
    interval: float = typer.Option(60.0, "--interval", min=1.0, help="Seconds between rounds."),
    once: bool = typer.Option(False, "--once", help="One round, then exit (0, 1 refused, 2)."),
    alert_webhook: str = typer.Option("", "--alert-webhook", help="POST alerts here (JSON)."),
) -> None:
    """Fetch the latest checkpoint, check it extends the last one cosigned, cosign it.

    A checkpoint that does not extend it (a fork, a rewrite, a truncation) is refused and an
    alert raised (stderr, STATE.alerts, the webhook); the state keeps the last honest one,
    which ``rempart journal verify --checkpoint STATE`` checks the journal against.
    """
    try:
        witness = build_witness(log, log_key, key_file, state, alert_webhook)
    except RempartError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from None
    while True:
        result = witness_round(witness)
        if result.verdict is Verdict.COSIGNED:
            out.print(result.detail)
        elif result.verdict is Verdict.REFUSED:
            err.print(f"[red]REFUSED:[/] {result.detail}")
        else:
            err.print(f"[yellow]log unreachable:[/] {result.detail}")
        if once:
            code = {Verdict.COSIGNED: 0, Verdict.REFUSED: 1, Verdict.UNREACHABLE: 2}
            raise typer.Exit(code[result.verdict])
        time.sleep(interval)
