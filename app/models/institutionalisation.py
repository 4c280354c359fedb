"""Institutionalisation (pelembagaan inovasi): regulations on innovation, incentive funds and
the JIPP hubs that carry knowledge between regions."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamps, UUIDPrimaryKey, Versioned

REGULATION_KINDS = ("bylaw", "head_regulation", "decree", "ministerial_regulation")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Regulation(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A regulation on innovation (regulasi inovasi): a Perda, a Pergub/Perbup/Perwali, an SK
    or a ministerial regulation; national when it has no region."""

    __tablename__ = "regulations"

    region_code: Mapped[str | None] = mapped_column(
        String(5), ForeignKey("regions.code", ondelete="RESTRICT")
    )
    province_code: Mapped[str | None] = mapped_column(
        String(2), Computed("substr(region_code, 1, 2)", persisted=True)
    )
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    number: Mapped[str] = mapped_column(Text, nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    effective_on: Mapped[date] = mapped_column(Date, nullable=False)
    repealed_on: Mapped[date | None] = mapped_column(Date)
    url: Mapped[str | None] = mapped_column(Text)
    mandates_yearly_innovation: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default="false"
    )
    notes: Mapped[str] = mapped_column(Text, nullable=False, server_default="")

    __table_args__ = (
        UniqueConstraint(
            "region_code", "kind", "number", "year", postgresql_nulls_not_distinct=True
        ),
        CheckConstraint(f"kind IN {_in(REGULATION_KINDS)}", name="kind"),
        CheckConstraint("year BETWEEN 1945 AND 2100", name="year"),
        CheckConstraint("repealed_on IS NULL OR repealed_on > effective_on", name="repealed_on"),
        # The list, newest first, alone or under each filter.
        Index("ix_regulations_year_id", text("year DESC"), text("id DESC")),
        Index(
            "ix_regulations_province_code_year_id",
            "province_code",
            text("year DESC"),
            text("id DESC"),
        ),
        Index(
            "ix_regulations_region_code_year_id", "region_code", text("year DESC"), text("id DESC")
        ),
        Index("ix_regulations_kind_year_id", "kind", text("year DESC"), text("id DESC")),
        # The compliance view: the mandating regulations of a region.
        Index(
            "ix_regulations_mandating_region_code",
            "region_code",
            postgresql_where=text("mandates_yearly_innovation"),
        ),
    )


class Incentive(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """Incentive funds (dana insentif daerah, DID) a region received in a year."""

    __tablename__ = "incentives"

    region_code: Mapped[str] = mapped_column(
        String(5), ForeignKey("regions.code", ondelete="RESTRICT"), nullable=False
    )
    province_code: Mapped[str] = mapped_column(
        String(2), Computed("substr(region_code, 1, 2)", persisted=True)
    )
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    amount_idr: Mapped[int] = mapped_column(BigInteger, nullable=False)
    basis: Mapped[str] = mapped_column(Text, nullable=False)
    innovation_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="RESTRICT")
    )
    notes: Mapped[str] = mapped_column(Text, nullable=False, server_default="")

    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),
        CheckConstraint("amount_idr >= 0", name="amount_idr"),
        Index("ix_incentives_year_id", text("year DESC"), text("id DESC")),
        Index(
            "ix_incentives_province_code_year_id",
            "province_code",
            text("year DESC"),
            text("id DESC"),
        ),
        Index(
            "ix_incentives_region_code_year_id", "region_code", text("year DESC"), text("id DESC")
        ),
        Index("ix_incentives_innovation_id", "innovation_id"),
    )


class JippHub(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A hub of the public-service innovation network (Jaringan Inovasi Pelayanan Publik)."""

    __tablename__ = "jipp_hubs"

    name: Mapped[str] = mapped_column(Text, nullable=False)
    province_code: Mapped[str] = mapped_column(
        String(5), ForeignKey("regions.code", ondelete="RESTRICT"), nullable=False
    )
    host_institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT"), nullable=False
    )
    established_on: Mapped[date | None] = mapped_column(Date)
    decree_number: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    mentors: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )

    __table_args__ = (
        UniqueConstraint("name"),
        Index("ix_jipp_hubs_name_id", "name", "id"),
        Index("ix_jipp_hubs_province_code_name_id", "province_code", "name", "id"),
        Index("ix_jipp_hubs_host_institution_id", "host_institution_id"),
    )


class JippHubMember(Base):
    """A member institution of a JIPP hub."""

    __tablename__ = "jipp_hub_members"

    hub_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("jipp_hubs.id", ondelete="RESTRICT"), primary_key=True
    )
    institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (Index("ix_jipp_hub_members_institution_id", "institution_id"),)
