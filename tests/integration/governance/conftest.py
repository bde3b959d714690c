"""The governance ports under contract: one fixture, three backends (memory, SQLite, PostgreSQL).

Each backend gives the same ports and the same way to seed organisations and accounts and to
look at the factors an account holds, so that every contract test asserts the same thing of
the memory twins and of the SQL adapters.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from rempart.db.engine import make_engine
from rempart.db.migrate import upgrade
from rempart.db.schema.core import AgentRow, OrganisationRow
from rempart.db.schema.signin import RecoveryCodeRow, WebauthnCredentialRow
from rempart.governance.adapters.memory import (
    MemoryAccountRequestStore,
    MemoryAccountStore,
    MemoryEnrolmentTokenStore,
    MemoryGovernanceTables,
    MemoryOrgSuspensionStore,
    MemoryReviewStore,
)
from rempart.governance.adapters.sql import (
    SqlAccountRequestStore,
    SqlAccountStore,
    SqlEnrolmentTokenStore,
    SqlOrgSuspensionStore,
    SqlReviewStore,
)
from rempart.kernel.actors import Organisation, OrgKind, Role
from rempart.kernel.identifiers import make_siret
from tests.factories import NOW

CREATED = NOW - dt.timedelta(days=400)


@dataclass(frozen=True)
class Factors:
    """What an account holds to sign in with."""

    password_hash: str
    totp_secret: str
    totp_last_step: int
    security_keys: int
    recovery_codes: int


@dataclass
class Backend(ABC):
    """The governance ports of one backend, and how to seed and inspect what they store."""

    name: str
    accounts: Any  # AccountStandings + AccountRecords + AccountListings
    requests: Any  # AccountRequests
    tokens: Any  # EnrolmentTokens
    suspensions: Any  # OrgSuspensions
    reviews: Any  # ReviewCampaigns + ReviewItems
    orgs: dict[str, str] = field(default_factory=dict)  # name -> id
    agents: dict[str, int] = field(default_factory=dict)  # login -> id

    @abstractmethod
    def org(self, name: str, kind: OrgKind) -> str:
        """Store an organisation."""

    @abstractmethod
    def agent(self, login: str, org: str, *roles: Role, **extra: object) -> int:
        """Store an account (created 400 days ago unless said) in the organisation ``org``."""

    @abstractmethod
    def give_factors(self, agent_id: int) -> None:
        """Give the account a security key and a recovery code (sign-in's tables)."""

    @abstractmethod
    def factors(self, agent_id: int) -> Factors:
        """What the account holds to sign in with."""


class SqlBackend(Backend):
    engine: Engine

    def org(self, name: str, kind: OrgKind) -> str:
        org_id = f"{kind.value[:3].upper()}-{len(self.orgs) + 1:04d}"
        with self.engine.begin() as c:
            c.execute(
                insert(OrganisationRow).values(
                    id=org_id,
                    kind=str(kind),
                    name=name,
                    siret=make_siret(f"{len(self.orgs) + 1:013d}"),
                    region="",
                )
            )
        self.orgs[name] = org_id
        return org_id

    def agent(self, login: str, org: str, *roles: Role, **extra: object) -> int:
        values: dict[str, object] = {
            "login": login,
            "email": f"{login}@example.fr",
            "org_id": self.orgs[org],
            "roles": " ".join(sorted(str(r) for r in roles)),
            "active": True,
            "created_at": CREATED,
            **extra,
        }
        with self.engine.begin() as c:
            res = c.execute(insert(AgentRow).values(**values))
        self.agents[login] = int(res.inserted_primary_key[0])  # type: ignore[index]
        return self.agents[login]

    def give_factors(self, agent_id: int) -> None:
        with self.engine.begin() as c:
            c.execute(
                insert(WebauthnCredentialRow).values(
                    agent_id=agent_id,
                    credential_id=f"key-{agent_id}".encode(),
                    public_key=b"pk",
                    sign_count=0,
                    name="key",
                    created_at=NOW,
                )
            )
            c.execute(
                insert(RecoveryCodeRow).values(
                    agent_id=agent_id, code_hash=f"{agent_id:064d}", created_at=NOW
                )
            )

    def factors(self, agent_id: int) -> Factors:
        with self.engine.connect() as c:
            row = c.execute(select(AgentRow.__table__).where(AgentRow.id == agent_id)).one()
            keys = c.execute(
                select(func.count()).where(WebauthnCredentialRow.agent_id == agent_id)
            ).scalar_one()
            codes = c.execute(
                select(func.count()).where(RecoveryCodeRow.agent_id == agent_id)
            ).scalar_one()
        return Factors(row.password_hash, row.totp_secret, row.totp_last_step, keys, codes)


class MemoryBackend(Backend):
    tables: MemoryGovernanceTables

    def org(self, name: str, kind: OrgKind) -> str:
        org_id = f"{kind.value[:3].upper()}-{len(self.orgs) + 1:04d}"
        self.tables.add_organisation(
            Organisation(org_id, kind, name, make_siret(f"{len(self.orgs) + 1:013d}"))
        )
        self.orgs[name] = org_id
        return org_id

    def agent(self, login: str, org: str, *roles: Role, **extra: object) -> int:
        extra.setdefault("created_at", CREATED)
        self.agents[login] = self.tables.add_account(login, self.orgs[org], roles, **extra)
        return self.agents[login]

    def give_factors(self, agent_id: int) -> None:
        self.tables.security_keys.setdefault(agent_id, []).append(f"key-{agent_id}")
        self.tables.recovery_codes.setdefault(agent_id, []).append(f"{agent_id:064d}")

    def factors(self, agent_id: int) -> Factors:
        row = self.tables.accounts[agent_id]
        return Factors(
            row.password_hash,
            row.totp_secret,
            row.totp_last_step,
            len(self.tables.security_keys.get(agent_id, [])),
            len(self.tables.recovery_codes.get(agent_id, [])),
        )


def _seed(b: Backend) -> Backend:
    b.org("Agence Paris 2e", OrgKind.AGENCY)
    b.org("Formations Dupont", OrgKind.TRAINING_BODY)
    b.org("Formations Martin", OrgKind.TRAINING_BODY)
    b.org("Mission Locale Nord", OrgKind.MISSION_LOCALE)
    b.agent("tm.dupont", "Formations Dupont", Role.TRAINING_MANAGER)
    b.agent("tm.martin", "Formations Martin", Role.TRAINING_MANAGER)
    b.agent("am.dupont", "Formations Dupont", Role.ACCOUNT_MANAGER)
    b.agent("ml.adv1", "Mission Locale Nord", Role.ADVISOR)
    b.agent("ag.sec", "Agence Paris 2e", Role.SECURITY_OFFICER)
    b.agent("ag.dpo", "Agence Paris 2e", Role.DPO)
    b.agent("ag.admin", "Agence Paris 2e", Role.ADMIN)
    return b


def _memory() -> MemoryBackend:
    tables = MemoryGovernanceTables()
    reviews = MemoryReviewStore(tables)
    b = MemoryBackend(
        "memory",
        accounts=MemoryAccountStore(tables),
        requests=MemoryAccountRequestStore(tables),
        tokens=MemoryEnrolmentTokenStore(tables),
        suspensions=MemoryOrgSuspensionStore(tables),
        reviews=reviews,
    )
    b.tables = tables
    return b


def _sql(name: str, engine: Engine) -> SqlBackend:
    b = SqlBackend(
        name,
        accounts=SqlAccountStore(engine),
        requests=SqlAccountRequestStore(engine),
        tokens=SqlEnrolmentTokenStore(engine),
        suspensions=SqlOrgSuspensionStore(engine),
        reviews=SqlReviewStore(engine),
    )
    b.engine = engine
    return b


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    """The governance ports on one backend, seeded with a small world."""
    if request.param == "memory":
        yield _seed(_memory())
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db')}/rempart.db"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    upgrade(url)
    engine = make_engine(url)
    try:
        yield _seed(_sql(request.param, engine))
    finally:
        engine.dispose()
