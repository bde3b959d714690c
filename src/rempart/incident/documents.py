"""The documents of an incident, pure: the article 33 draft and the article 34 letters.

The draft carries every field of GDPR art. 33(3) and what the CNIL's online notification asks
(start, end, discovery and awareness of the breach, its nature and origin, categories of
people and of data, sensitive data, approximate numbers, likely consequences, measures taken
and proposed, whether and when people were or will be informed, the DPO's contact).

Each letter (art. 34) speaks to one person in plain French: *their* categories, the window,
what may follow (targeted phishing, identity theft), what to do and not to do, and the DPO.
It asks for nothing and contains no link: the person types the official address themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rempart.incident.model import (
    CATEGORY_ORDER,
    SENSITIVE,
    Exposure,
    Figures,
    Incident,
    PersonExposure,
    format_left,
)
from rempart.journal.model import format_time

CATEGORY_FR = {
    "identity": "votre identité (nom, prénom, date de naissance, identifiant France Travail)",
    "contact": "vos coordonnées (adresse électronique, téléphone, adresse postale)",
    "nir": "votre numéro de sécurité sociale (NIR)",
    "status": "votre situation d'inscription (statut, dates d'inscription et de dernière activité)",
    "training": "les formations que vous suivez ou avez suivies",
    "follow_up_notes": "les notes de suivi écrites par votre conseiller",
    "disability": "l'existence d'une reconnaissance de la qualité de travailleur handicapé (RQTH)",
}
CATEGORY_SHORT_FR = {
    "identity": "identité",
    "contact": "coordonnées",
    "nir": "NIR",
    "status": "situation d'inscription",
    "training": "formations",
    "follow_up_notes": "notes de suivi",
    "disability": "handicap (RQTH)",
}
MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Contacts:
    """Who the people and the regulator can reach, and where the official site is."""

    dpo: str = "Délégué à la protection des données, France Travail, dpo@francetravail.fr"
    official_site: str = "francetravail.fr"
    controller: str = "France Travail"


def date_fr(at: dt.datetime) -> str:
    """``3 juillet 2025`` (Paris time is not assumed: the date in UTC)."""
    at = at.astimezone(dt.UTC)
    return f"{at.day} {MONTHS_FR[at.month - 1]} {at.year}"


def _at(text: str | None) -> dt.datetime | None:
    return (
        dt.datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=dt.UTC) if text else None
    )


def likely_consequences(categories: set[str]) -> list[str]:
    """What may follow for people whose data of these categories left."""
    out = [
        "hameçonnage ciblé : des messages (courriel, SMS, appel) citant les vraies données "
        "pour obtenir des codes, des identifiants ou des coordonnées bancaires"
    ]
    if categories & {"contact", "identity"}:
        out.append(
            "démarchage ou usurpation d'identité à partir des nom, date de naissance et coordonnées"
        )
    if "nir" in categories:
        out.append("usurpation d'identité facilitée par le numéro de sécurité sociale")
    if "disability" in categories:
        out.append(
            "atteinte à la vie privée et risque de discrimination liés à une donnée de santé (RQTH)"
        )
    if "follow_up_notes" in categories:
        out.append("divulgation d'éléments personnels contenus dans les notes de suivi")
    return out


def notification_draft(
    incident: Incident,
    exposure: Exposure,
    *,
    now: dt.datetime,
    contacts: Contacts,
    measures_taken: list[str],
    measures_proposed: list[str],
    previous: Figures | None = None,
    informed: str = "",
) -> dict[str, object]:
    """The article 33 draft, pre-filled from the incident and its exposure."""
    figures = Figures.of(exposure)
    cats = [c for c in CATEGORY_ORDER if figures.by_category.get(c)]
    sensitive = [c for c in cats if c in SENSITIVE]
    left = incident.deadline - now
    return {
        "incident_id": incident.id,
        "kind": "complementary" if previous is not None and previous != figures else "initial",
        "drafted_at": format_time(now),
        "aware_at": format_time(incident.aware_at),
        "deadline": format_time(incident.deadline),
        "time_left": format_left(left),
        "late": left.total_seconds() < 0,
        "started_at": exposure.started_at,
        "ended_at": exposure.ended_at,
        "detected_at": format_time(incident.milestones["detected"])
        if "detected" in incident.milestones
        else format_time(incident.opened_at),
        "nature": (
            "Violation de confidentialité : consultation de données personnelles par un tiers "
            f"non autorisé au moyen de {incident.selector.describe()} du portail partenaires."
        ),
        "origin": "Compte(s) d'agent partenaire utilisé(s) par un tiers (acte malveillant externe "
        "présumé).",
        "selector": incident.selector.as_json(),
        "window": incident.window.as_json(),
        "data_categories": cats,
        "data_categories_fr": [CATEGORY_SHORT_FR[c] for c in cats],
        "persons_by_category": {c: figures.by_category[c] for c in cats},
        "categories_of_persons": ["demandeurs d'emploi", "jeunes suivis par une Mission Locale"],
        "approximate_persons": figures.persons,
        "approximate_records": figures.records,
        "sensitive_data": bool(sensitive),
        "sensitive_categories": sensitive,
        "likely_consequences": likely_consequences(set(cats)),
        "measures_taken": measures_taken,
        "measures_proposed": measures_proposed,
        "persons_informed": informed
        or (
            "Oui : chaque personne concernée reçoit un courrier (art. 34) nommant ses propres "
            "données exposées, par courriel ou par voie postale."
            if figures.persons
            else "Sans objet : aucune personne exposée."
        ),
        "dpo_contact": contacts.dpo,
        "controller": contacts.controller,
        "previous_figures": previous.as_json() if previous is not None else None,
        "figures": figures.as_json(),
    }


def render_notification(draft: dict[str, object]) -> str:
    """The draft in French, for a human (the same fields as the JSON)."""

    def lines(key: str) -> str:
        value = draft.get(key)
        items = value if isinstance(value, list) else [value]
        return "\n".join(f"  - {v}" for v in items) or "  - (aucune)"

    def joined(key: str) -> str:
        value = draft.get(key)
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)

    complementary = draft.get("kind") == "complementary"
    listed = draft.get("sensitive_categories")
    sensitive = (
        "OUI (" + ", ".join(CATEGORY_SHORT_FR.get(str(c), str(c)) for c in listed) + ")"
        if draft.get("sensitive_data") and isinstance(listed, list)
        else "non"
    )
    by_cat = draft.get("persons_by_category")
    counts = (
        "\n".join(f"  - {CATEGORY_SHORT_FR[c]} : {n} personnes" for c, n in by_cat.items())
        if isinstance(by_cat, dict)
        else ""
    )
    kind = (
        "NOTIFICATION COMPLÉMENTAIRE : les chiffres ont changé depuis la précédente."
        if complementary
        else "Notification initiale."
    )
    return f"""NOTIFICATION D'UNE VIOLATION DE DONNÉES PERSONNELLES (RGPD, article 33)
{kind}
Projet établi le {draft["drafted_at"]} — incident n° {draft["incident_id"]}

