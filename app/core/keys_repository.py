"""SQL of API keys: authenticating a request's key, issuing, listing and revoking keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.api_key import ApiKey
from app.models.region import Region

# One statement authenticates and, at most once a minute per key, records its last use.
# The touch skips a row another transaction has locked: a write that recorded the key's use
# holds that lock until it commits, and the key's other requests must not queue behind it
# (nor wait `lock_timeout` and fail); the running transaction records the use anyway.
AUTHENTICATE = text(
    """
    WITH k AS (
        SELECT id, name, role, province_code, institution_id, last_used_at
        FROM api_keys WHERE key_hash = :key_hash AND revoked_at IS NULL
    ), due AS (
        SELECT api_keys.id FROM api_keys JOIN k ON api_keys.id = k.id
        WHERE api_keys.last_used_at IS NULL
           OR api_keys.last_used_at < now() - interval '60 seconds'
        FOR NO KEY UPDATE OF api_keys SKIP LOCKED
    ), touch AS (
        UPDATE api_keys SET last_used_at = now() FROM due WHERE api_keys.id = due.id
    )
    SELECT id, name, role, province_code, institution_id FROM k
    """
)


async def authenticate(session: AsyncSession, key_hash: str) -> Any | None:
    """The live key with this hash (id, name, role, province_code, institution_id), or
    None."""
    return (await session.execute(AUTHENTICATE, {"key_hash": key_hash})).first()


async def region_level(session: AsyncSession, code: str) -> str | None:
    region = await session.get(Region, code)
    return region.level if region is not None else None


async def institution_exists(session: AsyncSession, institution_id: uuid.UUID) -> bool:
    found = await session.scalar(
        text("SELECT true FROM institutions WHERE id = :id"), {"id": institution_id}
    )
    return bool(found)


# The institution and every institution under it (its parent chain reaches the root).
WITHIN = text(
    """
    WITH RECURSIVE up(id, parent_id, depth) AS (
        SELECT id, parent_id, 0 FROM institutions WHERE id = :institution_id
        UNION ALL
        SELECT i.id, i.parent_id, up.depth + 1 FROM institutions i
        JOIN up ON i.id = up.parent_id WHERE up.depth < 20
    )
    SELECT EXISTS (SELECT 1 FROM up WHERE id = :root_id)
    """
)


async def institution_within(
    session: AsyncSession, institution_id: uuid.UUID, root_id: uuid.UUID
) -> bool:
    """Whether `institution_id` is `root_id` or under it (a submitter key's scope)."""
    params = {"institution_id": institution_id, "root_id": root_id}
    return bool(await session.scalar(WITHIN, params))


async def insert_key(session: AsyncSession, key: ApiKey) -> None:
    session.add(key)
    await session.flush()


async def list_keys(session: AsyncSession) -> Sequence[ApiKey]:
    return (await session.scalars(select(ApiKey).order_by(ApiKey.created_at))).all()


async def revoke_key(session: AsyncSession, key_id: uuid.UUID) -> bool:
    """Revoke the key; whether it exists (revoked now or before)."""
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .returning(ApiKey.id)
    )
    return result.first() is not None or await session.get(ApiKey, key_id) is not None
