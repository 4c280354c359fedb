"""Helpers shared by the platform tests (security, access, idempotency, events, outage)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.core.security import hash_key

INSTITUTIONS = "/api/v1/institutions"
INNOVATIONS = "/api/v1/innovations"
EVENTS = "/api/v1/events"

Executor = AsyncSession | AsyncConnection


def institution_body(
    name: str | None = None, region_code: str | None = "33.74", kind: str = "regional_agency"
) -> dict[str, Any]:
    """A valid POST /institutions body; a unique name unless one is given."""
    return {
        "name": name or f"Dinas Uji {uuid.uuid4().hex[:12]}",
        "kind": kind,
        "region_code": region_code,
    }


async def scalar(db: Executor, sql: str, **params: Any) -> Any:
    return (await db.execute(text(sql), params)).scalar()


async def count(db: Executor, table: str, where: str = "true", **params: Any) -> int:
    return int(await scalar(db, f"SELECT count(*) FROM {table} WHERE {where}", **params))  # noqa: S608


async def key_id(db: Executor, plaintext: str) -> uuid.UUID:
    """The id of the API key whose plaintext is `plaintext` (found by its hash)."""
    found = await scalar(db, "SELECT id FROM api_keys WHERE key_hash = :h", h=hash_key(plaintext))
    assert found is not None
    return uuid.UUID(str(found))


async def engine_scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    """One value read on a fresh connection (sees only committed data)."""
    async with engine.connect() as conn:
        return await scalar(conn, sql, **params)


async def engine_count(engine: AsyncEngine, table: str, where: str = "true", **params: Any) -> int:
    async with engine.connect() as conn:
        return await count(conn, table, where, **params)


async def eventually(check: Any, *, within: float = 15.0, interval: float = 0.05) -> Any:
    """Await `check()` until it returns a truthy value or `within` seconds pass; return the value.

    The event feed lists a commit only once every older transaction on the server has ended,
    which another test session on the same server can delay for a moment.
    """
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(interval)
