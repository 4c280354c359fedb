"""Helpers shared by the innovations tests: request bodies, page walks, database reads."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.event import Event
from app.models.innovation import Innovation

URL = "/api/v1/innovations"
Headers = dict[str, str]


def innovation_body(institution_id: object, **fields: Any) -> dict[str, Any]:
    """A valid POST /innovations body; `fields` override or add to it."""
    body: dict[str, Any] = {
        "title": "Sayangi dan Dampingi Ibu dan Anak",
        "summary": "Pendampingan ibu hamil sampai anak berusia dua tahun.",
        "sector": "health",
        "form": "public_service",
        "initiator": "agency",
        "stage": "implementation",
        "launched_on": "2019-03-01",
        "institution_id": str(institution_id),
    }
    return body | fields


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def walk(
    client: httpx.AsyncClient,
    params: dict[str, Any],
    *,
    limit: int,
    headers: Headers | None = None,
) -> list[dict[str, Any]]:
    """Every page of the list with `params`, `limit` rows at a time; the pages' bodies."""
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = params | {"limit": limit} | ({"cursor": cursor} if cursor else {})
        r = await client.get(URL, params=query, headers=headers or {})
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 1000, "the cursor never ends"


def walked_ids(pages: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for page in pages for item in page["items"]]


async def stored(session: AsyncSession, innovation_id: object) -> Innovation:
    """The row as the database has it now (not the session's cached copy)."""
    row = await session.get(Innovation, uuid.UUID(str(innovation_id)), populate_existing=True)
    assert row is not None
    return row


async def events_of(session: AsyncSession, entity_id: object) -> list[Event]:
    stmt = select(Event).where(Event.entity_id == str(entity_id)).order_by(Event.id)
    return list((await session.scalars(stmt)).all())


async def count_events(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Event)) or 0)


async def count_innovations(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Innovation)) or 0)
