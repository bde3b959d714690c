"""A deterministic synthetic population: people, organisations, agents and their relations.

Realistic enough to exercise the scope policy, the exposure budgets and the detectors at the
scale of the real register (6 million people), and cheap enough to build that in minutes:
Faker ``fr_FR`` is asked once for pools of names, streets, places and companies, then a
seeded ``random.Random`` combines them (Faker per row is far too slow for millions).

Determinism: the same ``(persons, seed, today)`` always gives the same rows, because every
random stream is a ``random.Random`` seeded from a string (hashed with SHA-512 by Python,
independent of ``PYTHONHASHSEED``), and people are generated in fixed chunks of ``CHUNK``
each with its own stream. A chunk never depends on another: the figures that tie people to
advisers and trainings are cumulative quotas (``_cum``), so the first ordinal of every
category in a chunk is known from the chunk's position alone.

Shapes: every figure lives in ``Shape`` with where it comes from. "Issue 2" is the
foundation issue of the project; "team decision" marks figures agreed when the seeding
work was split; "chosen" marks plausible values picked here, not measured anywhere.

Safety of the synthetic data: e-mail addresses use the reserved ``.example`` top-level
domain (RFC 2606), so nothing Rempart drafts or sends can reach a real mailbox. Phone
numbers are random French mobile numbers (06/07) because nothing in Rempart sends text
messages; if that changes, move them to the ARCEP range reserved for fiction.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata
import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from random import Random

from argon2 import PasswordHasher
from faker import Faker

from rempart.kernel.actors import OrgKind, Role
from rempart.kernel.identifiers import FT_ID_LETTERS, ft_id_from_number, make_nir, make_siret
from rempart.people.model import AttendanceMark, PersonKind, RegistrationStatus

YEAR = 365.25  # days; ages are drawn a couple of days clear of birthdays
CHUNK = 20_000  # people per generated chunk; part of the determinism contract, do not tune
FT_ID_SPACE = 10_000_000 * len(FT_ID_LETTERS)  # ft_id_from_number is a bijection on this range

Row = dict[str, object]


@dataclass(frozen=True, slots=True)
class Shape:
    """Every figure that shapes the population, each with where it comes from."""

    # Organisations.
    persons_per_agency: int = 20_000  # team decision: one agency per ~20,000 people, at least 1
    persons_per_training_body: int = 150  # issue 2: about one training body per 150 people
    # Issue 2 asks for "a long tail of training-body sizes"; a Pareto law shifted to start at
    # zero (Lomax) gives it. Chosen: 1.3 (1.16 would be the "80/20" law) keeps a few bodies
    # with thousands of trainees at full scale and most with a handful.
    training_body_pareto_alpha: float = 1.3
    advisers_per_mission_locale: int = 12  # chosen: a Mission Locale with about a dozen advisers
    advisers_per_cap_emploi: int = 10  # chosen: a Cap emploi with about ten advisers

    # People.
    # Order of magnitude: about 1.1 million youths followed by Missions Locales a year against
    # about 6 million registered job seekers, rounded to 15 %. Youths are 16-25 (issue 2).
    youth_share: Fraction = Fraction(15, 100)
    youth_age: tuple[int, int] = (16, 25)
    job_seeker_age: tuple[int, int] = (18, 64)  # chosen: working age
    deregistered_rate: float = 0.10  # chosen: people still on file after leaving the register
    suspended_rate: float = 0.02  # chosen
    # RQTH (disability recognition): team decision of ~3 % overall. People followed by Cap
    # emploi all hold one (1.5 % of job seekers); 1.8 % of everyone else brings the total
    # to about 3 %.
    cap_emploi_share: Fraction = Fraction(15, 1000)
    rqth_other_rate: float = 0.018
    # Canary ("honey") records that no relation ever reaches: team decision of about one per
    # 10,000 people and at least 5, scattered through the identifier space.
    canary_every: int = 10_000
    min_canaries: int = 5

    # Follow-up.
    youth_followed_share: Fraction = Fraction(9, 10)  # chosen: most youths in active follow-up
    youth_caseload: tuple[int, int] = (50, 150)  # issue 2: 50-150 youths per ML adviser
    cap_emploi_caseload: tuple[int, int] = (50, 150)  # chosen: same bounds as Missions Locales
    # Chosen: France Travail portfolios run from under a hundred people (intensive support)
    # to several hundred ("suivi"); most job seekers have a named adviser.
    agency_followed_share: Fraction = Fraction(9, 10)
    agency_caseload: tuple[int, int] = (100, 300)
    previous_assignment_rate: float = 0.10  # chosen: followed before by a colleague, now ended
    note_rate: float = 0.04  # chosen: "a few follow-up notes" (issue 2 asks for notes to exist)

    # Trainings. Chosen: one person in four has an enrolment in the window, the order of
    # magnitude of about a million training entries a year for ~6 million registered.
    enrolment_share: Fraction = Fraction(25, 100)
    trainees_per_training: tuple[int, int] = (8, 20)  # chosen: a training group
    training_weeks: tuple[int, int] = (3, 20)  # chosen
    # When trainings run, relative to today; the brief asks "most current, some ended within
    # months, some long ago". Recent ends fall inside the default 6-month scope grace
    # (ScopeRules.enrolment_grace_months); long-ago ends fall well outside it.
    training_timing: tuple[tuple[str, int], ...] = (
        ("current", 55),
        ("recent", 25),
        ("long_ago", 15),
        ("upcoming", 5),
    )
    recent_end_days: tuple[int, int] = (1, 150)
    long_ago_end_days: tuple[int, int] = (240, 1100)
    absent_rate: float = 0.08  # chosen: attendance marks on the last sessions
    excused_rate: float = 0.04  # chosen

    # Agents.
    account_managers_per_org: int = 2  # issue 2: at least two per partner organisation
    trainees_per_training_manager: int = 250  # chosen: one more manager per 250 trainees
    max_training_managers: int = 8  # chosen
    recent_agent_rate: float = 0.10  # chosen: accounts created in the last two months
    # Chosen: "mostly in the future"; the rest have a lapsed mandatory training and are
    # suspended by governance, which a realistic population must contain.
    expired_training_rate: float = 0.05


DEFAULT_SHAPE = Shape()

TRAINING_TITLES = (
    "Titre professionnel Soudeur TIG électrode enrobée",
    "Titre professionnel Secrétaire assistant",
    "Cariste d'entrepôt CACES R489",
    "Développeur web et web mobile",
    "Aide-soignant",
    "Agent de propreté et d'hygiène",
    "Conducteur de transport en commun sur route",
    "Comptable assistant",
    "Anglais professionnel",
    "Bureautique : tableur et traitement de texte",
    "Maçon",
    "Électricien d'équipement du bâtiment",
    "Cuisinier",
    "Serveur en restauration",
    "Préparateur de commandes en entrepôt",
    "Assistant de vie aux familles",
    "Installateur en thermique et sanitaire",
    "Vendeur conseil en magasin",
    "Employé commercial en magasin",
    "Technicien d'assistance informatique",
    "Gestionnaire de paie",
    "Agent de sûreté et de sécurité privée",
    "Conducteur routier de marchandises sur porteur",
    "Français langue étrangère",
    "Remise à niveau : savoirs de base",
    "Agent de restauration",
    "Menuisier agenceur",
    "Peintre en bâtiment",
)
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
TRAINING_BODY_NAMES = (
    "Institut {last}",
    "Centre de formation {last}",
    "{company} Formation",
    "Académie des métiers de {city}",
    "Formations {last} et associés",
    "École {last}",
    "Greta de {city}",
    "Campus pro {city}",
)
# Notes carry no personal detail: the follow-up, never the person's private life.
NOTE_TEXTS = (
    "Entretien de suivi : point sur les candidatures en cours.",
    "Atelier CV réalisé ; relance prévue dans quinze jours.",
    "Orientation vers une formation qualifiante discutée.",
    "Rendez-vous non honoré, nouveau rendez-vous proposé.",
    "Simulation d'entretien d'embauche effectuée.",
    "Projet professionnel précisé ; recherche ciblée sur le secteur visé.",
    "Point mensuel : démarches à jour.",
    "Aide à la mobilité évoquée ; dossier à compléter.",
)
# Reserved top-level domain (RFC 2606): nothing sent to these addresses can reach anyone.
EMAIL_DOMAINS = (
    ("orange.example", 24),
    ("gmail.example", 30),
    ("free.example", 10),
    ("laposte.example", 8),
    ("hotmail.example", 12),
    ("sfr.example", 6),
    ("outlook.example", 6),
    ("yahoo.example", 4),
)
AGENCY_MAIL_DOMAIN = "francetravail.example"
# INSEE codes of a few countries of birth (NIR of people born abroad: department 99).
COUNTRY_CODES = ("350", "351", "352", "134", "139", "127", "109", "132", "333", "336")
BORN_ABROAD_RATE = 0.08  # chosen

# Passwords: four character kinds, no look-alikes (0/O, 1/l/I) for people copying them.
PW_LOWER = "abcdefghijkmnopqrstuvwxyz"
PW_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
PW_DIGITS = "23456789"
PW_SYMBOLS = "!#%*+-=?@_"
PW_LENGTH = 20
BASE32 = string.ascii_uppercase + "234567"
TOTP_SECRET_LENGTH = 32  # 160 bits, RFC 4226's recommended key size for HMAC-SHA1
SALT_BYTES = 16  # argon2-cffi's default salt length


def demo_password_hasher() -> PasswordHasher:
    """Argon2id at a deliberately cheap cost, for synthetic demo accounts only.

    Production cost makes hashing tens of thousands of demo agents take far too long. Each
    hash still has its own salt and the ``$argon2id$`` encoding carries its parameters, so
    the sign-in code, which verifies with the production hasher, sees through
    ``check_needs_rehash`` that this hash is too cheap and rehashes the password at
    production cost on the first successful sign-in.
    """
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def slug(text: str) -> str:
    """ASCII, lower-case, dash-separated form of a name (for logins and e-mail addresses)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _stream(name: str) -> Random:
    """A named random stream: reproducible synthetic data, never a secret for real use."""
    return Random(name)


