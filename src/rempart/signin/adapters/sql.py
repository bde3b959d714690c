"""Sign-in storage in SQL: credentials and factors, pending challenges, sessions."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Engine, delete, insert, select, update

from rempart.db.raw import RawSql, day_or_none, instant, instant_or_none
from rempart.db.rows import agent_from_row, utc
from rempart.db.schema.core import AgentRow, OrganisationRow
from rempart.db.schema.signin import (
    AccountLockRow,
    ChallengeRow,
    FederatedIdentityRow,
    RecoveryCodeRow,
    SessionRow,
    WebauthnCredentialRow,
)
from rempart.db.uow import Database, as_database
from rempart.kernel.actors import Agent, Organisation, OrgKind, Role
from rempart.signin.model import (
    AccountLock,
    Challenge,
    ChallengeKind,
    Credentials,
    NewWebauthnCredential,
    Session,
    SessionHolder,
    WebauthnCredential,
)

MAX_LOCK_ADDRESSES = 32


class SqlCredentialStore:
    """The agents' secrets in the portal database (agents, locks, keys, codes, identity links).

    Implements ``CredentialStore``, ``LoginRecords``, ``AccountLocks``, ``TotpSecrets``,
    ``WebauthnKeys``, ``RecoveryCodes`` and ``IdentityLinks``.
    """

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def _credentials(self, cond: object) -> Credentials | None:
        stmt = (
            select(AgentRow.__table__, OrganisationRow.kind.label("org_kind"))
            .join(OrganisationRow, OrganisationRow.id == AgentRow.org_id)
            .where(cond)  # type: ignore[arg-type]
        )
        with self.db.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        fields = {k: v for k, v in row._mapping.items() if k != "org_kind"}
        agent_row = AgentRow(**fields)
        return Credentials(
            agent=agent_from_row(agent_row, row.org_kind),
            password_hash=agent_row.password_hash or "",
            totp_secret=agent_row.totp_secret or "",
            totp_last_step=int(agent_row.totp_last_step or 0),
            locked=bool(agent_row.locked),
            failed_logins=int(agent_row.failed_logins or 0),
        )

    def credentials(self, login: str) -> Credentials | None:
        """Credentials of the agent with this login."""
        return self._credentials(AgentRow.login == login)

    def credentials_by_id(self, agent_id: int) -> Credentials | None:
        """Credentials of the agent with this id."""
        return self._credentials(AgentRow.id == agent_id)

    def _set(self, agent_id: int, **values: object) -> None:
        with self.db.begin() as conn:
            conn.execute(update(AgentRow).where(AgentRow.id == agent_id).values(**values))

    def set_password_hash(self, agent_id: int, password_hash: str) -> None:
        """Store a new password hash."""
        self._set(agent_id, password_hash=password_hash)

    def set_totp(self, agent_id: int, secret: str, last_step: int) -> None:
        """Store (or clear, with "") the TOTP secret."""
        self._set(agent_id, totp_secret=secret, totp_last_step=last_step)

    def use_totp_step(self, agent_id: int, step: int) -> bool:
        """Compare-and-set: two requests racing with one code cannot both win."""
        with self.db.begin() as conn:
            res = conn.execute(
                update(AgentRow)
                .where(AgentRow.id == agent_id, AgentRow.totp_last_step < step)
                .values(totp_last_step=step)
            )
        return res.rowcount == 1

    def record_failed_login(self, agent_id: int) -> int:
        """One more consecutive failure, counted in the database (survives restarts)."""
        with self.db.begin() as conn:
            conn.execute(
                update(AgentRow)
                .where(AgentRow.id == agent_id)
                .values(failed_logins=AgentRow.failed_logins + 1)
            )
            count = conn.execute(
                select(AgentRow.failed_logins).where(AgentRow.id == agent_id)
            ).scalar_one()
        return int(count)

    def record_success(self, agent_id: int, at: dt.datetime) -> None:
        """Reset the failure count and note the sign-in time."""
        self._set(agent_id, failed_logins=0, last_used_at=at)

    def lock(self, lock: AccountLock) -> None:
        """Lock the account and remember why and from where."""
        with self.db.begin() as conn:
            conn.execute(update(AgentRow).where(AgentRow.id == lock.agent_id).values(locked=True))
            conn.execute(delete(AccountLockRow).where(AccountLockRow.agent_id == lock.agent_id))
            conn.execute(
                insert(AccountLockRow).values(
                    agent_id=lock.agent_id,
                    locked_at=lock.locked_at,
                    reason=lock.reason,
                    addresses=" ".join(lock.addresses[:MAX_LOCK_ADDRESSES]),
                )
            )

    def add_lock_address(self, agent_id: int, address: str) -> None:
        """Remember one more address that failed against a locked account."""
        with self.db.begin() as conn:
            current = conn.execute(
                select(AccountLockRow.addresses).where(AccountLockRow.agent_id == agent_id)
            ).scalar_one_or_none()
            if current is None:
                return
            known = current.split()
            if address in known or len(known) >= MAX_LOCK_ADDRESSES:
                return
            conn.execute(
                update(AccountLockRow)
                .where(AccountLockRow.agent_id == agent_id)
                .values(addresses=" ".join([*known, address]))
            )

    def lock_of(self, agent_id: int) -> AccountLock | None:
        """The failure lock on this account, if any."""
        with self.db.connect() as conn:
            row = conn.execute(
                select(AccountLockRow.__table__).where(AccountLockRow.agent_id == agent_id)
            ).first()
        if row is None:
            return None
        return AccountLock(
            agent_id=row.agent_id,
            locked_at=utc(row.locked_at),
            reason=row.reason,
            addresses=tuple(row.addresses.split()),
        )

    def unlock(self, agent_id: int) -> None:
        """Lift the lock and reset the failure count."""
        with self.db.begin() as conn:
            conn.execute(
                update(AgentRow)
                .where(AgentRow.id == agent_id)
                .values(locked=False, failed_logins=0)
            )
            conn.execute(delete(AccountLockRow).where(AccountLockRow.agent_id == agent_id))

    def webauthn_credentials(self, agent_id: int) -> list[WebauthnCredential]:
        """The agent's security keys, oldest first."""
        w = WebauthnCredentialRow
        with self.db.connect() as conn:
            rows = conn.execute(
                select(w.__table__).where(w.agent_id == agent_id).order_by(w.id)
            ).all()
        return [
            WebauthnCredential(
                id=r.id,
                agent_id=r.agent_id,
                credential_id=bytes(r.credential_id),
                public_key=bytes(r.public_key),
                sign_count=int(r.sign_count),
                name=r.name,
                created_at=utc(r.created_at),
                last_used_at=utc(r.last_used_at),
            )
            for r in rows
        ]

    def add_webauthn_credential(
        self, agent_id: int, cred: NewWebauthnCredential, name: str, at: dt.datetime
    ) -> WebauthnCredential:
        """Store a newly registered key."""
        with self.db.begin() as conn:
            res = conn.execute(
                insert(WebauthnCredentialRow).values(
                    agent_id=agent_id,
                    credential_id=cred.credential_id,
                    public_key=cred.public_key,
                    sign_count=cred.sign_count,
                    name=name,
                    created_at=at,
                )
            )
            new_id = int(res.inserted_primary_key[0]) if res.inserted_primary_key else 0
        return WebauthnCredential(
            new_id, agent_id, cred.credential_id, cred.public_key, cred.sign_count, name, at
        )

    def update_sign_count(self, cred_id: int, sign_count: int, at: dt.datetime) -> None:
        """Remember the authenticator's counter (a clone shows up as a counter going back)."""
        with self.db.begin() as conn:
            conn.execute(
                update(WebauthnCredentialRow)
                .where(WebauthnCredentialRow.id == cred_id)
                .values(sign_count=sign_count, last_used_at=at)
            )

    def remove_webauthn_credential(self, agent_id: int, cred_id: int) -> bool:
        """Remove one of the agent's keys."""
        with self.db.begin() as conn:
            res = conn.execute(
                delete(WebauthnCredentialRow).where(
                    WebauthnCredentialRow.id == cred_id, WebauthnCredentialRow.agent_id == agent_id
                )
            )
        return res.rowcount == 1

    def recovery_codes_left(self, agent_id: int) -> int:
        """Unused recovery codes."""
        r = RecoveryCodeRow
        with self.db.connect() as conn:
            return len(
                conn.execute(select(r.id).where(r.agent_id == agent_id, r.used_at.is_(None))).all()
            )

    def replace_recovery_codes(
        self, agent_id: int, code_hashes: Sequence[str], at: dt.datetime
    ) -> None:
        """Drop the old codes and store the new ones."""
        with self.db.begin() as conn:
            conn.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.agent_id == agent_id))
            conn.execute(
                insert(RecoveryCodeRow),
                [{"agent_id": agent_id, "code_hash": h, "created_at": at} for h in code_hashes],
            )

    def use_recovery_code(self, agent_id: int, code_hash: str, at: dt.datetime) -> bool:
        """Spend a code once: the update only matches an unused code of this agent."""
        r = RecoveryCodeRow
        with self.db.begin() as conn:
            res = conn.execute(
                update(r)
                .where(r.agent_id == agent_id, r.code_hash == code_hash, r.used_at.is_(None))
                .values(used_at=at)
            )
        return res.rowcount == 1

    def agent_by_identity(self, issuer: str, subject: str) -> int | None:
        """The account linked to (issuer, sub) — never matched on e-mail or sub alone."""
        f = FederatedIdentityRow
        with self.db.connect() as conn:
            return conn.execute(
                select(f.agent_id).where(f.issuer == issuer, f.subject == subject)
            ).scalar_one_or_none()

    def link_identity(self, agent_id: int, issuer: str, subject: str, at: dt.datetime) -> None:
        """Link a provider identity to an existing account."""
        with self.db.begin() as conn:
            conn.execute(
                insert(FederatedIdentityRow).values(
                    issuer=issuer, subject=subject, agent_id=agent_id, created_at=at
                )
            )

    def unlink_identity(self, agent_id: int, issuer: str, subject: str) -> bool:
        """Remove a link."""
        f = FederatedIdentityRow
        with self.db.begin() as conn:
            res = conn.execute(
                delete(f).where(f.agent_id == agent_id, f.issuer == issuer, f.subject == subject)
            )
        return res.rowcount == 1

    def identities_of(self, agent_id: int) -> list[tuple[str, str]]:
        """(issuer, subject) pairs linked to the account."""
        f = FederatedIdentityRow
        with self.db.connect() as conn:
            rows = conn.execute(
                select(f.issuer, f.subject).where(f.agent_id == agent_id).order_by(f.id)
            ).all()
        return [(r.issuer, r.subject) for r in rows]


