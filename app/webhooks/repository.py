"""SQL of outbound webhooks: subscriptions, the delivery queue and its log, and the
dispatcher's leases."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    case,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import SortKey, keyset_page
from app.core.repository import update_versioned
from app.models.event import Event
from app.models.webhook import WebhookAttempt, WebhookDelivery, WebhookSubscription

S, D, A = WebhookSubscription, WebhookDelivery, WebhookAttempt
# A new subscription starts after every event of transactions up to its own: it receives
# what happens from now on.
_CURSOR_NOW: ColumnElement[int] = literal_column("pg_current_xact_id()::text::bigint", BigInteger)
_LAST_ID = 2**63 - 1
ATTEMPTS_SHOWN = 25

SUBSCRIPTION_SORT = "webhooks:-created_at"
SUBSCRIPTION_KEYS = (SortKey(S.created_at, descending=True), SortKey(S.id, descending=True))
DELIVERY_SORT = "webhook-deliveries:-event"
DELIVERY_KEYS = (SortKey(D.event_txid, descending=True), SortKey(D.event_id, descending=True))


# --- Subscriptions ------------------------------------------------------------------------


async def insert_subscription(session: AsyncSession, values: dict[str, Any]) -> WebhookSubscription:
    stmt = (
        insert(S)
        .values(**values, cursor_txid=_CURSOR_NOW, cursor_id=_LAST_ID)
        .returning(S)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one()


async def get_subscription(
    session: AsyncSession, subscription_id: uuid.UUID
) -> WebhookSubscription | None:
    stmt = select(S).where(S.id == subscription_id, S.deleted_at.is_(None))
    return (await session.scalars(stmt)).one_or_none()


async def update_subscription(
    session: AsyncSession,
    subscription: WebhookSubscription,
    expected_version: int,
    values: dict[str, Any],
) -> WebhookSubscription:
    return await update_versioned(session, subscription, expected_version, values)


def subscription_filters(province: str | None, status: str | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [S.deleted_at.is_(None)]
    if province is not None:
        where.append(S.province_code == province)
    if status is not None:
        where.append(S.status == status)
    return where


async def list_subscriptions(
    session: AsyncSession, where: list[ColumnElement[bool]], after: list[Any] | None, limit: int
) -> Sequence[WebhookSubscription]:
    stmt = keyset_page(select(S).where(*where), SUBSCRIPTION_KEYS, after, limit)
    return (await session.scalars(stmt)).all()


async def count_subscriptions(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    return int(await session.scalar(select(func.count()).select_from(S).where(*where)) or 0)


async def restart_retries(session: AsyncSession, subscription_id: uuid.UUID) -> None:
    """Pending deliveries of a resumed subscription are due now, with a fresh retry window."""
    await session.execute(
        update(D)
        .where(D.subscription_id == subscription_id, D.status == "pending")
        .values(retry_until=None, next_attempt_at=func.now())
    )


# --- The delivery log ---------------------------------------------------------------------


def _delivery_select() -> Any:
    return (
        select(D, Event.action.label("event_type"))
        .join(Event, Event.id == D.event_id)
        .execution_options(populate_existing=True)
    )


async def list_deliveries(
    session: AsyncSession,
    subscription_id: uuid.UUID,
    status: str | None,
    after: list[Any] | None,
    limit: int,
) -> list[Any]:
    stmt = _delivery_select().where(D.subscription_id == subscription_id)
    if status is not None:
        stmt = stmt.where(D.status == status)
    return list((await session.execute(keyset_page(stmt, DELIVERY_KEYS, after, limit))).all())


async def get_delivery(
    session: AsyncSession, subscription_id: uuid.UUID, delivery_id: uuid.UUID
) -> Any | None:
    stmt = _delivery_select().where(D.subscription_id == subscription_id, D.id == delivery_id)
    return (await session.execute(stmt)).first()


async def attempts_of(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID]
) -> list[WebhookAttempt]:
    """The latest attempts of each delivery (ATTEMPTS_SHOWN), newest first, in one query."""
    if not delivery_ids:
        return []
    ranked = (
        select(
            A.id,
            func.row_number().over(partition_by=A.delivery_id, order_by=A.id.desc()).label("n"),
        )
        .where(A.delivery_id.in_(delivery_ids))
        .subquery()
    )
    stmt = (
        select(A)
        .join(ranked, ranked.c.id == A.id)
        .where(ranked.c.n <= ATTEMPTS_SHOWN)
        .order_by(A.delivery_id, A.id.desc())
    )
    return list((await session.scalars(stmt)).all())


async def insert_delivery_log(
    session: AsyncSession, delivery: dict[str, Any], attempt: dict[str, Any]
) -> None:
    """A delivery and its attempt as given (the demo data's log)."""
    await session.execute(insert(D).values(delivery))
    await session.execute(insert(A).values(attempt))


async def first_event_of(session: AsyncSession, subscription_id: uuid.UUID) -> Event:
    """The first event recorded about a subscription (its creation)."""
    stmt = (
        select(Event)
        .where(Event.entity == "webhook", Event.entity_id == str(subscription_id))
        .order_by(Event.id)
        .limit(1)
    )
    return (await session.scalars(stmt)).one()


async def requeue_delivery(session: AsyncSession, delivery_id: uuid.UUID) -> None:
    await session.execute(
        update(D)
        .where(D.id == delivery_id)
        .values(status="pending", next_attempt_at=func.now(), retry_until=None)
    )


# --- The dispatcher -----------------------------------------------------------------------


def _has_work() -> ColumnElement[bool]:
    """Whether a subscription may have something to send: a pending delivery, or an event
    after its cursor in its scope. Only a hint for claiming: what is delivered is decided by
    the event feed's own rule (`app.events.repository.list_after`)."""
    pending = exists().where(D.subscription_id == S.id, D.status == "pending")
    newer = and_(
        Event.txid >= S.cursor_txid,
        tuple_(Event.txid, Event.id) > tuple_(S.cursor_txid, S.cursor_id),
    )
    new_event = case(
        (S.province_code.is_(None), exists().where(newer)),
        else_=exists().where(Event.province_code == S.province_code, newer),
    )
    return or_(pending, new_event)


async def claim(
    session: AsyncSession, *, limit: int, lease_s: float, token: uuid.UUID
) -> list[uuid.UUID]:
    """Lease up to `limit` active subscriptions that have work and are not leased (or whose
    lease ran out), least recently worked first. `SKIP LOCKED`: dispatchers claiming at the
    same moment each get other subscriptions."""
    now = func.now()
    claimable = (
        select(S.id)
        .where(
            S.status == "active",
            S.deleted_at.is_(None),
            or_(S.leased_until.is_(None), S.leased_until < now),
            or_(S.retry_at.is_(None), S.retry_at <= now),
            _has_work(),
        )
        .order_by(S.leased_until.asc().nulls_first())
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("claimable")
    )
    stmt = (
        update(S)
        .where(S.id == claimable.c.id)
        .values(leased_until=now + _seconds(lease_s), lease_token=token)
        .returning(S.id)
    )
    return list((await session.scalars(stmt)).all())


def _seconds(seconds: float) -> ColumnElement[Any]:
    return func.make_interval(0, 0, 0, 0, 0, 0, seconds)


async def leased(
    session: AsyncSession, subscription_id: uuid.UUID, token: uuid.UUID, lease_s: float
) -> WebhookSubscription | None:
    """The subscription, its lease renewed, while this dispatcher holds it and it is active."""
    stmt = (
        update(S)
        .where(
            S.id == subscription_id,
            S.lease_token == token,
            S.status == "active",
            S.deleted_at.is_(None),
        )
        .values(leased_until=func.now() + _seconds(lease_s))
        .returning(S)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return (await session.scalars(stmt)).one_or_none()


async def enqueue(
    session: AsyncSession,
    subscription_id: uuid.UUID,
    events: Sequence[Event],
    cursor: tuple[int, int],
) -> None:
    """Deliveries for `events` (in order) and the subscription's cursor moved to `cursor`."""
    if events:
        await session.execute(
            pg_insert(D)
            .values(
                [
                    {
                        "id": uuid.uuid4(),
                        "subscription_id": subscription_id,
                        "event_id": e.id,
                        "event_txid": e.txid,
                    }
                    for e in events
                ]
            )
            .on_conflict_do_nothing(index_elements=["subscription_id", "event_id"])
        )
    await session.execute(
        update(S).where(S.id == subscription_id).values(cursor_txid=cursor[0], cursor_id=cursor[1])
    )


async def heads(session: AsyncSession, subscription_id: uuid.UUID, limit: int) -> list[Any]:
    """The oldest pending deliveries (event-log order) with their events, and whether each is
    due."""
    stmt = (
        select(D, Event, (D.next_attempt_at <= func.now()).label("due"))
        .join(Event, Event.id == D.event_id)
        .where(D.subscription_id == subscription_id, D.status == "pending")
        .order_by(D.event_txid, D.event_id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).all())


async def insert_attempts(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(A).values(rows))


async def update_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Each row's values on the delivery of its `id` (one statement, executed many times)."""
    if rows:
        await session.execute(update(D), rows)


async def update_leased(
    session: AsyncSession, subscription_id: uuid.UUID, values: dict[str, Any]
) -> None:
    await session.execute(update(S).where(S.id == subscription_id).values(**values))


async def mark_failing(session: AsyncSession, subscription_id: uuid.UUID, reason: str) -> None:
    """The subscription stops until resumed; a change clients see, so its version grows."""
    await session.execute(
        update(S)
        .where(S.id == subscription_id, S.status == "active")
        .values(
            status="failing",
            failure_reason=reason,
            version=S.version + 1,
            updated_at=func.now(),
            leased_until=func.now(),
            lease_token=None,
        )
    )


async def release(
    session: AsyncSession,
    subscription_id: uuid.UUID,
    token: uuid.UUID,
    retry_at: datetime | None,
) -> None:
    """Give the lease back (its time is when it was last worked: claims go round-robin)."""
    await session.execute(
        update(S)
        .where(S.id == subscription_id, S.lease_token == token)
        .values(leased_until=func.now(), lease_token=None, retry_at=retry_at)
    )


async def release_all(session: AsyncSession, token: uuid.UUID) -> None:
    await session.execute(
        update(S).where(S.lease_token == token).values(leased_until=func.now(), lease_token=None)
    )
