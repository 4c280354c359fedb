"""Issuing, listing and revoking API keys (used by the `inovasi keys` commands)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import keys_repository as repository
from app.core.errors import NotFound, Unprocessable
from app.core.security import PROVINCE_SCOPED_ROLES, Role, generate_key
from app.models.api_key import ApiKey


async def create_key(
    session: AsyncSession,
    *,
    name: str,
    role: Role,
    province_code: str | None,
    institution_id: uuid.UUID | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its plaintext, which is never stored and cannot be shown again.
    A submitter key acts for one institution (and those under it): `institution_id`."""
    if role == Role.submitter:
        if institution_id is None:
            raise Unprocessable("A submitter key needs --institution.")
        if not await repository.institution_exists(session, institution_id):
            raise Unprocessable(f"Institution {institution_id} does not exist.")
    elif institution_id is not None:
        raise Unprocessable(f"A {role} key takes no institution.")
    if role in PROVINCE_SCOPED_ROLES:
        if not province_code:
            raise Unprocessable(f"A {role} key needs --province.")
        if await repository.region_level(session, province_code) != "province":
            raise Unprocessable(f"{province_code} is not a province code.")
    elif province_code:
        raise Unprocessable(f"A {role} key is national; it takes no province.")
    plaintext, prefix, key_hash = generate_key()
    key = ApiKey(
        id=uuid.uuid4(),
        name=name,
        role=role.value,
        province_code=province_code,
        institution_id=institution_id,
        prefix=prefix,
        key_hash=key_hash,
    )
    await repository.insert_key(session, key)
    return key, plaintext


async def list_keys(session: AsyncSession) -> Sequence[ApiKey]:
    return await repository.list_keys(session)


async def revoke_key(session: AsyncSession, key_id: uuid.UUID) -> None:
    if not await repository.revoke_key(session, key_id):
        raise NotFound(f"Key {key_id} does not exist.")
