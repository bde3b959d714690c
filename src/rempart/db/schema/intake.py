"""Tables of the data import and of the people's confirmations (an adviser taking them on)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rempart.db.schema.core import Base, BigId


class ImportBatchRow(Base):
    """One run of ``rempart import``: who ran it, when, and what it changed (JSON counts)."""

    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ran_by: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(500))
    counts: Mapped[str] = mapped_column(Text, default="{}")
    rejected: Mapped[int] = mapped_column(Integer, default=0)


class PersonConfirmationRow(Base):
    """A one-time code sent to a person, who gives it back to confirm an action about them
    (an adviser taking on their follow-up). Only a keyed digest of the code is kept."""

    __tablename__ = "person_confirmations"
    __table_args__ = (Index("ix_person_confirmations_person", "person_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    org_id: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
