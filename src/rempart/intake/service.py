"""``run_import``: the agency's files into the portal, row by row, never losing a good row.

Files are read in dependency order (organisations, agents, persons, trainings, enrolments,
assignments), streamed in batches of ``BATCH`` rows: memory stays flat whatever the size.
Each row is checked on its own (``intake.model``), then its references against the database
(where the earlier files already are), then upserted by its natural key; a refused row goes
to the report with its file, line and reason, and the rest carries on. Rows the agency no
longer lists are handled explicitly: an imported enrolment or assignment that a later file
omits is *ended* (as of yesterday, so that scope follows at once), never deleted.

What the import never does by itself: grant a privileged role (the privileged rows form one
four-eyes request, ``governance.service.privileges``), or let an account read anything before
its holder has enrolled (each new account gets its one-time enrolment link by mail, after the
data is committed). Every run is journaled: who ran it, from where, and what it changed. A dry
run does all of it in a transaction that is rolled back, and sends nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from rempart.governance import model as g
from rempart.governance.service import enrolment, privileges
from rempart.governance.service.deps import GovernanceDeps
from rempart.guard.alerts import Alert, Severity
from rempart.intake.model import (
    COLUMNS,
    FOLLOW_UP_KINDS,
    AgentRowIn,
    FileCounts,
    ImportFile,
    ImportSummary,
    Invalid,
    OrgRow,
    PersonRowIn,
    Rejection,
    RelationRowIn,
    TrainingRowIn,
    agent_role_problem,
    header_problem,
    parse_agent,
    parse_assignment,
    parse_enrolment,
    parse_org,
    parse_person,
    parse_training,
    relation_key,
)
from rempart.intake.ports import IntakeStore, Progress, RowSource, Upserted
from rempart.journal.model import JournalEntry
from rempart.kernel.actors import OrgKind, Role
from rempart.kernel.tags import Decision, Tag

BATCH = 5_000  # rows per statement batch
CHECKPOINT_ROWS = 200_000  # rows between commits (the write-ahead log stays small)
BULK_ENDED = 50  # relations ended in one organisation by one import: alerted

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class IntakeDeps:
    """What the import is given (wired by ``intake.wiring``)."""

    store: IntakeStore
    gov: GovernanceDeps  # enrolment links, four eyes, journal, alerts, clock


class NoProgress:
    """Reports nothing."""

    def stage(self, name: str, total: int) -> None:
        """Ignore the stage."""

    def advance(self, name: str, done: int) -> None:
        """Ignore the progress."""


@dataclass(slots=True)
class _Run:
    deps: IntakeDeps
    summary: ImportSummary
    today: dt.date
    now: dt.datetime
    reject: Callable[[Rejection], None]
    dry_run: bool
    since_checkpoint: int = 0
    new_agents: list[str] | None = None

    def refuse(self, file: ImportFile, line: int, reason: str) -> None:
        self.summary.files[file].rejected += 1
        self.reject(Rejection(str(file), line, reason))

    def count(self, file: ImportFile, accepted: int, done: Upserted) -> None:
        c = self.summary.files[file]
        c.inserted += done.inserted
        c.updated += done.updated
        c.unchanged += accepted - done.inserted - done.updated
        self.since_checkpoint += accepted
        if not self.dry_run and self.since_checkpoint >= CHECKPOINT_ROWS:
            self.deps.store.checkpoint()
            self.since_checkpoint = 0


Parsed = tuple[int, Any]  # (line, parsed row)


def _rows(
    run: _Run, file: ImportFile, source: RowSource, progress: Progress
) -> Iterator[list[Parsed]]:
    """The file's valid rows by batches; refused ones are reported on the way."""
    counts = run.summary.files[file]
    header = source.header()
    problem = "the file is empty" if header is None else header_problem(file, header)
    if problem is not None or header is None:
        run.summary.unreadable.append(str(file))
        counts.ending_skipped = True
        run.refuse(file, 1, problem or "the file is empty")
        return
    names = [h.strip().lstrip("\ufeff") for h in header]
    parser = _PARSERS[file]
    relational = file in (ImportFile.ENROLMENTS, ImportFile.ASSIGNMENTS)
    batch: list[Parsed] = []
    unlisted_keys: list[tuple[str, str]] = []
    progress.stage(str(file), source.size())
    for line, fields in source.rows():
        counts.read += 1
        if len(fields) != len(names):
            run.refuse(file, line, f"expected {len(names)} columns, found {len(fields)}")
            if relational:
                counts.ending_skipped = True
            continue
        row = dict(zip(names, fields, strict=True))
        try:
            batch.append((line, parser(row, run.today)))
        except Invalid as exc:
            run.refuse(file, line, exc.reason)
            if relational:
                key = relation_key(file, row)
                if key is None:
                    counts.ending_skipped = True  # a listed relation we cannot name
                else:
                    unlisted_keys.append(key)
        if len(batch) >= BATCH:
            yield batch
            batch = []
            progress.advance(str(file), source.consumed())
        if len(unlisted_keys) >= BATCH:
            _mark_refused_as_listed(run, file, unlisted_keys)
            unlisted_keys = []
    if batch:
        yield batch
    _mark_refused_as_listed(run, file, unlisted_keys)
    progress.advance(str(file), source.size())


