"""``MemoryPersonErasure``: the twin of ``SqlPersonErasure`` over plain rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class ErasureTables:
    """People (id -> ft_id, deregistration date, canary) and rows about them per table."""

    persons: dict[int, tuple[str, dt.date | None, bool]] = field(default_factory=dict)
    by_person: dict[str, list[int]] = field(default_factory=dict)  # table -> person ids
    by_ft_id: dict[str, list[str]] = field(default_factory=dict)  # table -> ft_ids
    messages: dict[str, str] = field(default_factory=dict)  # reference -> ft_id ('' anonymised)


class MemoryPersonErasure:
    """Implements ``PersonErasure`` in memory."""

    def __init__(self, tables: ErasureTables | None = None) -> None:
        self.t = tables or ErasureTables()

    def past(
        self, deregistered_before: dt.date, after_id: int, limit: int
    ) -> list[tuple[int, str]]:
        """Real people deregistered before the day, by id."""
        found = [
            (pid, ft)
            for pid, (ft, gone, canary) in sorted(self.t.persons.items())
            if gone is not None and gone < deregistered_before and not canary and pid > after_id
        ]
        return found[:limit]

    def related(self, person_ids: Sequence[int], ft_ids: Sequence[str]) -> dict[str, int]:
        """Rows about these people, per table."""
        ids, fts = set(person_ids), set(ft_ids)
        out = {"persons": len(ids & set(self.t.persons))}
        out |= {t: sum(p in ids for p in rows) for t, rows in self.t.by_person.items()}
        out |= {t: sum(f in fts for f in rows) for t, rows in self.t.by_ft_id.items()}
        out["official_messages"] = sum(f in fts for f in self.t.messages.values())
        return out

    def erase(self, person_ids: Sequence[int], ft_ids: Sequence[str]) -> dict[str, int]:
        """Delete the people and everything about them; anonymise their messages."""
        out = self.related(person_ids, ft_ids)
        ids, fts = set(person_ids), set(ft_ids)
        for table, rows in self.t.by_person.items():
            self.t.by_person[table] = [p for p in rows if p not in ids]
        for table, ft_rows in self.t.by_ft_id.items():
            self.t.by_ft_id[table] = [f for f in ft_rows if f not in fts]
        for ref, ft in self.t.messages.items():
            if ft in fts:
                self.t.messages[ref] = ""
        for pid in ids:
            self.t.persons.pop(pid, None)
        return out
