"""``rempart journal export`` and ``rempart rules``: the journal and the detections, for a SIEM.

``journal export`` writes the journal as ECS JSON lines, once or following it (``--follow``)
for a log shipper that tails the file; ``--cursor FILE`` keeps the last sequence exported so
a restarted follower neither repeats nor skips an entry. ``rules check`` parses every Sigma
rule of ``rules/``; ``rules convert --target splunk|elasticsearch|sqlite`` prints them in the
target's query language; ``rules hunt --events FILE`` runs them, converted for SQLite, over
an export, without a SIEM.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import typer
from rich.console import Console
from rich.table import Table

from rempart.kernel.errors import RempartError
from rempart.settings import Settings
from rempart.siem.rules import TARGETS
from rempart.siem.service import rules as rule_service
from rempart.siem.service.export import Batch, Window, export_once, follow
from rempart.siem.wiring import event_table, open_feed, rule_toolkit

err = Console(stderr=True)

DEFAULT_RULES = Path("rules")


def _time(text: str | None, option: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        if len(text) == 10:
            value = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=dt.UTC)
        else:
            value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: expected YYYY-MM-DD or an RFC 3339 time", param_hint=option
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _read_cursor(path: Path | None) -> int:
    if path is None or not path.exists():
        return 0
    text = path.read_text(encoding="ascii").strip()
    if not text.isdigit():
        raise typer.BadParameter(f"{path}: not a sequence number", param_hint="--cursor")
    return int(text)


def _save_cursor(path: Path | None, seq: int) -> None:
    if path is None:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{seq}\n", encoding="ascii")
    os.replace(tmp, path)  # a crash leaves the old cursor or the new one, never half of one


def export(
    journal: str | None = typer.Option(
        None, "--journal", help="Journal database URL (default: journal.db beside --db)."
    ),
    db: str = typer.Option("sqlite:///rempart.db", "--db", help="Portal database URL."),
    fmt: str = typer.Option("ecs", "--format", help="Output format: ecs (JSON lines)."),
    since: str | None = typer.Option(None, "--since", help="From this time (RFC 3339)."),
    until: str | None = typer.Option(None, "--until", help="Before this time (exclusive)."),
    out: str = typer.Option(..., "--out", help="Output file, or - for standard output."),
    follow_journal: bool = typer.Option(
        False, "--follow", help="Keep exporting entries as they are appended (for a shipper)."
    ),
    poll_seconds: float = typer.Option(
        2.0, "--poll-seconds", min=0.05, help="With --follow: seconds between polls."
    ),
    cursor: Path | None = typer.Option(
        None, "--cursor", help="File holding the last sequence exported; resumes after it."
    ),
) -> None:
    """Write the journal as ECS events, one JSON object per line, one per person concerned."""
    if fmt != "ecs":
        raise typer.BadParameter(f"{fmt!r}: the only format is ecs", param_hint="--format")
    window = Window(_time(since, "--since"), _time(until, "--until"), _read_cursor(cursor))
    url = Settings.model_construct(db_url=db, journal_url=journal or "").effective_journal_url()
    try:
        feed = open_feed(url)
    except RempartError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from None
    sink: IO[str]
    if out == "-":
        sink = sys.stdout
    else:
        # A follower appends: the shipper tails the file, a restart must not truncate it.
        sink = Path(out).open("a" if follow_journal else "w", encoding="utf-8")  # noqa: SIM115
    exported = [window.after]  # the last entry whose lines are all written

    def written(seq: int) -> None:
        exported[0] = seq

    try:
        if follow_journal:
            # systemd and shippers stop a follower with SIGTERM: stop as on ^C, cursor saved.
            signal.signal(signal.SIGTERM, _interrupt)
            result = follow(
                feed,
                sink.write,
                window,
                sleep=lambda: time.sleep(poll_seconds),
                done=_flusher(sink, cursor),
                written=written,
            )
        else:
            result = export_once(feed, sink.write, window, written)
            sink.flush()
            _save_cursor(cursor, result.last_seq)
    except KeyboardInterrupt:
        sink.flush()
        _save_cursor(cursor, exported[0])
        return
    except RempartError as exc:
        err.print(f"[red]{exc.detail or exc.code}[/]")
        raise typer.Exit(1) from None
    finally:
        feed.close()
        if sink is not sys.stdout:
            sink.close()
    err.print(f"{result.events} events from {result.entries} entries (last seq {result.last_seq})")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _flusher(sink: IO[str], cursor: Path | None) -> Callable[[Batch], bool]:
    def done(batch: Batch) -> bool:
        sink.flush()
        _save_cursor(cursor, batch.last_seq)
        return False

    return done


rules_app = typer.Typer(help="The guard's detections as Sigma rules, for a SIEM.")


@rules_app.command("check")
def check(
    directory: Path = typer.Option(DEFAULT_RULES, "--rules", help="The Sigma rules' folder."),
) -> None:
    """Parse every rule (and the rules each correlation names); exit 1 on the first error."""
    try:
        found = rule_service.check(rule_toolkit(), directory)
    except RempartError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    err.print(f"{found} rules parse")


@rules_app.command("convert")
def convert(
    target: str = typer.Option(..., "--target", help=f"One of: {', '.join(TARGETS)}."),
    directory: Path = typer.Option(DEFAULT_RULES, "--rules", help="The Sigma rules' folder."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per rule and line."),
) -> None:
    """Print every rule in the target's query language."""
    if target not in TARGETS:
        raise typer.BadParameter(f"{target!r}: one of {', '.join(TARGETS)}", param_hint="--target")
    try:
        converted = rule_service.convert(rule_toolkit(), directory, target)
    except RempartError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    if as_json:
        for c in converted:
            line = {"file": c.file, "id": c.rule_id, "title": c.title, "level": c.level}
            sys.stdout.write(json.dumps({**line, "queries": list(c.queries)}) + "\n")
        return
    sys.stdout.write(rule_service.render(converted, target))


@rules_app.command("hunt")
def hunt(
    events: Path = typer.Option(..., "--events", help="An export (ECS JSON lines)."),
    directory: Path = typer.Option(DEFAULT_RULES, "--rules", help="The Sigma rules' folder."),
) -> None:
    """Run every rule over an export, as a SIEM would; list the rules that fire and on whom."""
    if not events.is_file():
        raise typer.BadParameter(f"{events}: no such file", param_hint="--events")
    try:
        with events.open(encoding="utf-8") as lines:
            found = rule_service.hunt(rule_toolkit(), event_table(), directory, lines)
    except RempartError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    table = Table(title=f"Rules over {events.name}")
    for col in ("level", "rule", "hits", "accounts or addresses"):
        table.add_column(col)
    fired = [(rule, hits) for rule, hits in found if hits]
    for rule, hits in fired:
        who = sorted({h.user or h.source_ip for h in hits if h.user or h.source_ip})
        table.add_row(rule.level, rule.title, str(len(hits)), ", ".join(who[:5]))
    Console(highlight=False, width=None if sys.stdout.isatty() else 160).print(table)
    err.print(f"{len(fired)} of {len(found)} rules fired")
