"""Sign-in tables: sessions, pending challenges, second factors, federated identities, locks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rempart.db.schema.core import Base, BigId


class SessionRow(Base):
    """A server-side session; ``key`` is the SHA-256 of the cookie token, never the token."""

    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_agent_live", "agent_id", "ended_at"),
        Index("ix_sessions_org_live", "org_id", "ended_at"),
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    org_id: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    fresh_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    address: Mapped[str] = mapped_column(String(64))
    network: Mapped[str] = mapped_column(String(128))
    country: Mapped[str] = mapped_column(String(8))
    user_agent: Mapped[str] = mapped_column(String(512))
    enrol_only: Mapped[bool] = mapped_column(Boolean, default=False)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_reason: Mapped[str] = mapped_column(String(64), default="")
    # DBSC: the browser's public key (JWK) and the last refresh challenge it answered.
    device_key: Mapped[str] = mapped_column(Text, default="", server_default="")
    device_nonce: Mapped[str] = mapped_column(String(64), default="", server_default="")


class ChallengeRow(Base):
    """A pending ceremony step (second factor, key registration, OIDC transaction)."""

    __tablename__ = "auth_challenges"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[int] = mapped_column(BigInteger)  # 0 for an OIDC transaction
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    network: Mapped[str] = mapped_column(String(128))
    user_agent: Mapped[str] = mapped_column(String(512))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON object of strings


class WebauthnCredentialRow(Base):
    __tablename__ = "webauthn_credentials"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1024), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(2048))
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RecoveryCodeRow(Base):
    """A one-time recovery code, stored as a keyed hash (120-bit codes: ASVS V6.5.2)."""

    __tablename__ = "recovery_codes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class FederatedIdentityRow(Base):
    """An identity at a provider, linked beforehand to an existing account (issuer, sub)."""

    __tablename__ = "federated_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AccountLockRow(Base):
    """Why and when an account was locked after failures, and the addresses that failed."""

    __tablename__ = "account_locks"
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    locked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(64))
    addresses: Mapped[str] = mapped_column(Text, default="")  # space-separated
