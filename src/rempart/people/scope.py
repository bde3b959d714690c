"""Scope policy: which people an agent reaches, and which of their fields.

The heart of least privilege (CNIL SAN-2026-003: rights reached people the adviser did not
follow). An agent reaches a person only through a *relation*:

- ``ENROLMENT``: the person is enrolled in a training of the agent's training body, active or
  ended less than ``ScopeRules.enrolment_grace_months`` ago. Reached by the one role that
  truly needs organisation-wide sight of its trainees, ``training_manager``; this is the
  named organisation-wide access ``ORG_TRAINEES``.
- ``ASSIGNMENT``: an active follow-up assignment of the person to this very advisor.

No role reaches the whole population; no relation is implied by an organisation alone.
Pure module: no I/O, the caller loads the relations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rempart.kernel.actors import Agent, OrgKind, Role
from rempart.kernel.categories import DataCategory, Purpose
from rempart.kernel.clock import months_before
from rempart.kernel.errors import Forbidden, InvalidRequest, NotFound
from rempart.people.model import Person, Relations

C = DataCategory


class RelationKind(StrEnum):
    ENROLMENT = "enrolment"
    ENROLMENT_ENDED = "enrolment_ended"  # within the grace period after the training ended
    ENROLMENT_UNCONFIRMED = "enrolment_unconfirmed"  # made from a lookup, not yet confirmed
    ASSIGNMENT = "assignment"


class OrgWideAccess(StrEnum):
    """The only organisation-wide accesses that exist, each named for the need it serves."""

    ORG_TRAINEES = "org_trainees"  # a training manager follows every trainee of their body


@dataclass(frozen=True, slots=True)
class ScopeRules:
    enrolment_grace_months: int = 6


@dataclass(frozen=True, slots=True)
class ScopeDecision:
    relation: RelationKind
    purpose: Purpose
    categories: frozenset[DataCategory]


# Which purposes a role may declare, by the kind of organisation it works in. The first
# purpose is the role's usual one, used when none is declared.
_PURPOSES: dict[tuple[OrgKind, Role], tuple[Purpose, ...]] = {
    (OrgKind.TRAINING_BODY, Role.TRAINING_MANAGER): (Purpose.TRAINING_FOLLOW_UP, Purpose.ENROLMENT),
    (OrgKind.MISSION_LOCALE, Role.ADVISOR): (Purpose.YOUTH_FOLLOW_UP,),
    (OrgKind.CAP_EMPLOI, Role.ADVISOR): (Purpose.EMPLOYMENT_SUPPORT,),
    (OrgKind.AGENCY, Role.ADVISOR): (Purpose.EMPLOYMENT_SUPPORT,),
}

# The field matrix: (organisation kind, relation, purpose) -> data categories returned.
# A training body never receives the NIR nor disability data; disability data goes only to the
# assigned Cap emploi or agency adviser; the NIR only to the agency's own adviser.
_FIELDS: dict[tuple[OrgKind, RelationKind, Purpose], frozenset[DataCategory]] = {
    (OrgKind.TRAINING_BODY, RelationKind.ENROLMENT, Purpose.TRAINING_FOLLOW_UP): frozenset(
        {C.IDENTITY, C.CONTACT, C.TRAINING}
    ),
    (OrgKind.TRAINING_BODY, RelationKind.ENROLMENT, Purpose.ENROLMENT): frozenset(
        {C.IDENTITY, C.TRAINING}
    ),
    # Made from an exact lookup and not yet confirmed (by the person or the agency): no contact
    # data, so that a leaked (ft_id, birth date) pair never refreshes an old leak.
    (
        OrgKind.TRAINING_BODY,
        RelationKind.ENROLMENT_UNCONFIRMED,
        Purpose.TRAINING_FOLLOW_UP,
    ): frozenset({C.IDENTITY, C.TRAINING}),
    (OrgKind.TRAINING_BODY, RelationKind.ENROLMENT_UNCONFIRMED, Purpose.ENROLMENT): frozenset(
        {C.IDENTITY, C.TRAINING}
    ),
    # After the training ended, only what reporting on it needs.
    (OrgKind.TRAINING_BODY, RelationKind.ENROLMENT_ENDED, Purpose.TRAINING_FOLLOW_UP): frozenset(
        {C.IDENTITY, C.TRAINING}
    ),
    (OrgKind.MISSION_LOCALE, RelationKind.ASSIGNMENT, Purpose.YOUTH_FOLLOW_UP): frozenset(
        {C.IDENTITY, C.CONTACT, C.STATUS, C.FOLLOW_UP_NOTES}
    ),
    (OrgKind.CAP_EMPLOI, RelationKind.ASSIGNMENT, Purpose.EMPLOYMENT_SUPPORT): frozenset(
        {C.IDENTITY, C.CONTACT, C.STATUS, C.FOLLOW_UP_NOTES, C.DISABILITY}
    ),
    (OrgKind.AGENCY, RelationKind.ASSIGNMENT, Purpose.EMPLOYMENT_SUPPORT): frozenset(
        {C.IDENTITY, C.CONTACT, C.STATUS, C.NIR, C.FOLLOW_UP_NOTES, C.DISABILITY}
    ),
}

# Fields of the record by category. ``training`` and ``follow_up_notes`` are filled by the
# service from the caller's own organisation only.
CATEGORY_FIELDS: dict[DataCategory, tuple[str, ...]] = {
    C.IDENTITY: ("ft_id", "last_name", "first_name", "birth_date"),
    C.CONTACT: ("email", "phone", "postal_address"),
    C.NIR: ("nir",),
    C.STATUS: (
        "registration_status",
        "registration_date",
        "deregistration_date",
        "last_activity_date",
    ),
    C.TRAINING: ("trainings",),
    C.FOLLOW_UP_NOTES: ("follow_up_notes",),
    C.DISABILITY: ("rqth_since",),
}

# Organisations whose advisers follow people through individual assignments.
FOLLOW_UP_ORG_KINDS = frozenset({OrgKind.MISSION_LOCALE, OrgKind.CAP_EMPLOI, OrgKind.AGENCY})


def declarable_purposes(agent: Agent) -> tuple[Purpose, ...]:
    """Purposes this agent may declare, the usual one first (empty: no access to people)."""
    out: list[Purpose] = []
    for role in sorted(agent.roles):
        for purpose in _PURPOSES.get((agent.org_kind, role), ()):
            if purpose not in out:
                out.append(purpose)
    return tuple(out)


def enrols_people(agent: Agent) -> bool:
    """True for a role that enrols people (the only use of the exact lookup)."""
    return Purpose.ENROLMENT in declarable_purposes(agent)


def reaches_people(agent: Agent) -> bool:
    """True when some role of the agent gives access to people's records at all."""
    return bool(declarable_purposes(agent))


