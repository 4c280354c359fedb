from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.core.db import Session
from app.core.docs import problems
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit
from app.core.routing import AppRoute
from app.core.schemas import Page, ShortText
from app.core.security import Principal, Role, requires
from app.events import service
from app.events.schemas import EventRead

router = APIRouter(prefix="/events", tags=["events"], route_class=AppRoute)


@router.get(
    "",
    response_model=Page[EventRead],
    summary="Follow the event log",
    responses=problems(400, 401, 403),
)
async def list_events(
    session: Session,
    principal: Annotated[Principal, Depends(requires(*Role))],
    after: Cursor = None,
    entity: Annotated[ShortText | None, Query(description="e.g. `institution`.")] = None,
    entity_id: Annotated[ShortText | None, Query(description="One record's id.")] = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[EventRead]:
    """Every change, oldest first. Pass the last `next_cursor` as `after` to get what is new.

    `next_cursor` is never null: poll with it. Admins and reviewers see every event;
    coordinators and integrations see those of their province.
    """
    return await service.list_events(
        session, principal, after=after, entity=entity, entity_id=entity_id, limit=limit
    )
