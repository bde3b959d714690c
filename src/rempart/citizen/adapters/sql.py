"""``SqlCitizenStore``: one-time codes, sessions and flags in the portal database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from rempart.citizen.model import CitizenChallenge, CitizenFlag, CitizenSession
from rempart.db.rows import utc
from rempart.db.schema.citizen import CitizenChallengeRow, CitizenFlagRow, CitizenSessionRow
from rempart.db.uow import Database, as_database
from rempart.kernel.throttling import Failures


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class SqlCitizenStore:
    """Implements ``CitizenStore`` in SQL."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def add_challenge(self, challenge: CitizenChallenge) -> None:
        """Keep a new challenge."""
        with self.db.begin() as conn:
            conn.execute(
                insert(CitizenChallengeRow).values(
                    id=challenge.id,
                    ft_id=challenge.ft_id,
                    client_address=challenge.client_address[:64],
                    created_at=challenge.created_at,
                    expires_at=challenge.expires_at,
                    code_hash=challenge.code_hash,
                    attempts=challenge.attempts,
                    consumed_at=challenge.consumed_at,
                    pair_key=challenge.pair_key,
                )
            )

    def challenge(self, challenge_id: str) -> CitizenChallenge | None:
        """One challenge by id."""
        with self.db.connect() as conn:
            r = conn.execute(
                select(CitizenChallengeRow.__table__).where(CitizenChallengeRow.id == challenge_id)
            ).first()
        if r is None:
            return None
        return CitizenChallenge(
            id=r.id,
            ft_id=r.ft_id,
            client_address=r.client_address,
            created_at=_aware(r.created_at),
            expires_at=_aware(r.expires_at),
            code_hash=r.code_hash,
            attempts=r.attempts,
            consumed_at=utc(r.consumed_at),
            pair_key=r.pair_key,
        )

    def challenges_since(
        self, since: dt.datetime, *, pair_key: str = "", client_address: str = ""
    ) -> Failures:
        """Codes asked for since ``since``, per (ft_id, birth date) pair or per address (both
        indexed)."""
        t = CitizenChallengeRow
        where = [t.created_at >= since]
        if pair_key:
            where.append(t.pair_key == pair_key)
        if client_address:
            where.append(t.client_address == client_address[:64])
        with self.db.connect() as conn:
            count, last = conn.execute(
                select(func.count(), func.max(t.created_at)).where(*where)
            ).one()
        return Failures(count=int(count), last_at=utc(last))

    def record_attempt(self, challenge_id: str) -> int:
        """One more try at the code, counted in the database so parallel tries all count."""
        t = CitizenChallengeRow
        with self.db.begin() as conn:
            conn.execute(update(t).where(t.id == challenge_id).values(attempts=t.attempts + 1))
            return int(conn.execute(select(t.attempts).where(t.id == challenge_id)).scalar_one())

    def consume(self, challenge_id: str, at: dt.datetime) -> bool:
        """Use a challenge up; only the first caller succeeds."""
        t = CitizenChallengeRow
        with self.db.begin() as conn:
            res = conn.execute(
                update(t)
                .where(t.id == challenge_id, t.consumed_at.is_(None))
                .values(consumed_at=at)
            )
            return res.rowcount == 1

    def add_session(self, session: CitizenSession) -> None:
        """Keep a new session."""
        with self.db.begin() as conn:
            conn.execute(
                insert(CitizenSessionRow).values(
                    token_hash=session.token_hash,
                    csrf_hash=session.csrf_hash,
                    ft_id=session.ft_id,
                    created_at=session.created_at,
                    expires_at=session.expires_at,
                    bound_address=session.bound_address[:64],
                    user_agent=session.user_agent[:512],
                )
            )

    def session(self, token_hash: str) -> CitizenSession | None:
        """A session by the digest of its token."""
        with self.db.connect() as conn:
            r = conn.execute(
                select(CitizenSessionRow.__table__).where(
                    CitizenSessionRow.token_hash == token_hash
                )
            ).first()
        if r is None:
            return None
        return CitizenSession(
            token_hash=r.token_hash,
            csrf_hash=r.csrf_hash,
            ft_id=r.ft_id,
            created_at=_aware(r.created_at),
            expires_at=_aware(r.expires_at),
            bound_address=r.bound_address,
            user_agent=r.user_agent,
        )

    def end_session(self, token_hash: str) -> None:
        """Forget a session."""
        with self.db.begin() as conn:
            conn.execute(
                delete(CitizenSessionRow).where(CitizenSessionRow.token_hash == token_hash)
            )

    def flagged(self, ft_id: str, seq: int) -> bool:
        """True when the person already flagged that entry."""
        t = CitizenFlagRow
        with self.db.connect() as conn:
            return (
                conn.execute(select(t.id).where(t.ft_id == ft_id, t.seq == seq)).first() is not None
            )

    def add_flag(self, flag: CitizenFlag) -> bool:
        """Keep a flag; False when it already exists."""
        try:
            with self.db.begin() as conn:
                conn.execute(
                    insert(CitizenFlagRow).values(
                        ft_id=flag.ft_id,
                        seq=flag.seq,
                        at=flag.at,
                        comment=flag.comment,
                        alert_id=flag.alert_id,
                    )
                )
        except IntegrityError:
            return False
        return True
