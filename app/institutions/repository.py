from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.core.pagination import SortKey, keyset_page
from app.core.repository import contains, update_versioned
from app.models.institution import Institution

SORT_NAME = (SortKey(Institution.name), SortKey(Institution.id))


def unique_violation(exc: IntegrityError) -> bool:
    return "uq_institutions_name_region_code" in str(exc.orig)


async def get(session: AsyncSession, institution_id: uuid.UUID) -> Institution | None:
    return await session.get(Institution, institution_id)


_DUPLICATE = "An institution with this name already exists in this region."


async def update(
    session: AsyncSession, institution: Institution, expected_version: int, values: dict[str, Any]
) -> Institution:
    try:
        return await update_versioned(session, institution, expected_version, values)
    except IntegrityError as exc:
        if unique_violation(exc):
            raise Conflict(_DUPLICATE, code="duplicate_institution") from exc
        raise


async def insert(session: AsyncSession, values: dict[str, Any]) -> Institution:
    institution = Institution(**values)
    session.add(institution)
    try:
        await session.flush()
    except IntegrityError as exc:
        if unique_violation(exc):
            raise Conflict(_DUPLICATE, code="duplicate_institution") from exc
        raise
    await session.refresh(institution)
    return institution


def filters(
    *,
    kind: str | None,
    region: str | None,
    province: str | None,
    parent_id: uuid.UUID | None,
    q: str | None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if kind:
        where.append(Institution.kind == kind)
    if region:
        where.append(
            or_(Institution.region_code == region, Institution.region_code.like(f"{region}.%"))
        )
    if province:
        where.append(Institution.province_code == province)
    if parent_id:
        where.append(Institution.parent_id == parent_id)
    if q:
        where.append(contains(Institution.name, q))
    return where


async def list_page(
    session: AsyncSession,
    where: list[ColumnElement[bool]],
    after: list[Any] | None,
    limit: int,
) -> Sequence[Institution]:
    stmt = keyset_page(select(Institution).where(*where), SORT_NAME, after, limit)
    return (await session.scalars(stmt)).all()


async def count(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(Institution).where(*where)) or 0
    )


async def is_ancestor(
    session: AsyncSession, candidate: uuid.UUID, institution_id: uuid.UUID
) -> bool:
    """Whether `institution_id` is `candidate` or one of its ancestors' descendants (a cycle)."""
    tree = (
        select(Institution.id, Institution.parent_id)
        .where(Institution.id == candidate)
        .cte("tree", recursive=True)
    )
    tree = tree.union(
        select(Institution.id, Institution.parent_id).join(tree, Institution.id == tree.c.parent_id)
    )
    found = await session.scalar(select(tree.c.id).where(tree.c.id == institution_id).limit(1))
    return found is not None
