"""Competitions (kompetisi inovasi): the KIPP and the provinces' competitions, their entries,
screening, evaluators' assignments and scores against versioned rubrics, field verification,
the stored ranking of each stage, objections and the determination."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamps, UUIDPrimaryKey, Versioned

COMPETITION_STATUSES = ("planned", "open", "screening", "evaluation", "objection", "determined")
GROUPS = ("general", "replication", "special")
ENTRY_STATUSES = (
    "draft",
    "submitted",
    "screened_out",
    "in_evaluation",
    "eliminated",
    "finalist",
    "awarded",
    "disqualified",
)
SCREENING_RESULTS = ("passed", "failed")
SCREENING_REASONS = (
    "incomplete",
    "too_young",
    "over_quota",
    "duplicate",
    "not_public_service",
    "frivolous_answers",
    "other",
)
OBJECTION_STATUSES = ("open", "upheld", "rejected")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Competition(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A competition: the national KIPP (organizer null) or a province's own."""

    __tablename__ = "competitions"

    name: Mapped[str] = mapped_column(Text, nullable=False)
    # Null: national (KemenPANRB); else the organising province.
    organizer_province_code: Mapped[str | None] = mapped_column(
        String(5), ForeignKey("regions.code", ondelete="RESTRICT")
    )
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    groups: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    categories: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )
    submission_opens_on: Mapped[date] = mapped_column(Date, nullable=False)
    submission_closes_on: Mapped[date] = mapped_column(Date, nullable=False)
    # Per group: {"min_age_years": 2, "quota": 10}.
    group_rules: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    # In order: [{"tier": "top_99", "size": 99, "rubric": "kipp_proposal",
    # "field_verification": false}, …]; closing stage n advances entries to tier n.
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    objection_days: Mapped[int] = mapped_column(Integer, nullable=False, server_default="5")
    objection_closes_on: Mapped[date | None] = mapped_column(Date)
    stages_closed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="planned")
    decree_number: Mapped[str | None] = mapped_column(Text)
    determined_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint(f"status IN {_in(COMPETITION_STATUSES)}", name="status"),
        CheckConstraint("year BETWEEN 1990 AND 2100", name="year"),
        CheckConstraint("submission_opens_on <= submission_closes_on", name="window"),
        CheckConstraint("objection_days BETWEEN 0 AND 60", name="objection_days"),
        Index("ix_competitions_year_id", text("year DESC"), text("id DESC")),
        Index(
            "ix_competitions_organizer_province_code_year_id",
            "organizer_province_code",
            text("year DESC"),
            text("id DESC"),
        ),
        Index("ix_competitions_status_year_id", "status", text("year DESC"), text("id DESC")),
    )


