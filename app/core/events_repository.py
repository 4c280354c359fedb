"""SQL of the append-only event log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.event import Event


async def insert_event(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(Event).values(values))


async def insert_events(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Many events in one statement, in the order given."""
    await session.execute(insert(Event).values(rows))
