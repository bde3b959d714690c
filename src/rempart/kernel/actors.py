"""The entities of the partner portal: people, organisations, agents and their relations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class OrgKind(StrEnum):
    AGENCY = "agency"
    TRAINING_BODY = "training_body"
    MISSION_LOCALE = "mission_locale"
    CAP_EMPLOI = "cap_emploi"


class Role(StrEnum):
    ADVISOR = "advisor"
    TRAINING_MANAGER = "training_manager"
    ACCOUNT_MANAGER = "account_manager"
    SECURITY_OFFICER = "security_officer"
    DPO = "dpo"
    ADMIN = "admin"


PRIVILEGED_ROLES = frozenset({Role.ACCOUNT_MANAGER, Role.ADMIN, Role.SECURITY_OFFICER})


class App(StrEnum):
    """The partner applications served by the one portal; each can be switched off alone."""

    TRAINING_FOLLOW_UP = "training_follow_up"
    YOUTH_FOLLOW_UP = "youth_follow_up"
    CAP_EMPLOI = "cap_emploi"
    AGENCY = "agency"


APP_OF_ORG_KIND: dict[OrgKind, App] = {
    OrgKind.TRAINING_BODY: App.TRAINING_FOLLOW_UP,
    OrgKind.MISSION_LOCALE: App.YOUTH_FOLLOW_UP,
    OrgKind.CAP_EMPLOI: App.CAP_EMPLOI,
    OrgKind.AGENCY: App.AGENCY,
}


@dataclass(frozen=True, slots=True)
class Organisation:
    id: str
    kind: OrgKind
    name: str
    siret: str
    region: str = ""

    @property
    def app(self) -> App:
        """The partner app this organisation's agents use."""
        return APP_OF_ORG_KIND[self.kind]


@dataclass(frozen=True, slots=True)
class Agent:
    id: int
    login: str
    email: str
    org_id: str
    org_kind: OrgKind
    roles: frozenset[Role]
    active: bool = True
    created_at: dt.datetime | None = None
    end_date: dt.date | None = None
    training_valid_until: dt.date | None = None
    probation_until: dt.datetime | None = None  # a new account's first weeks: small budgets

    def has(self, role: Role) -> bool:
        """True when the agent holds ``role``."""
        return role in self.roles

    @property
    def privileged(self) -> bool:
        """Privileged roles must use the phishing-resistant factor."""
        return bool(self.roles & PRIVILEGED_ROLES)
