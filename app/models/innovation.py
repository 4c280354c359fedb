from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamps, UUIDPrimaryKey, Versioned

SECTORS = (
    "education",
    "health",
    "population_administration",
    "licensing",
    "social_protection",
    "economy",
    "environment",
    "governance",
    "public_order",
    "agriculture_food",
    "infrastructure",
    "disaster_response",
    "data_information",
    "other",
)
FORMS = ("public_service", "governance", "other")
INITIATORS = ("regional_head", "parliament", "agency", "civil_servant", "community")
STAGES = ("initiative", "trial", "implementation")
STATUSES = ("draft", "published", "withdrawn")
SCALES = ("local", "provincial", "national")
COMPETITIONS = ("KIPP", "IGA", "other")
TIERS = ("top_99", "top_45", "top_5", "outstanding", "winner", "finalist", "nominee", "other")

SEARCH_VECTOR = (
    "setweight(to_tsvector('indonesian'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('indonesian'::regconfig, coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('indonesian'::regconfig, coalesce(problem, '') || ' ' || "
    "coalesce(approach, '')), 'C')"
)


# Innovations with no launch date sort last under `-launched_on`: the sort key is never NULL,
# so one row comparison (and one index range scan) serves every page. The stand-in date lies
# below every real launch date (see the `launched_on` check). Not 0001-01-01: asyncpg maps
# date.min to -infinity, so a cursor holding it would skip every undated innovation.
UNDATED = "1900-01-01"
LAUNCHED_SORT = f"coalesce(launched_on, '{UNDATED}'::date)"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Innovation(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A public-service innovation (inovasi pelayanan publik)."""

    __tablename__ = "innovations"

    title: Mapped[str] = mapped_column(Text, nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    problem: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    approach: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    outcomes: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    sector: Mapped[str] = mapped_column(String(32), nullable=False)
    form: Mapped[str] = mapped_column(String(16), nullable=False)
    digital: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    initiator: Mapped[str] = mapped_column(String(16), nullable=False)
    stage: Mapped[str] = mapped_column(String(16), nullable=False)
    launched_on: Mapped[date | None] = mapped_column(Date)
    institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT"), nullable=False
    )
    # Copied from the institution by a trigger (and kept in step when it moves), so that the
    # province and region filters are plain indexed columns.
    region_code: Mapped[str | None] = mapped_column(String(5))
    province_code: Mapped[str | None] = mapped_column(String(2))
    replica_of_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="RESTRICT")
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="draft")
    scale: Mapped[str] = mapped_column(String(16), nullable=False, server_default="local")
    tags: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )
    evidence_urls: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )
    # Replications: commitments adopting this innovation that are not cancelled.
    replication_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR, persisted=True), deferred=True
    )
    # The title in lower case, stored: a search's title pattern (`title_folded LIKE
    # lower(pattern)`, which is what ILIKE computes) then folds no title as it tests it.
    title_folded: Mapped[str] = mapped_column(
        Text, Computed("lower(title)", persisted=True), deferred=True
    )

    __table_args__ = (
        CheckConstraint(f"sector IN {_in(SECTORS)}", name="sector"),
        CheckConstraint(f"form IN {_in(FORMS)}", name="form"),
        CheckConstraint(f"initiator IN {_in(INITIATORS)}", name="initiator"),
        CheckConstraint(f"stage IN {_in(STAGES)}", name="stage"),
        CheckConstraint(f"status IN {_in(STATUSES)}", name="status"),
        CheckConstraint(f"scale IN {_in(SCALES)}", name="scale"),
        CheckConstraint("replica_of_id IS NULL OR replica_of_id <> id", name="not_own_replica"),
        CheckConstraint(f"launched_on > '{UNDATED}'", name="launched_on"),
        # Sorts, each with the id as tie-breaker, led by status (anonymous lists are
        # always status = 'published').
        Index(
            "ix_innovations_status_launched_on_id",
            "status",
            text(f"{LAUNCHED_SORT} DESC"),
            text("id DESC"),
        ),
        Index("ix_innovations_status_title_id", "status", "title", "id"),
        Index(
            "ix_innovations_status_updated_at_id",
            "status",
            text("updated_at DESC"),
            text("id DESC"),
        ),
        # Also carries what a search matches and ranks (the folded title, search_vector): a
        # search by relevance walks it in order for its most replicated matches without
        # reading a row.
        Index(
            "ix_innovations_status_replication_count_id",
            "status",
            text("replication_count DESC"),
            text("id DESC"),
            postgresql_include=["title_folded", "search_vector"],
        ),
        Index("ix_innovations_launched_on_id", text(f"{LAUNCHED_SORT} DESC"), text("id DESC")),
        Index("ix_innovations_title_id", "title", "id"),
        Index("ix_innovations_updated_at_id", text("updated_at DESC"), text("id DESC")),
        # Published innovations by last change: the open-data list's `-updated_at`. Rows are
        # stored about in update order, so the planner prizes the index above (its order
        # follows the table's) over the status-led one, and then reads past every recently
        # edited draft to fill a page; this one has neither drafts nor that handicap.
        Index(
            "ix_innovations_published_updated_at_id",
            text("updated_at DESC"),
            text("id DESC"),
            postgresql_where=text("status = 'published'"),
        ),
        Index(
            "ix_innovations_replication_count_id", text("replication_count DESC"), text("id DESC")
        ),
        # Filters.
        Index("ix_innovations_sector", "sector"),
        Index("ix_innovations_form", "form"),
        Index("ix_innovations_digital", "digital"),
        Index("ix_innovations_stage", "stage"),
        Index("ix_innovations_scale", "scale"),
        Index("ix_innovations_institution_id", "institution_id"),
        # A province's innovations in the default order (it also serves the province filter
        # under any other sort).
        Index(
            "ix_innovations_province_code_status_launched_on_id",
            "province_code",
            "status",
            text(f"{LAUNCHED_SORT} DESC"),
            text("id DESC"),
        ),
        Index("ix_innovations_region_code", "region_code"),
        Index("ix_innovations_replica_of_id", "replica_of_id"),
        # Search: full text (Indonesian stemming) and trigrams for partial names and acronyms.
        Index("ix_innovations_search_vector", "search_vector", postgresql_using="gin"),
        Index(
            "ix_innovations_title_trgm",
            "title_folded",
            postgresql_using="gin",
            postgresql_ops={"title_folded": "gin_trgm_ops"},
        ),
    )


class Award(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """An award won by an innovation: KIPP (KemenPANRB), IGA (Kemendagri) or another."""

    __tablename__ = "awards"

    innovation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="RESTRICT"), nullable=False
    )
    competition: Mapped[str] = mapped_column(String(16), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    tier: Mapped[str] = mapped_column(String(16), nullable=False)
    decree_number: Mapped[str | None] = mapped_column(Text)
    # The competition whose determination created the award (null when typed in by hand).
    competition_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("competitions.id", ondelete="RESTRICT")
    )

    __table_args__ = (
        UniqueConstraint("innovation_id", "competition", "year", "tier"),
        Index("ix_awards_competition_id", "competition_id"),
        CheckConstraint(f"competition IN {_in(COMPETITIONS)}", name="competition"),
        CheckConstraint(f"tier IN {_in(TIERS)}", name="tier"),
        CheckConstraint("year BETWEEN 1990 AND 2100", name="year"),
        Index(
            "ix_awards_competition_tier_year_innovation_id",
            "competition",
            "tier",
            "year",
            "innovation_id",
        ),
        Index("ix_awards_year_innovation_id", "year", "innovation_id"),
        Index("ix_awards_tier_innovation_id", "tier", "innovation_id"),
    )
