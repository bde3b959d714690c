"""Canary records: plausible people that no relation ever reaches. Pure.

A canary is a person no partner follows: no enrolment, no assignment, no import row, never in a
portfolio, a lookup, a retention report or a person's own "who consulted my file". Reading one
can only mean someone is reaching beyond their scope, which the guard's canary detector turns
into an alert at once. ``identity`` draws one from a random source (the caller's
``secrets.SystemRandom``: what a canary looks like must not be predictable from the code).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from random import Random

from rempart.kernel.identifiers import FT_ID_LETTERS, make_nir

LAST_NAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefevre", "Faure", "Andre", "Mercier", "Blanc", "Guerin", "Boyer", "Garnier",
    "Chevalier", "Francois", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clement",
)  # fmt: skip
FIRST_NAMES = (
    ("Camille", "1"), ("Lucas", "1"), ("Hugo", "1"), ("Louis", "1"), ("Nathan", "1"),
    ("Thomas", "1"), ("Julien", "1"), ("Nicolas", "1"), ("Karim", "1"), ("Mehdi", "1"),
    ("Emma", "2"), ("Léa", "2"), ("Chloé", "2"), ("Manon", "2"), ("Sarah", "2"),
    ("Inès", "2"), ("Julie", "2"), ("Laura", "2"), ("Nadia", "2"), ("Sophie", "2"),
)  # fmt: skip
CITIES = (
    ("75011", "Paris"), ("69003", "Lyon"), ("13005", "Marseille"), ("31000", "Toulouse"),
    ("59000", "Lille"), ("33000", "Bordeaux"), ("44000", "Nantes"), ("67000", "Strasbourg"),
    ("35000", "Rennes"), ("34000", "Montpellier"), ("38000", "Grenoble"), ("76000", "Rouen"),
)  # fmt: skip
STREETS = (
    "rue de la République",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "boulevard Pasteur",
    "rue du Moulin",
    "place de la Mairie",
    "rue des Écoles",
    "allée des Tilleuls",
)


@dataclass(frozen=True, slots=True)
class CanaryIdentity:
    """What a canary shows: everything a real record has, made up."""

    ft_id: str
    nir: str
    last_name: str
    first_name: str
    birth_date: dt.date
    email: str
    phone: str
    address_line: str
    postcode: str
    city: str
    registration_date: dt.date


def random_ft_id(rng: Random) -> str:
    """An ft_id (the caller checks it is free)."""
    return f"{rng.randrange(10**7):07d}{rng.choice(FT_ID_LETTERS)}"


def identity(rng: Random, today: dt.date, mail_domain: str) -> CanaryIdentity:
    """A plausible job seeker, 18 to 60, registered within the last three years."""
    last = rng.choice(LAST_NAMES)
    first, sex = rng.choice(FIRST_NAMES)
    birth = today - dt.timedelta(days=rng.randrange(18 * 365, 60 * 365))
    postcode, city = rng.choice(CITIES)
    body = f"{sex}{birth.year % 100:02d}{birth.month:02d}{postcode[:2]}{rng.randrange(1, 999):03d}"
    body += f"{rng.randrange(1, 999):03d}"
    handle = f"{first.lower().replace('é', 'e').replace('è', 'e').replace('ï', 'i')}.{last.lower()}"
    return CanaryIdentity(
        ft_id=random_ft_id(rng),
        nir=make_nir(body),
        last_name=last,
        first_name=first,
        birth_date=birth,
        email=f"{handle}{rng.randrange(10, 99)}@{mail_domain}",
        phone=f"0{rng.choice('67')}{rng.randrange(10**8):08d}",
        address_line=f"{rng.randrange(1, 120)} {rng.choice(STREETS)}",
        postcode=postcode,
        city=city,
        registration_date=today - dt.timedelta(days=rng.randrange(30, 3 * 365)),
    )
