"""``rempart import --db URL DIR [--dry-run] [--report FILE]``: the agency's files in.

Exit 0 when every row was loaded, 1 when some were rejected (the report names each with its
file, line and reason), 2 when nothing could be read. The report is written as the import
goes (a JSON object: ``rejected`` first, then ``summary``), so that a file with millions of
bad rows does not fill memory. Who ran it is journaled: ``REMPART_OPERATOR`` (the national
administrator's login) when set, else the system user.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from rempart.bootstrap import build_container
from rempart.cli.settings import load_settings
from rempart.governance.model import is_agency_admin
from rempart.intake.model import Rejection
from rempart.intake.service import run_import
from rempart.intake.wiring import build_intake, csv_directory

err = Console(stderr=True)


class _Bar:
    """The import's progress as a rich progress bar on standard error (bytes per file)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, object] = {}

    def stage(self, name: str, total: int) -> None:
        """One bar per file."""
        self.tasks[name] = self.progress.add_task(name, total=max(total, 1))

    def advance(self, name: str, done: int) -> None:
        """Bytes read so far."""
        self.progress.update(self.tasks[name], completed=done)  # type: ignore[arg-type]


class _Report:
    """Writes rejections as they come, then the summary."""

    def __init__(self, out: IO[str] | None) -> None:
        self.out = out
        self.first = True
        if out is not None:
            out.write('{"rejected": [\n')

    def __call__(self, rejection: Rejection) -> None:
        if self.out is None:
            return
        item = {"file": rejection.file, "line": rejection.line, "reason": rejection.reason}
        self.out.write(("" if self.first else ",\n") + json.dumps(item, ensure_ascii=False))
        self.first = False

    def close(self, summary: dict[str, object]) -> None:
        if self.out is not None:
            self.out.write('\n],\n"summary": ' + json.dumps(summary, indent=2) + "}\n")


@contextmanager
def _report_file(path: Path | None) -> Iterator[IO[str] | None]:
    if path is None:
        yield None
        return
    with path.open("w", encoding="utf-8") as out:
        yield out


def import_files(
    directory: Path = typer.Argument(..., help="Directory of the agency's CSV files."),
    db: str = typer.Option("sqlite:///rempart.db", "--db", help="Portal database URL."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and count; write nothing."),
    report: Path | None = typer.Option(None, "--report", help="Write the rejected rows here."),
    journal: str | None = typer.Option(None, "--journal", help="Journal database URL."),
    config: Path | None = typer.Option(None, "--config", help="File of KEY=value settings."),
) -> None:
    """Load organisations, agents, persons, trainings, enrolments and assignments from CSV."""
    sources = csv_directory(directory)
    if not sources:
        err.print(f"[red]nothing to read[/]: {directory} holds none of the import's files")
        raise typer.Exit(2)
    settings = load_settings(db, journal, [], False, config)
    box = build_container(settings)
    try:
        operator = settings.operator
        admin = box.portal.store.agent_by_login(operator) if operator else None
        ran_by = operator or f"os:{getpass.getuser()}"
        with _report_file(report) as out:
            sink = _Report(out)
            columns = (
                TextColumn("{task.description:<18}"),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=err, disable=not sys.stderr.isatty()) as bar:
                summary = run_import(
                    build_intake(box.engine, box.governance),
                    sources,
                    ran_by=ran_by,
                    ran_by_id=admin.id if admin is not None and is_agency_admin(admin) else None,
                    source=str(directory.resolve()),
                    dry_run=dry_run,
                    progress=_Bar(bar),
                    reject=sink,
                )
            sink.close(summary.as_dict())
    finally:
        box.close()
    print(json.dumps(summary.as_dict(), indent=2))
    verdict = {0: "[green]all rows loaded[/]", 1: "[yellow]some rows rejected[/]"}.get(
        summary.exit_code(), "[red]nothing could be read[/]"
    )
    err.print(
        f"{verdict}{' (dry run: nothing written)' if dry_run else ''}: "
        f"{summary.loaded} loaded, {summary.rejected} rejected"
        + (
            f"; privileged rows wait for approval: {summary.privilege_request}"
            if summary.privilege_request
            else ""
        )
    )
    raise typer.Exit(summary.exit_code())
