from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.openapi.models import Example
from fastapi.responses import StreamingResponse

from app.core.concurrency import IfMatchHeader, expected_version, set_etag
from app.core.db import Reads, Session
from app.core.docs import problems
from app.core.pagination import DEFAULT_LIMIT, Cursor, IncludeTotal, Limit
from app.core.routing import AppRoute
from app.core.schemas import Id, IsoDate, Page, ProvinceCode, RegionCode, SearchQuery
from app.core.security import Principal, Role, open_data, requires
from app.innovations import service
from app.innovations.export import (
    CSV_EXAMPLE,
    CSV_MEDIA_TYPE,
    JSONL_EXAMPLE,
    JSONL_MEDIA_TYPE,
    ExportFormat,
    prepare_export,
    stream,
)
from app.innovations.repository import RANKED_MATCHES, Filters
from app.innovations.schemas import (
    AwardCreate,
    AwardRead,
    Competition,
    Form,
    InnovationCreate,
    InnovationRead,
    InnovationStatus,
    InnovationUpdate,
    LineageNode,
    Scale,
    Sector,
    Stage,
    Tier,
)

router = APIRouter(prefix="/innovations", tags=["innovations"], route_class=AppRoute)

Writer = Annotated[Principal, Depends(requires(Role.admin, Role.coordinator, province_scoped=True))]
Reader = Annotated[Principal | None, Depends(open_data())]
# Submitters (an institution's own key) register and edit their institution's innovations.
Registrar = Annotated[
    Principal,
    Depends(requires(Role.admin, Role.coordinator, Role.submitter, province_scoped=True)),
]
# Gerakan Kembali Bersekolah of the demo data: published, two KIPP 2019 awards (top 99, top 45).
GKB_EXAMPLE: dict[str, Example] = {
    "gkb": {
        "summary": "Gerakan Kembali Bersekolah (demo data)",
        "value": "7801cd81-7c43-5c3c-af76-39d648f35104",
    }
}
InnovationId = Annotated[Id, Path(description="Innovation id.", openapi_examples=GKB_EXAMPLE)]


class InnovationSort(StrEnum):
    launched_on_desc = "-launched_on"
    by_title = "title"
    updated_at_desc = "-updated_at"
    replications_desc = "-replications"
    relevance = "relevance"


# `async` though it awaits nothing: FastAPI runs a plain `def` dependency in a worker thread.
async def list_filters(
    sector: Annotated[Sector | None, Query()] = None,
    form: Annotated[Form | None, Query()] = None,
    digital: Annotated[bool | None, Query()] = None,
    stage: Annotated[Stage | None, Query()] = None,
    status: Annotated[
        InnovationStatus | None,
        Query(description="Anonymous clients only ever see `published`."),
    ] = None,
    scale: Annotated[Scale | None, Query()] = None,
    institution: Annotated[Id | None, Query(description="Institution id.")] = None,
    province: Annotated[ProvinceCode | None, Query(description="Province code (2 digits).")] = None,
    region: Annotated[
        RegionCode | None, Query(description="Region code; includes the regions under it.")
    ] = None,
    award_competition: Annotated[Competition | None, Query()] = None,
    award_tier: Annotated[Tier | None, Query()] = None,
    award_year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    launched_from: Annotated[IsoDate | None, Query()] = None,
    launched_to: Annotated[IsoDate | None, Query()] = None,
    q: Annotated[
        SearchQuery | None,
        Query(
            description="Search in Indonesian (stemmed) over title, summary, problem and "
            "approach, plus partial names and acronyms: `kantong plastik`, `pikob`."
        ),
    ] = None,
) -> Filters:
    return Filters(
        sector=sector,
        form=form,
        digital=digital,
        stage=stage,
        status=status,
        scale=scale,
        institution_id=institution,
        province=province,
        region=region,
        award_competition=award_competition,
        award_tier=award_tier,
        award_year=award_year,
        launched_from=launched_from,
        launched_to=launched_to,
        q=q,
    )


ListFilters = Annotated[Filters, Depends(list_filters)]
SortParam = Annotated[
    InnovationSort | None,
    Query(
        description="Default `-launched_on`, or `relevance` when `q` is given. `relevance` "
        f"ranks the {RANKED_MATCHES} most replicated matches (the innovations regions chose "
        "to adopt); "
        "`total` counts every match (beyond 10,000 it is an estimate, see "
        "`total_is_estimate`), and any other sort (or the CSV export) lists them all."
    ),
]


# The read by id, the service's busiest request, is declared first: FastAPI tries a router's
# routes in order, and each one tried before it cost a read about 25,000 instructions
# (callgrind). `{innovation_id:id}` matches a UUID only, so no other route's paths are taken.
@router.get(
    "/{innovation_id:id}",
    response_model=InnovationRead,
    summary="Get an innovation",
    responses=problems(401, 404),
)
async def get_innovation(
    reads: Reads, principal: Reader, innovation_id: InnovationId, response: Response
) -> InnovationRead:
    """One innovation with its derived figures and `ETag`. Drafts are 404 to anonymous
    clients."""
    innovation = await service.get_innovation(reads, principal, innovation_id)
    set_etag(response, innovation.version)
    return innovation


