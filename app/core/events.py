"""Writing the append-only event log (peristiwa): one event per mutation, same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import events_repository as repository
from app.core.security import Principal


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
        "changes": to_jsonable_python(changes or {}),
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
    await repository.insert_event(
        session, event_values(principal, action, entity, entity_id, changes, province_code)
    )


async def record_events(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    entity: str,
    changed: Sequence[tuple[object, dict[str, Any], str | None]],
) -> None:
    """One event per (entity id, changes, province code), in one statement."""
    if changed:
        await repository.insert_events(
            session,
            [
                event_values(principal, action, entity, entity_id, changes, province_code)
                for entity_id, changes, province_code in changed
            ],
        )
