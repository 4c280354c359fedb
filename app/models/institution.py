from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, Computed, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamps, UUIDPrimaryKey, Versioned

INSTITUTION_KINDS = (
    "ministry",
    "agency",
    "provincial_government",
    "regency_government",
    "city_government",
    "regional_agency",
    "hospital",
    "university",
    "state_enterprise",
    "regional_enterprise",
    "other",
)


class Institution(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """An institution (instansi) that owns innovations or adopts them."""

    __tablename__ = "institutions"

    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    region_code: Mapped[str | None] = mapped_column(
        String(5), ForeignKey("regions.code", ondelete="RESTRICT")
    )
    # The province (first two digits of the region), kept by PostgreSQL for scoping filters.
    province_code: Mapped[str | None] = mapped_column(
        String(2), Computed("substr(region_code, 1, 2)", persisted=True)
    )
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )

    __table_args__ = (
        UniqueConstraint("name", "region_code", postgresql_nulls_not_distinct=True),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in INSTITUTION_KINDS) + ")", name="kind"
        ),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        Index("ix_institutions_name_id", "name", "id"),
        Index("ix_institutions_kind_name_id", "kind", "name", "id"),
        Index("ix_institutions_region_code_name_id", "region_code", "name", "id"),
        Index("ix_institutions_province_code_name_id", "province_code", "name", "id"),
        Index("ix_institutions_parent_id", "parent_id"),
        Index(
            "ix_institutions_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
    )
