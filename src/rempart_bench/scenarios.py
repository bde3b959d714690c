"""Attack scenarios: what an attacker does through the HTTP interface, request by request.

Each scenario replays one of the known ways partner accounts were abused (DESIGN.md), against
a fresh copy of the portal, and records what reached the attacker (``AttackOutcome``). The
attacker never gets more than the real one had: a password without the second factor, a
cookie without the browser, a session without the phone, one TOTP code relayed by a phishing
proxy without the secret behind it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from random import Random
from typing import Any

from rempart.kernel.clock import ManualClock
from rempart.kernel.identifiers import ft_id_from_number
from rempart_bench.driver import Agentish, Answer, Driver
from rempart_bench.metrics import AttackOutcome

# Where attackers come from (offline GeoIP: see workload.py for the legitimate networks).
ABROAD = "45.146.165.{n}"  # a hosting provider abroad (RU)
FR_RESIDENTIAL_PROXY = "176.128.{n}.77"  # a French residential proxy on another ISP (Bouygues)
FR_OTHER_ISP = "5.51.{n}.19"  # same country, another ISP (Bouygues)
ATTACKER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


@dataclass(frozen=True, slots=True)
class Credential:
    login: str
    password: str
    totp_secret: str
    org_id: str
    org_kind: str
    roles: tuple[str, ...]


@dataclass
class BenchWorld:
    """What the bench knows about the population, read straight from the database."""

    credentials: dict[str, Credential]
    portfolios: dict[str, list[str]]
    birth_dates: dict[str, dt.date]  # a sample of people, for lookups
    persons: int
    office_ip: dict[str, str] = field(default_factory=dict)
    user_agent: dict[str, str] = field(default_factory=dict)

    def victims(self, kind: str, role: str, n: int, rng: Random) -> list[Credential]:
        """``n`` agents of that organisation kind and role, preferring big portfolios."""
        pool = [
            c
            for c in self.credentials.values()
            if c.org_kind == kind and role in c.roles and len(c.roles) == 1
        ]
        pool.sort(key=lambda c: (-len(self.portfolios.get(c.login, [])), c.login))
        head = pool[: max(n * 3, n)]
        return rng.sample(head, min(n, len(head)))

    def agentish(self, cred: Credential) -> Agentish:
        """The legitimate person behind ``cred``, at their office."""
        return Agentish(
            cred.login,
            cred.password,
            cred.totp_secret,
            self.office_ip.get(cred.login, "90.84.10.10"),
            self.user_agent.get(cred.login, "Mozilla/5.0 Firefox/133.0"),
        )


class Capped(Exception):
    """The bench's request cap for one attack was reached."""


def persons_in(body: dict[str, Any]) -> list[str]:
    """Every person identifier an answer body carries (record, list, roster, export)."""
    found: list[str] = []
    if isinstance(body.get("ft_id"), str):
        found.append(body["ft_id"])
    for key in ("items", "enrolled", "attendance"):
        for item in body.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("ft_id"), str):
                found.append(item["ft_id"])
    return found


@dataclass
class Env:
    driver: Driver
    clock: ManualClock
    world: BenchWorld
    outcome: AttackOutcome
    cap: int
    rng: Random
    pace: float = 0.5  # seconds between attacker requests: machine speed
    provision: Callable[[str, int], list[Credential]] | None = None  # bench-only (mode none)

    def attack(
        self, who: Agentish, method: str, path: str, json: dict[str, Any] | None = None
    ) -> Answer:
        """One attacker request, timed on the simulated clock and recorded."""
        if self.outcome.requests >= self.cap:
            self.outcome.stopped_by_cap = True
            raise Capped
        self.clock.advance(self.pace)
        answer = self.driver.request(who, method, path, json)
        self.outcome.record(self.clock.now(), answer.status, persons_in(answer.body))
        return answer

    def sign_in_victim(self, cred: Credential) -> Agentish:
        """The victim signs in normally, at their office (not an attacker request)."""
        self.outcome.victims.append(cred.login)
        who = self.world.agentish(cred)
        self.clock.advance(31)
        self.driver.sign_in(who, self.clock.now())
        return who


def _dead(answer: Answer) -> bool:
    return answer.code in {"session_revoked", "unauthenticated", "account_locked"}


def _read_all(env: Env, who: Agentish, ft_ids: Iterable[str], stop_after: int = 5) -> None:
    """Read records one after another; stop once the session is plainly dead."""
    dead = 0
    for ft_id in ft_ids:
        a = env.attack(who, "GET", f"/api/v1/persons/{ft_id}")
        if a.code == "budget_exhausted" and a.retry_after:
            env.clock.advance(min(a.retry_after, 600))  # a patient scraper waits and retries
        dead = dead + 1 if _dead(a) or a.code == "step_up_required" else 0
        if dead >= stop_after:
            return


