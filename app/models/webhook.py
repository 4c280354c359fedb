"""Outbound webhooks: subscriptions, their deliveries (the queue) and every attempt (the log).

A subscription follows the event log with its own cursor (`cursor_txid`, `cursor_id`, the
same order as `GET /events`). The dispatcher that holds a subscription's lease turns new
events into deliveries and sends them one at a time, in event-log order.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
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

SUBSCRIPTION_STATUSES = ("active", "paused", "failing")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class WebhookSubscription(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A receiver's URL, the events it wants and the state of its delivery."""

    __tablename__ = "webhook_subscriptions"

    url: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    # `*`, `<entity>.*` or an action (`commitment.transitioned`).
    event_types: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="active")
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # The province whose events it receives (its key's, for coordinators and integrations);
    # null: every event (admins).
    province_code: Mapped[str | None] = mapped_column(String(2))
    created_by: Mapped[str] = mapped_column(Text, nullable=False)
    # The API key (or system principal) that created it.
    created_by_key_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    # HMAC keys (the bytes behind `whsec_…`); the previous one signs too until it expires.
    secret: Mapped[str] = mapped_column(Text, nullable=False)
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Position in the event log (txid, id) up to which events have become deliveries.
    cursor_txid: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cursor_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # The oldest pending delivery failed: nothing is sent before this time (order is kept).
    retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A dispatcher works on the subscription until then (an expired lease is free again).
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_token: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    last_delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(f"status IN {_in(SUBSCRIPTION_STATUSES)}", name="status"),
        CheckConstraint("cardinality(event_types) BETWEEN 1 AND 50", name="event_types"),
        # The list: newest first, alone or by province.
        Index(
            "ix_webhook_subscriptions_created_at_id",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_webhook_subscriptions_province_code_created_at_id",
            "province_code",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # What the dispatcher claims from.
        Index(
            "ix_webhook_subscriptions_claimable",
            "leased_until",
            postgresql_where=text("status = 'active' AND deleted_at IS NULL"),
        ),
    )


class WebhookDelivery(UUIDPrimaryKey, Base):
    """One event for one subscription: sent until acknowledged (its id is `webhook-id`)."""

    __tablename__ = "webhook_deliveries"

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("webhook_subscriptions.id", ondelete="RESTRICT"),
        nullable=False,
    )
    event_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("events.id", ondelete="RESTRICT"), nullable=False
    )
    # The event's position in the log, kept here so the queue sorts without a join.
    event_txid: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    # Set at the first failure of a series: retried until then, then the subscription fails.
    retry_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        CheckConstraint(f"status IN {_in(DELIVERY_STATUSES)}", name="status"),
        UniqueConstraint("subscription_id", "event_id"),
        # The log, newest event first, alone or by status; and the queue's head.
        Index(
            "ix_webhook_deliveries_log",
            "subscription_id",
            text("event_txid DESC"),
            text("event_id DESC"),
        ),
        Index(
            "ix_webhook_deliveries_queue",
            "subscription_id",
            "status",
            text("event_txid DESC"),
            text("event_id DESC"),
        ),
        Index("ix_webhook_deliveries_event_id", "event_id"),
    )


class WebhookAttempt(Base):
    """One HTTP request of a delivery: what the receiver answered, and how fast."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("webhook_deliveries.id", ondelete="RESTRICT"),
        nullable=False,
    )
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    response_excerpt: Mapped[str] = mapped_column(Text, nullable=False, server_default="")

    __table_args__ = (Index("ix_webhook_attempts_delivery_id_id", "delivery_id", "id"),)
