from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from app.core.db import Session
from app.core.docs import problems
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit
from app.core.routing import AppRoute
from app.core.schemas import Page, RegionCode, SearchQuery
from app.core.security import open_data
from app.regions import service
from app.regions.schemas import RegionDetail, RegionLevel, RegionRead

router = APIRouter(prefix="/regions", tags=["regions"], route_class=AppRoute)


@router.get(
    "",
    response_model=Page[RegionRead],
    summary="List regions",
    responses=problems(400, 401),
    dependencies=[Depends(open_data())],
)
async def list_regions(
    session: Session,
    level: Annotated[RegionLevel | None, Query(description="Only this level.")] = None,
    parent: Annotated[
        RegionCode | None, Query(description="Only the children of this province code.")
    ] = None,
    q: Annotated[SearchQuery | None, Query(description="Part of the name, any case.")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[RegionRead]:
    """Provinces, regencies and cities (wilayah), ordered by code, as Kemendagri defines them.

    `GET /api/v1/regions?parent=33` gives the 35 regencies and cities of Jawa Tengah.
    """
    return await service.list_regions(
        session, level=level, parent=parent, q=q, cursor=cursor, limit=limit
    )


@router.get(
    "/{code}",
    response_model=RegionDetail,
    summary="Get a region with its children",
    responses=problems(401, 404),
    dependencies=[Depends(open_data())],
)
async def get_region(
    session: Session,
    code: Annotated[
        RegionCode,
        Path(
            description="Kemendagri code, e.g. `33` or `33.29`.",
            openapi_examples={"brebes": {"summary": "Kabupaten Brebes", "value": "33.29"}},
        ),
    ],
) -> RegionDetail:
    """One region and its direct children (for a province: its regencies and cities)."""
    return await service.get_region(session, code)