def _page_portfolio(env: Env, who: Agentish, max_pages: int = 1000) -> list[str]:
    seen: list[str] = []
    for page in range(1, max_pages + 1):
        a = env.attack(who, "GET", f"/api/v1/portfolio?page={page}&size=100")
        if a.status != 200:
            if _dead(a) or a.code == "step_up_required":
                break
            continue
        seen += persons_in(a.body)
        if not a.body.get("next_page"):
            break
    return seen


# Share of well-formed identifiers that belong to someone in the real register: 36.8 million
# people over 10 million numbers x 23 letters (DESIGN.md). The bench's population is far
# smaller, so a guess hits a real person with this probability, drawn from the population.
REAL_DENSITY = 36_800_000 / (10_000_000 * 23)


def _guesses(env: Env, n: int) -> list[str]:
    known = list(env.world.birth_dates)
    out = []
    for _ in range(n):
        if known and env.rng.random() < REAL_DENSITY:
            out.append(env.rng.choice(known))
        else:
            out.append(ft_id_from_number(env.rng.randrange(10_000_000 * 23)))
    return out


# -- the scenarios ----------------------------------------------------------------------------


def password_only(env: Env) -> None:
    """Infostealer credentials, no second factor: from abroad, then from a French proxy."""
    cred = env.world.victims("training_body", "training_manager", 1, env.rng)[0]
    for origin in (ABROAD.format(n=7), FR_RESIDENTIAL_PROXY.format(n=12)):
        thief = Agentish(cred.login, cred.password, "", origin, ATTACKER_UA)
        for _ in range(12):
            first = env.attack(
                thief,
                "POST",
                "/api/v1/auth/login",
                {"login": cred.login, "password": cred.password},
            )
            challenge = first.body.get("challenge", "")
            guess = f"{env.rng.randrange(10**6):06d}"
            env.attack(
                thief, "POST", "/api/v1/auth/mfa/totp", {"challenge": challenge, "code": guess}
            )
        env.attack(thief, "GET", "/api/v1/portfolio")


def stolen_cookie(env: Env) -> None:
    """A live session cookie replayed from the attacker's network: abroad, then same country."""
    for origin in (ABROAD.format(n=9), FR_OTHER_ISP.format(n=44)):
        cred = env.world.victims("mission_locale", "advisor", 1, env.rng)[0]
        victim = env.sign_in_victim(cred)
        thief = Agentish(cred.login, "", "", origin, victim.user_agent, victim.cookie, victim.csrf)
        names = _page_portfolio(env, thief, max_pages=3)
        _read_all(env, thief, names[:50] or _guesses(env, 10), stop_after=3)


def in_session(env: Env) -> None:
    """Remote control of the victim's PC: their network, browser and session. The worst case."""
    cred = env.world.victims("training_body", "training_manager", 1, env.rng)[0]
    victim = env.sign_in_victim(cred)
    names = _page_portfolio(env, victim)
    _read_all(env, victim, names)
    _read_all(env, victim, _guesses(env, 400))


def paced_scraper(env: Env) -> None:
    """Inside the victim's session, a script that waits 3 s between records (slower than the
    machine-pace detector's 2 s): the velocity and whole-scope detectors are what remain."""
    pool = [
        c
        for c in env.world.credentials.values()
        if c.org_kind == "training_body" and c.roles == ("training_manager",)
    ]
    cred = max(pool, key=lambda c: (len(env.world.portfolios.get(c.login, [])), c.login))
    victim = env.sign_in_victim(cred)
    env.pace = 3.0
    _read_all(env, victim, env.world.portfolios.get(cred.login, []))
    env.pace = 0.5


def enumeration(env: Env) -> None:
    """Identifier guessing: sequential reads, random reads, lookups with guessed birth dates."""
    cred = env.world.victims("mission_locale", "advisor", 1, env.rng)[0]
    victim = env.sign_in_victim(cred)
    start = env.rng.randrange(10_000_000 * 23 - 300)
    sequence = [
        env.rng.choice(list(env.world.birth_dates))
        if env.rng.random() < REAL_DENSITY
        else ft_id_from_number(start + i)
        for i in range(300)
    ]
    _read_all(env, victim, sequence, stop_after=5)
    _read_all(env, victim, _guesses(env, 300), stop_after=5)
    dead = 0
    for ft_id in _guesses(env, 300):
        born = dt.date(1960, 1, 1) + dt.timedelta(days=env.rng.randrange(20000))
        a = env.attack(victim, "GET", f"/api/v1/persons?ft_id={ft_id}&birth_date={born}")
        dead = dead + 1 if _dead(a) else 0
        if dead >= 5:
            break


