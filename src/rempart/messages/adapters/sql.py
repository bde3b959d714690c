"""``SqlMessageRegister``: the register of official messages in the portal database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from rempart.db.rows import utc
from rempart.db.schema.messages import MessageCheckRow, OfficialMessageRow
from rempart.db.uow import Database, as_database
from rempart.kernel.throttling import Failures
from rempart.messages.model import Channel, Check, OfficialMessage


def _message(r: Any) -> OfficialMessage:
    registered = utc(r.registered_at)
    assert registered is not None
    return OfficialMessage(
        reference=r.reference,
        ft_id=r.ft_id,
        channel=Channel(r.channel),
        subject=r.subject,
        content_hash=r.content_hash,
        body=r.body,
        registered_at=registered,
        key=r.key or "",
        sent_at=utc(r.sent_at),
        delivered_at=utc(r.delivered_at),
        revoked_at=utc(r.revoked_at),
    )


class SqlMessageRegister:
    """Implements ``MessageRegister`` in SQL."""

    def __init__(self, db: Database | Engine) -> None:
        self.db = as_database(db)

    def add(self, message: OfficialMessage) -> bool:
        """Keep a new entry; False when the idempotency key is taken."""
        values = {
            "reference": message.reference,
            "ft_id": message.ft_id,
            "channel": str(message.channel),
            "subject": message.subject,
            "content_hash": message.content_hash,
            "body": message.body,
            "key": message.key or None,
            "registered_at": message.registered_at,
            "sent_at": message.sent_at,
            "delivered_at": message.delivered_at,
            "revoked_at": message.revoked_at,
        }
        if message.key and self.by_key(message.key) is not None:
            return False
        try:
            with self.db.begin() as conn:
                if self.db.active() is not None:
                    # Inside a unit of work: a savepoint, so a lost race on the key leaves the
                    # caller's transaction usable.
                    with conn.begin_nested():
                        conn.execute(insert(OfficialMessageRow).values(**values))
                else:
                    conn.execute(insert(OfficialMessageRow).values(**values))
        except IntegrityError:
            return False
        return True

    def get(self, reference: str) -> OfficialMessage | None:
        """One entry by reference."""
        t = OfficialMessageRow
        with self.db.connect() as conn:
            r = conn.execute(select(t.__table__).where(t.reference == reference)).first()
        return _message(r) if r is not None else None

    def by_key(self, key: str) -> OfficialMessage | None:
        """The entry registered under an idempotency key."""
        t = OfficialMessageRow
        with self.db.connect() as conn:
            r = conn.execute(select(t.__table__).where(t.key == key)).first()
        return _message(r) if r is not None else None

    def of_person(self, ft_id: str, limit: int) -> Sequence[OfficialMessage]:
        """The person's messages, newest first."""
        t = OfficialMessageRow
        with self.db.connect() as conn:
            rows = conn.execute(
                select(t.__table__)
                .where(t.ft_id == ft_id)
                .order_by(t.registered_at.desc(), t.reference)
                .limit(limit)
            ).all()
        return [_message(r) for r in rows]

    def mark_sent(self, reference: str, at: dt.datetime) -> bool:
        """Hand-over to the channel, once."""
        t = OfficialMessageRow
        with self.db.begin() as conn:
            res = conn.execute(
                update(t).where(t.reference == reference, t.sent_at.is_(None)).values(sent_at=at)
            )
            return res.rowcount == 1

    def mark_delivered(self, reference: str, at: dt.datetime) -> None:
        """The channel accepted the message."""
        t = OfficialMessageRow
        with self.db.begin() as conn:
            conn.execute(update(t).where(t.reference == reference).values(delivered_at=at))

    def revoke(self, reference: str, at: dt.datetime) -> bool:
        """A message no longer vouched for (sent in error); False when unknown or revoked."""
        t = OfficialMessageRow
        with self.db.begin() as conn:
            res = conn.execute(
                update(t)
                .where(t.reference == reference, t.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            return res.rowcount == 1

    def add_check(self, check: Check) -> None:
        """Keep one verification."""
        with self.db.begin() as conn:
            conn.execute(
                insert(MessageCheckRow).values(
                    client_address=check.client_address[:64], at=check.at, genuine=check.genuine
                )
            )

    def misses_since(self, since: dt.datetime, *, client_address: str = "") -> Failures:
        """Verifications that found nothing genuine since ``since`` (indexed either way)."""
        t = MessageCheckRow
        where = [t.genuine.is_(False), t.at >= since]
        if client_address:
            where.insert(0, t.client_address == client_address[:64])
        with self.db.connect() as conn:
            count, last = conn.execute(select(func.count(), func.max(t.at)).where(*where)).one()
        return Failures(count=int(count), last_at=utc(last))
