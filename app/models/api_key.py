from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UUIDPrimaryKey


class ApiKey(UUIDPrimaryKey, Base):
    """An API key. Only the SHA-256 hash of the secret is stored; the prefix is for humans."""

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    province_code: Mapped[str | None] = mapped_column(
        String(5), ForeignKey("regions.code", ondelete="RESTRICT")
    )
    # A submitter key acts for this institution and those under it.
    institution_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'reviewer', 'coordinator', 'integration', 'evaluator', 'submitter')",
            name="role",
        ),
        CheckConstraint(
            "(role IN ('coordinator', 'integration')) = (province_code IS NOT NULL)",
            name="province_scope",
        ),
        CheckConstraint(
            "(role = 'submitter') = (institution_id IS NOT NULL)", name="institution_scope"
        ),
        Index("ix_api_keys_institution_id", "institution_id"),
    )
