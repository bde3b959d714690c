"""The portal's tables (typed SQLAlchemy 2 mappings). Migrations live in ``migrations/``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for big tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class MetaRow(Base):
    """Key/value facts about the database itself (``demo`` marks a synthetic database)."""

    __tablename__ = "rempart_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class OrganisationRow(Base):
    __tablename__ = "organisations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    region: Mapped[str] = mapped_column(String(64), default="")


class PersonRow(Base):
    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ft_id: Mapped[str] = mapped_column(String(8), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    nir: Mapped[str] = mapped_column(String(15))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(32))
    address_line: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(100))
    registration_status: Mapped[str] = mapped_column(String(16))
    registration_date: Mapped[dt.date] = mapped_column(Date)
    deregistration_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    last_activity_date: Mapped[dt.date] = mapped_column(Date)
    rqth_since: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    is_canary: Mapped[bool] = mapped_column(Boolean, default=False)


class AgentRow(Base):
    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    roles: Mapped[str] = mapped_column(String(200))  # space-separated Role values
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    training_valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    totp_secret: Mapped[str] = mapped_column(String(64), default="")
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Governance (migration 0004_governance): who created and approved the account, and its
    # state. Server defaults keep inserts that predate these columns valid.
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    approved_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    probation_until: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    disabled_reason: Mapped[str] = mapped_column(String(32), default="", server_default="")
    enrolment_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class TrainingRow(Base):
    __tablename__ = "trainings"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)


class TrainingSessionRow(Base):
    __tablename__ = "training_sessions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("trainings.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(100))


class EnrolmentRow(Base):
    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("training_id", "person_id"),
        Index("ix_enrolments_person_org", "person_id", "org_id"),
        Index("ix_enrolments_org_end", "org_id", "end_date"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("trainings.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    org_id: Mapped[str] = mapped_column(String(32))  # denormalised: scope checks need no join
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    # Loaded from the agency's files (``rempart import``): ended when a later file omits it.
    imported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The relation is confirmed (by the person's one-time code or the agency's import); one
    # made from an exact lookup is not, and opens no contact data until it is.
    confirmed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    confirm_code_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    confirm_expires_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    confirm_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AttendanceRow(Base):
    __tablename__ = "attendance"
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    mark: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AssignmentRow(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_person", "person_id"),
        Index("ix_assignments_agent", "agent_id", "end_date"),
        # The agency's assignment of one person to one adviser is one row, upserted by import.
        Index(
            "ux_assignments_imported",
            "agent_id",
            "person_id",
            unique=True,
            sqlite_where=text("imported"),
            postgresql_where=text("imported"),
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    org_id: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    imported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class FollowUpNoteRow(Base):
    __tablename__ = "follow_up_notes"
    __table_args__ = (Index("ix_notes_person_org", "person_id", "org_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    org_id: Mapped[str] = mapped_column(String(32))
    author_login: Mapped[str] = mapped_column(String(64))
    written_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    text: Mapped[str] = mapped_column(Text)


class AppSwitchRow(Base):
    """An app switched off for everyone (org_id '*') or for one organisation."""

    __tablename__ = "app_switches"
    app: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_at", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    agent_login: Mapped[str] = mapped_column(String(64), default="")
    org_id: Mapped[str] = mapped_column(String(32), default="")
    session_id: Mapped[str] = mapped_column(String(128), default="")
    action_taken: Mapped[str] = mapped_column(String(64), default="none")
    explanation: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="{}")  # JSON
