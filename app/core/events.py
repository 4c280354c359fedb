"""Writing the append-only event log (peristiwa): one event per mutation, same transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Principal
from app.models.event import Event


def _jsonable(value: Any) -> Any:
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return value


def event_values(
    principal: Principal | None,
    action: str,
    entity: str,
    entity_id: object,
    changes: dict[str, Any] | None = None,
    province_code: str | None = None,
) -> dict[str, Any]:
    return {
        "actor_id": principal.id if principal else None,
        "actor_role": principal.role.value if principal else None,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "province_code": province_code[:2] if province_code else None,
        "changes": _jsonable(changes or {}),
    }


async def record_event(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    entity: str,
    entity_id: object,
    changes: dict[str, Any] | None = None,
    province_code: str | None = None,
) -> None:
    await session.execute(
        insert(Event).values(
            event_values(principal, action, entity, entity_id, changes, province_code)
        )
    )


async def record_events(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Many events in one statement (batch writes)."""
    if rows:
        await session.execute(insert(Event), rows)
