"""Governance tables: account requests, enrolment links, access reviews, organisation suspensions.

The governance columns of ``agents`` (created_by, approved_by, ...) are mapped on ``AgentRow``
itself, so that one table has one mapping; migration ``0004_governance`` adds both.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rempart.db.schema.core import Base, BigId


class AccountRequestRow(Base):
    """A request to create an account or change its roles, pending a second person's approval."""

    __tablename__ = "account_requests"
    __table_args__ = (
        Index("ix_account_requests_org_status", "org_id", "status"),
        Index("ix_account_requests_requester", "requested_by", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, not guessable
    kind: Mapped[str] = mapped_column(String(24))
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    requested_by: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    requested_by_login: Mapped[str] = mapped_column(String(64))
    target_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    login: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    grant_roles: Mapped[str] = mapped_column(String(200), default="")  # space-separated
    revoke_roles: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_by_login: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_agent_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class EnrolmentTokenRow(Base):
    """A one-time enrolment link; only the SHA-256 of the 256-bit token is kept."""

    __tablename__ = "enrolment_tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    pending_totp_secret: Mapped[str] = mapped_column(String(64), default="")


class ReviewCampaignRow(Base):
    __tablename__ = "review_campaigns"
    __table_args__ = (Index("ix_review_campaigns_org", "org_id", "opened_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    default_decision: Mapped[str] = mapped_column(String(8), default="remove")
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_reminder_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class ReviewItemRow(Base):
    """One account (role '*') or one of its roles in a campaign, and the decision taken."""

    __tablename__ = "review_items"
    __table_args__ = (UniqueConstraint("campaign_id", "agent_id", "role"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("review_campaigns.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    login: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str | None] = mapped_column(String(8), nullable=True)
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    by_default: Mapped[bool] = mapped_column(Boolean, default=False)


class OrgSuspensionRow(Base):
    """An organisation switched off by an administrator; lifted rows are kept as history."""

    __tablename__ = "org_suspensions"
    __table_args__ = (Index("ix_org_suspensions_org", "org_id", "lifted_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    suspended_by: Mapped[str] = mapped_column(String(64))
    suspended_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    lifted_by: Mapped[str] = mapped_column(String(64), default="")
    lifted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PrivilegeBatchRow(Base):
    """The privileged rows of one import, as one four-eyes request (granted when approved)."""

    __tablename__ = "privilege_batches"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, not guessable
    import_batch: Mapped[int] = mapped_column(BigInteger)
    requested_by: Mapped[str] = mapped_column(String(128))  # who ran the import
    requested_by_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_by_login: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PrivilegeBatchItemRow(Base):
    """One privileged row of an import: these roles, for this account."""

    __tablename__ = "privilege_batch_items"
    batch_id: Mapped[str] = mapped_column(ForeignKey("privilege_batches.id"), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    login: Mapped[str] = mapped_column(String(64))
    org_id: Mapped[str] = mapped_column(String(32))
    roles: Mapped[str] = mapped_column(String(200))  # space-separated
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
