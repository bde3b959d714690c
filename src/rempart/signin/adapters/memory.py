"""Sign-in storage in process memory: the twins of the SQL adapters, with the same semantics.

Used as the fakes of unit tests and fit for a single-process demo. Each store guards its
state with one lock, so the compare-and-set operations (a TOTP step, a recovery code, a
challenge taken, a session ended) let exactly one of two racing callers win, as the SQL
``UPDATE … WHERE`` / ``DELETE`` do. A duplicate of what SQL keeps unique raises ValueError.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from rempart.kernel.actors import Agent, App, Organisation
from rempart.kernel.errors import InvalidRequest, Unauthenticated
from rempart.signin.model import (
    AccountLock,
    Challenge,
    Credentials,
    FederatedClaims,
    FederationRequest,
    NewWebauthnCredential,
    Session,
    SessionHolder,
    WebauthnCredential,
)

MAX_LOCK_ADDRESSES = 32  # as the SQL store: an attacker cycling addresses fills no more


class MemoryDirectory:
    """Implements kernel's ``Directory`` and ``AppSwitches``: agents, organisations, switches."""

    def __init__(
        self, agents: Sequence[Agent] = (), organisations: Sequence[Organisation] = ()
    ) -> None:
        self._lock = threading.Lock()
        self._agents: dict[int, Agent] = {a.id: a for a in agents}
        self._orgs: dict[str, Organisation] = {o.id: o for o in organisations}
        self._switches: dict[tuple[str, str | None], bool] = {}

    def put_agent(self, agent: Agent) -> None:
        """Store or replace an agent (what account management writes in SQL)."""
        with self._lock:
            clash = next(
                (a for a in self._agents.values() if a.login == agent.login and a.id != agent.id),
                None,
            )
            if clash is not None:
                raise ValueError(f"login {agent.login!r} is taken")
            self._agents[agent.id] = agent

    def put_organisation(self, org: Organisation) -> None:
        """Store or replace an organisation."""
        with self._lock:
            self._orgs[org.id] = org

    def agent_by_id(self, agent_id: int) -> Agent | None:
        """The agent with this id."""
        with self._lock:
            return self._agents.get(agent_id)

    def agent_by_login(self, login: str) -> Agent | None:
        """The agent with this login (exact match, as SQL's ``=``)."""
        with self._lock:
            return next((a for a in self._agents.values() if a.login == login), None)

    def organisation(self, org_id: str) -> Organisation | None:
        """The organisation with this id."""
        with self._lock:
            return self._orgs.get(org_id)

    def app_enabled(self, app: App, org_id: str) -> bool:
        """False when the app is switched off for everyone or for this organisation."""
        with self._lock:
            return self._switches.get((str(app), None), True) and self._switches.get(
                (str(app), org_id), True
            )

    def set_app_enabled(self, app: App, org_id: str | None, enabled: bool) -> None:
        """Switch an app on or off, for everyone (``org_id`` None) or one organisation."""
        with self._lock:
            self._switches[(str(app), org_id)] = enabled


@dataclass(slots=True)
class _Secrets:
    """The sign-in columns of one agent row."""

    password_hash: str = ""
    totp_secret: str = ""
    totp_last_step: int = 0
    locked: bool = False
    failed_logins: int = 0
    last_used_at: dt.datetime | None = None


