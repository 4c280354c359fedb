from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamps, UUIDPrimaryKey, Versioned

PROGRAM_STATUSES = ("planned", "active", "closed")
COMMITMENT_STATUSES = ("committed", "in_progress", "stalled", "launched", "sustained", "cancelled")
ITEM_STATUSES = ("todo", "doing", "done", "blocked")
# Statuses after which a commitment is neither overdue nor expected to report.
FINAL_STATUSES = ("sustained", "cancelled")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class ReplicationProgram(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A replication programme (program replikasi) run by a province or the ministry."""

    __tablename__ = "replication_programs"

    name: Mapped[str] = mapped_column(Text, nullable=False)
    province_code: Mapped[str | None] = mapped_column(
        String(5), ForeignKey("regions.code", ondelete="RESTRICT")
    )
    fiscal_year: Mapped[int] = mapped_column(Integer, nullable=False)
    signed_on: Mapped[date | None] = mapped_column(Date)
    coordinator: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    mentor_team: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="planned")
    # The JIPP hub that mentors the programme (app.models.institutionalisation), if any.
    mentor_hub_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("jipp_hubs.id", ondelete="RESTRICT")
    )

    __table_args__ = (
        CheckConstraint(f"status IN {_in(PROGRAM_STATUSES)}", name="status"),
        CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name="fiscal_year"),
        Index("ix_replication_programs_fiscal_year_id", text("fiscal_year DESC"), text("id DESC")),
        Index("ix_replication_programs_province_code_fiscal_year", "province_code", "fiscal_year"),
        Index("ix_replication_programs_status", "status"),
        Index("ix_replication_programs_mentor_hub_id", "mentor_hub_id"),
    )


class Commitment(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A replication commitment (komitmen replikasi): an adopter adopts an innovation."""

    __tablename__ = "commitments"

    program_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("replication_programs.id", ondelete="RESTRICT"),
        nullable=False,
    )
    innovation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="RESTRICT"), nullable=False
    )
    adopter_institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT"), nullable=False
    )
    # Copies fixed at creation: where the adopter is and where the innovation came from.
    adopter_region_code: Mapped[str | None] = mapped_column(String(5))
    adopter_province_code: Mapped[str | None] = mapped_column(String(2))
    origin_province_code: Mapped[str | None] = mapped_column(String(2))
    signed_on: Mapped[date] = mapped_column(Date, nullable=False)
    target_launch_on: Mapped[date | None] = mapped_column(Date)
    planned_modifications: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    budget_idr: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    mentors: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="committed")
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Weighted mean of the action items' progress, or the latest reported percentage.
    progress: Mapped[float] = mapped_column(Numeric(5, 2), nullable=False, server_default="0")
    # The percentage of the report with the latest `as_of` (a late backfill does not win).
    latest_percent: Mapped[int | None] = mapped_column(Integer)
    latest_as_of: Mapped[date | None] = mapped_column(Date)
    # When the latest progress report came in (the UTC date drives `stale`).
    last_report_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_report_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("program_id", "innovation_id", "adopter_institution_id"),
        CheckConstraint(f"status IN {_in(COMMITMENT_STATUSES)}", name="status"),
        CheckConstraint("budget_idr >= 0", name="budget_idr"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        Index("ix_commitments_signed_on_id", text("signed_on DESC"), text("id DESC")),
        # Covers the read model's replication figures (by status, provinces reached).
        Index(
            "ix_commitments_innovation_id_status",
            "innovation_id",
            "status",
            postgresql_include=["adopter_province_code"],
        ),
        Index("ix_commitments_adopter_institution_id", "adopter_institution_id"),
        Index(
            "ix_commitments_adopter_province_code_signed_on_id",
            "adopter_province_code",
            text("signed_on DESC"),
            text("id DESC"),
        ),
        Index(
            "ix_commitments_status_signed_on_id", "status", text("signed_on DESC"), text("id DESC")
        ),
        Index(
            "ix_commitments_overdue",
            "target_launch_on",
            postgresql_where=text("status IN ('committed', 'in_progress', 'stalled')"),
        ),
        # The overdue list by signing date: open commitments in 30-day buckets of their target
        # date, each bucket by signing date (`app.replication.repository.OVERDUE_WALK`).
        Index(
            "ix_commitments_overdue_walk",
            text("((target_launch_on - '2000-01-01'::date) / 30)"),
            text("signed_on DESC"),
            text("id DESC"),
            postgresql_where=text(
                "status IN ('committed', 'in_progress', 'stalled') AND target_launch_on IS NOT NULL"
            ),
        ),
        # No index may name a column a progress report changes (progress, the latest report),
        # and each page keeps room for a row's next version: the report's update of its
        # commitment then stays on the row's page (HOT). `stale` reads `commitment_activity`.
        {"postgresql_with": {"fillfactor": 85}},
    )


class CommitmentActivity(Base):
    """The day `stale` counts from for each commitment that is not final: the later of its
    latest progress report's and its signing's. Kept in step by triggers on `commitments`."""

    __tablename__ = "commitment_activity"

    commitment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("commitments.id", ondelete="CASCADE"), primary_key=True
    )
    active_on: Mapped[date] = mapped_column(Date, nullable=False)

    __table_args__ = (Index("ix_commitment_activity_active_on", "active_on"),)


class ActionItem(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """An item of a commitment's action plan (rencana aksi)."""

    __tablename__ = "action_items"

    commitment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("commitments.id", ondelete="RESTRICT"), nullable=False
    )
    title: Mapped[str] = mapped_column(Text, nullable=False)
    due_on: Mapped[date | None] = mapped_column(Date)
    weight: Mapped[float] = mapped_column(Numeric(8, 2), nullable=False, server_default="1")
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="todo")
    progress: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    completed_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint(f"status IN {_in(ITEM_STATUSES)}", name="status"),
        CheckConstraint("weight > 0", name="weight"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        Index("ix_action_items_commitment_id_due_on", "commitment_id", "due_on", "id"),
        # Room on each page for the next version of a row a progress report updates (HOT).
        {"postgresql_with": {"fillfactor": 90}},
    )


class ProgressReport(UUIDPrimaryKey, Base):
    """A progress report (laporan kemajuan) on a commitment. Append-only."""

    __tablename__ = "progress_reports"

    commitment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("commitments.id", ondelete="RESTRICT"), nullable=False
    )
    as_of: Mapped[date] = mapped_column(Date, nullable=False)
    percent_complete: Mapped[int] = mapped_column(Integer, nullable=False)
    item_updates: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default="[]"
    )
    narrative: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    obstacles: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    evidence_urls: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )
    reported_by: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    reporter_key_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        CheckConstraint("percent_complete BETWEEN 0 AND 100", name="percent_complete"),
        Index(
            "ix_progress_reports_commitment_id_created_at",
            "commitment_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
    )
