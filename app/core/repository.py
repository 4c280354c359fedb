"""SQL shared by every repository."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import stale
from app.models.base import Base

M = TypeVar("M", bound=Base)


async def update_versioned(
    session: AsyncSession, obj: M, expected_version: int, values: dict[str, Any]
) -> M:
    """UPDATE … WHERE id = :id AND version = :expected, bumping the version.

    The version test is part of the UPDATE itself, so of two racing writers holding the same
    ETag exactly one wins; the other gets 412.
    """
    model = type(obj)
    table: Any = model
    stmt = (
        update(model)
        .where(table.id == obj.id, table.version == expected_version)  # type: ignore[attr-defined]
        .values(**values, version=table.version + 1, updated_at=func.now())
        .returning(model)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    updated = (await session.scalars(stmt)).one_or_none()
    if updated is None:
        raise stale()
    return updated


def contains(column: Any, text: str) -> Any:
    """Case-insensitive `column ILIKE '%text%'` with `%`, `_` and `\\` taken literally
    (a trigram index serves it)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def changed_fields(obj: Base, values: dict[str, Any]) -> dict[str, Any]:
    """The subset of `values` that differ from `obj`'s current attributes."""
    return {k: v for k, v in values.items() if getattr(obj, k) != v}
