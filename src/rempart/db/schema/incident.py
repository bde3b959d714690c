"""Portal tables of incident response: incidents, their logs, their letters (migration 0006)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rempart.db.schema.core import Base, BigId


class IncidentRow(Base):
    """One incident; the selector, milestones and figures as JSON text."""

    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    opened_by: Mapped[str] = mapped_column(String(80))
    selector: Mapped[str] = mapped_column(Text)
    since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    aware_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    alert_id: Mapped[int] = mapped_column(BigInteger, default=0)
    milestones: Mapped[str] = mapped_column(Text, default="{}")
    figures: Mapped[str] = mapped_column(Text, default="")


class IncidentEventRow(Base):
    """One line of an incident's log."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident", "incident_id", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(80))
    details: Mapped[str] = mapped_column(Text, default="{}")


class IncidentLetterRow(Base):
    """One person to tell about one incident, and where that letter stands."""

    __tablename__ = "incident_letters"
    __table_args__ = (Index("ix_incident_letters_state", "incident_id", "state", "ft_id"),)
    incident_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ft_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(32), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
