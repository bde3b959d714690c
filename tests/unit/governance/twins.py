"""Memory twins of the ports governance uses from other capabilities, for its unit tests.

The people store and sign-in have no memory twins of their own yet; these
are minimal (only what the governance use cases and the sign-in functions they call reach)
but correct, and they share ``MemoryGovernanceTables`` with the governance twins, as the SQL
adapters share one database: an account an approval creates is the people store's account,
the factors an erasure clears are the ones sign-in reads. To be replaced by those
capabilities' own twins once they exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace

from rempart.governance.adapters.memory import MemoryGovernanceTables
from rempart.kernel.actors import Agent, App, Organisation
from rempart.signin.model import AccountLock, Challenge, Credentials, Session


class MemoryPeople:
    """``Directory`` and ``AppSwitches`` (kernel's ports, the people store's in production)
    over the tables."""

    def __init__(self, tables: MemoryGovernanceTables) -> None:
        self.tables = tables
        self.apps_off: set[tuple[App, str | None]] = set()  # (app, org id or None for all)

    def agent_by_id(self, agent_id: int) -> Agent | None:
        """One agent by id."""
        with self.tables.locked() as t:
            row = t.accounts.get(agent_id)
            return None if row is None or row.org_id not in t.organisations else t.agent(row)

    def agent_by_login(self, login: str) -> Agent | None:
        """One agent by login."""
        with self.tables.locked() as t:
            row = next((a for a in t.accounts.values() if a.login == login), None)
            return None if row is None or row.org_id not in t.organisations else t.agent(row)

    def organisation(self, org_id: str) -> Organisation | None:
        """One organisation."""
        with self.tables.locked() as t:
            return t.organisations.get(org_id)

    def app_enabled(self, app: App, org_id: str) -> bool:
        """False when the app is off for everyone or for this organisation."""
        return (app, None) not in self.apps_off and (app, org_id) not in self.apps_off

    def set_app_enabled(self, app: App, org_id: str | None, enabled: bool) -> None:
        """Switch the app for one organisation, or for everyone (``org_id`` None)."""
        if enabled:
            self.apps_off.discard((app, org_id))
        else:
            self.apps_off.add((app, org_id))


class MemoryCredentials:
    """Sign-in's credential reading, account locks, security keys, recovery codes and identity
    links, over the tables (the ports governance and the sign-in functions it calls reach)."""

    def __init__(self, tables: MemoryGovernanceTables) -> None:
        self.tables = tables
        self.locks: dict[int, AccountLock] = {}
        self.identities: dict[tuple[str, str], int] = {}

    def credentials_by_id(self, agent_id: int) -> Credentials | None:
        """The account's credentials."""
        with self.tables.locked() as t:
            row = t.accounts.get(agent_id)
            if row is None:
                return None
            return Credentials(
                agent=t.agent(row),
                password_hash=row.password_hash,
                totp_secret=row.totp_secret,
                totp_last_step=row.totp_last_step,
                locked=row.locked,
                failed_logins=row.failed_logins,
            )

    def lock(self, lock: AccountLock) -> None:
        """Lock the account."""
        with self.tables.locked() as t:
            t.accounts[lock.agent_id].locked = True
            self.locks[lock.agent_id] = lock

    def lock_of(self, agent_id: int) -> AccountLock | None:
        """The account's lock, if any."""
        return self.locks.get(agent_id)

    def unlock(self, agent_id: int) -> None:
        """Lift the lock and forget the failures."""
        with self.tables.locked() as t:
            row = t.accounts[agent_id]
            row.locked = False
            row.failed_logins = 0
            self.locks.pop(agent_id, None)

    def webauthn_credentials(self, agent_id: int) -> list[object]:
        """The account's security keys."""
        with self.tables.locked() as t:
            return list(t.security_keys.get(agent_id, []))

    def recovery_codes_left(self, agent_id: int) -> int:
        """How many recovery codes the account holds."""
        with self.tables.locked() as t:
            return len(t.recovery_codes.get(agent_id, []))

    def agent_by_identity(self, issuer: str, subject: str) -> int | None:
        """The account a provider identity is linked to."""
        return self.identities.get((issuer, subject))

    def link_identity(self, agent_id: int, issuer: str, subject: str, at: dt.datetime) -> None:
        """Link a provider identity to an account."""
        if (issuer, subject) in self.identities:
            raise ValueError("this identity is linked already")
        self.identities[(issuer, subject)] = agent_id

    def identities_of(self, agent_id: int) -> list[tuple[str, str]]:
        """The provider identities linked to the account."""
        return sorted(k for k, v in self.identities.items() if v == agent_id)