def export_abuse(env: Env) -> None:
    """Exports of everything the account can reach, over and over, from inside its session."""
    cred = env.world.victims("training_body", "training_manager", 1, env.rng)[0]
    victim = env.sign_in_victim(cred)
    dead = 0
    for _ in range(30):
        a = env.attack(victim, "GET", "/api/v1/portfolio/export")
        dead = dead + 1 if a.status >= 400 else 0
        if dead >= 5:
            break


def insider_curiosity(env: Env) -> None:
    """A legitimate adviser looks up neighbours (knowing their birth dates) and public figures."""
    cred = env.world.victims("cap_emploi", "advisor", 1, env.rng)[0]
    insider = env.sign_in_victim(cred)
    own = set(env.world.portfolios.get(cred.login, []))
    strangers = [f for f in env.world.birth_dates if f not in own]
    env.rng.shuffle(strangers)
    for ft_id in strangers[:5]:  # neighbours: ft_id and birth date known
        born = env.world.birth_dates[ft_id]
        env.attack(insider, "GET", f"/api/v1/persons?ft_id={ft_id}&birth_date={born}")
    _read_all(env, insider, strangers[5:30], stop_after=5)  # public figures: ft_id only


def many_advisers_low_and_slow(env: Env) -> None:
    """2024: 20 adviser accounts phished through a relay (one TOTP code each, not the secret),
    each reading a little in the evenings and at the weekend."""
    creds = env.world.victims("mission_locale", "advisor", 10, env.rng)
    creds += env.world.victims("cap_emploi", "advisor", 5, env.rng)
    creds += env.world.victims("agency", "advisor", 5, env.rng)
    day0 = env.clock.now().replace(hour=19, minute=0, second=0, microsecond=0)
    env.clock.set(max(day0, env.clock.now()))
    for i, cred in enumerate(creds):
        env.clock.advance(120)
        thief = Agentish(
            cred.login, cred.password, cred.totp_secret, FR_OTHER_ISP.format(n=i + 1), ATTACKER_UA
        )
        # The relay passes on the one code the victim typed; the attacker never holds the secret.
        env.driver.sign_in(thief, env.clock.now())
        thief.totp_secret = ""
        # Then it reads a little, slowly: half the victim's own people, half anyone.
        own = env.world.portfolios.get(cred.login, [])
        targets = own[:5] + _guesses(env, 5)
        for ft_id in targets:
            env.pace = 90.0
            a = env.attack(thief, "GET", f"/api/v1/persons/{ft_id}")
            if _dead(a) or a.code == "step_up_required":
                break
        env.pace = 0.5


def rgc_rogue_accounts(env: Env) -> None:
    """December 2025: an account manager's session creates accounts, which then read records."""
    cred = env.world.victims("mission_locale", "account_manager", 1, env.rng)[0]
    victim = env.sign_in_victim(cred)
    created: list[str] = []
    for i in range(2):
        login = f"rogue.{env.rng.randrange(10**6):06d}.{i}"
        a = env.attack(
            victim,
            "POST",
            "/api/v1/accounts",
            {"login": login, "email": f"{login}@attacker.example", "roles": ["advisor"]},
        )
        request_id = str(a.body.get("request_id", ""))
        if request_id:
            env.attack(victim, "POST", f"/api/v1/accounts/requests/{request_id}/approve")
        created.append(login)
    # The rogue accounts try to sign in and read. Only where four eyes do not exist (the bench's
    # "none" mode) does the bench hand the attacker working credentials, as in December 2025.
    rogue = env.provision(cred.org_id, len(created)) if env.provision else []
    for new in rogue:
        who = Agentish(
            new.login, new.password, new.totp_secret, FR_OTHER_ISP.format(n=99), ATTACKER_UA
        )
        env.clock.advance(31)
        env.driver.sign_in(who, env.clock.now())
        _read_all(env, who, _guesses(env, env.cap), stop_after=5)
    for login in created:
        who = Agentish(login, "Guessed-Password-2025!", "", FR_OTHER_ISP.format(n=98), ATTACKER_UA)
        env.attack(who, "POST", "/api/v1/auth/login", {"login": login, "password": who.password})


SCENARIOS: dict[str, Callable[[Env], None]] = {
    "password_only": password_only,
    "stolen_cookie": stolen_cookie,
    "in_session": in_session,
    "paced_scraper": paced_scraper,
    "rgc_rogue_accounts": rgc_rogue_accounts,
    "many_advisers_low_and_slow": many_advisers_low_and_slow,
    "enumeration": enumeration,
    "export_abuse": export_abuse,
    "insider_curiosity": insider_curiosity,
}