class CompetitionRubric(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A versioned evaluation rubric (criteria, weights, scale, divergence threshold)."""

    __tablename__ = "competition_rubrics"

    code: Mapped[str] = mapped_column(String(40), nullable=False)
    rubric_version: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    # [{"key": "significance", "name": "Signifikansi", "weight": 20, "description": "…"}]
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    scale_min: Mapped[int] = mapped_column(Integer, nullable=False)
    scale_max: Mapped[int] = mapped_column(Integer, nullable=False)
    # Two evaluators' totals (0–100) further apart than this need a third evaluator.
    divergence_threshold: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (UniqueConstraint("code", "rubric_version"),)


class CompetitionEntry(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """An entry (proposal) of an innovation in a competition."""

    __tablename__ = "competition_entries"

    competition_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("competitions.id", ondelete="RESTRICT"), nullable=False
    )
    innovation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="RESTRICT"), nullable=False
    )
    # The submitting institution: the innovation's own or one above it.
    institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT"), nullable=False
    )
    # The top of the submitting institution's parent chain: quotas and composition count it.
    agency_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT"), nullable=False
    )
    agency_kind: Mapped[str] = mapped_column(String(32), nullable=False)
    province_code: Mapped[str | None] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(Text, nullable=False)
    group: Mapped[str] = mapped_column(String(16), nullable=False)
    category: Mapped[str | None] = mapped_column(Text)
    answers: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'")
    )
    video_url: Mapped[str | None] = mapped_column(Text)
    document_urls: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )
    nominated_from_entry_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey(
            "competition_entries.id",
            ondelete="RESTRICT",
            name="fk_competition_entries_nominated_from_entry_id",
        ),
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="draft")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Entries of the same competition with a similar title, found at submission.
    near_duplicates: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'")
    )
    screening_result: Mapped[str | None] = mapped_column(String(8))
    screening_reasons: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )
    screening_note: Mapped[str | None] = mapped_column(Text)
    screened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The highest tier reached (index into the competition's tiers); null before the first.
    tier_index: Mapped[int | None] = mapped_column(Integer)
    eliminated_at_stage: Mapped[int | None] = mapped_column(Integer)
    created_by_key_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    __table_args__ = (
        UniqueConstraint("competition_id", "innovation_id"),
        CheckConstraint(f"status IN {_in(ENTRY_STATUSES)}", name="status"),
        CheckConstraint(f'"group" IN {_in(GROUPS)}', name="group"),
        CheckConstraint(f"screening_result IN {_in(SCREENING_RESULTS)}", name="screening_result"),
        Index(
            "ix_competition_entries_competition_id_created_at_id",
            "competition_id",
            "created_at",
            "id",
        ),
        Index("ix_competition_entries_competition_id_status", "competition_id", "status"),
        Index(
            "ix_competition_entries_competition_id_agency_id_group",
            "competition_id",
            "agency_id",
            "group",
        ),
        Index("ix_competition_entries_innovation_id", "innovation_id"),
        Index("ix_competition_entries_institution_id", "institution_id"),
        Index("ix_competition_entries_agency_id", "agency_id"),
        Index("ix_competition_entries_nominated_from_entry_id", "nominated_from_entry_id"),
        Index(
            "ix_competition_entries_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
    )


class EntryAssignment(UUIDPrimaryKey, Base):
    """An evaluator (a key of role `evaluator`) assigned to score an entry at a stage."""

    __tablename__ = "entry_assignments"

    competition_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("competitions.id", ondelete="RESTRICT"), nullable=False
    )
    entry_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("competition_entries.id", ondelete="RESTRICT"),
        nullable=False,
    )
    stage: Mapped[int] = mapped_column(Integer, nullable=False)
    evaluator_key_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_keys.id", ondelete="RESTRICT"), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        UniqueConstraint("entry_id", "stage", "evaluator_key_id"),
        Index(
            "ix_entry_assignments_evaluator_key_id_competition_id",
            "evaluator_key_id",
            "competition_id",
        ),
        Index("ix_entry_assignments_competition_id_stage", "competition_id", "stage"),
    )


class EntryScore(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """An evaluator's score of an entry at a stage, against a rubric version."""

    __tablename__ = "entry_scores"

    competition_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("competitions.id", ondelete="RESTRICT"), nullable=False
    )
    entry_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("competition_entries.id", ondelete="RESTRICT"),
        nullable=False,
    )
    stage: Mapped[int] = mapped_column(Integer, nullable=False)
    evaluator_key_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_keys.id", ondelete="RESTRICT"), nullable=False
    )
    rubric_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("competition_rubrics.id", ondelete="RESTRICT"),
        nullable=False,
    )
    criteria: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    # The weighted total on 0–100.
    total: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, server_default="")

    __table_args__ = (
        UniqueConstraint("entry_id", "stage", "evaluator_key_id"),
        CheckConstraint("total BETWEEN 0 AND 100", name="total"),
        Index("ix_entry_scores_competition_id_stage", "competition_id", "stage"),
        Index("ix_entry_scores_evaluator_key_id", "evaluator_key_id"),
        Index("ix_entry_scores_rubric_id", "rubric_id"),
    )


class FieldVerification(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """Field observation (observasi lapangan) of a shortlisted entry."""

    __tablename__ = "field_verifications"

    entry_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("competition_entries.id", ondelete="RESTRICT"),
        nullable=False,
        unique=True,
    )
    visited_on: Mapped[date] = mapped_column(Date, nullable=False)
    team: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    findings: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    verified: Mapped[bool] = mapped_column(Boolean, nullable=False)
    evidence_urls: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )


class StageRanking(Base):
    """The ranking stored when a stage closed: one row per entry of the stage's pool."""

    __tablename__ = "stage_rankings"

    competition_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("competitions.id", ondelete="RESTRICT"), nullable=False
    )
    stage: Mapped[int] = mapped_column(Integer, nullable=False)
    entry_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("competition_entries.id", ondelete="RESTRICT"),
        nullable=False,
    )
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False)
    # Whether the entry could advance (field-verified where the tier requires it).
    eligible: Mapped[bool] = mapped_column(Boolean, nullable=False)
    advanced: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        PrimaryKeyConstraint("competition_id", "stage", "entry_id"),
        UniqueConstraint("competition_id", "stage", "rank"),
        Index("ix_stage_rankings_entry_id", "entry_id"),
    )


class CompetitionObjection(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """An objection (sanggahan) against an entry, filed during the objection window."""

    __tablename__ = "competition_objections"

    competition_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("competitions.id", ondelete="RESTRICT"), nullable=False
    )
    entry_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("competition_entries.id", ondelete="RESTRICT"),
        nullable=False,
    )
    grounds: Mapped[str] = mapped_column(Text, nullable=False)
    filed_by: Mapped[str] = mapped_column(Text, nullable=False)
    filed_by_key_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="open")
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The entry that moved up when the objection was upheld.
    promoted_entry_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'")
    )

    __table_args__ = (
        CheckConstraint(f"status IN {_in(OBJECTION_STATUSES)}", name="status"),
        Index(
            "ix_competition_objections_competition_id_created_at_id",
            "competition_id",
            "created_at",
            "id",
        ),
        Index("ix_competition_objections_entry_id", "entry_id"),
    )
