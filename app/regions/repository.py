from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.repository import contains
from app.models.region import Region


async def list_regions(
    session: AsyncSession,
    *,
    level: str | None,
    parent: str | None,
    q: str | None,
    after_code: str | None,
    limit: int,
) -> Sequence[Region]:
    stmt = select(Region).order_by(Region.code).limit(limit)
    if level:
        stmt = stmt.where(Region.level == level)
    if parent:
        stmt = stmt.where(Region.parent_code == parent)
    if q:
        stmt = stmt.where(contains(Region.name, q))
    if after_code:
        stmt = stmt.where(Region.code > after_code)
    return (await session.scalars(stmt)).all()


async def get_region(session: AsyncSession, code: str) -> Region | None:
    return await session.get(Region, code)


async def children_of(session: AsyncSession, code: str) -> Sequence[Region]:
    stmt = select(Region).where(Region.parent_code == code).order_by(Region.code)
    return (await session.scalars(stmt)).all()


async def upsert_regions(session: AsyncSession, rows: list[dict[str, str | None]]) -> None:
    stmt = insert(Region).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Region.code],
        set_={"name": stmt.excluded.name, "level": stmt.excluded.level},
        where=(Region.name != stmt.excluded.name) | (Region.level != stmt.excluded.level),
    )
    await session.execute(stmt)
