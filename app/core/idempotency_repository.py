"""SQL of idempotency keys: claiming a key, reading a stored response, storing one, purging."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.driver import fetch_in_transaction

# Takes the key, or re-takes one whose claim expired or never stored a response. On a row
# that another transaction holds (the same key in flight) it waits, up to `lock_timeout`.
CLAIM = text(
    """
    INSERT INTO idempotency_keys (principal_id, key, fingerprint)
    VALUES (:principal_id, :key, :fingerprint)
    ON CONFLICT (principal_id, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, created_at = now(),
            response_status = NULL, response_headers = NULL, response_body = NULL
        WHERE idempotency_keys.created_at < now() - make_interval(hours => :ttl_hours)
           OR idempotency_keys.response_status IS NULL
    RETURNING 1
    """
)
STORED = text(
    """
    SELECT fingerprint, response_status, response_headers, response_body, response_compressed
    FROM idempotency_keys WHERE principal_id = :principal_id AND key = :key
    """
)
SAVE = text(
    """
    UPDATE idempotency_keys
    SET response_status = :status, response_headers = CAST(:headers AS jsonb),
        response_body = :body, response_compressed = :compressed
    WHERE principal_id = :principal_id AND key = :key
    """
)
PURGE = text(
    "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => :ttl_hours)"
)


async def claim(
    session: AsyncSession, principal_id: object, key: str, fingerprint: str, ttl_hours: int
) -> bool:
    """Whether this request now holds the key (else another's response is stored under it)."""
    params = {
        "principal_id": principal_id,
        "key": key,
        "fingerprint": fingerprint,
        "ttl_hours": ttl_hours,
    }
    return bool(await fetch_in_transaction(session, CLAIM, params))


async def stored(session: AsyncSession, principal_id: object, key: str) -> Any:
    """The key's row: fingerprint, response_status, response_headers, response_body and
    response_compressed."""
    result = await session.execute(STORED, {"principal_id": principal_id, "key": key})
    return result.one()


async def save(
    session: AsyncSession,
    principal_id: object,
    key: str,
    *,
    status: int,
    headers: str,
    body: bytes,
    compressed: bool,
) -> None:
    await fetch_in_transaction(
        session,
        SAVE,
        {
            "principal_id": principal_id,
            "key": key,
            "status": status,
            "headers": headers,
            "body": body,
            "compressed": compressed,
        },
    )


async def purge(session: AsyncSession, ttl_hours: int) -> int:
    result = await session.execute(PURGE, {"ttl_hours": ttl_hours})
    return int(getattr(result, "rowcount", 0) or 0)