def _mark_refused_as_listed(run: _Run, file: ImportFile, keys: Sequence[tuple[str, str]]) -> None:
    """A refused row still says the agency lists that relation: it must not be ended."""
    if not keys:
        return
    store = run.deps.store
    persons = store.person_ids({p for _, p in keys})
    if file is ImportFile.ENROLMENTS:
        ids = {int(k) for k, _ in keys if k.isdigit() and len(k) <= 18}
        firsts = {str(i): i for i in store.training_orgs(ids)}
    else:
        firsts = {login: ref.id for login, ref in store.agents({k for k, _ in keys}).items()}
    store.mark_listed(
        file, [(firsts[k], persons[p]) for k, p in keys if k in firsts and p in persons]
    )


_PARSERS: dict[ImportFile, Callable[[Mapping[str, str], dt.date], Any]] = {
    ImportFile.ORGANISATIONS: parse_org,
    ImportFile.AGENTS: parse_agent,
    ImportFile.PERSONS: parse_person,
    ImportFile.TRAININGS: parse_training,
    ImportFile.ENROLMENTS: parse_enrolment,
    ImportFile.ASSIGNMENTS: parse_assignment,
}


# --- One batch of each file -----------------------------------------------------------------


def _organisations(run: _Run, batch: list[Parsed]) -> None:
    rows: list[OrgRow] = [r for _, r in batch]
    run.count(ImportFile.ORGANISATIONS, len(rows), run.deps.store.upsert_organisations(rows))


def _agents(run: _Run, batch: list[Parsed]) -> None:
    store = run.deps.store
    parsed: list[tuple[int, AgentRowIn]] = batch
    kinds = store.organisation_kinds({r.org_id for _, r in parsed})
    existing = store.agents({r.login for _, r in parsed})
    accepted: list[tuple[AgentRowIn, frozenset[Role]]] = []
    for line, row in parsed:
        kind = kinds.get(row.org_id)
        if kind is None:
            run.refuse(ImportFile.AGENTS, line, "org_id: unknown organisation")
            continue
        if (problem := agent_role_problem(row, kind)) is not None:
            run.refuse(ImportFile.AGENTS, line, f"roles: {problem}")
            continue
        found = existing.get(row.login)
        if found is not None and found.org_id != row.org_id:
            # Moving an account between organisations changes whom it reaches: not by a file.
            run.refuse(
                ImportFile.AGENTS, line, "org_id: this login belongs to another organisation"
            )
            continue
        held = found.roles if found is not None else frozenset()
        # Plain roles as listed; privileged ones kept only where already granted (a removal
        # takes effect, an addition waits for four eyes).
        accepted.append((row, row.plain | (row.privileged & held)))
        if row.privileged - held:
            run.summary.privileged.append(
                (row.login, row.org_id, tuple(sorted(str(r) for r in row.privileged - held)))
            )
    done = store.upsert_agents(accepted, run.now)
    if run.new_agents is not None:
        run.new_agents.extend(done.new_keys)
    run.count(ImportFile.AGENTS, len(accepted), done)


