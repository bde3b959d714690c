"""``rempart seed``: a synthetic demo population; ``rempart demo-logins``: a few of its logins."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pyotp
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table

from rempart_bench.history import seed_history
from rempart_bench.load import SeedRefused
from rempart_bench.load import seed as run_seed
from rempart_bench.population import Credential

console = Console(stderr=True)

STAGE_LABELS = {
    "credentials": "hashing agents' passwords",
    "organisations": "organisations and agents",
    "trainings": "trainings and sessions",
    "persons": "people and their relations",
    "statistics": "planner statistics",
}


class BarProgress:
    """The loader's progress, as Rich bars on stderr."""

    def __init__(self, bars: RichProgress) -> None:
        self._bars = bars
        self._tasks: dict[str, TaskID] = {}

    def stage(self, name: str, total: int) -> None:
        """Add a bar for a new stage."""
        self._tasks[name] = self._bars.add_task(STAGE_LABELS.get(name, name), total=total)

    def advance(self, name: str, steps: int) -> None:
        """Move the stage's bar."""
        self._bars.advance(self._tasks[name], steps)


def write_credentials(path: Path, credentials: list[Credential]) -> None:
    """Write the credentials file, readable by its owner only (it holds every password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"agents": [c.as_json() for c in credentials]}, f, ensure_ascii=False, indent=1)
        f.write("\n")


def _parse_date(value: str | None) -> dt.date:
    if value is None:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("expected a date YYYY-MM-DD", param_hint="--as-of") from None


def _production_mode() -> bool:
    return os.environ.get("REMPART_DEMO", "").strip().lower() in ("0", "false", "no", "off")


def seed(
    db: str = typer.Option("sqlite:///rempart.db", "--db", help="Portal database URL."),
    persons: int = typer.Option(..., "--persons", min=1, help="Number of people to generate."),
    seed: int = typer.Option(1, "--seed", help="Random seed: same seed, same database."),
    credentials_out: Path = typer.Option(
        ..., "--credentials-out", help="JSON file receiving every agent's demo credentials."
    ),
    journal: str | None = typer.Option(
        None, "--journal", help="Journal database URL (default: journal.db beside the database)."
    ),
    history_days: int = typer.Option(
        0, "--history-days", min=0, help="Days of past legitimate activity to write to the journal."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Reference date YYYY-MM-DD (default: today, UTC)."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Drop the population of a demo database and seed it again."
    ),
) -> None:
    """Build a synthetic population in an empty or demo database (never a real one)."""
    if _production_mode():
        console.print("[red]refused:[/] REMPART_DEMO is off (production mode); no synthetic data")
        raise typer.Exit(2)
    today = _parse_date(as_of)
    with RichProgress(
        TextColumn("{task.description:<30}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bars:
        try:
            report, credentials = run_seed(
                db,
                persons,
                seed,
                today,
                replace=replace,
                history_days=history_days,
                progress=BarProgress(bars),
            )
        except SeedRefused as refused:
            bars.stop()
            console.print(f"[red]refused:[/] {refused}")
            raise typer.Exit(2) from None
    write_credentials(credentials_out, credentials)
    console.print(
        f"[green]seeded[/] {report.persons:,} people ({report.canaries} canaries), "
        f"{report.organisations:,} organisations, {report.agents:,} agents, "
        f"{report.enrolments:,} enrolments, {report.assignments:,} assignments "
        f"in {report.seconds:.1f} s; credentials in {credentials_out}"
    )
    if history_days > 0:
        console.print(f"writing {history_days} days of past activity into the journal…")
        written = seed_history(
            db, journal, [c.login for c in credentials], today, history_days, seed
        )
        console.print(f"[green]history[/] {written:,} journal entries over {history_days} days")


# One demo login per kind of organisation and role, in this order.
DEMO_ORDER = (
    ("training_body", "training_manager"),
    ("training_body", "account_manager"),
    ("mission_locale", "advisor"),
    ("mission_locale", "account_manager"),
    ("cap_emploi", "advisor"),
    ("agency", "advisor"),
    ("agency", "account_manager"),
    ("agency", "security_officer"),
    ("agency", "dpo"),
    ("agency", "admin"),
)


def pick_demo_logins(agents: list[dict[str, Any]], today: dt.date) -> list[dict[str, Any]]:
    """One agent for each (organisation kind, role) of ``DEMO_ORDER``, preferring usable ones.

    An agent whose mandatory training has lapsed is suspended by governance: a confusing
    first login, so it is shown only when no colleague with the same role is usable.
    """
    usable: dict[tuple[str, str], dict[str, Any]] = {}
    lapsed: dict[tuple[str, str], dict[str, Any]] = {}
    for agent in agents:
        valid = agent.get("training_valid_until")
        pick = lapsed if valid is not None and dt.date.fromisoformat(valid) < today else usable
        for role in agent["roles"]:
            pick.setdefault((agent["org_kind"], role), agent)
    return [usable.get(key) or lapsed[key] for key in DEMO_ORDER if key in usable or key in lapsed]


def demo_logins(
    credentials: Path = typer.Option(
        ..., "--credentials", exists=True, dir_okay=False, help="File written by `rempart seed`."
    ),
) -> None:
    """Print a few demo logins: one per kind of organisation and role, with a current code."""
    agents = json.loads(credentials.read_text(encoding="utf-8"))["agents"]
    today = dt.datetime.now(dt.UTC).date()
    out = Console()
    if not out.is_terminal:
        out = Console(width=160)  # piped: never cut a password short
    table = Table(title="Rempart demo logins (synthetic accounts)")
    for column in ("organisation", "role", "login", "password", "TOTP secret", "code now"):
        table.add_column(column, overflow="fold")
    for agent in pick_demo_logins(agents, today):
        valid = agent.get("training_valid_until")
        lapsed = valid is not None and dt.date.fromisoformat(valid) < today
        table.add_row(
            f"{agent['org_kind']} {agent['org_id']}",
            " ".join(agent["roles"]) + (" (training lapsed)" if lapsed else ""),
            agent["login"],
            agent["password"],
            agent["totp_secret"],
            pyotp.TOTP(agent["totp_secret"]).now(),
        )
    out.print(table)
    out.print(f"Every agent's credentials: {credentials}")
