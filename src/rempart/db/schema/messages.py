"""Portal tables for official messages: the register and the verifications asked for
(migration 0006)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rempart.db.schema.core import Base, BigId


class OfficialMessageRow(Base):
    """One message sent to a person, registered before it left. ``body`` is the text as sent
    with its secrets masked; ``content_hash`` is keyed (see ``messages/model.py``)."""

    __tablename__ = "official_messages"
    __table_args__ = (Index("ix_official_messages_ft_id", "ft_id", "registered_at"),)
    reference: Mapped[str] = mapped_column(String(12), primary_key=True)
    ft_id: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    # The caller's idempotency key: a resumed bulk send finds what it already sent.
    key: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MessageCheckRow(Base):
    """One "did this come from you?" asked: what throttles guessing."""

    __tablename__ = "message_checks"
    __table_args__ = (
        Index("ix_message_checks_address", "client_address", "genuine", "at"),
        Index("ix_message_checks_at", "genuine", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    genuine: Mapped[bool] = mapped_column(Boolean)
