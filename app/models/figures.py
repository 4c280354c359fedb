"""Figures of the dashboard lists (angka daftar dasbor), kept in the writing transaction.

`innovation_figures` holds, for every innovation, what the scaling candidates ranking reads
and what every innovation page shows of its replications (by status, provinces reached);
`due_subjects`, for every subject of a sustainability assessment (each innovation and each
commitment), its latest assessment. Statement-level triggers on innovations, commitments,
awards and sustainability assessments rewrite the rows of the subjects a statement touched
from the base tables, with the SQL functions `innovation_figures_of`, `innovation_due_of` and
`commitment_due_of` (migrations `20261205_1340` and `20261206_0330`); the rows are exact when
the writing transaction commits. `tests/dashboards/figures.py` compares them with a
recomputation.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from app.models.base import Base

# Criteria met under the default thresholds (`app.scaling.repository.DEFAULT_THRESHOLDS`:
# 3 live replicas, 2 other provinces, the latest verdict at the origin sustained, 1 award).
DEFAULT_MET_SQL = (
    "(replicas >= 3)::integer + (other_provinces >= 2)::integer"
    " + (coalesce(verdict = 'sustained', false))::integer + (awards >= 1)::integer"
)
# Which figures rows are candidates for scaling up: published and not yet national.
CANDIDATE_SQL = "status = 'published' AND scale <> 'national'"
# Sort stand-in for "never assessed" (sorts first).
NEVER_SQL = "'1900-01-01'::date"

innovation_figures = Table(
    "innovation_figures",
    Base.metadata,
    Column(
        "innovation_id",
        UUID(as_uuid=True),
        ForeignKey("innovations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # Copied from the innovation: the candidates' filters.
    Column("province_code", String(2)),
    Column("status", String(16), nullable=False),
    Column("scale", String(16), nullable=False),
    # Commitments adopting it that are launched or sustained, and their distinct adopter
    # provinces other than the origin's.
    Column("replicas", Integer, nullable=False),
    Column("other_provinces", Integer, nullable=False),
    # Its latest assessment at the origin (highest period); NULLs when none.
    Column("verdict", String(16)),
    Column("score", Numeric(5, 2)),
    Column("period", Integer),
    Column("awards", Integer, nullable=False),
    # Commitments adopting it, by status (statuses with none left out), and the distinct
    # adopter provinces of those not cancelled.
    Column("replications_by_status", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("provinces_reached", Integer, nullable=False, server_default="0"),
    Column("met", Integer, Computed(DEFAULT_MET_SQL, persisted=True), nullable=False),
    Index(
        "ix_innovation_figures_candidates",
        "met",
        "replicas",
        "innovation_id",
        postgresql_where=text(CANDIDATE_SQL),
    ),
    Index(
        "ix_innovation_figures_province_candidates",
        "province_code",
        "met",
        "replicas",
        "innovation_id",
        postgresql_where=text(CANDIDATE_SQL),
    ),
)

due_subjects = Table(
    "due_subjects",
    Base.metadata,
    Column("subject_id", UUID(as_uuid=True), primary_key=True),
    Column("innovation_id", UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="CASCADE")),
    Column("commitment_id", UUID(as_uuid=True), ForeignKey("commitments.id", ondelete="CASCADE")),
    # The innovation's province of origin, or the commitment's adopter's.
    Column("province_code", String(2)),
    # In the due list's scope: a published innovation, a launched or sustained commitment.
    Column("in_scope", Boolean, nullable=False),
    # An innovation's launch (else registration, UTC) day; NULL for a commitment.
    Column("eligible_on", Date),
    Column("last_assessed_on", Date),
    Column("last_period", Integer),
    Column(
        "assessed_key",
        Date,
        Computed(f"coalesce(last_assessed_on, {NEVER_SQL})", persisted=True),
        nullable=False,
    ),
    CheckConstraint("num_nonnulls(innovation_id, commitment_id) = 1", name="one_subject"),
    CheckConstraint("subject_id = coalesce(innovation_id, commitment_id)", name="subject_id"),
    Index("ix_due_subjects_due", "assessed_key", "subject_id", postgresql_where=text("in_scope")),
    Index(
        "ix_due_subjects_province_due",
        "province_code",
        "assessed_key",
        "subject_id",
        postgresql_where=text("in_scope"),
    ),
    Index(
        "ix_due_subjects_commitments_due",
        "assessed_key",
        "subject_id",
        postgresql_where=text("in_scope AND commitment_id IS NOT NULL"),
    ),
    Index(
        "ix_due_subjects_innovations_due",
        "assessed_key",
        "subject_id",
        postgresql_where=text("in_scope AND innovation_id IS NOT NULL"),
    ),
    Index(
        "ix_due_subjects_commitment_id",
        "commitment_id",
        postgresql_where=text("commitment_id IS NOT NULL"),
    ),
    Index(
        "ix_due_subjects_innovation_id",
        "innovation_id",
        postgresql_where=text("innovation_id IS NOT NULL"),
    ),
)