@router.get(
    "",
    response_model=Page[InnovationRead],
    summary="List and search innovations",
    responses=problems(400, 401, 422),
)
async def list_innovations(
    session: Session,
    principal: Reader,
    filters: ListFilters,
    sort: SortParam = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[InnovationRead]:
    """Innovations with their derived figures (replications, provinces reached, latest
    sustainability verdict, awards), filtered, sorted and keyset-paginated.
    Anonymous clients see published innovations only; API keys also see drafts."""
    return await service.list_innovations(
        session,
        principal,
        filters,
        sort=sort.value if sort else None,
        cursor=cursor,
        limit=limit,
        include_total=include_total,
    )


@router.get(
    "/export.csv",
    summary="Export innovations as CSV or NDJSON (open data)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                CSV_MEDIA_TYPE: {"example": CSV_EXAMPLE},
                JSONL_MEDIA_TYPE: {"example": JSONL_EXAMPLE},
            },
            "description": "UTF-8 CSV with a header row, or NDJSON with `format=jsonl`.",
        },
        **problems(401, 422),
    },
)
async def export_innovations(
    request: Request,
    principal: Reader,
    filters: ListFilters,
    sort: SortParam = None,
    format: Annotated[
        ExportFormat,
        Query(
            description="`csv` (default): a spreadsheet-safe CSV. `jsonl`: one JSON object "
            f"per line (`{JSONL_MEDIA_TYPE}`), for data pipelines."
        ),
    ] = ExportFormat.csv,
) -> StreamingResponse:
    """Every innovation matching the same filters as the list, in the list's order, streamed
    by the database (`COPY`). CSV: UTF-8 with a BOM and a header row; cells that a
    spreadsheet would read as a formula are prefixed with `'`. NDJSON (`format=jsonl`): the
    same fields, typed (arrays, numbers, booleans, null), one object per line."""
    export = prepare_export(
        filters, sort.value if sort else None, format, published_only=principal is None
    )
    return StreamingResponse(
        stream(request.app.state.db.write_sessions, export),
        media_type=export.media_type,
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


@router.post(
    "",
    response_model=InnovationRead,
    status_code=201,
    summary="Register an innovation",
    responses=problems(400, 401, 403, 409, 413, 422),
)
async def create_innovation(
    session: Session, principal: Registrar, body: InnovationCreate, response: Response
) -> InnovationRead:
    """Register an innovation of an institution. Admins anywhere; coordinators for
    institutions of their own province; submitters for their institution and those under
    it (403 `other_institution` otherwise). `scale` starts `local`."""
    created = await service.create_innovation(session, principal, body)
    response.headers["Location"] = f"/api/v1/innovations/{created.id}"
    set_etag(response, created.version)
    return created


@router.patch(
    "/{innovation_id:id}",
    response_model=InnovationRead,
    summary="Change an innovation",
    responses=problems(401, 403, 404, 409, 412, 413, 422, 428),
)
async def update_innovation(
    session: Session,
    principal: Registrar,
    innovation_id: InnovationId,
    body: InnovationUpdate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> InnovationRead:
    """Change the fields sent (`If-Match` required). Status moves `draft → published →
    withdrawn`; an illegal move is 409 listing the allowed ones. `scale` is not editable:
    it changes only by an approved scaling decision."""
    updated = await service.update_innovation(
        session, principal, innovation_id, expected_version(if_match), body
    )
    set_etag(response, updated.version)
    return updated


@router.post(
    "/{innovation_id}/awards",
    response_model=AwardRead,
    status_code=201,
    summary="Record an award",
    responses=problems(400, 401, 403, 404, 409, 413, 422),
)
async def add_award(
    session: Session,
    principal: Writer,
    innovation_id: InnovationId,
    body: AwardCreate,
    response: Response,
) -> AwardRead:
    """Record an award: KIPP (`top_99`, `top_45`, `top_5`, `outstanding`), IGA or other.
    One per (competition, year, tier): a repeat is 409."""
    award = await service.add_award(session, principal, innovation_id, body)
    response.headers["Location"] = f"/api/v1/innovations/{innovation_id}"
    set_etag(response, award.version)
    return award


@router.get(
    "/{innovation_id}/lineage",
    response_model=LineageNode,
    summary="Lineage: replicas and commitments",
    responses=problems(401, 404),
)
async def get_lineage(
    session: Session, principal: Reader, innovation_id: InnovationId
) -> LineageNode:
    """The tree of innovations registered as replicas of this one (and their replicas),
    with the replication commitments that adopt each."""
    return await service.lineage(session, principal, innovation_id)
