from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.core.concurrency import IfMatchHeader, expected_version, set_etag
from app.core.config import get_settings
from app.core.db import Session
from app.core.docs import problems
from app.core.idempotency import Idempotency
from app.core.pagination import DEFAULT_LIMIT, Cursor, IncludeTotal, Limit
from app.core.routing import AppRoute
from app.core.schemas import Id, Page, ProvinceCode
from app.core.security import Principal, Role, open_data, requires
from app.replication import service
from app.replication.repository import CommitmentFilters
from app.replication.schemas import (
    ActionItemCreate,
    ActionItemRead,
    ActionItemUpdate,
    BatchRequest,
    BatchResponse,
    CommitmentCreate,
    CommitmentDetail,
    CommitmentRead,
    CommitmentStatus,
    CommitmentUpdate,
    ProgramCreate,
    ProgramMatrix,
    ProgramRead,
    ProgramStatus,
    ProgramUpdate,
    ProgressReportCreate,
    ProgressReportRead,
    TransitionRequest,
)

router = APIRouter(tags=["replication"], route_class=AppRoute)

Manager = Annotated[
    Principal, Depends(requires(Role.admin, Role.coordinator, province_scoped=True))
]
Reporter = Annotated[
    Principal,
    Depends(requires(Role.admin, Role.coordinator, Role.integration, province_scoped=True)),
]
# Path examples: records of the demo data (app/demo) on which every operation of the path
# succeeds in Swagger UI on `make run`.
ProgramId = Annotated[
    Id,
    Path(
        description="Replication programme id.",
        openapi_examples={
            "kalbar_2022": {
                "summary": "Kalimantan Barat programme for fiscal year 2022 (demo data)",
                "value": "17eab0de-cc7e-53dc-8f13-f1ff41d6ad69",
            }
        },
    ),
]
CommitmentId = Annotated[
    Id,
    Path(
        description="Commitment id.",
        openapi_examples={
            "purworejo_sdida": {
                "summary": "Kabupaten Purworejo replicates Sayangi dan Dampingi Ibu dan Anak "
                "(demo data, in progress)",
                "value": "77def33a-e1dc-5af8-9412-10cadb011e9b",
            }
        },
    ),
]
ItemId = Annotated[
    Id,
    Path(
        description="Action item id.",
        openapi_examples={
            "purworejo_sdida_sop": {
                "summary": "Its item 'Menyesuaikan SOP, sistem dan anggaran' (demo data)",
                "value": "48d5a6b8-c7f9-5e08-aa03-20e4f8daeea9",
            }
        },
    ),
]
# Integrations retry over unreliable links: their progress POSTs must carry a key.
ReportIdempotency = Depends(Idempotency(required_for=frozenset({Role.integration})))


class CommitmentSort(StrEnum):
    signed_on_desc = "-signed_on"
    updated_at_desc = "-updated_at"


# --- Programmes -------------------------------------------------------------------------


