"""``rempart journal``: verify, prove, query and apply retention to the access journal.

For the DPO, the auditor and the incident responder. ``--journal`` defaults to ``journal.db``
beside the portal's SQLite database (``--db``). Commands that sign (``checkpoint``, ``purge``)
use ``REMPART_JOURNAL_SIGNING_KEY``, or a demo journal's own key.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from rempart.journal.integrity import CheckpointKind, Published
from rempart.journal.model import format_time
from rempart.journal.service import audit as journal_audit
from rempart.journal.service import publication
from rempart.journal.wiring import (
    create_journal,
    journal_trust,
    new_journal_key,
    open_journal_archive,
    read_published,
)
from rempart.kernel.errors import RempartError
from rempart.kernel.identifiers import parse_ft_id
from rempart.settings import Settings

if TYPE_CHECKING:  # a type only: the journal's wiring picks and opens the implementation
    from rempart.journal.adapters.sql import SqlJournalStore

app = typer.Typer(help="The access journal: verify, prove, query, retention.", no_args_is_help=True)
err = Console(stderr=True)
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)

JournalOpt = typer.Option(
    None, "--journal", help="Journal database URL (default: journal.db beside --db)."
)
DbOpt = typer.Option("sqlite:///rempart.db", "--db", help="Portal database URL.")


def _url(journal: str | None, db: str) -> str:
    return Settings.model_construct(db_url=db, journal_url=journal or "").effective_journal_url()


def _signing_key() -> str | None:
    return os.environ.get("REMPART_JOURNAL_SIGNING_KEY") or None


def _origin() -> str:
    """The origin a journal that has none yet is published under (as ``serve`` would)."""
    return Settings.model_construct(
        public_url=os.environ.get("REMPART_PUBLIC_URL", "http://localhost:8000"),
        journal_origin=os.environ.get("REMPART_JOURNAL_ORIGIN", ""),
    ).effective_journal_origin()


def _checkpoint_seconds() -> float:
    try:
        return float(os.environ.get("REMPART_JOURNAL_CHECKPOINT_SECONDS", "60"))
    except ValueError:
        return 60.0


@contextmanager
def _open(journal: str | None, db: str) -> Iterator[SqlJournalStore]:
    try:
        store = open_journal_archive(_url(journal, db), _signing_key(), _origin())
    except RempartError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from None
    try:
        yield store
    except RempartError as exc:
        err.print(f"[red]{exc.detail or exc.code}[/]")
        raise typer.Exit(1) from None
    finally:
        store.close()


def _day(text: str) -> dt.datetime:
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=dt.UTC)
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: expected YYYY-MM-DD or an RFC 3339 time") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@app.command()
def verify(
    journal: str | None = JournalOpt,
    db: str = DbOpt,
    public_key: list[str] = typer.Option(
        [], "--public-key", help="Trusted Ed25519 public key (base64); repeat for rotated keys."
    ),
    skip_indexes: bool = typer.Option(
        False, "--skip-indexes", help="Do not cross-check the query index rows."
    ),
    checkpoint_file: list[Path] = typer.Option(
        [],
        "--checkpoint",
        help="A checkpoint kept outside the journal (an export, a witness's state); repeatable.",
    ),
) -> None:
    """Check the chain, the Merkle nodes, the checkpoints and their signatures, and that the
    journal still proves every checkpoint given with ``--checkpoint``.

    Exit 0 when intact; otherwise 1, the last line being ``first bad entry: SEQ``.
    """
    with _open(journal, db) as store:
        trust = journal_trust(store, public_key, _signing_key())
        if trust.from_journal_itself:
            err.print(
                "[yellow]warning:[/] checking signatures against the keys recorded in the "
                "journal itself; pass --public-key (or set REMPART_JOURNAL_SIGNING_KEY) to "
                "use a trust anchor an intruder cannot have replaced"
            )
        published = [_published(path, trust.public_keys) for path in checkpoint_file]
        started = dt.datetime.now(dt.UTC)
        try:
            report = journal_audit.verify(
                store,
                trust.check,
                indexes=not skip_indexes,
                published=published,
                now=started,
                checkpoint_seconds=_checkpoint_seconds(),
            )
        except RempartError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged database: a finding, not a trace
            out.print(f"JOURNAL DOES NOT VERIFY: the database cannot be read ({exc})")
            out.print("first bad entry: 1")
            raise typer.Exit(1) from None
        seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    rate = report.entries / seconds if seconds > 0 else 0.0
    summary = (
        f"{report.entries} entries checked (seq {report.base + 1}..{report.last_seq}), "
        f"{report.checkpoints} checkpoints, keys {', '.join(trust.key_ids) or 'none'}, "
        f"{seconds:.2f} s ({rate:,.0f} entries/s)"
    )
    if report.base:
        summary += f"; entries up to {report.base} purged by retention"
    if published:
        summary += f"; {len(published)} checkpoint(s) kept outside it"
    for note in report.notes:
        err.print(f"note: {note}")
    if report.ok:
        out.print(f"journal intact: {summary}")
        return
    out.print(f"JOURNAL DOES NOT VERIFY: {summary}")
    for p in sorted(report.problems, key=lambda p: p.seq)[:20]:
        out.print(f"  entry {p.seq}: {p.reason}")
    out.print(f"first bad entry: {report.first_bad}")
    raise typer.Exit(1)


@app.command()
def prove(
    seq: int = typer.Argument(..., help="Sequence number of the entry."),
    journal: str | None = JournalOpt,
    db: str = DbOpt,
    tree_size: int | None = typer.Option(None, help="Prove against this checkpoint's size."),
) -> None:
    """Print an inclusion proof of one entry against a signed checkpoint, as JSON.

    Check it anywhere with ``tools/verify_inclusion.py`` (needs only ``cryptography``).
    """
    with _open(journal, db) as store:
        proof = journal_audit.prove(store, seq, tree_size)
    sys.stdout.write(json.dumps(proof, indent=2, sort_keys=True) + "\n")


@app.command()
def init(
    journal: str = typer.Option(..., "--journal", help="Journal database URL."),
    grant: str | None = typer.Option(
        None, "--grant", help="PostgreSQL: the portal's role, given SELECT and INSERT only."
    ),
) -> None:
    """Create the journal's schema (run as its owner), optionally granting the portal's role."""
    try:
        store = create_journal(journal)
    except RempartError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from None
    try:
        if grant:
            store.grant_append_only(grant)
    except RempartError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from None
    finally:
        store.close()
    out.print(
        f"journal ready at {journal}" + (f"; {grant} may only read and append" if grant else "")
    )


def _published(path: Path, keys: list[bytes]) -> Published:
    try:
        data = path.read_bytes()
    except OSError as exc:
        err.print(f"[red]cannot read {path}: {exc.strerror}[/]")
        raise typer.Exit(2) from None
    try:
        return read_published(data, str(path), keys)
    except RempartError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from None


@app.command()
def checkpoint(
    journal: str | None = JournalOpt,
    db: str = DbOpt,
    export: str | None = typer.Option(
        None,
        "--export",
        help="Write the latest published checkpoint and its cosignatures to this file "
        "('-': standard output) instead of signing one.",
    ),
) -> None:
    """Sign a checkpoint of the journal as it is now, or export the latest one to archive."""
    with _open(journal, db) as store:
        if export is not None:
            note = publication.checkpoint_note(store)
            if export == "-":
                sys.stdout.write(note.decode("utf-8"))
            else:
                Path(export).write_bytes(note)
                head = note.decode("utf-8").split("\n", 3)
                out.print(f"checkpoint of {head[0]} at tree size {head[1]} written to {export}")
            return
        cp = store.checkpoint(CheckpointKind.MANUAL)
    out.print(f"checkpoint signed: tree size {cp.tree_size}, root {cp.root.hex()}")


@app.command()
def keygen() -> None:
    """Print a new signing key for REMPART_JOURNAL_SIGNING_KEY, and its public key."""
    private, public, key_id = new_journal_key()
    out.print(f"REMPART_JOURNAL_SIGNING_KEY={private}")
    err.print(f"public key (give it to auditors, --public-key): {public}  key id {key_id}")


def _rows(entries: list[dict[str, Any]], as_json: bool, title: str) -> None:
    if as_json:
        for e in entries:
            sys.stdout.write(json.dumps(e, sort_keys=True) + "\n")
        return
    table = Table(title=title)
    for col in ("seq", "at", "tag", "decision", "org", "agent", "roles", "purpose", "persons"):
        table.add_column(col)
    for e in entries:
        persons = e["persons"]
        table.add_row(
            str(e["seq"]),
            e["at"],
            e["tag"],
            e["decision"],
            e["org_id"],
            e["agent_login"],
            " ".join(e["agent_roles"]),
            e["purpose"],
            ", ".join(persons[:3]) + (f" (+{len(persons) - 3})" if len(persons) > 3 else ""),
        )
    out.print(table)


@app.command()
def who(
    ft_id: str = typer.Option(..., "--ft-id", help="The person's identifier."),
    journal: str | None = JournalOpt,
    db: str = DbOpt,
    page: int = typer.Option(1, min=1),
    size: int = typer.Option(50, min=1, max=1000),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Who consulted this person, newest first."""
    try:
        ft_id = parse_ft_id(ft_id)
    except RempartError as exc:
        raise typer.BadParameter(exc.detail) from None
    with _open(journal, db) as store:
        found, more = journal_audit.who_consulted(store, ft_id, page, size)
    _rows([journal_audit.entry_json(s) for s in found], as_json, f"Accesses to {ft_id}")
    if more and not as_json:
        err.print(f"more: --page {page + 1}")


