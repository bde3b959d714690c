"""How long the portal keeps a person once their registration has ended. Pure.

The rule: a person whose registration ended (``deregistration_date``) more than
``years_after_deregistration`` years ago is erased from the portal, with everything about them
(relations, notes, attendance, confirmations, their "who consulted my file" codes and flags,
incident letters), and the official messages sent to them are anonymised (their reference
stays verifiable, nothing in it names anyone).

Where the figure comes from: article R. 5312-44 of the French labour code sets the *ceiling*
for the agency's own information system — at most twenty years after registration ends,
"sans préjudice des durées de conservation fixées dans les traitements comportant une durée
inférieure". The partner portal is such a processing with a shorter need: partners follow a
person while they are registered (and a training body reports on a training for six months
after it ends); two years after deregistration covers those needs and late disputes, and is
the default. The DPO sets it (``REMPART_RETENTION_YEARS``, 1 to 20); 20 is refused above.
The journal keeps its own, separate retention (``REMPART_JOURNAL_RETENTION_MONTHS``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

CEILING_YEARS = 20  # code du travail, art. R. 5312-44, al. 1
DEFAULT_YEARS = 2


@dataclass(frozen=True, slots=True)
class RetentionRule:
    """Years after the end of registration during which the portal keeps a person."""

    years_after_deregistration: int = DEFAULT_YEARS

    def __post_init__(self) -> None:
        if not 1 <= self.years_after_deregistration <= CEILING_YEARS:
            raise ValueError(f"retention is 1 to {CEILING_YEARS} years after deregistration")

    def cutoff(self, today: dt.date) -> dt.date:
        """People deregistered before this day are past the rule."""
        years = self.years_after_deregistration
        try:
            return today.replace(year=today.year - years)
        except ValueError:  # 29 February
            return today.replace(year=today.year - years, day=28)


@dataclass(slots=True)
class RetentionReport:
    """What a run found (dry run) or erased, in counts: the report names nobody."""

    cutoff: dt.date
    dry_run: bool
    persons: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows erased or anonymised

    def add(self, counts: dict[str, int]) -> None:
        """Add one batch's counts."""
        for table, n in counts.items():
            self.rows[table] = self.rows.get(table, 0) + n

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "persons": self.persons,
            "rows": dict(sorted(self.rows.items())),
        }
