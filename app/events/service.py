"""Reading the event log, for audit and for integrations that sync changes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import decode_cursor, encode_cursor
from app.core.schemas import Page
from app.core.security import Principal
from app.events import repository
from app.events.schemas import EventRead

_SORT = "txid"


async def list_events(
    session: AsyncSession,
    principal: Principal,
    *,
    after: str | None,
    entity: str | None,
    entity_id: str | None,
    limit: int,
) -> Page[EventRead]:
    """Events in commit-safe order; coordinators and integrations see their province only."""
    position = decode_cursor(after, _SORT, 2) if after else None
    rows = await repository.list_after(
        session,
        after=(int(position[0]), int(position[1])) if position else None,
        entity=entity,
        entity_id=entity_id,
        province=principal.province_code if principal.is_scoped else None,
        limit=limit,
    )
    items = [EventRead.model_validate(r) for r in rows]
    # The cursor always advances to the last event returned, and stays put on an empty page,
    # so a client can poll with the last `next_cursor` it got.
    if rows:
        next_cursor: str | None = encode_cursor(_SORT, [rows[-1].txid, rows[-1].id])
    else:
        next_cursor = after
    return Page[EventRead](items=items, next_cursor=next_cursor)