class SqlChallengeStore:
    """Implements ``ChallengeStore``."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def put(self, challenge: Challenge) -> None:
        """Store a new challenge."""
        with self.db.begin() as conn:
            conn.execute(
                insert(ChallengeRow).values(
                    key=challenge.key,
                    kind=str(challenge.kind),
                    agent_id=challenge.agent_id,
                    created_at=challenge.created_at,
                    expires_at=challenge.expires_at,
                    network=challenge.network,
                    user_agent=challenge.user_agent,
                    attempts=challenge.attempts,
                    payload=json.dumps(dict(challenge.payload)),
                )
            )

    def get(self, key: str) -> Challenge | None:
        """The challenge stored under ``key``."""
        with self.db.connect() as conn:
            r = conn.execute(select(ChallengeRow.__table__).where(ChallengeRow.key == key)).first()
        if r is None:
            return None
        return Challenge(
            key=r.key,
            kind=ChallengeKind(r.kind),
            agent_id=int(r.agent_id),
            created_at=utc(r.created_at),
            expires_at=utc(r.expires_at),
            network=r.network,
            user_agent=r.user_agent,
            attempts=int(r.attempts),
            payload=json.loads(r.payload or "{}"),
        )

    def update(self, key: str, *, attempts: int, payload: dict[str, str]) -> None:
        """Record an attempt or new ceremony data."""
        with self.db.begin() as conn:
            conn.execute(
                update(ChallengeRow)
                .where(ChallengeRow.key == key)
                .values(attempts=attempts, payload=json.dumps(payload))
            )

    def take(self, key: str) -> bool:
        """Consume the challenge: only the caller whose delete matched may go on."""
        with self.db.begin() as conn:
            res = conn.execute(delete(ChallengeRow).where(ChallengeRow.key == key))
        return res.rowcount == 1

    def purge(self, before: dt.datetime) -> None:
        """Forget challenges that expired before ``before``."""
        with self.db.begin() as conn:
            conn.execute(delete(ChallengeRow).where(ChallengeRow.expires_at < before))


# The statement every signed-in request runs: the session, its agent and the agent's
# organisation; outer joins, so that a session whose account is gone still comes back and can
# be ended with the right reason.
_HOLDERS_KEPT = 4096  # live sessions whose objects are kept, per process
_HOLDER = (
    "SELECT s.key, s.public_id, s.agent_id, s.org_id, s.method, s.created_at, s.last_seen_at,"
    " s.expires_at, s.fresh_until, s.address, s.network, s.country, s.user_agent, s.enrol_only,"
    " s.ended_at, s.end_reason,"
    " a.id, a.login, a.email, a.org_id, a.roles, a.active, a.created_at, a.end_date,"
    " a.training_valid_until, a.probation_until, a.locked,"
    " o.kind, o.id, o.name, o.siret, o.region, s.device_key, s.device_nonce"
    " FROM sessions s LEFT JOIN agents a ON a.id = s.agent_id"
    " LEFT JOIN organisations o ON o.id = a.org_id WHERE s.key = ?"
)


def _holder_of(r: tuple[Any, ...]) -> SessionHolder:
    """The session, its agent and organisation from one ``_HOLDER`` row."""
    session = Session(
        key=r[0],
        public_id=r[1],
        agent_id=int(r[2]),
        org_id=r[3],
        method=r[4],
        created_at=instant(r[5]),
        last_seen_at=instant(r[6]),
        expires_at=instant(r[7]),
        fresh_until=instant_or_none(r[8]),
        address=r[9],
        network=r[10],
        country=r[11],
        user_agent=r[12],
        enrol_only=bool(r[13]),
        ended_at=instant_or_none(r[14]),
        end_reason=r[15] or "",
        device_key=r[32] or "",
        device_nonce=r[33] or "",
    )
    if r[16] is None:  # the account is gone; the session can still be ended properly
        return SessionHolder(session, None, False, None)
    kind = OrgKind(r[27])
    agent = Agent(
        id=r[16],
        login=r[17],
        email=r[18],
        org_id=r[19],
        org_kind=kind,
        roles=frozenset(Role(x) for x in r[20].split() if x),
        active=bool(r[21]),
        created_at=instant_or_none(r[22]),
        end_date=day_or_none(r[23]),
        training_valid_until=day_or_none(r[24]),
        probation_until=instant_or_none(r[25]),
    )
    org = Organisation(r[28], kind, r[29], r[30], r[31])
    return SessionHolder(session, agent, bool(r[26]), org)


def _session(r: object) -> Session:
    m = r._mapping  # type: ignore[attr-defined]
    return Session(
        key=m["key"],
        public_id=m["public_id"],
        agent_id=int(m["agent_id"]),
        org_id=m["org_id"],
        method=m["method"],
        created_at=utc(m["created_at"]),
        last_seen_at=utc(m["last_seen_at"]),
        expires_at=utc(m["expires_at"]),
        fresh_until=utc(m["fresh_until"]),
        address=m["address"],
        network=m["network"],
        country=m["country"],
        user_agent=m["user_agent"],
        enrol_only=bool(m["enrol_only"]),
        ended_at=utc(m["ended_at"]),
        end_reason=m["end_reason"] or "",
        device_key=m["device_key"] or "",
        device_nonce=m["device_nonce"] or "",
    )


class SqlSessionStore:
    """Implements ``SessionStore`` and ``SessionRevocations``."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)
        self.raw = RawSql(self.db)
        self._holders: dict[str, tuple[tuple[Any, ...], SessionHolder]] = {}

    def create(self, session: Session) -> None:
        """Store a new session."""
        with self.db.begin() as conn:
            conn.execute(
                insert(SessionRow).values(
                    key=session.key,
                    public_id=session.public_id,
                    agent_id=session.agent_id,
                    org_id=session.org_id,
                    method=session.method,
                    created_at=session.created_at,
                    last_seen_at=session.last_seen_at,
                    expires_at=session.expires_at,
                    fresh_until=session.fresh_until,
                    address=session.address[:64],
                    network=session.network[:128],
                    country=session.country[:8],
                    user_agent=session.user_agent[:512],
                    enrol_only=session.enrol_only,
                    end_reason="",
                    device_key=session.device_key,
                    device_nonce=session.device_nonce,
                )
            )

    def get(self, key: str) -> Session | None:
        """The session whose token hashes to ``key``."""
        with self.db.connect() as conn:
            r = conn.execute(select(SessionRow.__table__).where(SessionRow.key == key)).first()
        return None if r is None else _session(r)

    def holder(self, key: str) -> SessionHolder | None:
        """``SessionStore.holder``: the session, its agent and the agent's organisation in one
        hand-written statement (every signed-in request runs it; see ``rempart.db.raw``)."""
        r = self.raw.one(_HOLDER, (key,))
        if r is None:
            return None
        # The row is read on every request, so a change is seen at once; only turning an
        # unchanged row into objects again is spared (they are immutable, so shared).
        built = self._holders.get(key)
        if built is not None and built[0] == r:
            return built[1]
        holder = _holder_of(r)
        if len(self._holders) >= _HOLDERS_KEPT:
            self._holders.clear()  # a memo, not a store: start again rather than track age
        self._holders[key] = (r, holder)
        return holder

    def touch(self, key: str, at: dt.datetime) -> None:
        """Note activity (the idle timeout counts from here)."""
        with self.db.begin() as conn:
            conn.execute(
                update(SessionRow)
                .where(SessionRow.key == key, SessionRow.ended_at.is_(None))
                .values(last_seen_at=at)
            )

    def set_fresh_until(self, key: str, until: dt.datetime) -> None:
        """The second factor was proven again: privileged actions allowed until ``until``."""
        with self.db.begin() as conn:
            conn.execute(update(SessionRow).where(SessionRow.key == key).values(fresh_until=until))

    def rebind(self, key: str, address: str, network: str, country: str) -> None:
        """Bind a live session to the address a step-up (or a device proof) came from."""
        with self.db.begin() as conn:
            conn.execute(
                update(SessionRow)
                .where(SessionRow.key == key, SessionRow.ended_at.is_(None))
                .values(address=address[:64], network=network[:128], country=country[:8])
            )

    def bind_device(self, key: str, device_key: str) -> bool:
        """Register the browser's key on a live session that has none; False otherwise."""
        with self.db.begin() as conn:
            res = conn.execute(
                update(SessionRow)
                .where(
                    SessionRow.key == key,
                    SessionRow.ended_at.is_(None),
                    SessionRow.device_key == "",
                )
                .values(device_key=device_key)
            )
        return res.rowcount == 1

    def use_device_nonce(self, key: str, nonce: str) -> bool:
        """Record the refresh challenge a device answered; False when it was answered before."""
        with self.db.begin() as conn:
            res = conn.execute(
                update(SessionRow)
                .where(
                    SessionRow.key == key,
                    SessionRow.ended_at.is_(None),
                    SessionRow.device_nonce != nonce,
                )
                .values(device_nonce=nonce)
            )
        return res.rowcount == 1

    def end(self, key: str, at: dt.datetime, reason: str) -> bool:
        """End one live session."""
        with self.db.begin() as conn:
            res = conn.execute(
                update(SessionRow)
                .where(SessionRow.key == key, SessionRow.ended_at.is_(None))
                .values(ended_at=at, end_reason=reason)
            )
        return res.rowcount == 1

    def end_public(self, public_id: str, at: dt.datetime, reason: str) -> bool:
        """End one live session named by its public id (what journals and alerts show)."""
        with self.db.begin() as conn:
            res = conn.execute(
                update(SessionRow)
                .where(SessionRow.public_id == public_id, SessionRow.ended_at.is_(None))
                .values(ended_at=at, end_reason=reason)
            )
        return res.rowcount == 1

    def end_all(
        self,
        at: dt.datetime,
        reason: str,
        *,
        agent_id: int | None = None,
        org_id: str | None = None,
        except_key: str | None = None,
    ) -> list[Session]:
        """End every live session of an agent or an organisation."""
        conds: list[ColumnElement[bool]] = [SessionRow.ended_at.is_(None)]
        if agent_id is not None:
            conds.append(SessionRow.agent_id == agent_id)
        if org_id is not None:
            conds.append(SessionRow.org_id == org_id)
        if agent_id is None and org_id is None:
            raise ValueError("end_all needs an agent or an organisation")
        if except_key is not None:
            conds.append(SessionRow.key != except_key)
        with self.db.begin() as conn:
            rows = conn.execute(select(SessionRow.__table__).where(*conds)).all()
            if rows:
                conn.execute(
                    update(SessionRow)
                    .where(SessionRow.key.in_([r.key for r in rows]), SessionRow.ended_at.is_(None))
                    .values(ended_at=at, end_reason=reason)
                )
        return [_session(r) for r in rows]

    def live_of(self, agent_id: int, now: dt.datetime) -> list[Session]:
        """The agent's sessions not ended nor past their absolute end, newest first."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(SessionRow.__table__)
                .where(
                    SessionRow.agent_id == agent_id,
                    SessionRow.ended_at.is_(None),
                    SessionRow.expires_at > now,
                )
                .order_by(SessionRow.created_at.desc())
            ).all()
        return [_session(r) for r in rows]
