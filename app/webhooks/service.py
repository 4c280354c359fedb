"""Outbound webhooks (webhook keluar): subscriptions, secrets and the delivery log.

Scope: an admin's subscription receives every event; a coordinator's or an integration's
the events of its key's province (the event feed's rule), and such keys see and manage the
subscriptions of their province only.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import ensure_version
from app.core.config import get_settings
from app.core.errors import Conflict, NotFound, field_error
from app.core.events import record_event
from app.core.pagination import decode_cursor, next_cursor
from app.core.repository import changed_fields
from app.core.schemas import Page
from app.core.security import Principal
from app.models.webhook import WebhookSubscription
from app.webhooks import repository, signing
from app.webhooks.repository import DELIVERY_SORT, SUBSCRIPTION_SORT
from app.webhooks.schemas import (
    AttemptRead,
    DeliveryRead,
    DeliveryStatus,
    SecretRotation,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookSecret,
    WebhookStatus,
    WebhookUpdate,
)
from app.webhooks.targets import Policy, TargetRefused

ENTITY = "webhook"


def to_read(subscription: WebhookSubscription) -> WebhookRead:
    return WebhookRead(
        id=subscription.id,
        url=subscription.url,
        event_types=list(subscription.event_types),
        description=subscription.description,
        status=WebhookStatus(subscription.status),
        failure_reason=subscription.failure_reason,
        province_code=subscription.province_code,
        created_by=subscription.created_by,
        previous_secret_expires_at=_overlap_end(subscription),
        next_retry_at=subscription.retry_at if subscription.status == "active" else None,
        last_delivered_at=subscription.last_delivered_at,
        created_at=subscription.created_at,
        updated_at=subscription.updated_at,
        version=subscription.version,
    )


def _overlap_end(subscription: WebhookSubscription) -> datetime | None:
    end = subscription.previous_secret_expires_at
    return end if end is not None and end > datetime.now(UTC) else None


def _check_url(url: str) -> str:
    try:
        Policy.of(get_settings()).check_url(url)
    except TargetRefused as exc:
        raise field_error("/body/url", str(exc)) from exc
    return url


async def _load(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID
) -> WebhookSubscription:
    subscription = await repository.get_subscription(session, subscription_id)
    if subscription is None:
        raise NotFound(f"Webhook {subscription_id} does not exist.")
    principal.ensure_province(subscription.province_code, "webhook")
    return subscription


async def create(
    session: AsyncSession,
    principal: Principal,
    data: WebhookCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> WebhookCreated:
    """A new subscription with a new secret, shown in this response only. It receives the
    events of transactions that start after it. `record_id`: the new record's id when the
    caller chooses it, else a random one."""
    secret = signing.new_secret()
    values: dict[str, Any] = {
        "id": record_id or uuid.uuid4(),
        "url": _check_url(str(data.url)),
        "event_types": list(data.event_types),
        "description": data.description,
        "province_code": principal.province_code if principal.is_scoped else None,
        "created_by": principal.name,
        "created_by_key_id": principal.id,
        "secret": secret,
    }
    subscription = await repository.insert_subscription(session, values)
    await record_event(
        session,
        principal,
        "webhook.created",
        ENTITY,
        subscription.id,
        {k: values[k] for k in ("url", "event_types", "description")},
        subscription.province_code,
    )
    return WebhookCreated(**to_read(subscription).model_dump(), secret=secret)


async def get(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID
) -> WebhookRead:
    return to_read(await _load(session, principal, subscription_id))


async def list_subscriptions(
    session: AsyncSession,
    principal: Principal,
    *,
    status: WebhookStatus | None,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[WebhookRead]:
    """Admins see every subscription; coordinators and integrations their province's."""
    where = repository.subscription_filters(
        principal.province_code if principal.is_scoped else None,
        status.value if status else None,
    )
    after = decode_cursor(cursor, SUBSCRIPTION_SORT, 2) if cursor else None
    rows = await repository.list_subscriptions(session, where, after, limit + 1)
    items = [to_read(r) for r in rows[:limit]]
    following = next_cursor(rows, limit, SUBSCRIPTION_SORT, lambda r: [r.created_at, r.id])
    total = await repository.count_subscriptions(session, where) if include_total else None
    return Page[WebhookRead](items=items, next_cursor=following, total=total)


async def update(
    session: AsyncSession,
    principal: Principal,
    subscription_id: uuid.UUID,
    expected_version: int,
    data: WebhookUpdate,
) -> WebhookRead:
    """Apply the fields sent. Setting `active` resumes a paused or failing subscription:
    its pending deliveries are due at once, with a new retry window."""
    subscription = await _load(session, principal, subscription_id)
    sent: dict[str, Any] = data.model_dump(exclude_unset=True, mode="json")
    if "url" in sent:
        _check_url(sent["url"])
    ensure_version(subscription.version, expected_version)
    changes = changed_fields(subscription, sent)
    resumed = sent.get("status") == "active" and subscription.status != "active"
    if not changes:
        return to_read(subscription)
    if resumed:
        changes |= {"failure_reason": None, "retry_at": None}
        await repository.restart_retries(session, subscription.id)
    updated = await repository.update_subscription(session, subscription, expected_version, changes)
    await record_event(
        session,
        principal,
        "webhook.updated",
        ENTITY,
        updated.id,
        {k: v for k, v in changes.items() if k not in ("retry_at",)},
        updated.province_code,
    )
    return to_read(updated)


