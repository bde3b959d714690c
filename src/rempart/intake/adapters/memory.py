"""``MemoryIntakeStore``: the twin of ``SqlIntakeStore``, with the same semantics (upsert by
natural key, unchanged rows untouched, canaries nobody's reference and moved aside, imported
relations the file no longer lists ended as of yesterday, rollback to the last checkpoint)."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from rempart.intake.model import (
    AgentRowIn,
    ImportFile,
    OrgRow,
    PersonRowIn,
    RelationRowIn,
    TrainingRowIn,
)
from rempart.intake.ports import AgentRef, Upserted
from rempart.kernel.actors import OrgKind, Role


@dataclass
class IntakeTables:
    """The rows the twin holds (tests seed and read them directly)."""

    organisations: dict[str, dict[str, Any]] = field(default_factory=dict)
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)
    persons: dict[str, dict[str, Any]] = field(default_factory=dict)
    trainings: dict[int, dict[str, Any]] = field(default_factory=dict)
    enrolments: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    assignments: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    batches: dict[int, dict[str, Any]] = field(default_factory=dict)


class MemoryIntakeStore:
    """Implements ``IntakeStore`` in memory."""

    def __init__(self, tables: IntakeTables | None = None) -> None:
        self.t = tables or IntakeTables()
        self._committed: IntakeTables | None = None
        self._listed: dict[ImportFile, set[tuple[int, int]]] = {}
        self._ids = itertools.count(1_000_000)

    def start(self) -> None:
        """Remember the state to roll back to."""
        self._committed = copy.deepcopy(self.t)
        self._listed = {ImportFile.ENROLMENTS: set(), ImportFile.ASSIGNMENTS: set()}

    def checkpoint(self) -> None:
        """The current state becomes the one to roll back to."""
        self._committed = copy.deepcopy(self.t)

    def finish(self, *, keep: bool) -> None:
        """Keep or roll back."""
        if not keep and self._committed is not None:
            for name in vars(self.t):
                setattr(self.t, name, getattr(self._committed, name))
        self._committed = None

    def begin_batch(self, ran_by: str, source: str, at: dt.datetime) -> int:
        """Record the start of a run."""
        batch_id = len(self.t.batches) + 1
        self.t.batches[batch_id] = {"ran_by": ran_by, "source": source, "started_at": at}
        return batch_id

    def end_batch(
        self, batch_id: int, counts: dict[str, object], rejected: int, at: dt.datetime
    ) -> None:
        """Record what the run did."""
        self.t.batches[batch_id].update(counts=counts, rejected=rejected, finished_at=at)

    def organisation_kinds(self, ids: Collection[str]) -> dict[str, OrgKind]:
        """Kinds of the existing organisations."""
        return {
            i: OrgKind(self.t.organisations[i]["kind"]) for i in ids if i in self.t.organisations
        }

    def agents(self, logins: Collection[str]) -> dict[str, AgentRef]:
        """The existing accounts."""
        out = {}
        for login in logins:
            a = self.t.agents.get(login)
            if a is not None:
                kind = OrgKind(self.t.organisations[a["org_id"]]["kind"])
                out[login] = AgentRef(a["id"], a["org_id"], kind, frozenset(a["roles"]))
        return out

    def person_ids(self, ft_ids: Collection[str]) -> dict[str, int]:
        """Ids of the real people."""
        return {
            f: self.t.persons[f]["id"]
            for f in ft_ids
            if f in self.t.persons and not self.t.persons[f]["is_canary"]
        }

    def training_orgs(self, ids: Collection[int]) -> dict[int, str]:
        """Training bodies of the existing trainings."""
        return {i: self.t.trainings[i]["org_id"] for i in ids if i in self.t.trainings}

    @staticmethod
    def _put(table: dict[Any, dict[str, Any]], key: Any, values: dict[str, Any]) -> int:
        """0: unchanged, 1: inserted, 2: updated."""
        found = table.get(key)
        if found is None:
            table[key] = dict(values)
            return 1
        if all(found.get(k) == v for k, v in values.items()):
            return 0
        found.update(values)
        return 2

    @staticmethod
    def _tally(outcomes: list[int], keys: list[str] | None = None) -> Upserted:
        new = tuple(k for k, o in zip(keys or [], outcomes, strict=False) if o == 1)
        return Upserted(outcomes.count(1), outcomes.count(2), new)

    def upsert_organisations(self, rows: Sequence[OrgRow]) -> Upserted:
        """Organisations by id."""
        return self._tally(
            [
                self._put(
                    self.t.organisations,
                    r.id,
                    {"kind": str(r.kind), "name": r.name, "siret": r.siret, "region": r.region},
                )
                for r in rows
            ]
        )

    def upsert_agents(
        self, rows: Sequence[tuple[AgentRowIn, frozenset[Role]]], at: dt.datetime
    ) -> Upserted:
        """Accounts by login; a new one must enrol."""
        outcomes = []
        for row, roles in rows:
            values: dict[str, Any] = {
                "email": row.email,
                "org_id": row.org_id,
                "roles": frozenset(roles),
                "end_date": row.end_date,
                "training_valid_until": row.training_valid_until,
            }
            if row.login not in self.t.agents:
                values.update(id=next(self._ids), created_at=at, enrolment_pending=True)
            outcomes.append(self._put(self.t.agents, row.login, values))
        return self._tally(outcomes, [r.login for r, _ in rows])

    def upsert_persons(self, rows: Sequence[PersonRowIn]) -> Upserted:
        """People by ft_id; a canary holding one of them moves aside."""
        outcomes = []
        for r in rows:
            found = self.t.persons.get(r.ft_id)
            if found is not None and found["is_canary"]:
                self.t.persons[f"canary-{found['id']}"] = self.t.persons.pop(r.ft_id)
            values = {k: getattr(r, k) for k in PersonRowIn.__slots__ if k != "ft_id"}
            if r.ft_id not in self.t.persons:
                values.update(
                    id=next(self._ids),
                    is_canary=False,
                    last_activity_date=r.deregistration_date or r.registration_date,
                )
            outcomes.append(self._put(self.t.persons, r.ft_id, values))
        return self._tally(outcomes)

    def upsert_trainings(self, rows: Sequence[TrainingRowIn]) -> Upserted:
        """Trainings by id."""
        return self._tally(
            [
                self._put(
                    self.t.trainings,
                    r.id,
                    {
                        "org_id": r.org_id,
                        "title": r.title,
                        "start_date": r.start_date,
                        "end_date": r.end_date,
                    },
                )
                for r in rows
            ]
        )

    def _relations(
        self,
        file: ImportFile,
        table: dict[tuple[int, int], dict[str, Any]],
        rows: Sequence[tuple[int, int, str, RelationRowIn]],
    ) -> Upserted:
        outcomes = []
        for a, p, org, r in rows:
            values = {"org_id": org, "start_date": r.start_date, "end_date": r.end_date}
            values["imported"] = True
            if file is ImportFile.ENROLMENTS:
                values["confirmed"] = True  # the agency's prescription
            outcomes.append(self._put(table, (a, p), values))
            self._listed[file].add((a, p))
        return self._tally(outcomes)

    def upsert_enrolments(self, rows: Sequence[tuple[int, int, str, RelationRowIn]]) -> Upserted:
        """Enrolments by (training, person)."""
        return self._relations(ImportFile.ENROLMENTS, self.t.enrolments, rows)

    def upsert_assignments(self, rows: Sequence[tuple[int, int, str, RelationRowIn]]) -> Upserted:
        """The agency's assignments by (adviser, person)."""
        return self._relations(ImportFile.ASSIGNMENTS, self.t.assignments, rows)

    def mark_listed(self, file: ImportFile, pairs: Collection[tuple[int, int]]) -> None:
        """Remember these relations as listed."""
        self._listed[file].update(pairs)

    def end_unlisted(self, file: ImportFile, today: dt.date) -> list[tuple[str, int]]:
        """End the running imported relations the file no longer lists."""
        table = self.t.enrolments if file is ImportFile.ENROLMENTS else self.t.assignments
        per_org: dict[str, int] = {}
        for key, row in table.items():
            running = row["end_date"] is None or row["end_date"] >= today
            if row.get("imported") and running and key not in self._listed[file]:
                row["end_date"] = today - dt.timedelta(days=1)
                per_org[row["org_id"]] = per_org.get(row["org_id"], 0) + 1
        return sorted(per_org.items())