class MemoryCredentialStore:
    """The agents' secrets in memory; agents themselves come from a ``MemoryDirectory``.

    Implements ``CredentialStore``, ``LoginRecords``, ``AccountLocks``, ``TotpSecrets``,
    ``WebauthnKeys``, ``RecoveryCodes`` and ``IdentityLinks``, like ``SqlCredentialStore``.
    """

    def __init__(self, directory: MemoryDirectory) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._secrets: dict[int, _Secrets] = {}
        self._locks: dict[int, AccountLock] = {}
        self._keys: dict[int, WebauthnCredential] = {}
        self._codes: dict[str, tuple[int, dt.datetime | None]] = {}  # hash -> (agent, used_at)
        self._links: dict[tuple[str, str], int] = {}  # insertion order = SQL id order
        self._next_key_id = 1

    def enrol(
        self,
        agent_id: int,
        *,
        password_hash: str = "",
        totp_secret: str = "",
        totp_last_step: int = 0,
        locked: bool = False,
    ) -> None:
        """Give an agent its secrets, as account creation and the seed write them in SQL."""
        with self._lock:
            self._secrets[agent_id] = _Secrets(
                password_hash=password_hash,
                totp_secret=totp_secret,
                totp_last_step=totp_last_step,
                locked=locked,
            )

    def last_used_at(self, agent_id: int) -> dt.datetime | None:
        """When the agent last signed in (what the inventory shows)."""
        with self._lock:
            found = self._secrets.get(agent_id)
            return found.last_used_at if found else None

    def _row(self, agent_id: int) -> _Secrets | None:
        """The agent's secrets, created empty for a known agent (SQL columns default so)."""
        if self.directory.agent_by_id(agent_id) is None:
            return None
        return self._secrets.setdefault(agent_id, _Secrets())

    def _credentials_of(self, agent: Agent | None) -> Credentials | None:
        if agent is None:
            return None
        with self._lock:
            row = self._row(agent.id)
            if row is None:
                return None
            return Credentials(
                agent=agent,
                password_hash=row.password_hash,
                totp_secret=row.totp_secret,
                totp_last_step=row.totp_last_step,
                locked=row.locked,
                failed_logins=row.failed_logins,
            )

    # CredentialStore

    def credentials(self, login: str) -> Credentials | None:
        """Credentials of the agent with this login."""
        return self._credentials_of(self.directory.agent_by_login(login))

    def credentials_by_id(self, agent_id: int) -> Credentials | None:
        """Credentials of the agent with this id."""
        return self._credentials_of(self.directory.agent_by_id(agent_id))

    def set_password_hash(self, agent_id: int, password_hash: str) -> None:
        """Store a new password hash."""
        with self._lock:
            row = self._row(agent_id)
            if row is not None:
                row.password_hash = password_hash

    # LoginRecords

    def record_failed_login(self, agent_id: int) -> int:
        """One more consecutive failure."""
        with self._lock:
            row = self._row(agent_id)
            if row is None:
                raise LookupError(f"no agent {agent_id}")
            row.failed_logins += 1
            return row.failed_logins

    def record_success(self, agent_id: int, at: dt.datetime) -> None:
        """Reset the failure count and note the sign-in time."""
        with self._lock:
            row = self._row(agent_id)
            if row is not None:
                row.failed_logins = 0
                row.last_used_at = at

    # AccountLocks

    def lock(self, lock: AccountLock) -> None:
        """Lock the account and remember why and from where (replacing an earlier record)."""
        with self._lock:
            row = self._row(lock.agent_id)
            if row is None:
                raise LookupError(f"no agent {lock.agent_id}")
            row.locked = True
            self._locks[lock.agent_id] = replace(
                lock, addresses=tuple(lock.addresses[:MAX_LOCK_ADDRESSES])
            )

    def add_lock_address(self, agent_id: int, address: str) -> None:
        """Remember one more address that failed against a locked account."""
        with self._lock:
            current = self._locks.get(agent_id)
            if current is None:
                return
            known = current.addresses
            if address in known or len(known) >= MAX_LOCK_ADDRESSES:
                return
            self._locks[agent_id] = replace(current, addresses=(*known, address))

    def lock_of(self, agent_id: int) -> AccountLock | None:
        """The lock record of this account, if any."""
        with self._lock:
            return self._locks.get(agent_id)

    def unlock(self, agent_id: int) -> None:
        """Lift the lock and reset the failure count."""
        with self._lock:
            row = self._row(agent_id)
            if row is not None:
                row.locked = False
                row.failed_logins = 0
            self._locks.pop(agent_id, None)

    # TotpSecrets

    def set_totp(self, agent_id: int, secret: str, last_step: int) -> None:
        """Store (or clear, with "") the TOTP secret."""
        with self._lock:
            row = self._row(agent_id)
            if row is not None:
                row.totp_secret = secret
                row.totp_last_step = last_step

    def use_totp_step(self, agent_id: int, step: int) -> bool:
        """Compare-and-set: only a step newer than the last one used is accepted."""
        with self._lock:
            row = self._row(agent_id)
            if row is None or row.totp_last_step >= step:
                return False
            row.totp_last_step = step
            return True

    # WebauthnKeys

    def webauthn_credentials(self, agent_id: int) -> list[WebauthnCredential]:
        """The agent's security keys, oldest first."""
        with self._lock:
            return sorted(
                (k for k in self._keys.values() if k.agent_id == agent_id), key=lambda k: k.id
            )

    def add_webauthn_credential(
        self, agent_id: int, cred: NewWebauthnCredential, name: str, at: dt.datetime
    ) -> WebauthnCredential:
        """Store a newly registered key (a credential id is registered once, to one account)."""
        with self._lock:
            if self._row(agent_id) is None:
                raise LookupError(f"no agent {agent_id}")
            if any(k.credential_id == cred.credential_id for k in self._keys.values()):
                raise ValueError("this credential id is registered already")
            key = WebauthnCredential(
                self._next_key_id,
                agent_id,
                cred.credential_id,
                cred.public_key,
                cred.sign_count,
                name,
                at,
            )
            self._keys[key.id] = key
            self._next_key_id += 1
            return key

    def update_sign_count(self, cred_id: int, sign_count: int, at: dt.datetime) -> None:
        """Remember the authenticator's counter and when it was used."""
        with self._lock:
            key = self._keys.get(cred_id)
            if key is not None:
                self._keys[cred_id] = replace(key, sign_count=sign_count, last_used_at=at)

    def remove_webauthn_credential(self, agent_id: int, cred_id: int) -> bool:
        """Remove one of the agent's keys (another agent's key id removes nothing)."""
        with self._lock:
            key = self._keys.get(cred_id)
            if key is None or key.agent_id != agent_id:
                return False
            del self._keys[cred_id]
            return True

    # RecoveryCodes

    def recovery_codes_left(self, agent_id: int) -> int:
        """Unused recovery codes."""
        with self._lock:
            return sum(1 for a, used in self._codes.values() if a == agent_id and used is None)

    def replace_recovery_codes(
        self, agent_id: int, code_hashes: Sequence[str], at: dt.datetime
    ) -> None:
        """Drop the old codes and store the new ones (all or nothing)."""
        with self._lock:
            kept = {h: v for h, v in self._codes.items() if v[0] != agent_id}
            if len(set(code_hashes)) != len(code_hashes) or any(h in kept for h in code_hashes):
                raise ValueError("a recovery code hash is stored already")
            kept.update((h, (agent_id, None)) for h in code_hashes)
            self._codes = kept

    def use_recovery_code(self, agent_id: int, code_hash: str, at: dt.datetime) -> bool:
        """Spend a code once: only an unused code of this agent matches."""
        with self._lock:
            found = self._codes.get(code_hash)
            if found is None or found[0] != agent_id or found[1] is not None:
                return False
            self._codes[code_hash] = (agent_id, at)
            return True

    # IdentityLinks

    def agent_by_identity(self, issuer: str, subject: str) -> int | None:
        """The account linked to (issuer, sub), matched on both."""
        with self._lock:
            return self._links.get((issuer, subject))

    def link_identity(self, agent_id: int, issuer: str, subject: str, at: dt.datetime) -> None:
        """Link a provider identity to an account; one account per (issuer, sub)."""
        with self._lock:
            if self._row(agent_id) is None:
                raise LookupError(f"no agent {agent_id}")
            if (issuer, subject) in self._links:
                raise ValueError("this identity is linked already")
            self._links[(issuer, subject)] = agent_id

    def unlink_identity(self, agent_id: int, issuer: str, subject: str) -> bool:
        """Remove a link of this account."""
        with self._lock:
            if self._links.get((issuer, subject)) != agent_id:
                return False
            del self._links[(issuer, subject)]
            return True

    def identities_of(self, agent_id: int) -> list[tuple[str, str]]:
        """(issuer, subject) pairs linked to the account, oldest first."""
        with self._lock:
            return [pair for pair, owner in self._links.items() if owner == agent_id]