@router.get(
    "/replication-programs",
    response_model=Page[ProgramRead],
    summary="List replication programmes",
    responses=problems(400, 401, 422),
    dependencies=[Depends(open_data())],
)
async def list_programs(
    session: Session,
    province: Annotated[ProvinceCode | None, Query(description="Province code.")] = None,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status: Annotated[ProgramStatus | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[ProgramRead]:
    """Replication programmes (program replikasi), newest fiscal year first."""
    return await service.list_programs(
        session,
        province=province,
        fiscal_year=fiscal_year,
        status=status.value if status else None,
        cursor=cursor,
        limit=limit,
        include_total=include_total,
    )


@router.post(
    "/replication-programs",
    response_model=ProgramRead,
    status_code=201,
    summary="Create a replication programme",
    responses=problems(400, 401, 403, 409, 413, 422),
)
async def create_program(
    session: Session, principal: Manager, body: ProgramCreate, response: Response
) -> ProgramRead:
    """A province's programme (its coordinator or an admin), or a national one (admins)."""
    program = await service.create_program(session, principal, body)
    response.headers["Location"] = f"/api/v1/replication-programs/{program.id}"
    set_etag(response, program.version)
    return program


@router.get(
    "/replication-programs/{program_id}",
    response_model=ProgramRead,
    summary="Get a replication programme",
    responses=problems(401, 404, 422),
    dependencies=[Depends(open_data())],
)
async def get_program(session: Session, program_id: ProgramId, response: Response) -> ProgramRead:
    """One programme, with its `ETag`."""
    program = await service.get_program(session, program_id)
    set_etag(response, program.version)
    return program


@router.patch(
    "/replication-programs/{program_id}",
    response_model=ProgramRead,
    summary="Change a replication programme",
    responses=problems(401, 403, 404, 409, 412, 413, 422, 428),
)
async def update_program(
    session: Session,
    principal: Manager,
    program_id: ProgramId,
    body: ProgramUpdate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ProgramRead:
    """Change the fields sent (`If-Match` required)."""
    program = await service.update_program(
        session, principal, program_id, expected_version(if_match), body
    )
    set_etag(response, program.version)
    return program


@router.get(
    "/replication-programs/{program_id}/matrix",
    response_model=ProgramMatrix,
    summary="Programme matrix: innovation × adopter",
    responses=problems(401, 404, 422),
    dependencies=[Depends(open_data())],
)
async def program_matrix(session: Session, program_id: ProgramId) -> ProgramMatrix:
    """Every commitment of the programme as a cell of an innovation × adopter grid, with
    status and progress, for dashboards."""
    return await service.program_matrix(session, program_id)


# --- Commitments ------------------------------------------------------------------------


@router.get(
    "/commitments",
    response_model=Page[CommitmentRead],
    summary="List commitments",
    responses=problems(400, 401, 422),
    dependencies=[Depends(open_data())],
)
async def list_commitments(
    session: Session,
    program: Annotated[Id | None, Query(description="Programme id.")] = None,
    province: Annotated[ProvinceCode | None, Query(description="Adopter's province.")] = None,
    adopter: Annotated[Id | None, Query(description="Adopter institution id.")] = None,
    innovation: Annotated[Id | None, Query(description="Source innovation id.")] = None,
    status: Annotated[CommitmentStatus | None, Query()] = None,
    overdue: Annotated[
        bool | None, Query(description="Target launch passed and not launched.")
    ] = None,
    stale: Annotated[bool | None, Query(description="No progress report in 90 days.")] = None,
    sort: Annotated[CommitmentSort, Query()] = CommitmentSort.signed_on_desc,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[CommitmentRead]:
    """Replication commitments (komitmen replikasi) with progress and health flags."""
    filters = CommitmentFilters(
        program_id=program,
        province=province,
        adopter_id=adopter,
        innovation_id=innovation,
        status=status.value if status else None,
        overdue=overdue,
        stale=stale,
    )
    return await service.list_commitments(
        session, filters, sort=sort.value, cursor=cursor, limit=limit, include_total=include_total
    )


@router.post(
    "/commitments",
    response_model=CommitmentRead,
    status_code=201,
    summary="Sign a commitment",
    responses=problems(400, 401, 403, 409, 413, 422),
)
async def create_commitment(
    session: Session, principal: Manager, body: CommitmentCreate, response: Response
) -> CommitmentRead:
    """An adopter commits to replicate a published innovation of another region, inside the
    programme's province. A repeat (programme, innovation, adopter) is 409."""
    commitment = await service.create_commitment(session, principal, body)
    response.headers["Location"] = f"/api/v1/commitments/{commitment.id}"
    set_etag(response, commitment.version)
    return commitment


@router.get(
    "/commitments/{commitment_id}",
    response_model=CommitmentDetail,
    summary="Get a commitment",
    responses=problems(401, 404, 422),
    dependencies=[Depends(open_data())],
)
async def get_commitment(
    session: Session, commitment_id: CommitmentId, response: Response
) -> CommitmentDetail:
    """A commitment with its action plan, progress and latest report."""
    commitment = await service.get_commitment(session, commitment_id)
    set_etag(response, commitment.version)
    return commitment


@router.patch(
    "/commitments/{commitment_id}",
    response_model=CommitmentRead,
    summary="Change a commitment",
    responses=problems(401, 403, 404, 412, 413, 422, 428),
)
async def update_commitment(
    session: Session,
    principal: Manager,
    commitment_id: CommitmentId,
    body: CommitmentUpdate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> CommitmentRead:
    """Change the fields sent (`If-Match` required). Status changes use `/transitions`."""
    commitment = await service.update_commitment(
        session, principal, commitment_id, expected_version(if_match), body
    )
    set_etag(response, commitment.version)
    return commitment


@router.post(
    "/commitments/{commitment_id}/transitions",
    response_model=CommitmentRead,
    summary="Change a commitment's status",
    responses=problems(400, 401, 403, 404, 409, 412, 413, 422),
)
async def transition_commitment(
    session: Session,
    principal: Manager,
    commitment_id: CommitmentId,
    body: TransitionRequest,
    response: Response,
    if_match: IfMatchHeader = None,
) -> CommitmentRead:
    """`committed → in_progress → launched → sustained`; `committed | in_progress ⇄
    stalled`; any non-final → `cancelled` (with a reason). Any other move is 409 with the
    allowed ones in `allowed`. `If-Match` is optional here and checked when sent."""
    version = expected_version(if_match) if if_match is not None else None
    commitment = await service.transition(session, principal, commitment_id, body, version)
    set_etag(response, commitment.version)
    return commitment


# --- Action items -----------------------------------------------------------------------


@router.get(
    "/commitments/{commitment_id}/action-items",
    response_model=list[ActionItemRead],
    summary="List a commitment's action plan",
    responses=problems(401, 404, 422),
    dependencies=[Depends(open_data())],
)
async def list_action_items(session: Session, commitment_id: CommitmentId) -> list[ActionItemRead]:
    """The action plan (rencana aksi), by due date."""
    return await service.list_items(session, commitment_id)


@router.post(
    "/commitments/{commitment_id}/action-items",
    response_model=ActionItemRead,
    status_code=201,
    summary="Add an action-plan item",
    responses=problems(400, 401, 403, 404, 409, 413, 422),
)
async def create_action_item(
    session: Session,
    principal: Manager,
    commitment_id: CommitmentId,
    body: ActionItemCreate,
    response: Response,
) -> ActionItemRead:
    """Add an item; the commitment's progress is recomputed in the same transaction."""
    item = await service.add_item(session, principal, commitment_id, body)
    response.headers["Location"] = f"/api/v1/commitments/{commitment_id}/action-items"
    set_etag(response, item.version)
    return item


@router.patch(
    "/commitments/{commitment_id}/action-items/{item_id}",
    response_model=ActionItemRead,
    summary="Change an action-plan item",
    responses=problems(401, 403, 404, 412, 413, 422, 428),
)
async def update_action_item(
    session: Session,
    principal: Manager,
    commitment_id: CommitmentId,
    item_id: ItemId,
    body: ActionItemUpdate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ActionItemRead:
    """Change the fields sent (`If-Match` with the item's ETag); progress is recomputed."""
    item = await service.update_item(
        session, principal, commitment_id, item_id, expected_version(if_match), body
    )
    set_etag(response, item.version)
    return item


# --- Progress reports -------------------------------------------------------------------


@router.get(
    "/commitments/{commitment_id}/progress-reports",
    response_model=Page[ProgressReportRead],
    summary="List a commitment's progress reports",
    responses=problems(400, 401, 404, 422),
    dependencies=[Depends(open_data())],
)
async def list_progress_reports(
    session: Session,
    commitment_id: CommitmentId,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ProgressReportRead]:
    """Progress reports, newest first."""
    return await service.list_reports(session, commitment_id, cursor, limit)


@router.post(
    "/commitments/{commitment_id}/progress-reports",
    response_model=ProgressReportRead,
    status_code=201,
    summary="Post a progress report",
    responses=problems(400, 401, 403, 404, 409, 413, 422),
    dependencies=[ReportIdempotency],
)
async def create_progress_report(
    request: Request,
    session: Session,
    principal: Reporter,
    commitment_id: CommitmentId,
    body: ProgressReportCreate,
    response: Response,
) -> ProgressReportRead:
    """Report progress (laporan kemajuan). Integration keys must send `Idempotency-Key`.
    Item updates are applied and a `committed` commitment moves to `in_progress`, all in the
    same transaction."""
    report = await service.post_report(session, principal, commitment_id, body, request.url.path)
    response.headers["Location"] = f"/api/v1/commitments/{commitment_id}/progress-reports"
    return report


@router.post(
    "/progress-reports/batch",
    response_model=BatchResponse,
    status_code=200,
    summary="Post up to 500 progress reports",
    responses=problems(400, 401, 403, 409, 413, 422),
    dependencies=[ReportIdempotency],
    max_body_size=get_settings().batch_max_body_bytes,
)
async def create_progress_report_batch(
    request: Request, session: Session, principal: Reporter, body: BatchRequest
) -> Response:
    """Up to 500 reports, each validated and applied on its own: the response has one result
    per report, in order, with either the stored report (201) or a problem. A report for
    another province's commitment fails alone (403). The batch is idempotent under its
    `Idempotency-Key` (required for integration keys)."""
    outcome = await service.ingest_reports(session, principal, body.reports, request.url.path)
    # Already serialised in the shape of BatchResponse (see service.BatchOutcome).
    return Response(outcome.to_json(), media_type="application/json")