class MemorySessions:
    """``SessionStore`` and ``SessionRevocations`` in memory (what ending sessions needs)."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, session: Session) -> None:
        """Store a new session."""
        with self._lock:
            self.sessions[session.key] = session

    def get(self, key: str) -> Session | None:
        """One session by key."""
        return self.sessions.get(key)

    def end_all(
        self,
        at: dt.datetime,
        reason: str,
        *,
        agent_id: int | None = None,
        org_id: str | None = None,
        except_key: str | None = None,
    ) -> list[Session]:
        """End every live session of an agent or an organisation; return those ended."""
        if agent_id is None and org_id is None:
            return []
        ended = []
        with self._lock:
            for key, s in self.sessions.items():
                if s.ended_at is not None or key == except_key:
                    continue
                if agent_id is not None and s.agent_id != agent_id:
                    continue
                if org_id is not None and s.org_id != org_id:
                    continue
                self.sessions[key] = replace(s, ended_at=at, end_reason=reason)
                ended.append(self.sessions[key])
        return ended

    def live_of(self, agent_id: int, now: dt.datetime) -> list[Session]:
        """The agent's sessions not ended."""
        return [s for s in self.sessions.values() if s.agent_id == agent_id and s.ended_at is None]


class MemoryChallenges:
    """``ChallengeStore`` in memory (governance never opens a ceremony; sign-in's deps need one)."""

    def __init__(self) -> None:
        self.challenges: dict[str, Challenge] = {}

    def put(self, challenge: Challenge) -> None:
        """Store a challenge."""
        self.challenges[challenge.key] = challenge

    def get(self, key: str) -> Challenge | None:
        """One challenge."""
        return self.challenges.get(key)

    def update(self, key: str, *, attempts: int, payload: dict[str, str]) -> None:
        """Count attempts and replace the payload."""
        if key in self.challenges:
            self.challenges[key] = replace(self.challenges[key], attempts=attempts, payload=payload)

    def take(self, key: str) -> bool:
        """Delete the challenge; True only for the caller that deleted it."""
        return self.challenges.pop(key, None) is not None

    def purge(self, before: dt.datetime) -> None:
        """Forget the challenges expired before ``before``."""
        for key in [k for k, c in self.challenges.items() if c.expires_at < before]:
            del self.challenges[key]


class SaltedHasher:
    """``PasswordHasher`` twin: salted SHA-256, fast (unit tests do not measure argon2)."""

    def __init__(self) -> None:
        self._salts = itertools.count(1)

    def hash(self, password: str) -> str:
        """A new salted hash."""
        salt = f"{next(self._salts):08d}"
        return f"{salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"

    def verify(self, stored: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored``."""
        if not stored or "$" not in stored:
            return False
        salt, _, digest = stored.partition("$")
        return hashlib.sha256((salt + password).encode()).hexdigest() == digest

    def needs_rehash(self, stored: str) -> bool:
        """Never: one parameter set."""
        return False


class StepTotp:
    """``TotpVerifier`` twin: the code of a 30-second step is readable from the secret and the
    step (``code_at``), so that tests can show the right and a wrong code without HMAC."""

    STEP = 30

    def __init__(self) -> None:
        self._secrets = itertools.count(1)

    def new_secret(self) -> str:
        """A fresh secret."""
        return f"SECRET{next(self._secrets):026d}"

    @classmethod
    def step_of(cls, at: dt.datetime) -> int:
        """The time step of ``at``."""
        return int(at.timestamp()) // cls.STEP

    @classmethod
    def code_at(cls, secret: str, at: dt.datetime) -> str:
        """The code an authenticator holding ``secret`` shows at ``at``."""
        digest = hashlib.sha256(f"{secret}:{cls.step_of(at)}".encode()).hexdigest()
        return f"{int(digest, 16) % 1_000_000:06d}"

    def matching_step(self, secret: str, code: str, at: dt.datetime) -> int | None:
        """The step (±1 around ``at``) whose code is ``code``."""
        for drift in (0, -1, 1):
            moment = at + dt.timedelta(seconds=drift * self.STEP)
            if self.code_at(secret, moment) == code:
                return self.step_of(moment)
        return None

    def provisioning_uri(self, secret: str, account: str, issuer: str) -> str:
        """The ``otpauth://`` URI."""
        return f"otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}"


class FixedLocator:
    """``NetworkLocator`` twin: every address is in one test network."""

    def locate(self, address: str) -> tuple[str, str]:
        """(network label, country)."""
        return ("AS-TEST", "FR")


class FailingMailer:
    """A ``Mailer`` whose server is down."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def send(
        self, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None
    ) -> None:
        """Refuse, as an unreachable server would."""
        self.attempts.append(to)
        raise OSError("mail server unreachable")


def sessions_of(store: MemorySessions, agent_id: int) -> Sequence[Session]:
    """Every session of one agent, ended or not."""
    return [s for s in store.sessions.values() if s.agent_id == agent_id]
