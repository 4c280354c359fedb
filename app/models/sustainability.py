"""Sustainability monitoring (pemantauan keberlanjutan): a versioned rubric and assessments."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
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

VERDICTS = ("sustained", "at_risk", "discontinued")
LEADERSHIP_CHANGE = ("yes", "no", "not_applicable")
LEGAL_BASES = ("none", "decree", "head_regulation", "bylaw")
MONITORING = ("none", "internal", "public_survey")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class SustainabilityRubric(Base):
    """A version of the sustainability rubric: indicators, weights, levels and thresholds.

    Rows are never changed: a new version is a new row, and assessments keep the version they
    were scored with. The current rubric is the highest version.
    """

    __tablename__ = "sustainability_rubrics"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Indicators with their weights and levels, and the verdict thresholds: see the README
    # and `GET /rubrics/sustainability`. Version 1 is seeded by the migration.
    title: Mapped[str] = mapped_column(Text, nullable=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    effective_on: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (CheckConstraint("version >= 1", name="version"),)


class SustainabilityAssessment(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A periodic sustainability assessment of an innovation (at its origin) or of a
    commitment (a replica). Exactly one subject; one assessment per subject and period."""

    __tablename__ = "sustainability_assessments"

    innovation_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="RESTRICT")
    )
    commitment_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("commitments.id", ondelete="RESTRICT")
    )
    # The innovation the subject is about: itself, or the source of the commitment (timelines).
    source_innovation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="RESTRICT"), nullable=False
    )
    # The subject's province (origin's for an innovation, adopter's for a commitment).
    province_code: Mapped[str | None] = mapped_column(String(2))
    period: Mapped[int] = mapped_column(Integer, nullable=False)
    operating: Mapped[bool] = mapped_column(Boolean, nullable=False)
    survived_leadership_change: Mapped[str] = mapped_column(String(16), nullable=False)
    legal_basis: Mapped[str] = mapped_column(String(16), nullable=False)
    budget_years: Mapped[int] = mapped_column(Integer, nullable=False)
    in_regional_plan: Mapped[bool] = mapped_column(Boolean, nullable=False)
    in_performance_indicators: Mapped[bool] = mapped_column(Boolean, nullable=False)
    has_sop: Mapped[bool] = mapped_column(Boolean, nullable=False)
    staff_count: Mapped[int] = mapped_column(Integer, nullable=False)
    beneficiaries_count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    monitoring: Mapped[str] = mapped_column(String(16), nullable=False)
    complaint_resolution_pct: Mapped[int | None] = mapped_column(Integer)
    incentive_idr: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    notes: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    evidence_urls: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )
    assessed_on: Mapped[date] = mapped_column(Date, nullable=False)
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    verdict: Mapped[str] = mapped_column(String(16), nullable=False)
    # Each indicator's value, fraction and points as scored (in the rubric's order), so an
    # old assessment explains itself whatever later rubric versions say.
    breakdown: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    rubric_version: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("sustainability_rubrics.version", ondelete="RESTRICT"),
        nullable=False,
    )
    assessed_by_key_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    __table_args__ = (
        CheckConstraint("num_nonnulls(innovation_id, commitment_id) = 1", name="one_subject"),
        CheckConstraint("period BETWEEN 2000 AND 2100", name="period"),
        CheckConstraint("assessed_on >= make_date(period, 1, 1)", name="assessed_on"),
        CheckConstraint(
            f"survived_leadership_change IN {_in(LEADERSHIP_CHANGE)}", name="leadership"
        ),
        CheckConstraint(f"legal_basis IN {_in(LEGAL_BASES)}", name="legal_basis"),
        CheckConstraint("budget_years BETWEEN 0 AND 3", name="budget_years"),
        CheckConstraint("staff_count >= 0", name="staff_count"),
        CheckConstraint("beneficiaries_count >= 0", name="beneficiaries_count"),
        CheckConstraint(f"monitoring IN {_in(MONITORING)}", name="monitoring"),
        CheckConstraint(
            "complaint_resolution_pct BETWEEN 0 AND 100", name="complaint_resolution_pct"
        ),
        CheckConstraint("incentive_idr >= 0", name="incentive_idr"),
        CheckConstraint("score BETWEEN 0 AND 100", name="score"),
        CheckConstraint(f"verdict IN {_in(VERDICTS)}", name="verdict"),
        # NULLs are distinct: each constraint binds only the assessments of its subject kind.
        UniqueConstraint("innovation_id", "period"),
        UniqueConstraint("commitment_id", "period"),
        # Timelines: an innovation's own assessments and its replicas'.
        Index(
            "ix_sustainability_assessments_source_innovation_id_period",
            "source_innovation_id",
            "period",
        ),
        # List sorts (id breaks ties), alone and behind the province and verdict filters.
        Index("ix_sustainability_assessments_period_id", text("period DESC"), text("id DESC")),
        # Each subject's latest assessment (statistics by latest verdict): read in index order,
        # from the index alone.
        Index(
            "ix_sustainability_assessments_latest",
            "innovation_id",
            "commitment_id",
            text("period DESC"),
            postgresql_include=["verdict", "province_code"],
        ),
        # A subject's last assessment date (the due list's kept rows): its `max(assessed_on)`
        # is one step back in its own entries, not a walk of every assessment by date.
        Index(
            "ix_sustainability_assessments_innovation_id_assessed_on",
            "innovation_id",
            "assessed_on",
            postgresql_where=text("innovation_id IS NOT NULL"),
        ),
        Index(
            "ix_sustainability_assessments_commitment_id_assessed_on",
            "commitment_id",
            "assessed_on",
            postgresql_where=text("commitment_id IS NOT NULL"),
        ),
        Index(
            "ix_sustainability_assessments_assessed_on_id",
            text("assessed_on DESC"),
            text("id DESC"),
        ),
        Index(
            "ix_sustainability_assessments_province_code_period_id",
            "province_code",
            text("period DESC"),
            text("id DESC"),
        ),
        Index(
            "ix_sustainability_assessments_verdict_period_id",
            "verdict",
            text("period DESC"),
            text("id DESC"),
        ),
    )