def _persons(run: _Run, batch: list[Parsed]) -> None:
    rows: list[PersonRowIn] = [r for _, r in batch]
    run.count(ImportFile.PERSONS, len(rows), run.deps.store.upsert_persons(rows))


def _trainings(run: _Run, batch: list[Parsed]) -> None:
    store = run.deps.store
    parsed: list[tuple[int, TrainingRowIn]] = batch
    kinds = store.organisation_kinds({r.org_id for _, r in parsed})
    rows = []
    for line, row in parsed:
        kind = kinds.get(row.org_id)
        if kind is None:
            run.refuse(ImportFile.TRAININGS, line, "org_id: unknown organisation")
        elif kind is not OrgKind.TRAINING_BODY:
            run.refuse(ImportFile.TRAININGS, line, "org_id: not a training body")
        else:
            rows.append(row)
    run.count(ImportFile.TRAININGS, len(rows), store.upsert_trainings(rows))


def _enrolments(run: _Run, batch: list[Parsed]) -> None:
    store = run.deps.store
    parsed: list[tuple[int, RelationRowIn]] = batch
    trainings = store.training_orgs({int(r.key) for _, r in parsed})
    persons = store.person_ids({r.ft_id for _, r in parsed})
    rows = []
    for line, row in parsed:
        training, person = int(row.key), persons.get(row.ft_id)
        if training not in trainings:
            run.refuse(ImportFile.ENROLMENTS, line, "training_id: unknown training")
        elif person is None:
            run.refuse(ImportFile.ENROLMENTS, line, "ft_id: unknown person")
        else:
            rows.append((training, person, trainings[training], row))
    run.count(ImportFile.ENROLMENTS, len(rows), store.upsert_enrolments(rows))


def _assignments(run: _Run, batch: list[Parsed]) -> None:
    store = run.deps.store
    parsed: list[tuple[int, RelationRowIn]] = batch
    advisers = store.agents({r.key for _, r in parsed})
    persons = store.person_ids({r.ft_id for _, r in parsed})
    rows = []
    known = []
    for line, row in parsed:
        adviser, person = advisers.get(row.key), persons.get(row.ft_id)
        if adviser is None:
            run.refuse(ImportFile.ASSIGNMENTS, line, "advisor_login: unknown account")
            continue
        if person is None:
            run.refuse(ImportFile.ASSIGNMENTS, line, "ft_id: unknown person")
            continue
        if Role.ADVISOR not in adviser.roles or adviser.org_kind not in FOLLOW_UP_KINDS:
            run.refuse(
                ImportFile.ASSIGNMENTS, line, "advisor_login: not an adviser who follows people"
            )
            known.append((adviser.id, person))
            continue
        rows.append((adviser.id, person, adviser.org_id, row))
    store.mark_listed(ImportFile.ASSIGNMENTS, known)
    run.count(ImportFile.ASSIGNMENTS, len(rows), store.upsert_assignments(rows))


_LOADERS: dict[ImportFile, Callable[[_Run, list[Parsed]], None]] = {
    ImportFile.ORGANISATIONS: _organisations,
    ImportFile.AGENTS: _agents,
    ImportFile.PERSONS: _persons,
    ImportFile.TRAININGS: _trainings,
    ImportFile.ENROLMENTS: _enrolments,
    ImportFile.ASSIGNMENTS: _assignments,
}


# --- The whole import -------------------------------------------------------------------


