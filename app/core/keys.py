"""Issuing, listing and revoking API keys (used by the `inovasi keys` commands)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound, Unprocessable
from app.core.security import PROVINCE_SCOPED_ROLES, Role, generate_key
from app.models.api_key import ApiKey
from app.models.region import Region


async def create_key(
    session: AsyncSession, *, name: str, role: Role, province_code: str | None
) -> tuple[ApiKey, str]:
    """A new key and its plaintext, which is never stored and cannot be shown again."""
    if role in PROVINCE_SCOPED_ROLES:
        if not province_code:
            raise Unprocessable(f"A {role} key needs --province.")
        region = await session.get(Region, province_code)
        if region is None or region.level != "province":
            raise Unprocessable(f"{province_code} is not a province code.")
    elif province_code:
        raise Unprocessable(f"A {role} key is national; it takes no province.")
    plaintext, prefix, key_hash = generate_key()
    key = ApiKey(
        id=uuid.uuid4(),
        name=name,
        role=role.value,
        province_code=province_code,
        prefix=prefix,
        key_hash=key_hash,
    )
    session.add(key)
    await session.flush()
    return key, plaintext


async def list_keys(session: AsyncSession) -> Sequence[ApiKey]:
    return (await session.scalars(select(ApiKey).order_by(ApiKey.created_at))).all()


async def revoke_key(session: AsyncSession, key_id: uuid.UUID) -> None:
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .returning(ApiKey.id)
    )
    if result.first() is None and await session.get(ApiKey, key_id) is None:
        raise NotFound(f"Key {key_id} does not exist.")
