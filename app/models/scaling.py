"""Scaling up (glokalisasi): proposals to adopt an innovation as a provincial or national
programme, each with the evidence it was proposed on and the reviewers' decision."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamps, UUIDPrimaryKey, Versioned

TARGET_SCALES = ("provincial", "national")
PROPOSAL_STATUSES = ("submitted", "under_review", "approved", "rejected", "deferred")
# A proposal in one of these is still open: at most one per (innovation, target).
OPEN_STATUSES = ("submitted", "under_review", "deferred")
OUTCOMES = ("approved", "rejected", "deferred")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class ScalingProposal(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A proposal to scale an innovation up to a provincial or national programme."""

    __tablename__ = "scaling_proposals"

    innovation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="RESTRICT"), nullable=False
    )
    # The innovation's province when proposed: scopes coordinators and the event feed.
    province_code: Mapped[str | None] = mapped_column(String(2))
    target_scale: Mapped[str] = mapped_column(String(16), nullable=False)
    target_province_code: Mapped[str | None] = mapped_column(
        String(5), ForeignKey("regions.code", ondelete="RESTRICT")
    )
    rationale: Mapped[str] = mapped_column(Text, nullable=False)
    # The derived figures and criteria when proposed; never changed afterwards.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="submitted")
    proposed_by: Mapped[str] = mapped_column(Text, nullable=False)
    proposed_by_key_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    conditions: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_by_key_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(f"target_scale IN {_in(TARGET_SCALES)}", name="target_scale"),
        CheckConstraint(f"status IN {_in(PROPOSAL_STATUSES)}", name="status"),
        CheckConstraint(f"outcome IN {_in(OUTCOMES)}", name="outcome"),
        CheckConstraint(
            "(target_scale = 'provincial') = (target_province_code IS NOT NULL)",
            name="target_province",
        ),
        # One open proposal per (innovation, target); a national target has no province,
        # hence the coalesce (NULLs would never collide).
        Index(
            "ux_scaling_proposals_open_target",
            "innovation_id",
            "target_scale",
            text("coalesce(target_province_code, '')"),
            unique=True,
            postgresql_where=text(f"status IN {_in(OPEN_STATUSES)}"),
        ),
        # The list: newest first, alone or under each filter.
        Index("ix_scaling_proposals_created_at_id", text("created_at DESC"), text("id DESC")),
        Index(
            "ix_scaling_proposals_status_created_at_id",
            "status",
            text("created_at DESC"),
            text("id DESC"),
        ),
        Index(
            "ix_scaling_proposals_innovation_id_created_at_id",
            "innovation_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
        Index(
            "ix_scaling_proposals_target_scale_created_at_id",
            "target_scale",
            text("created_at DESC"),
            text("id DESC"),
        ),
        Index(
            "ix_scaling_proposals_province_code_created_at_id",
            "province_code",
            text("created_at DESC"),
            text("id DESC"),
        ),
        Index("ix_scaling_proposals_target_province_code", "target_province_code"),
    )
