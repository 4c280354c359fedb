from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Region(Base):
    """A Kemendagri region (wilayah): province, regency (kabupaten) or city (kota)."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    level: Mapped[str] = mapped_column(String(10), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(
        String(5), ForeignKey("regions.code", ondelete="RESTRICT")
    )

    __table_args__ = (
        CheckConstraint("level IN ('province', 'regency', 'city')", name="level"),
        Index("ix_regions_parent_code_code", "parent_code", "code"),
        Index("ix_regions_level_code", "level", "code"),
        Index(
            "ix_regions_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
    )