@app.command()
def activity(
    agent: str = typer.Option("", "--agent", help="Agent login."),
    session: str = typer.Option("", "--session", help="Session id."),
    since: str = typer.Option(..., "--since", help="YYYY-MM-DD or RFC 3339 time (UTC)."),
    until: str = typer.Option(..., "--until", help="Exclusive end."),
    journal: str | None = JournalOpt,
    db: str = DbOpt,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """What an agent (or one session) did in a time window, oldest first."""
    with _open(journal, db) as store:
        found = journal_audit.activity(
            store, _day(since), _day(until), agent_login=agent, session_id=session
        )
    _rows([journal_audit.entry_json(s) for s in found], as_json, f"Activity of {agent or session}")


@app.command()
def volumes(
    days: int = typer.Option(7, "--days", min=1, max=3660),
    journal: str | None = JournalOpt,
    db: str = DbOpt,
) -> None:
    """Entries per organisation per day, over the last DAYS days (UTC)."""
    today = dt.datetime.now(dt.UTC).date()
    since = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), tzinfo=dt.UTC)
    with _open(journal, db) as store:
        rows = store.volumes(since, since + dt.timedelta(days=days))
    table = Table(title=f"Journal entries per organisation, last {days} days")
    for col in ("day", "organisation", "entries"):
        table.add_column(col)
    for day, org, n in rows:
        table.add_row(day.isoformat(), org or "(no organisation)", str(n))
    out.print(table)


@app.command()
def purge(
    before: str | None = typer.Option(
        None, "--before", help="Delete entries older than this (default: the retention period)."
    ),
    retention_months: int = typer.Option(12, "--retention-months", min=1, max=120),
    journal: str | None = JournalOpt,
    db: str = DbOpt,
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Apply retention: verify, sign a purge checkpoint, delete older entries behind it."""
    now = dt.datetime.now(dt.UTC)
    cutoff = (
        _day(before) if before else journal_audit.retention_cutoff(now.date(), retention_months)
    )
    if not yes:
        typer.confirm(f"Delete journal entries older than {format_time(cutoff)}?", abort=True)
    with _open(journal, db) as store:
        trust = journal_trust(store, [], _signing_key())
        result = journal_audit.purge(store, store, trust.check, cutoff, now)
    if result.checkpoint is None:
        out.print(f"nothing to purge (entries up to {result.cut} already gone)")
    else:
        out.print(
            f"purged entries 1..{result.cut}; the rest verifies from the purge checkpoint "
            f"signed at {format_time(result.checkpoint.at)}"
        )