async def delete(session: AsyncSession, principal: Principal, subscription_id: uuid.UUID) -> None:
    """Stop and remove a subscription; its delivery log is kept."""
    subscription = await _load(session, principal, subscription_id)
    await repository.update_subscription(
        session,
        subscription,
        subscription.version,
        {"deleted_at": datetime.now(UTC), "status": "paused"},
    )
    await record_event(
        session,
        principal,
        "webhook.deleted",
        ENTITY,
        subscription.id,
        {},
        subscription.province_code,
    )


async def rotate_secret(
    session: AsyncSession,
    principal: Principal,
    subscription_id: uuid.UUID,
    expected_version: int | None,
    data: SecretRotation,
) -> tuple[WebhookSecret, int]:
    """A new secret; the current one keeps signing (beside it) for the overlap."""
    subscription = await _load(session, principal, subscription_id)
    version = subscription.version if expected_version is None else expected_version
    ensure_version(subscription.version, version)
    secret = signing.new_secret()
    expires = (
        datetime.now(UTC) + timedelta(hours=data.overlap_hours) if data.overlap_hours else None
    )
    updated = await repository.update_subscription(
        session,
        subscription,
        version,
        {
            "secret": secret,
            "previous_secret": subscription.secret if expires else None,
            "previous_secret_expires_at": expires,
        },
    )
    await record_event(
        session,
        principal,
        "webhook.secret_rotated",
        ENTITY,
        subscription.id,
        {"previous_secret_expires_at": expires},
        subscription.province_code,
    )
    return WebhookSecret(secret=secret, previous_secret_expires_at=expires), updated.version


def _delivery(row: Any, attempts: list[AttemptRead]) -> DeliveryRead:
    d = row.WebhookDelivery
    return DeliveryRead(
        id=d.id,
        event_id=d.event_id,
        event_type=row.event_type,
        status=DeliveryStatus(d.status),
        attempt_count=d.attempts,
        next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        delivered_at=d.delivered_at,
        created_at=d.created_at,
        attempts=attempts,
    )


async def _with_attempts(session: AsyncSession, rows: list[Any]) -> list[DeliveryRead]:
    attempts: dict[uuid.UUID, list[AttemptRead]] = {}
    for a in await repository.attempts_of(session, [r.WebhookDelivery.id for r in rows]):
        attempts.setdefault(a.delivery_id, []).append(AttemptRead.model_validate(a))
    return [_delivery(r, attempts.get(r.WebhookDelivery.id, [])) for r in rows]


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    subscription_id: uuid.UUID,
    *,
    status: DeliveryStatus | None,
    cursor: str | None,
    limit: int,
) -> Page[DeliveryRead]:
    """The delivery log, newest event first, each with its latest attempts."""
    await _load(session, principal, subscription_id)
    after = decode_cursor(cursor, DELIVERY_SORT, 2) if cursor else None
    rows = await repository.list_deliveries(
        session, subscription_id, status.value if status else None, after, limit + 1
    )
    items = await _with_attempts(session, rows[:limit])
    following = next_cursor(
        rows,
        limit,
        DELIVERY_SORT,
        lambda r: [r.WebhookDelivery.event_txid, r.WebhookDelivery.event_id],
    )
    return Page[DeliveryRead](items=items, next_cursor=following)


async def get_delivery(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryRead:
    await _load(session, principal, subscription_id)
    row = await repository.get_delivery(session, subscription_id, delivery_id)
    if row is None:
        raise NotFound(f"Delivery {delivery_id} of webhook {subscription_id} does not exist.")
    return (await _with_attempts(session, [row]))[0]


async def redeliver(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryRead:
    """Send a delivered or failed delivery again (same `webhook-id`), in its place in the
    event log's order."""
    subscription = await _load(session, principal, subscription_id)
    row = await repository.get_delivery(session, subscription_id, delivery_id)
    if row is None:
        raise NotFound(f"Delivery {delivery_id} of webhook {subscription_id} does not exist.")
    if row.WebhookDelivery.status == "pending":
        raise Conflict(
            "This delivery is still pending: it is sent when due.", code="delivery_pending"
        )
    await repository.requeue_delivery(session, delivery_id)
    await record_event(
        session,
        principal,
        "webhook.redelivery_requested",
        ENTITY,
        subscription.id,
        {"delivery_id": delivery_id, "event_id": row.WebhookDelivery.event_id},
        subscription.province_code,
    )
    return await get_delivery(session, principal, subscription_id, delivery_id)
