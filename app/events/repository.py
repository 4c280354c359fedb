from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, ColumnElement, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.event import Event


async def list_after(
    session: AsyncSession,
    *,
    after: tuple[int, int] | None,
    entity: str | None,
    entity_id: str | None,
    province: str | None,
    limit: int,
) -> Sequence[Event]:
    # Only transactions older than every running one: none of them can still add an event
    # before the cursor, so a client that follows `next_cursor` never misses one.
    horizon: ColumnElement[int] = literal_column(
        "pg_snapshot_xmin(pg_current_snapshot())::text::bigint", BigInteger
    )
    stmt = select(Event).where(Event.txid < horizon).order_by(Event.txid, Event.id).limit(limit)
    if after is not None:
        stmt = stmt.where(tuple_(Event.txid, Event.id) > tuple_(*after))
    if entity:
        stmt = stmt.where(Event.entity == entity)
    if entity_id:
        stmt = stmt.where(Event.entity_id == entity_id)
    if province:
        stmt = stmt.where(Event.province_code == province)
    return (await session.scalars(stmt)).all()