class MemoryChallengeStore:
    """Implements ``ChallengeStore``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, Challenge] = {}

    def put(self, challenge: Challenge) -> None:
        """Store a new challenge (a key is used once)."""
        with self._lock:
            if challenge.key in self._data:
                raise ValueError("a challenge with this key exists")
            self._data[challenge.key] = replace(challenge, payload=dict(challenge.payload))

    def get(self, key: str) -> Challenge | None:
        """The challenge stored under ``key`` (a copy: callers cannot change what is stored)."""
        with self._lock:
            found = self._data.get(key)
            return None if found is None else replace(found, payload=dict(found.payload))

    def update(self, key: str, *, attempts: int, payload: Mapping[str, str]) -> None:
        """Record an attempt or new ceremony data."""
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data[key] = replace(found, attempts=attempts, payload=dict(payload))

    def take(self, key: str) -> bool:
        """Consume the challenge: only the caller that removed it may go on."""
        with self._lock:
            return self._data.pop(key, None) is not None

    def purge(self, before: dt.datetime) -> None:
        """Forget challenges that expired before ``before``."""
        with self._lock:
            for key in [k for k, c in self._data.items() if c.expires_at < before]:
                del self._data[key]


class MemorySessionStore:
    """Implements ``SessionStore`` and ``SessionRevocations``; accounts come from ``accounts``."""

    def __init__(self, accounts: MemoryCredentialStore) -> None:
        self.accounts = accounts
        self._lock = threading.Lock()
        self._data: dict[str, Session] = {}

    def create(self, session: Session) -> None:
        """Store a new session (key and public id unique; long fields cut as the columns do)."""
        with self._lock:
            if session.key in self._data or any(
                s.public_id == session.public_id for s in self._data.values()
            ):
                raise ValueError("a session with this key or public id exists")
            self._data[session.key] = replace(
                session,
                address=session.address[:64],
                network=session.network[:128],
                country=session.country[:8],
                user_agent=session.user_agent[:512],
                ended_at=None,
                end_reason="",
            )

    def get(self, key: str) -> Session | None:
        """The session whose token hashes to ``key``."""
        with self._lock:
            return self._data.get(key)

    def holder(self, key: str) -> SessionHolder | None:
        """The session with its account's credentials and organisation."""
        session = self.get(key)
        if session is None:
            return None
        creds = self.accounts.credentials_by_id(session.agent_id)
        if creds is None:
            return SessionHolder(session, None, False, None)
        return SessionHolder(
            session,
            creds.agent,
            creds.locked,
            self.accounts.directory.organisation(creds.agent.org_id),
        )

    def touch(self, key: str, at: dt.datetime) -> None:
        """Note activity on a live session."""
        with self._lock:
            found = self._data.get(key)
            if found is not None and found.ended_at is None:
                self._data[key] = replace(found, last_seen_at=at)

    def set_fresh_until(self, key: str, until: dt.datetime) -> None:
        """The second factor was proven again."""
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data[key] = replace(found, fresh_until=until)

    def rebind(self, key: str, address: str, network: str, country: str) -> None:
        """Bind a live session to the address a step-up (or a device proof) came from."""
        with self._lock:
            found = self._data.get(key)
            if found is not None and found.ended_at is None:
                self._data[key] = replace(
                    found, address=address[:64], network=network[:128], country=country[:8]
                )

    def bind_device(self, key: str, device_key: str) -> bool:
        """Register the browser's key on a live session that has none; False otherwise."""
        with self._lock:
            found = self._data.get(key)
            if found is None or found.ended_at is not None or found.device_key:
                return False
            self._data[key] = replace(found, device_key=device_key)
            return True

    def use_device_nonce(self, key: str, nonce: str) -> bool:
        """Record the refresh challenge a device answered; False when it was answered before."""
        with self._lock:
            found = self._data.get(key)
            if found is None or found.ended_at is not None or found.device_nonce == nonce:
                return False
            self._data[key] = replace(found, device_nonce=nonce)
            return True

    def _end(self, session: Session, at: dt.datetime, reason: str) -> None:
        self._data[session.key] = replace(session, ended_at=at, end_reason=reason)

    def end(self, key: str, at: dt.datetime, reason: str) -> bool:
        """End one live session; False when it had already ended."""
        with self._lock:
            found = self._data.get(key)
            if found is None or found.ended_at is not None:
                return False
            self._end(found, at, reason)
            return True

    def end_public(self, public_id: str, at: dt.datetime, reason: str) -> bool:
        """End one live session named by its public id."""
        with self._lock:
            found = next((s for s in self._data.values() if s.public_id == public_id), None)
            if found is None or found.ended_at is not None:
                return False
            self._end(found, at, reason)
            return True

    def end_all(
        self,
        at: dt.datetime,
        reason: str,
        *,
        agent_id: int | None = None,
        org_id: str | None = None,
        except_key: str | None = None,
    ) -> list[Session]:
        """End every live session of an agent or an organisation; return them as they were."""
        if agent_id is None and org_id is None:
            raise ValueError("end_all needs an agent or an organisation")
        with self._lock:
            ended = [
                s
                for s in self._data.values()
                if s.ended_at is None
                and (agent_id is None or s.agent_id == agent_id)
                and (org_id is None or s.org_id == org_id)
                and s.key != except_key
            ]
            for s in ended:
                self._end(s, at, reason)
            return ended

    def live_of(self, agent_id: int, now: dt.datetime) -> list[Session]:
        """The agent's sessions not ended nor past their absolute end, newest first."""
        with self._lock:
            live = [
                s
                for s in self._data.values()
                if s.agent_id == agent_id and s.ended_at is None and s.expires_at > now
            ]
        return sorted(live, key=lambda s: s.created_at, reverse=True)