def _cum(ordinal: int, share: Fraction) -> int:
    """How many of the first ``ordinal`` items fall in a category of exact share ``share``."""
    return ordinal * share.numerator // share.denominator


def split_total(total: int, lo: int, hi: int, rng: Random) -> list[int]:
    """Split ``total`` into random parts within ``[lo, hi]`` summing exactly to ``total``.

    A total below ``lo`` (a tiny population) is one part of that size.
    """
    if total <= 0:
        return []
    if total <= hi:
        return [total]
    n_min = -(-total // hi)
    n_max = total // lo
    if n_max < n_min:  # bounds too tight for this total: even parts, some below lo
        return [total // n_min + (1 if i < total % n_min else 0) for i in range(n_min)]
    n = min(max(round(total / ((lo + hi) / 2)), n_min), n_max)
    sizes = [lo] * n
    extra = total - n * lo
    weights = [rng.random() + 0.5 for _ in range(n)]
    scale = extra / sum(weights)
    for i, w in enumerate(weights):
        sizes[i] += min(hi - lo, int(w * scale))
    left = total - sum(sizes)
    order = rng.sample(range(n), n)
    while left:
        for i in order:
            take = min(left, hi - sizes[i])
            sizes[i] += take
            left -= take
            if not left:
                break
    return sizes


def pareto_sizes(total: int, count: int, alpha: float, rng: Random) -> list[int]:
    """``count`` sizes with a Pareto-like long tail, summing to ``total`` (each >= 1 if it can)."""
    base = 1 if total >= count else 0
    rest = total - base * count
    # Pareto minus one (Lomax): no floor, so most bodies are small and a few are huge.
    weights = [rng.paretovariate(alpha) - 1.0 for _ in range(count)]
    if not any(weights):
        weights = [1.0] * count
    scale = rest / sum(weights)
    shares = [w * scale for w in weights]
    sizes = [base + int(s) for s in shares]
    left = total - sum(sizes)
    by_fraction = sorted(range(count), key=lambda i: (-(shares[i] - int(shares[i])), i))
    for i in by_fraction[:left]:
        sizes[i] += 1
    return sizes


@dataclass(frozen=True, slots=True)
class Pools:
    """What Faker is asked for once; rows combine these."""

    last_names: tuple[str, ...]
    male_names: tuple[str, ...]
    female_names: tuple[str, ...]
    streets: tuple[str, ...]
    places: tuple[tuple[str, str], ...]  # (postcode, city)
    departments: tuple[tuple[str, str], ...]  # (code, name)
    regions: tuple[str, ...]
    companies: tuple[str, ...]
    slugs: dict[str, str] = field(default_factory=dict)


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _postcode(department: str, rng: Random) -> str:
    if department in ("2A", "2B"):
        return f"20{rng.randrange(0, 300):03d}"
    if len(department) == 3:  # overseas: 971..976
        return f"{department}{rng.randrange(0, 100):02d}"
    return f"{department}{rng.randrange(0, 1000):03d}"


def build_pools(seed: int) -> Pools:
    """Draw the name, street and place pools from Faker ``fr_FR``, seeded."""
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    rng = _stream(f"rempart:{seed}:pools")
    last_names = _unique([fake.last_name() for _ in range(4000)])
    male = _unique([fake.first_name_male() for _ in range(3000)])
    female = _unique([fake.first_name_female() for _ in range(3000)])
    streets = _unique([fake.street_name() for _ in range(3000)])
    departments = tuple(sorted({(d[0], d[1]) for d in (fake.department() for _ in range(3000))}))
    cities = _unique([fake.city() for _ in range(2500)])
    places = tuple((_postcode(rng.choice(departments)[0], rng), city) for city in cities)
    regions = _unique([fake.region() for _ in range(1000)])
    companies = _unique([fake.last_name() for _ in range(400)])
    pools = Pools(last_names, male, female, streets, places, departments, regions, companies)
    for name in (*last_names, *male, *female):
        pools.slugs[name] = slug(name)
    return pools


@dataclass(frozen=True, slots=True)
class OrgPlan:
    id: str
    kind: OrgKind
    name: str
    siret: str
    region: str

    def row(self) -> Row:
        """Row of ``organisations``."""
        return {
            "id": self.id,
            "kind": str(self.kind),
            "name": self.name,
            "siret": self.siret,
            "region": self.region,
        }


@dataclass(frozen=True, slots=True)
class AgentPlan:
    id: int
    login: str
    email: str
    org_id: str
    org_kind: OrgKind
    roles: tuple[Role, ...]
    created_at: dt.datetime
    training_valid_until: dt.date
    last_used_at: dt.datetime | None = None

    def row(self, password_hash: str, totp_secret: str) -> Row:
        """Row of ``agents``."""
        return {
            "id": self.id,
            "login": self.login,
            "email": self.email,
            "org_id": self.org_id,
            "roles": " ".join(sorted(str(r) for r in self.roles)),
            "active": True,
            "created_at": self.created_at,
            "end_date": None,
            "training_valid_until": self.training_valid_until,
            "password_hash": password_hash,
            "totp_secret": totp_secret,
            "totp_last_step": 0,
            "locked": False,
            "failed_logins": 0,
            "last_used_at": self.last_used_at,
        }


@dataclass(frozen=True, slots=True)
class TrainingPlan:
    id: int
    org_id: str
    title: str
    start: int  # date ordinals: cheap to compare in the hot loop
    end: int
    weeks: int
    weekdays: tuple[int, ...]
    first_session_id: int
    recorder: str  # the training manager who records attendance
    last_past_sessions: tuple[tuple[int, int], ...]  # (session id, day ordinal)

    @property
    def session_count(self) -> int:
        """Sessions run on ``weekdays`` every week from ``start``."""
        return self.weeks * len(self.weekdays)

    def row(self) -> Row:
        """Row of ``trainings``."""
        return {
            "id": self.id,
            "org_id": self.org_id,
            "title": self.title,
            "start_date": dt.date.fromordinal(self.start),
            "end_date": dt.date.fromordinal(self.end),
        }


@dataclass(slots=True)
class AdviserPool:
    """Advisers of one kind of organisation, in order, with cumulative caseloads.

    The ``k``-th followed person of this kind goes to adviser ``bisect_right(prefix, k)``.
    """

    prefix: list[int] = field(default_factory=list)
    agent_ids: list[int] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    org_ids: list[str] = field(default_factory=list)
    org_first: list[int] = field(default_factory=list)  # index of the org's first adviser
    org_last: list[int] = field(default_factory=list)

    def add_org(self, org_id: str, advisers: Sequence[tuple[int, str, int]]) -> None:
        """Append one organisation's advisers: (agent id, login, caseload)."""
        first = len(self.agent_ids)
        last = first + len(advisers) - 1
        for agent_id, login, caseload in advisers:
            self.prefix.append((self.prefix[-1] if self.prefix else 0) + caseload)
            self.agent_ids.append(agent_id)
            self.logins.append(login)
            self.org_ids.append(org_id)
            self.org_first.append(first)
            self.org_last.append(last)

    def adviser_for(self, ordinal: int) -> int:
        """Index of the adviser following the ``ordinal``-th followed person."""
        return bisect_right(self.prefix, ordinal)

    def colleague(self, index: int, rng: Random) -> int | None:
        """Another adviser of the same organisation, if there is one."""
        first, last = self.org_first[index], self.org_last[index]
        if first == last:
            return None
        other = rng.randint(first, last - 1)
        return other + 1 if other >= index else other


@dataclass(frozen=True, slots=True)
class Credential:
    """One agent's demo secrets, in the shape of the credentials file."""

    login: str
    password: str
    totp_secret: str
    salt: bytes
    org_id: str
    org_kind: OrgKind
    roles: tuple[Role, ...]
    training_valid_until: dt.date

    def as_json(self) -> dict[str, object]:
        """Entry of the credentials file."""
        return {
            "login": self.login,
            "password": self.password,
            "totp_secret": self.totp_secret,
            "org_id": self.org_id,
            "org_kind": str(self.org_kind),
            "roles": sorted(str(r) for r in self.roles),
            # Extra field: lets tools pick agents that governance does not suspend.
            "training_valid_until": self.training_valid_until.isoformat(),
        }


@dataclass(slots=True)
class Chunk:
    """Rows of one chunk of people and everything that ties them to organisations."""

    persons: list[Row] = field(default_factory=list)
    enrolments: list[Row] = field(default_factory=list)
    assignments: list[Row] = field(default_factory=list)
    notes: list[Row] = field(default_factory=list)
    attendance: list[Row] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Totals:
    """Exact counts fixed by the plan (tests and progress bars rely on them)."""

    persons: int
    canaries: int
    youths: int
    youths_followed: int
    cap_emploi_followed: int
    agency_followed: int
    enrolments: int


def _monday(ordinal: int) -> int:
    return ordinal - dt.date.fromordinal(ordinal).weekday()


def _rows_by_ordinals(rng: Random, positions: Sequence[int], count: int) -> dict[int, int]:
    """Pick ``count`` of ``positions`` at random; map each picked one to its rank among them."""
    picked = sorted(rng.sample(positions, count))
    return {pos: rank for rank, pos in enumerate(picked)}


class Population:
    """The plan of a synthetic population, and its rows on demand (chunk by chunk)."""

    def __init__(
        self, persons: int, seed: int, today: dt.date, shape: Shape = DEFAULT_SHAPE
    ) -> None:
        if persons < 1:
            raise ValueError("a population needs at least one person")
        self.size = persons
        self.seed = seed
        self.today = today
        self.shape = shape
        self.pools = build_pools(seed)
        self.orgs: list[OrgPlan] = []
        self.agents: list[AgentPlan] = []
        self.trainings: list[TrainingPlan] = []
        self.training_prefix: list[int] = []
        self.agency = AdviserPool()
        self.mission_locale = AdviserPool()
        self.cap_emploi = AdviserPool()
        self._logins: dict[str, int] = {}
        self._sirets: set[str] = set()
        self._session_seq = 0
        self.canary_ids = self._place_canaries()
        self._ft_affine = self._ft_permutation()
        self.totals = self._totals()
        self._plan()

    # ---- plan -------------------------------------------------------------------------------

    def _place_canaries(self) -> list[int]:
        sh = self.shape
        n = self.size
        count = min(max(sh.min_canaries, n // sh.canary_every), max(1, n // 10))
        rng = _stream(f"rempart:{self.seed}:canaries")
        block = n / count
        return sorted({rng.randint(int(k * block) + 1, int((k + 1) * block)) for k in range(count)})

    def _totals(self) -> Totals:
        sh = self.shape
        m = self.size - len(self.canary_ids)
        youths = _cum(m, sh.youth_share)
        job_seekers = m - youths
        cap = _cum(job_seekers, sh.cap_emploi_share)
        return Totals(
            persons=self.size,
            canaries=len(self.canary_ids),
            youths=youths,
            youths_followed=_cum(youths, sh.youth_followed_share),
            cap_emploi_followed=cap,
            agency_followed=_cum(job_seekers - cap, sh.agency_followed_share),
            enrolments=_cum(m, sh.enrolment_share),
        )

    def _siret(self, rng: Random) -> str:
        while True:
            siret = make_siret(
                f"{rng.randrange(100_000_000, 1_000_000_000)}{rng.randrange(10_000):04d}"
            )
            if siret not in self._sirets:
                self._sirets.add(siret)
                return siret

    def _org(self, kind: OrgKind, prefix: str, name: str, rng: Random) -> OrgPlan:
        org = OrgPlan(
            id=f"{prefix}-{len(self.orgs) + 1:06d}",
            kind=kind,
            name=name,
            siret=self._siret(rng),
            region=rng.choice(self.pools.regions),
        )
        self.orgs.append(org)
        return org

    def _agent(self, org: OrgPlan, roles: tuple[Role, ...], rng: Random) -> AgentPlan:
        pools = self.pools
        first = rng.choice(pools.male_names if rng.random() < 0.5 else pools.female_names)
        last = rng.choice(pools.last_names)
        base = f"{pools.slugs[first]}.{pools.slugs[last]}"[:56]
        seen = self._logins.get(base, 0)
        self._logins[base] = seen + 1
        login = base if seen == 0 else f"{base}{seen + 1}"
        domain = (
            AGENCY_MAIL_DOMAIN if org.kind is OrgKind.AGENCY else f"{slug(org.name)[:40]}.example"
        )
        sh = self.shape
        days = (
            rng.randint(1, 59) if rng.random() < sh.recent_agent_rate else rng.randint(60, 8 * 365)
        )
        created = dt.datetime.combine(
            self.today - dt.timedelta(days=days), dt.time(8), tzinfo=dt.UTC
        ) + dt.timedelta(seconds=rng.randrange(10 * 3600))
        # The one DPO stays usable: the demo needs that login to work.
        if rng.random() < sh.expired_training_rate and Role.DPO not in roles:
            valid_until = self.today - dt.timedelta(days=rng.randint(1, 200))
        else:
            valid_until = self.today + dt.timedelta(days=rng.randint(30, 730))
        agent = AgentPlan(
            id=len(self.agents) + 1,
            login=login,
            email=f"{login}@{domain}",
            org_id=org.id,
            org_kind=org.kind,
            roles=roles,
            created_at=created,
            training_valid_until=valid_until,
            # A working population: everyone signed in during the last week (derived from the
            # login, not drawn, so the random streams stay as they were). Without it the
            # inactivity job would disable the whole demo an hour after `serve` starts.
            last_used_at=max(
                created,
                dt.datetime.combine(
                    self.today - dt.timedelta(days=1 + zlib.crc32(login.encode()) % 6),
                    dt.time(15),
                    tzinfo=dt.UTC,
                ),
            ),
        )
        self.agents.append(agent)
        return agent

    def _staff(self, org: OrgPlan, rng: Random) -> None:
        for _ in range(self.shape.account_managers_per_org):
            self._agent(org, (Role.ACCOUNT_MANAGER,), rng)

    def _advisers(
        self, pool: AdviserPool, org: OrgPlan, caseloads: Sequence[int], rng: Random
    ) -> None:
        advisers = []
        for caseload in caseloads:
            agent = self._agent(org, (Role.ADVISOR,), rng)
            advisers.append((agent.id, agent.login, caseload))
        pool.add_org(org.id, advisers)

    def _plan(self) -> None:
        sh = self.shape
        rng = _stream(f"rempart:{self.seed}:plan")
        pools = self.pools
        totals = self.totals

        # Agencies: staff, then advisers sharing the agency's followed job seekers.
        agencies = max(1, round(self.size / sh.persons_per_agency))
        for a in range(agencies):
            city = rng.choice(pools.places)[1]
            org = self._org(OrgKind.AGENCY, "AG", f"France Travail {city}", rng)
            self._staff(org, rng)
            self._agent(org, (Role.SECURITY_OFFICER,), rng)
            self._agent(org, (Role.ADMIN,), rng)
            if a == 0:  # the national seat: the DPO and a second security officer and admin
                self._agent(org, (Role.DPO,), rng)
                self._agent(org, (Role.SECURITY_OFFICER,), rng)
                self._agent(org, (Role.ADMIN,), rng)
            quota = totals.agency_followed * (a + 1) // agencies
            quota -= totals.agency_followed * a // agencies
            caseloads = split_total(quota, *sh.agency_caseload, rng) or [0]
            self._advisers(self.agency, org, caseloads, rng)

        # Missions Locales: advisers with 50-150 youths, grouped a dozen per Mission Locale.
        self._grouped_orgs(
            self.mission_locale,
            OrgKind.MISSION_LOCALE,
            "ML",
            split_total(totals.youths_followed, *sh.youth_caseload, rng) or [0],
            sh.advisers_per_mission_locale,
            lambda: f"Mission Locale {rng.choice(pools.places)[1]}",
            rng,
        )
        # Cap emploi: named after a department, as the real structures are.
        self._grouped_orgs(
            self.cap_emploi,
            OrgKind.CAP_EMPLOI,
            "CE",
            split_total(totals.cap_emploi_followed, *sh.cap_emploi_caseload, rng) or [0],
            sh.advisers_per_cap_emploi,
            lambda: "Cap emploi {} ({})".format(*rng.choice(pools.departments)[::-1]),
            rng,
        )

        # Training bodies: a long tail of sizes; each runs trainings of a group of trainees.
        bodies = max(1, round(self.size / sh.persons_per_training_body))
        sizes = pareto_sizes(totals.enrolments, bodies, sh.training_body_pareto_alpha, rng)
        for size in sizes:
            template = rng.choice(TRAINING_BODY_NAMES)
            name = template.format(
                last=rng.choice(pools.last_names),
                company=rng.choice(pools.companies),
                city=rng.choice(pools.places)[1],
            )
            org = self._org(OrgKind.TRAINING_BODY, "OF", name, rng)
            managers = min(sh.max_training_managers, 1 + size // sh.trainees_per_training_manager)
            recorder = self._agent(org, (Role.TRAINING_MANAGER,), rng).login
            for _ in range(managers - 1):
                self._agent(org, (Role.TRAINING_MANAGER,), rng)
            self._staff(org, rng)
            for group in split_total(size, *sh.trainees_per_training, rng) or [0]:
                self._training(org, recorder, group, rng)

    def _grouped_orgs(
        self,
        pool: AdviserPool,
        kind: OrgKind,
        prefix: str,
        caseloads: list[int],
        per_org: int,
        name: Callable[[], str],
        rng: Random,
    ) -> None:
        count = max(1, round(len(caseloads) / per_org))
        for k in range(count):
            org = self._org(kind, prefix, name(), rng)
            self._staff(org, rng)
            mine = caseloads[len(caseloads) * k // count : len(caseloads) * (k + 1) // count]
            self._advisers(pool, org, mine, rng)

    def _training(self, org: OrgPlan, recorder: str, capacity: int, rng: Random) -> None:
        sh = self.shape
        today = self.today.toordinal()
        this_monday = _monday(today)
        weekdays = rng.choices(((0, 1, 2, 3, 4), (0, 1, 3), (1, 3)), weights=(5, 3, 2))[0]
        weeks = rng.randint(*sh.training_weeks)
        timing = rng.choices(
            [t for t, _ in sh.training_timing], weights=[w for _, w in sh.training_timing]
        )[0]
        if timing == "current":
            start = this_monday - 7 * rng.randrange(weeks)
        elif timing == "upcoming":
            start = this_monday + 7 * rng.randint(1, 4)
        else:
            lo, hi = sh.recent_end_days if timing == "recent" else sh.long_ago_end_days
            last_monday = _monday(today - rng.randint(lo, hi))
            if last_monday + weekdays[-1] >= today:
                last_monday -= 7
            start = last_monday - 7 * (weeks - 1)
        end = start + 7 * (weeks - 1) + weekdays[-1]
        first_session = self._session_seq + 1
        self._session_seq += weeks * len(weekdays)
        past: list[tuple[int, int]] = []
        if start <= today <= end:
            days = [start + 7 * w + d for w in range(weeks) for d in weekdays]
            n_past = bisect_left(days, today)
            past = [(first_session + i, days[i]) for i in range(max(0, n_past - 2), n_past)]
        begin = dt.date.fromordinal(start)
        training = TrainingPlan(
            id=len(self.trainings) + 1,
            org_id=org.id,
            title=f"{rng.choice(TRAINING_TITLES)} ({MONTHS_FR[begin.month - 1]} {begin.year})",
            start=start,
            end=end,
            weeks=weeks,
            weekdays=weekdays,
            first_session_id=first_session,
            recorder=recorder,
            last_past_sessions=tuple(past),
        )
        self.trainings.append(training)
        self.training_prefix.append(
            (self.training_prefix[-1] if self.training_prefix else 0) + capacity
        )

    # ---- fixed rows -------------------------------------------------------------------------

    def organisation_rows(self) -> list[Row]:
        """Rows of ``organisations``."""
        return [org.row() for org in self.orgs]

    def training_rows(self) -> list[Row]:
        """Rows of ``trainings``."""
        return [t.row() for t in self.trainings]

    def session_rows(self) -> Iterator[Row]:
        """Rows of ``training_sessions``: every scheduled weekday of every training."""
        fromordinal = dt.date.fromordinal
        for t in self.trainings:
            sid = t.first_session_id
            n = 0
            for week in range(t.weeks):
                for day in t.weekdays:
                    n += 1
                    yield {
                        "id": sid,
                        "training_id": t.id,
                        "day": fromordinal(t.start + 7 * week + day),
                        "label": f"Séance {n}",
                    }
                    sid += 1

    @property
    def session_count(self) -> int:
        """Total number of training sessions."""
        return self._session_seq

    def credentials(self) -> list[Credential]:
        """Every agent's password, TOTP secret and hash salt, from the seed.

        ``random.Random`` is not a cryptographic generator: these secrets are for a demo
        database only, reproducible on purpose. Real accounts are created through the
        account-request flow, which draws its secrets from ``secrets``.
        """
        rng = _stream(f"rempart:{self.seed}:credentials")
        alphabet = PW_LOWER + PW_UPPER + PW_DIGITS + PW_SYMBOLS
        out = []
        for agent in self.agents:
            chars = [rng.choice(k) for k in (PW_LOWER, PW_UPPER, PW_DIGITS, PW_SYMBOLS)]
            chars += [rng.choice(alphabet) for _ in range(PW_LENGTH - 4)]
            rng.shuffle(chars)
            out.append(
                Credential(
                    login=agent.login,
                    password="".join(chars),
                    totp_secret="".join(rng.choice(BASE32) for _ in range(TOTP_SECRET_LENGTH)),
                    salt=rng.randbytes(SALT_BYTES),
                    org_id=agent.org_id,
                    org_kind=agent.org_kind,
                    roles=agent.roles,
                    training_valid_until=agent.training_valid_until,
                )
            )
        return out

    # ---- people -----------------------------------------------------------------------------

    @property
    def chunk_count(self) -> int:
        """Number of chunks of people."""
        return -(-self.size // CHUNK)

    def chunks(self) -> Iterator[Chunk]:
        """Every chunk of people, in order."""
        for index in range(self.chunk_count):
            yield self.chunk(index)

    def ft_id(self, person_id: int) -> str:
        """The person's ft_id: an affine permutation spreads people through the whole space."""
        a, b = self._ft_affine
        return ft_id_from_number((a * person_id + b) % FT_ID_SPACE)

    def _ft_permutation(self) -> tuple[int, int]:
        rng = _stream(f"rempart:{self.seed}:ft_id")
        while True:  # a multiplier coprime with 2, 5 and 23 (the factors of FT_ID_SPACE)
            a = rng.randrange(FT_ID_SPACE // 3, FT_ID_SPACE)
            if a % 2 and a % 5 and a % 23:
                return a, rng.randrange(FT_ID_SPACE)

    def chunk(self, index: int) -> Chunk:  # noqa: PLR0912, PLR0915 - one hot loop, kept flat for speed
        """Rows of the ``index``-th chunk of people (ids ``index * CHUNK + 1`` onwards)."""
        sh = self.shape
        pools = self.pools
        slugs = pools.slugs
        today = self.today.toordinal()
        now_time = dt.time(0, tzinfo=dt.UTC)
        fromordinal = dt.date.fromordinal
        start = index * CHUNK + 1
        stop = min(start + CHUNK, self.size + 1)
        rng = _stream(f"rempart:{self.seed}:persons:{index}")
        rand, randint, randrange, choice = rng.random, rng.randint, rng.randrange, rng.choice
        ft_a, ft_b = self._ft_affine

        canaries = set(
            self.canary_ids[
                bisect_left(self.canary_ids, start) : bisect_left(self.canary_ids, stop)
            ]
        )
        m0 = start - 1 - bisect_left(self.canary_ids, start)
        n = stop - start - len(canaries)
        m1 = m0 + n

        # Exact quotas per chunk: the first ordinal of each category follows from m0 alone.
        y0, y1 = _cum(m0, sh.youth_share), _cum(m1, sh.youth_share)
        youth_rank = _rows_by_ordinals(rng, range(n), y1 - y0)
        youth_pos = sorted(youth_rank)
        js_pos = [p for p in range(n) if p not in youth_rank]
        f0 = _cum(y0, sh.youth_followed_share)
        ml_rank = _rows_by_ordinals(rng, youth_pos, _cum(y1, sh.youth_followed_share) - f0)
        j0, j1 = m0 - y0, m1 - y1
        c0 = _cum(j0, sh.cap_emploi_share)
        cap_rank = _rows_by_ordinals(rng, js_pos, _cum(j1, sh.cap_emploi_share) - c0)
        others = [p for p in js_pos if p not in cap_rank]
        o0, o1 = j0 - c0, j1 - _cum(j1, sh.cap_emploi_share)
        g0 = _cum(o0, sh.agency_followed_share)
        agency_rank = _rows_by_ordinals(rng, others, _cum(o1, sh.agency_followed_share) - g0)
        e0 = _cum(m0, sh.enrolment_share)
        enrol_rank = _rows_by_ordinals(rng, range(n), _cum(m1, sh.enrolment_share) - e0)

        out = Chunk()
        persons, enrolments, assignments = out.persons, out.enrolments, out.assignments
        notes, attendance = out.notes, out.attendance
        domains = [d for d, _ in EMAIL_DOMAINS]
        domain_weights = [w for _, w in EMAIL_DOMAINS]
        ya_lo, ya_hi = sh.youth_age
        ja_lo, ja_hi = sh.job_seeker_age
        deregistered, suspended = sh.deregistered_rate, sh.deregistered_rate + sh.suspended_rate
        absent, excused = sh.absent_rate, sh.absent_rate + sh.excused_rate

        def assign(pool: AdviserPool, adviser: int, pid: int, since: int, end: int | None) -> None:
            # The current assignment, sometimes a colleague's before it, and a few notes.
            start_day = min(today, since + randint(0, 60))
            if end is not None and end < start_day:
                start_day = since
            org_id = pool.org_ids[adviser]
            if rand() < sh.previous_assignment_rate:
                colleague = pool.colleague(adviser, rng)
                switch = min(today, start_day + randint(30, 400))
                if colleague is not None and switch > start_day and (end is None or switch < end):
                    assignments.append(
                        {
                            "agent_id": pool.agent_ids[colleague],
                            "person_id": pid,
                            "org_id": org_id,
                            "start_date": fromordinal(start_day),
                            "end_date": fromordinal(switch - 1),
                        }
                    )
                    start_day = switch
            assignments.append(
                {
                    "agent_id": pool.agent_ids[adviser],
                    "person_id": pid,
                    "org_id": org_id,
                    "start_date": fromordinal(start_day),
                    "end_date": None if end is None else fromordinal(end),
                }
            )
            if end is None and rand() < sh.note_rate:
                for _ in range(randint(1, 3)):
                    day = randint(start_day, today)
                    notes.append(
                        {
                            "person_id": pid,
                            "org_id": org_id,
                            "author_login": pool.logins[adviser],
                            "written_at": dt.datetime.combine(fromordinal(day), now_time)
                            + dt.timedelta(seconds=randrange(8 * 3600, 18 * 3600)),
                            "text": choice(NOTE_TEXTS),
                        }
                    )

        position = 0
        for pid in range(start, stop):
            is_canary = pid in canaries
            youth = rand() < float(sh.youth_share) if is_canary else position in youth_rank
            male = rand() < 0.5
            first = choice(pools.male_names if male else pools.female_names)
            last = choice(pools.last_names)
            if youth:
                age_days = randint(int(ya_lo * YEAR) + 2, int((ya_hi + 1) * YEAR) - 2)
            else:
                age = ja_lo + int((ja_hi - ja_lo + 1) * rng.betavariate(1.6, 2.2))
                age_days = int(age * YEAR) + 2 + randrange(362)
            birth_ord = today - age_days
            birth = fromordinal(birth_ord)
            adult_ord = birth_ord + int(16 * YEAR) + 2
            if rand() < BORN_ABROAD_RATE:
                place = f"99{choice(COUNTRY_CODES)}"
            else:
                dep = choice(pools.departments)[0]
                dep = "20" if dep in ("2A", "2B") else dep[:2]
                place = f"{dep}{randint(1, 900):03d}"
            nir = make_nir(
                f"{1 if male else 2}{birth.year % 100:02d}{birth.month:02d}{place}"
                f"{randint(1, 999):03d}"
            )
            registered = max(adult_ord, today - min(int(rng.expovariate(1 / 420)), 3650))

            training = None
            enrolled = False
            if not is_canary and position in enrol_rank:
                t_index = bisect_right(self.training_prefix, e0 + enrol_rank[position])
                training = self.trainings[t_index]
                enrolled = True
                if registered > training.start - 7:
                    registered = max(adult_ord, training.start - 7 - randrange(120))
            in_training = (
                enrolled and training is not None and training.start <= today <= training.end
            )

            dereg: int | None = None
            draw = rand()
            if in_training:
                status = RegistrationStatus.IN_TRAINING
            elif draw < deregistered and today - registered > 30:
                status = RegistrationStatus.DEREGISTERED
                dereg = randint(registered + 30, today)
            elif draw < suspended:
                status = RegistrationStatus.SUSPENDED
            else:
                status = RegistrationStatus.REGISTERED
            active_end = dereg if dereg is not None else today
            last_activity = max(registered, active_end - int(rng.expovariate(1 / 40)))

            followed_by_cap = not is_canary and position in cap_rank
            rqth: int | None = None
            if followed_by_cap or rand() < sh.rqth_other_rate:
                rqth = max(adult_ord, today - randint(30, 3650))

            postcode, city = choice(pools.places)
            persons.append(
                {
                    "id": pid,
                    "ft_id": ft_id_from_number((ft_a * pid + ft_b) % FT_ID_SPACE),
                    "kind": PersonKind.YOUTH.value if youth else PersonKind.JOB_SEEKER.value,
                    "nir": nir,
                    "last_name": last,
                    "first_name": first,
                    "birth_date": birth,
                    "email": f"{slugs[first]}.{slugs[last]}{randrange(100) if rand() < 0.6 else ''}"
                    f"@{rng.choices(domains, domain_weights)[0]}",
                    "phone": f"0{6 if rand() < 0.7 else 7}{randrange(100_000_000):08d}",
                    "address_line": f"{randint(1, 180)} {choice(pools.streets)}",
                    "postcode": postcode,
                    "city": city,
                    "registration_status": status.value,
                    "registration_date": fromordinal(registered),
                    "deregistration_date": None if dereg is None else fromordinal(dereg),
                    "last_activity_date": fromordinal(last_activity),
                    "rqth_since": None if rqth is None else fromordinal(rqth),
                    "is_canary": is_canary,
                }
            )
            if is_canary:
                continue  # a canary is reached by no relation, ever

            if training is not None:
                late = 7 if rand() < 0.1 and training.end - training.start > 14 else 0
                enrolments.append(
                    {
                        "id": e0 + enrol_rank[position] + 1,
                        "training_id": training.id,
                        "person_id": pid,
                        "org_id": training.org_id,
                        "start_date": fromordinal(training.start + late),
                        "end_date": fromordinal(training.end),
                    }
                )
                if in_training:
                    for session_id, day in training.last_past_sessions:
                        mark_draw = rand()
                        mark = (
                            AttendanceMark.ABSENT
                            if mark_draw < absent
                            else AttendanceMark.EXCUSED
                            if mark_draw < excused
                            else AttendanceMark.PRESENT
                        )
                        attendance.append(
                            {
                                "session_id": session_id,
                                "person_id": pid,
                                "mark": mark.value,
                                "recorded_by": training.recorder,
                                "recorded_at": dt.datetime.combine(fromordinal(day), now_time)
                                + dt.timedelta(seconds=randrange(16 * 3600, 19 * 3600)),
                            }
                        )

            if position in ml_rank:
                adviser = self.mission_locale.adviser_for(f0 + ml_rank[position])
                # Mission Locale follow-up does not stop with the agency's register.
                since = today - min(int(rng.expovariate(1 / 300)), 1500)
                assign(self.mission_locale, adviser, pid, max(adult_ord, since), None)
            elif followed_by_cap:
                assert rqth is not None
                adviser = self.cap_emploi.adviser_for(c0 + cap_rank[position])
                assign(self.cap_emploi, adviser, pid, max(rqth, registered), dereg)
            elif position in agency_rank:
                adviser = self.agency.adviser_for(g0 + agency_rank[position])
                assign(self.agency, adviser, pid, registered, dereg)
            position += 1
        return out


def hash_credentials(credentials: Sequence[Credential], workers: int = 2) -> list[str]:
    """Argon2id hashes of the demo passwords, in order (salts from the seed: reproducible)."""
    from concurrent.futures import ThreadPoolExecutor

    hasher = demo_password_hasher()

    def one(c: Credential) -> str:
        return hasher.hash(c.password, salt=c.salt)

    # argon2-cffi releases the GIL while hashing: threads use both cores.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, credentials))
