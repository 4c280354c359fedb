from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Event(Base):
    """Append-only audit and sync log: one row per mutation, written in its transaction.

    `txid` is the writing transaction's id. Readers only return events of transactions older
    than every transaction still running, so a cursor never skips an event that commits late.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    txid: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("pg_current_xact_id()::text::bigint")
    )
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_id: Mapped[str] = mapped_column(Text, nullable=False)
    province_code: Mapped[str | None] = mapped_column(String(2))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")

    __table_args__ = (
        Index("ix_events_txid_id", "txid", "id"),
        Index("ix_events_entity_entity_id_txid_id", "entity", "entity_id", "txid", "id"),
        Index("ix_events_province_code_txid_id", "province_code", "txid", "id"),
    )
