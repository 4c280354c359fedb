"""Routes of institutionalisation: regulations, compliance, incentives and JIPP hubs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.core.concurrency import IfMatchHeader, expected_version, set_etag
from app.core.db import Session
from app.core.docs import problems
from app.core.pagination import DEFAULT_LIMIT, Cursor, IncludeTotal, Limit
from app.core.routing import AppRoute
from app.core.schemas import Id, Page, ProvinceCode, RegionCode, today
from app.core.security import Principal, Role, open_data, requires
from app.institutionalisation import service
from app.institutionalisation.repository import HubFilters, IncentiveFilters, RegulationFilters
from app.institutionalisation.schemas import (
    DEMO_HUB_UNTAN,
    DEMO_PERGUB_JATENG,
    ComplianceView,
    HubCreate,
    HubRead,
    HubUpdate,
    IncentiveCreate,
    IncentiveRead,
    RegulationCreate,
    RegulationKind,
    RegulationRead,
    RegulationUpdate,
)

router = APIRouter(tags=["institutionalisation"], route_class=AppRoute)

Manager = Annotated[
    Principal, Depends(requires(Role.admin, Role.coordinator, province_scoped=True))
]
RegulationId = Annotated[
    Id,
    Path(
        description="Regulation id.",
        openapi_examples={
            "pergub_jateng": {
                "summary": 'Pergub Jawa Tengah "Satu OPD Satu Inovasi" (demo data)',
                "value": DEMO_PERGUB_JATENG,
            }
        },
    ),
]
HubId = Annotated[
    Id,
    Path(
        description="JIPP hub id.",
        openapi_examples={
            "untan": {
                "summary": "JIPP hub Universitas Tanjungpura (demo data)",
                "value": DEMO_HUB_UNTAN,
            }
        },
    ),
]
Region = Annotated[
    RegionCode | None,
    Query(description="A province (`33`) or a regency or city (`33.74`): it and the regions "
          "under it."),
]  # fmt: skip


# --- Regulations ------------------------------------------------------------------------


@router.get(
    "/regulations",
    response_model=Page[RegulationRead],
    summary="List regulations on innovation",
    responses=problems(400, 401, 422),
    dependencies=[Depends(open_data())],
)
async def list_regulations(
    session: Session,
    region: Region = None,
    national: Annotated[
        bool | None,
        Query(description="true: national regulations only; false: regional ones only."),
    ] = None,
    kind: Annotated[RegulationKind | None, Query()] = None,
    year: Annotated[
        int | None, Query(ge=1945, le=2100, description="The regulation's year (tahun).")
    ] = None,
    mandates_yearly_innovation: Annotated[bool | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[RegulationRead]:
    """Regulations on innovation (regulasi inovasi: Perda, Pergub/Perbup/Perwali, SK,
    Permen), newest year first."""
    filters = RegulationFilters(
        region=region,
        national=national,
        kind=kind.value if kind else None,
        year=year,
        mandates_yearly_innovation=mandates_yearly_innovation,
    )
    return await service.list_regulations(
        session, filters, cursor=cursor, limit=limit, include_total=include_total
    )


@router.post(
    "/regulations",
    response_model=RegulationRead,
    status_code=201,
    summary="Record a regulation on innovation",
    responses=problems(400, 401, 403, 409, 413, 422),
)
async def create_regulation(
    session: Session, principal: Manager, body: RegulationCreate, response: Response
) -> RegulationRead:
    """Admins record any regulation; coordinators those of their province and of its
    regencies and cities (403 otherwise, and for a national one). 409
    `duplicate_regulation`: the region has one of this kind, number and year."""
    regulation = await service.create_regulation(session, principal, body)
    response.headers["Location"] = f"/api/v1/regulations/{regulation.id}"
    set_etag(response, regulation.version)
    return regulation


@router.get(
    "/regulations/{regulation_id}",
    response_model=RegulationRead,
    summary="Get a regulation",
    responses=problems(401, 404, 422),
    dependencies=[Depends(open_data())],
)
async def get_regulation(
    session: Session, regulation_id: RegulationId, response: Response
) -> RegulationRead:
    """One regulation, with its `ETag` for a later PATCH."""
    regulation = await service.get_regulation(session, regulation_id)
    set_etag(response, regulation.version)
    return regulation


@router.patch(
    "/regulations/{regulation_id}",
    response_model=RegulationRead,
    summary="Change a regulation",
    responses=problems(401, 403, 404, 409, 412, 413, 422, 428),
)
async def update_regulation(
    session: Session,
    principal: Manager,
    regulation_id: RegulationId,
    body: RegulationUpdate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> RegulationRead:
    """Change the fields sent (e.g. `repealed_on` when it is repealed). Requires `If-Match`
    (428 without, 412 when stale). The same province rule as for recording one."""
    regulation = await service.update_regulation(
        session, principal, regulation_id, expected_version(if_match), body
    )
    set_etag(response, regulation.version)
    return regulation


# --- Compliance -------------------------------------------------------------------------


@router.get(
    "/institutionalisation/compliance",
    response_model=ComplianceView,
    summary="One OPD, one innovation: compliance of a region's governments",
    responses=problems(400, 401, 404, 422),
    dependencies=[Depends(open_data())],
)
async def compliance(
    session: Session,
    region: Annotated[
        RegionCode | None,
        Query(
            description="A province (`33`: its government and every regency's and city's) or "
            "a regency or city (`33.74`); without it, every government of the country.",
            openapi_examples={"jateng": {"summary": "Jawa Tengah", "value": "33"}},
        ),
    ] = None,
    year: Annotated[
        int | None,
        Query(
            ge=2000,
            le=2100,
            description="The year (default: the current one).",
            openapi_examples={"2025": {"summary": "2025", "value": 2025}},
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> ComplianceView:
    """ "Satu OPD Satu Inovasi" (as Jawa Tengah's Pergub under Perda 3/2019 requires): for
    each government of the region (pemprov, pemkab, pemkot), its OPDs (the institutions
    directly under it), how many have at least one innovation (not withdrawn) registered or
    launched in the year (an innovation of a unit under an OPD, e.g. a UPTD, counts for the
    OPD), the coverage, whether a regulation in force that year (national, or the
    government's own) mandates it, and the incentives recorded for its region that year.

    `items` is a page of the OPDs without an innovation, by name (keyset: pass
    `next_cursor` as `cursor`; `include_total=true` adds their number as `total`). A
    cursor belongs to the region and year it was made for. 404: unknown region.
    """
    return await service.compliance(
        session,
        region=region,
        year=year if year is not None else today().year,
        cursor=cursor,
        limit=limit,
        include_total=include_total,
    )


# --- Incentives -------------------------------------------------------------------------


@router.get(
    "/incentives",
    response_model=Page[IncentiveRead],
    summary="List incentives",
    responses=problems(400, 401, 422),
    dependencies=[Depends(open_data())],
)
async def list_incentives(
    session: Session,
    region: Region = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="The fiscal year.")] = None,
    innovation: Annotated[Id | None, Query(description="Innovation id.")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[IncentiveRead]:
    """Incentive funds (dana insentif daerah, DID) received by regions, newest year first."""
    filters = IncentiveFilters(region=region, year=year, innovation_id=innovation)
    return await service.list_incentives(
        session, filters, cursor=cursor, limit=limit, include_total=include_total
    )


@router.post(
    "/incentives",
    response_model=IncentiveRead,
    status_code=201,
    summary="Record an incentive",
    responses=problems(400, 401, 403, 413, 422),
)
async def create_incentive(
    session: Session, principal: Manager, body: IncentiveCreate, response: Response
) -> IncentiveRead:
    """Record incentive funds received by a region in a year, with what they reward.
    Admins anywhere; coordinators for their province and its regencies and cities. The
    innovation, when named, must be of the same province (422)."""
    incentive = await service.create_incentive(session, principal, body)
    response.headers["Location"] = f"/api/v1/incentives/{incentive.id}"
    set_etag(response, incentive.version)
    return incentive


@router.get(
    "/incentives/{incentive_id}",
    response_model=IncentiveRead,
    summary="Get an incentive",
    responses=problems(401, 404, 422),
    dependencies=[Depends(open_data())],
)
async def get_incentive(
    session: Session,
    incentive_id: Annotated[
        Id,
        Path(
            description="Incentive id.",
            openapi_examples={
                "semarang_2025": {
                    "summary": "Kota Semarang 2025, Sayangi dan Dampingi Ibu dan Anak (demo data)",
                    "value": "d59325dd-f5cd-5db8-8772-ce3d555c4360",
                }
            },
        ),
    ],
    response: Response,
) -> IncentiveRead:
    """One incentive record."""
    incentive = await service.get_incentive(session, incentive_id)
    set_etag(response, incentive.version)
    return incentive


# --- JIPP hubs --------------------------------------------------------------------------


@router.get(
    "/hubs",
    response_model=Page[HubRead],
    summary="List JIPP hubs",
    responses=problems(400, 401, 422),
    dependencies=[Depends(open_data())],
)
async def list_hubs(
    session: Session,
    province: Annotated[ProvinceCode | None, Query(description="The hub's province.")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[HubRead]:
    """JIPP hubs (Jaringan Inovasi Pelayanan Publik) by name, with their host, members,
    mentors and the replication programmes they mentor."""
    return await service.list_hubs(
        session,
        HubFilters(province=province),
        cursor=cursor,
        limit=limit,
        include_total=include_total,
    )


@router.post(
    "/hubs",
    response_model=HubRead,
    status_code=201,
    summary="Register a JIPP hub",
    responses=problems(400, 401, 403, 409, 413, 422),
)
async def create_hub(
    session: Session, principal: Manager, body: HubCreate, response: Response
) -> HubRead:
    """Register a JIPP hub of a province: admins anywhere, coordinators in their province.
    422: unknown host or member institutions, or a member named twice. 409
    `duplicate_hub`: the name is taken."""
    hub = await service.create_hub(session, principal, body)
    response.headers["Location"] = f"/api/v1/hubs/{hub.id}"
    set_etag(response, hub.version)
    return hub


@router.get(
    "/hubs/{hub_id}",
    response_model=HubRead,
    summary="Get a JIPP hub",
    responses=problems(401, 404, 422),
    dependencies=[Depends(open_data())],
)
async def get_hub(session: Session, hub_id: HubId, response: Response) -> HubRead:
    """One hub with its members, mentors and mentored programmes, and its `ETag`."""
    hub = await service.get_hub(session, hub_id)
    set_etag(response, hub.version)
    return hub


@router.patch(
    "/hubs/{hub_id}",
    response_model=HubRead,
    summary="Change a JIPP hub",
    responses=problems(401, 403, 404, 409, 412, 413, 422, 428),
)
async def update_hub(
    session: Session,
    principal: Manager,
    hub_id: HubId,
    body: HubUpdate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> HubRead:
    """Change the fields sent; `member_institution_ids` replaces the members. Requires
    `If-Match` (428 without, 412 when stale)."""
    hub = await service.update_hub(session, principal, hub_id, expected_version(if_match), body)
    set_etag(response, hub.version)
    return hub