class MemoryLocator:
    """Implements ``NetworkLocator`` from a table: (network, country) per address.

    An address not in the table gets its own network label, so two unknown addresses never
    look like one network.
    """

    def __init__(self, table: Mapping[str, tuple[str, str]] | None = None) -> None:
        self._lock = threading.Lock()
        self._table = dict(table or {})

    def place(self, address: str, network: str, country: str = "") -> None:
        """Say where ``address`` sits."""
        with self._lock:
            self._table[address] = (network, country)

    def locate(self, address: str) -> tuple[str, str]:
        """(network label, ISO country code or "") for an address."""
        with self._lock:
            return self._table.get(address, (f"NET:{address[:64]}", ""))


@dataclass(frozen=True, slots=True)
class _Grant:
    state: str
    nonce: str
    redirect_uri: str
    claims: FederatedClaims


class MemoryFederation:
    """Implements ``IdentityFederation``: a provider in memory that signs in whom a test says.

    ``authorize`` plays the person signing in at the provider for one pending request and
    returns the authorization code; ``complete`` then behaves as the real adapter does:
    another issuer, another redirect URI, an unknown or replayed code are refused.
    """

    def __init__(
        self, issuer: str = "https://idp.example", authorize_url: str = "https://idp.example/auth"
    ) -> None:
        self.issuer = issuer
        self.authorize_url = authorize_url
        self._lock = threading.Lock()
        self._requests: dict[str, FederationRequest] = {}  # state -> request
        self._redirects: dict[str, str] = {}  # state -> redirect URI
        self._codes: dict[str, _Grant] = {}

    def authorization_request(self, redirect_uri: str) -> FederationRequest:
        """A fresh request with random state, nonce and PKCE verifier."""
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        request = FederationRequest(
            url=f"{self.authorize_url}?state={state}",
            state=state,
            nonce=nonce,
            code_verifier=secrets.token_urlsafe(48),
        )
        with self._lock:
            self._requests[state] = request
            self._redirects[state] = redirect_uri
        return request

    def authorize(
        self,
        state: str,
        subject: str,
        acr: str,
        *,
        auth_time: dt.datetime | None = None,
        amr: tuple[str, ...] = (),
    ) -> str:
        """The provider signs ``subject`` in at level ``acr`` for request ``state``: a code."""
        with self._lock:
            request = self._requests.pop(state)
            redirect_uri = self._redirects.pop(state)
            code = secrets.token_urlsafe(24)
            claims = FederatedClaims(self.issuer, subject, acr, auth_time, amr)
            self._codes[code] = _Grant(state, request.nonce, redirect_uri, claims)
            return code

    def complete(
        self, request: FederationRequest, redirect_uri: str, code: str, issuer: str | None
    ) -> FederatedClaims:
        """Exchange the code: once, for the request and redirect URI it was issued to."""
        if issuer is not None and issuer != self.issuer:
            raise Unauthenticated("the authorization response comes from another issuer")
        with self._lock:
            grant = self._codes.pop(code, None)
        if grant is None or grant.state != request.state or grant.nonce != request.nonce:
            raise Unauthenticated("the identity provider refused the authorization code")
        if grant.redirect_uri != redirect_uri:
            raise InvalidRequest("the redirect URI differs from the authorization request's")
        return grant.claims