def has_org_wide_access(agent: Agent) -> frozenset[OrgWideAccess]:
    """The named organisation-wide accesses this agent holds."""
    if agent.org_kind is OrgKind.TRAINING_BODY and agent.has(Role.TRAINING_MANAGER):
        return frozenset({OrgWideAccess.ORG_TRAINEES})
    return frozenset()


def resolve_purpose(agent: Agent, declared: str | None) -> Purpose:
    """The purpose of a consultation: the declared one if the role may declare it."""
    allowed = declarable_purposes(agent)
    if not allowed:
        raise Forbidden("this role does not consult people's records")
    if declared is None or declared == "":
        return allowed[0]
    try:
        purpose = Purpose(declared)
    except ValueError:
        raise InvalidRequest("unknown purpose") from None
    if purpose not in allowed:
        raise InvalidRequest(f"purpose {purpose} may not be declared by this role")
    return purpose


def relation_of(
    agent: Agent, relations: Relations, today: dt.date, rules: ScopeRules
) -> RelationKind | None:
    """The strongest relation tying the agent to the person, or None."""
    if not agent.active:
        return None
    for a in relations.assignments:
        if (
            agent.org_kind in FOLLOW_UP_ORG_KINDS
            and agent.has(Role.ADVISOR)
            and a.agent_id == agent.id
            and a.org_id == agent.org_id
            and a.start_date <= today
            and (a.end_date is None or today <= a.end_date)
        ):
            return RelationKind.ASSIGNMENT
    if OrgWideAccess.ORG_TRAINEES in has_org_wide_access(agent):
        grace_from = months_before(today, rules.enrolment_grace_months)
        best: RelationKind | None = None
        for e in relations.enrolments:
            if e.org_id != agent.org_id or e.start_date > today:
                continue
            if today <= e.end_date:
                if e.confirmed:
                    return RelationKind.ENROLMENT
                best = RelationKind.ENROLMENT_UNCONFIRMED
            elif e.end_date >= grace_from and best is None:
                best = RelationKind.ENROLMENT_ENDED
        return best
    return None


def decide(
    agent: Agent,
    relations: Relations,
    today: dt.date,
    purpose: Purpose,
    rules: ScopeRules,
) -> ScopeDecision:
    """Decide what the agent may see of a person; NotFound when nothing ties them."""
    relation = relation_of(agent, relations, today, rules)
    if relation is None:
        raise NotFound()
    categories = _FIELDS.get((agent.org_kind, relation, purpose))
    if not categories:
        raise NotFound()
    return ScopeDecision(relation=relation, purpose=purpose, categories=categories)


def categories_for(
    org_kind: OrgKind, relation: RelationKind, purpose: Purpose
) -> frozenset[DataCategory]:
    """The data categories the field matrix gives (empty when none)."""
    return _FIELDS.get((org_kind, relation, purpose), frozenset())


def render_record(
    person: Person, categories: frozenset[DataCategory], extras: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The person's record limited to ``categories``; a withheld field is absent, not masked."""
    full: dict[str, Any] = {
        "ft_id": person.ft_id,
        "last_name": person.last_name,
        "first_name": person.first_name,
        "birth_date": person.birth_date.isoformat(),
        "email": person.email,
        "phone": person.phone,
        "postal_address": person.address.as_dict(),
        "nir": person.nir,
        "registration_status": str(person.registration_status),
        "registration_date": person.registration_date.isoformat(),
        "deregistration_date": (
            person.deregistration_date.isoformat() if person.deregistration_date else None
        ),
        "last_activity_date": person.last_activity_date.isoformat(),
        "rqth_since": person.rqth_since.isoformat() if person.rqth_since else None,
    }
    if extras:
        full.update(extras)
    out: dict[str, Any] = {}
    for category in DataCategory:
        if category in categories:
            for name in CATEGORY_FIELDS[category]:
                if name in full:
                    out[name] = full[name]
    return out


def render_lookup(person: Person) -> dict[str, str]:
    """The minimal answer of the exact lookup (ft_id + birth date), outside scope."""
    return {"ft_id": person.ft_id, "last_name": person.last_name, "first_name": person.first_name}
