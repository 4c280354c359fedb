"""SQL shared by every repository."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import bindparam, func, update
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


def contains(column: Any, text: str, name: str | None = None) -> Any:
    """Case-insensitive `column ILIKE '%text%'` with `%`, `_` and `\\` taken literally
    (a trigram index serves it); the pattern is the bind parameter `name` when given."""
    pattern = like_pattern(text)
    return column.ilike(pattern if name is None else bindparam(name, pattern), escape="\\")


def contains_folded(folded: Any, text: str, name: str) -> Any:
    """`contains()` on a column that holds another's `lower()`: `folded LIKE lower('%text%')`,
    which is what ILIKE computes, with no text folded as it is tested. The pattern is the
    bind parameter `name`."""
    return folded.like(func.lower(bindparam(name, like_pattern(text))), escape="\\")


def like_pattern(text: str) -> str:
    """`%text%` for `ILIKE … ESCAPE '\\'`, with `%`, `_` and `\\` of `text` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def changed_fields(obj: Base, values: dict[str, Any]) -> dict[str, Any]:
    """The subset of `values` that differ from `obj`'s current attributes."""
    return {k: v for k, v in values.items() if getattr(obj, k) != v}
