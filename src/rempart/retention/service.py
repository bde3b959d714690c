"""The retention job: find the people past the rule (a dry run reports them first, in counts),
then erase them everywhere in the portal, in batches of one transaction each.

The journal records each run in counts only: an entry naming the erased people would keep
them on file. What the journal already holds about them (past consultations) stays until the
journal's own retention removes it (``rempart journal purge``).
"""

from __future__ import annotations

from dataclasses import dataclass

from rempart.guard.alerts import Alert, Severity
from rempart.guard.ports import AlertSink
from rempart.journal.model import JournalEntry
from rempart.journal.ports import JournalWriter
from rempart.kernel.ports import Clock, Transactions
from rempart.kernel.tags import Decision, Tag
from rempart.retention.model import RetentionReport, RetentionRule
from rempart.retention.ports import PersonErasure

BATCH = 500  # people per transaction
ACTOR = "retention"


@dataclass(frozen=True, slots=True)
class RetentionDeps:
    """What the retention job is given (wired by ``retention.wiring``)."""

    erasure: PersonErasure
    transactions: Transactions
    journal: JournalWriter
    alerts: AlertSink
    clock: Clock
    rule: RetentionRule


def run(deps: RetentionDeps, *, dry_run: bool, by: str = ACTOR) -> RetentionReport:
    """Erase (or, ``dry_run``, count) the people past the rule; journal the run."""
    now = deps.clock.now()
    report = RetentionReport(cutoff=deps.rule.cutoff(now.date()), dry_run=dry_run)
    after = 0
    while True:
        with deps.transactions.unit_of_work():
            batch = deps.erasure.past(report.cutoff, after, BATCH)
            if not batch:
                break
            ids, ft_ids = [p for p, _ in batch], [f for _, f in batch]
            if dry_run:
                report.add(deps.erasure.related(ids, ft_ids))
                after = ids[-1]
            else:
                report.add(deps.erasure.erase(ids, ft_ids))
            report.persons += len(batch)
    deps.journal.append(
        [
            JournalEntry(
                at=now,
                tag=Tag.RETENTION_PERSONS_REVIEWED if dry_run else Tag.RETENTION_PERSONS_ERASED,
                decision=Decision.ALLOW,
                agent_login=by,
                details={
                    **report.as_dict(),
                    "rule_years": deps.rule.years_after_deregistration,
                },
            )
        ]
    )
    if report.persons and not dry_run:
        deps.alerts.raise_alert(
            Alert(
                at=now,
                rule="retention_erased",
                severity=Severity.LOW,
                explanation=(
                    f"The retention job erased {report.persons} people deregistered before "
                    f"{report.cutoff.isoformat()} from the portal."
                ),
                agent_login=by,
                action_taken="persons_erased",
                evidence=report.as_dict(),
            )
        )
    return report
