from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.core.concurrency import IfMatchHeader, expected_version, set_etag
from app.core.db import Session
from app.core.docs import problems
from app.core.pagination import DEFAULT_LIMIT, Cursor, IncludeTotal, Limit
from app.core.routing import AppRoute
from app.core.schemas import Id, Page, ProvinceCode, RegionCode, SearchQuery
from app.core.security import Principal, Role, open_data, requires
from app.institutions import service
from app.institutions.schemas import (
    InstitutionCreate,
    InstitutionKind,
    InstitutionRead,
    InstitutionUpdate,
)

router = APIRouter(prefix="/institutions", tags=["institutions"], route_class=AppRoute)

Writer = Annotated[Principal, Depends(requires(Role.admin, Role.coordinator, province_scoped=True))]
InstitutionId = Annotated[
    Id,
    Path(
        description="Institution id.",
        openapi_examples={
            "dinkes_semarang": {
                "summary": "Dinas Kesehatan Kota Semarang (demo data)",
                "value": "cca36ae1-b01c-52c8-9ace-0e870480a8a5",
            }
        },
    ),
]


@router.get(
    "",
    response_model=Page[InstitutionRead],
    summary="List institutions",
    responses=problems(400, 401),
    dependencies=[Depends(open_data())],
)
async def list_institutions(
    session: Session,
    kind: Annotated[InstitutionKind | None, Query(description="Only this kind.")] = None,
    region: Annotated[
        RegionCode | None,
        Query(description="Only institutions in this region or the regions under it."),
    ] = None,
    province: Annotated[
        ProvinceCode | None, Query(description="Only institutions of this province (2 digits).")
    ] = None,
    parent_id: Annotated[Id | None, Query(description="Only OPDs under this one.")] = None,
    q: Annotated[SearchQuery | None, Query(description="Part of the name, any case.")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[InstitutionRead]:
    """Institutions (instansi) ordered by name, with keyset pagination."""
    return await service.list_institutions(
        session,
        kind=kind,
        region=region,
        province=province,
        parent_id=parent_id,
        q=q,
        cursor=cursor,
        limit=limit,
        include_total=include_total,
    )


@router.post(
    "",
    response_model=InstitutionRead,
    status_code=201,
    summary="Register an institution",
    responses=problems(400, 401, 403, 409, 413, 422),
)
async def create_institution(
    session: Session, principal: Writer, body: InstitutionCreate, response: Response
) -> InstitutionRead:
    """Register an institution. Admins anywhere; coordinators inside their own province.

    The kind must match the region's level: a `city_government` sits on a city code
    (`33.71`), a `provincial_government` on a province code (`33`); a ministry has no region.
    """
    created = await service.create_institution(session, principal, body)
    response.headers["Location"] = f"/api/v1/institutions/{created.id}"
    set_etag(response, created.version)
    return created


@router.get(
    "/{institution_id}",
    response_model=InstitutionRead,
    summary="Get an institution",
    responses=problems(401, 404),
    dependencies=[Depends(open_data())],
)
async def get_institution(
    session: Session, institution_id: InstitutionId, response: Response
) -> InstitutionRead:
    """One institution, with its `ETag` for a later PATCH."""
    institution = await service.get_institution(session, institution_id)
    set_etag(response, institution.version)
    return institution


@router.patch(
    "/{institution_id}",
    response_model=InstitutionRead,
    summary="Change an institution",
    responses=problems(401, 403, 404, 409, 412, 413, 422, 428),
)
async def update_institution(
    session: Session,
    principal: Writer,
    institution_id: InstitutionId,
    body: InstitutionUpdate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> InstitutionRead:
    """Change the fields sent. Requires `If-Match` with the ETag from a GET (412 when stale)."""
    updated = await service.update_institution(
        session, principal, institution_id, expected_version(if_match), body
    )
    set_etag(response, updated.version)
    return updated