Échéance : {draft["deadline"]} (72 heures après la prise de connaissance, {draft["aware_at"]}).
Temps restant : {draft["time_left"]}.

1. Chronologie
  - début de la violation : {draft["started_at"] or "inconnu"}
  - fin de la violation : {draft["ended_at"] or "inconnue"}
  - découverte : {draft["detected_at"]}
  - prise de connaissance : {draft["aware_at"]}

2. Nature et origine
  {draft["nature"]}
  {draft["origin"]}

3. Personnes et données concernées
  - nombre approximatif de personnes : {draft["approximate_persons"]}
  - nombre approximatif d'enregistrements : {draft["approximate_records"]}
  - catégories de personnes : {joined("categories_of_persons")}
{counts}
  - données sensibles : {sensitive}

4. Conséquences probables
{lines("likely_consequences")}

5. Mesures prises
{lines("measures_taken")}

6. Mesures proposées
{lines("measures_proposed")}

7. Information des personnes
  {draft["persons_informed"]}

8. Contact
  {draft["dpo_contact"]}
"""


def letter_text(
    person: PersonExposure,
    *,
    name: str,
    address_lines: list[str],
    contacts: Contacts,
) -> str:
    """The article 34 letter to one person, naming only their own exposed categories (the
    official messages' register adds the reference and how to check it when it is sent)."""
    cats = person.ordered_categories()
    first, last = _at(person.first_at), _at(person.last_at)
    when = (
        f"le {date_fr(first)}"
        if first and last and first.date() == last.date()
        else f"entre le {date_fr(first)} et le {date_fr(last)}"
        if first and last
        else "récemment"
    )
    listed = "\n".join(f"  - {CATEGORY_FR[c]}" for c in cats)
    risks = "\n".join(f"  - {r}" for r in likely_consequences(set(cats)))
    sensitive = ""
    if "nir" in cats or "disability" in cats:
        sensitive = (
            "\nCertaines de ces données sont particulièrement protégées. Nous vous en informons "
            "pour que vous puissiez être d'autant plus vigilant.\n"
        )
    header = "\n".join([name, *address_lines])
    return f"""{header}

Objet : vos données personnelles ont été consultées sans autorisation

{name},

Nous vous informons qu'un compte d'accès d'un de nos partenaires a été utilisé par une personne
qui n'y était pas autorisée. Par ce moyen, {when}, cette personne a pu consulter les
informations suivantes vous concernant (identifiant {person.ft_id}) :
{listed}
{sensitive}
Ce qui peut arriver
{risks}

Ce que nous vous conseillons
  - Ne communiquez jamais un code reçu par SMS, un mot de passe ou vos coordonnées bancaires,
    même si votre interlocuteur cite vos vraies informations : nous ne vous les demanderons
    jamais.
  - Ne cliquez pas sur un lien reçu par message : tapez vous-même l'adresse officielle,
    {contacts.official_site}, dans votre navigateur.
  - Un message authentique de notre part porte une référence, comme celle de ce courrier
    (ci-dessous), que vous pouvez vérifier vous-même sur {contacts.official_site}.
  - En cas de doute, raccrochez et appelez le numéro officiel indiqué sur le site.
  - Si vous constatez une usurpation d'identité, déposez plainte et signalez-la-nous.

Ce que nous avons fait
  Le compte utilisé a été bloqué dès la détection, les accès ont été analysés pour savoir
  exactement quelles informations ont été vues, et l'autorité de protection des données (CNIL)
  a été informée.

Pour toute question, écrivez à notre délégué à la protection des données :
  {contacts.dpo}
Vous pouvez aussi adresser une réclamation à la CNIL (cnil.fr).

{contacts.controller}
"""