def run_import(
    deps: IntakeDeps,
    sources: Mapping[ImportFile, RowSource],
    *,
    ran_by: str,
    source: str,
    dry_run: bool = False,
    progress: Progress | None = None,
    reject: Callable[[Rejection], None] | None = None,
    ran_by_id: int | None = None,
) -> ImportSummary:
    """Load the files of ``sources`` (any subset of ``ImportFile``); see the module docstring."""
    gov = deps.gov
    now = gov.clock.now()
    progress = progress or NoProgress()
    rejected: list[Rejection] = []
    run = _Run(
        deps,
        ImportSummary(batch_id=0, dry_run=dry_run),
        now.date(),
        now,
        reject or rejected.append,
        dry_run,
        new_agents=[],
    )
    ended: list[tuple[ImportFile, str, int]] = []
    store = deps.store
    store.start()
    kept = False
    try:
        run.summary.batch_id = store.begin_batch(ran_by, source, now)
        for file in ImportFile:
            src = sources.get(file)
            if src is None:
                continue
            run.summary.files[str(file)] = FileCounts()
            loader = _LOADERS[file]
            for batch in _rows(run, file, src, progress):
                loader(run, batch)
            counts = run.summary.files[str(file)]
            if (
                file in (ImportFile.ENROLMENTS, ImportFile.ASSIGNMENTS)
                and not counts.ending_skipped
            ):
                for org_id, n in store.end_unlisted(file, run.today):
                    counts.ended += n
                    ended.append((file, org_id, n))
        store.end_batch(
            run.summary.batch_id, run.summary.as_dict(), run.summary.rejected, gov.clock.now()
        )
        kept = not dry_run
    finally:
        store.finish(keep=kept)
    summary = run.summary
    if not dry_run:
        _after_commit(deps, run, ran_by, ran_by_id, ended)
    _journal(deps, summary, ran_by=ran_by, source=source, at=now)
    return summary


def _after_commit(
    deps: IntakeDeps,
    run: _Run,
    ran_by: str,
    ran_by_id: int | None,
    ended: list[tuple[ImportFile, str, int]],
) -> None:
    """What only a committed import does: four eyes for privilege, links, bulk alerts."""
    gov = deps.gov
    summary = run.summary
    if summary.privileged:
        items = []
        for login, org_id, roles in summary.privileged:
            agent = gov.directory.agent_by_login(login)
            if agent is not None:
                items.append(
                    g.PrivilegeItem(agent.id, login, org_id, frozenset(Role(r) for r in roles))
                )
        summary.privilege_request = privileges.open_import_request(
            gov, import_batch=summary.batch_id, ran_by=ran_by, ran_by_id=ran_by_id, items=items
        )
    for login in run.new_agents or ():
        agent = gov.directory.agent_by_login(login)
        if agent is not None:
            with gov.transactions.unit_of_work():
                summary.enrolment_links += enrolment.send_link(gov, None, agent)
    for file, org_id, n in ended:
        if n >= BULK_ENDED:
            gov.alerts.raise_alert(
                Alert(
                    at=run.now,
                    rule="portfolio_bulk_change",
                    severity=Severity.MEDIUM,
                    explanation=(
                        f"An import run by {ran_by} ended {n} {file.value.removesuffix('.csv')} "
                        f"of organisation {org_id} that the agency's file no longer lists."
                    ),
                    agent_login=ran_by,
                    org_id=org_id,
                    action_taken="relations_ended",
                    evidence={"file": str(file), "ended": n, "threshold": BULK_ENDED},
                )
            )


def _journal(
    deps: IntakeDeps, summary: ImportSummary, *, ran_by: str, source: str, at: dt.datetime
) -> None:
    """One journal entry per run: who, from where, and what changed (counts only)."""
    deps.gov.journal.append(
        [
            JournalEntry(
                at=at,
                tag=Tag.INTAKE_IMPORT_DRY_RUN if summary.dry_run else Tag.INTAKE_IMPORT_LOADED,
                decision=Decision.ALLOW if summary.exit_code() == 0 else Decision.DENY,
                agent_login=ran_by,
                reason="" if summary.exit_code() == 0 else f"{summary.rejected} row(s) rejected",
                details={"source": source, **summary.as_dict()},
            )
        ]
    )


__all__ = ["BATCH", "COLUMNS", "IntakeDeps", "NoProgress", "run_import"]
