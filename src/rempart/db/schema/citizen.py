"""Portal tables for "who consulted my file": one-time codes, sessions, flags (migration 0003)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rempart.db.schema.core import Base, BigId


class CitizenChallengeRow(Base):
    """A one-time code; only its keyed digest is stored."""

    __tablename__ = "citizen_challenges"
    __table_args__ = (
        Index("ix_citizen_challenges_ft_id", "ft_id", "created_at"),
        Index("ix_citizen_challenges_address", "client_address", "created_at"),
        Index("ix_citizen_challenges_pair", "pair_key", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ft_id: Mapped[str] = mapped_column(String(8))
    client_address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Keyed digest of (ft_id, birth date): the person's throttle counts the pair, never the
    # ft_id alone (a wrong birth date must not delay the real person).
    pair_key: Mapped[str] = mapped_column(String(64), default="", server_default="")


class CitizenSessionRow(Base):
    """A person's short session; keyed by the SHA-256 of its token, never the token."""

    __tablename__ = "citizen_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    csrf_hash: Mapped[str] = mapped_column(String(64))
    ft_id: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    # What the session is bound to, as an agent's: the address (IPv6: its /64) and browser.
    bound_address: Mapped[str] = mapped_column(String(64), default="", server_default="")
    user_agent: Mapped[str] = mapped_column(String(512), default="", server_default="")


class CitizenFlagRow(Base):
    """ "I don't recognise this", once per person and journal entry."""

    __tablename__ = "citizen_flags"
    __table_args__ = (UniqueConstraint("ft_id", "seq", name="uq_citizen_flags_ft_id_seq"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ft_id: Mapped[str] = mapped_column(String(8))
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str] = mapped_column(Text, default="")
    alert_id: Mapped[int] = mapped_column(BigInteger, default=0)
