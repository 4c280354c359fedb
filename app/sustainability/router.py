from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.core.concurrency import set_etag
from app.core.db import Session
from app.core.docs import problems
from app.core.pagination import DEFAULT_LIMIT, Cursor, IncludeTotal, Limit
from app.core.routing import AppRoute
from app.core.schemas import Id, Page, ProvinceCode
from app.core.security import Principal, Role, open_data, requires
from app.sustainability import service
from app.sustainability.repository import AssessmentFilters, AtRiskFilters, SubjectFilters
from app.sustainability.schemas import (
    AssessmentCreate,
    AssessmentRead,
    AtRiskItem,
    DueItem,
    RubricRead,
    SubjectType,
    SustainabilityTimeline,
    Verdict,
)

router = APIRouter(tags=["sustainability"], route_class=AppRoute)

# Admins anywhere; coordinators for their province's subjects; integrations for their
# province's commitments (the service refuses them innovations).
Assessor = Annotated[
    Principal,
    Depends(requires(Role.admin, Role.coordinator, Role.integration, province_scoped=True)),
]
Reader = Annotated[Principal | None, Depends(open_data())]


class AssessmentSort(StrEnum):
    period_desc = "-period"
    assessed_on_desc = "-assessed_on"


@router.get(
    "/rubrics/sustainability",
    response_model=RubricRead,
    summary="Get the sustainability rubric",
    responses=problems(401, 404, 422),
    dependencies=[Depends(open_data())],
)
async def get_rubric(
    session: Session,
    version: Annotated[
        int | None,
        Query(ge=1, le=1_000_000, description="A past version; default the current one."),
    ] = None,
) -> RubricRead:
    """The rubric that scores sustainability assessments (rubrik keberlanjutan), stored as
    data and versioned: each indicator with its weight (weights sum to 100) and either
    `levels` (value → fraction of the weight) or numeric `bands` (a band applies from its
    `min`), and the verdict thresholds. Version 1: `sustained` at a score of 70 or more,
    `at_risk` from 35, `discontinued` below 35; a subject that is not `operating` is
    `discontinued` whatever its score. A new version changes future scores only: every
    assessment keeps the `rubric_version` it was scored with."""
    return await service.get_rubric(session, version)


@router.get(
    "/sustainability-assessments",
    response_model=Page[AssessmentRead],
    summary="List sustainability assessments",
    responses=problems(400, 401, 422),
    dependencies=[Depends(open_data())],
)
async def list_assessments(
    session: Session,
    innovation: Annotated[
        Id | None, Query(description="Assessments of this innovation (at its origin).")
    ] = None,
    commitment: Annotated[Id | None, Query(description="Assessments of this commitment.")] = None,
    source_innovation: Annotated[
        Id | None,
        Query(description="Assessments of this innovation and of commitments replicating it."),
    ] = None,
    subject_type: Annotated[SubjectType | None, Query()] = None,
    province: Annotated[
        ProvinceCode | None, Query(description="The subject's province (2 digits).")
    ] = None,
    period: Annotated[int | None, Query(ge=2000, le=2100, description="The year.")] = None,
    verdict: Annotated[Verdict | None, Query()] = None,
    sort: Annotated[AssessmentSort, Query()] = AssessmentSort.period_desc,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[AssessmentRead]:
    """Sustainability assessments (penilaian keberlanjutan), newest period first, each with
    its score, verdict, per-indicator points and the rubric version it was scored with."""
    filters = AssessmentFilters(
        innovation_id=innovation,
        commitment_id=commitment,
        source_innovation_id=source_innovation,
        subject_type=subject_type.value if subject_type else None,
        province=province,
        period=period,
        verdict=verdict.value if verdict else None,
    )
    return await service.list_assessments(
        session, filters, sort=sort.value, cursor=cursor, limit=limit, include_total=include_total
    )


@router.post(
    "/sustainability-assessments",
    response_model=AssessmentRead,
    status_code=201,
    summary="Record a sustainability assessment",
    responses=problems(400, 401, 403, 409, 413, 422),
)
async def create_assessment(
    session: Session, principal: Assessor, body: AssessmentCreate, response: Response
) -> AssessmentRead:
    """Assess exactly one subject (both or neither is 422): an innovation at its origin
    (`innovation_id`, published) or a replica (`commitment_id`), for a `period` (a year, not
    in the future). The server computes `score` and `verdict` with the current rubric (see
    `GET /rubrics/sustainability`) and stores its version. One assessment per subject and
    period: a second is 409. Admins assess anything; coordinators their province's subjects;
    integration keys their province's commitments only; another province is 403. A
    `sustained` verdict on a `launched` commitment moves it to `sustained` in the same
    transaction; other commitments keep their status (a weak verdict on a `sustained` one shows
    in `GET /sustainability/at-risk`)."""
    created = await service.create_assessment(session, principal, body)
    response.headers["Location"] = f"/api/v1/sustainability-assessments/{created.id}"
    set_etag(response, created.version)
    return created


@router.get(
    "/sustainability-assessments/{assessment_id}",
    response_model=AssessmentRead,
    summary="Get a sustainability assessment",
    responses=problems(401, 404, 422),
    dependencies=[Depends(open_data())],
)
async def get_assessment(
    session: Session,
    assessment_id: Annotated[
        Id,
        Path(
            description="Assessment id.",
            openapi_examples={
                "gkb_2023": {
                    "summary": "Gerakan Kembali Bersekolah, 2023 (demo data)",
                    "value": "851bab76-0dd6-58da-a1f1-5b4e1a727754",
                }
            },
        ),
    ],
    response: Response,
) -> AssessmentRead:
    """One assessment with its per-indicator points, and its `ETag`."""
    assessment = await service.get_assessment(session, assessment_id)
    set_etag(response, assessment.version)
    return assessment


@router.get(
    "/sustainability/due",
    response_model=Page[DueItem],
    summary="Subjects due for a sustainability assessment",
    responses=problems(400, 401, 422),
    dependencies=[Depends(open_data())],
)
async def list_due(
    session: Session,
    subject_type: Annotated[SubjectType | None, Query()] = None,
    province: Annotated[
        ProvinceCode | None, Query(description="The subject's province (2 digits).")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[DueItem]:
    """Published innovations launched a year ago or more (registered, when there is no launch
    date), and `launched` or `sustained` commitments, with no assessment made in the last 12
    months (an assessment made a year ago today no longer counts). Each item says why:
    `never_assessed`, or `last_assessment_over_12_months` with `last_assessed_on`. Never
    assessed first, then the longest since the last assessment."""
    filters = SubjectFilters(
        subject_type=subject_type.value if subject_type else None, province=province
    )
    return await service.list_due(
        session, filters, cursor=cursor, limit=limit, include_total=include_total
    )


@router.get(
    "/sustainability/at-risk",
    response_model=Page[AtRiskItem],
    summary="Subjects at risk of lapsing",
    responses=problems(400, 401, 422),
    dependencies=[Depends(open_data())],
)
async def list_at_risk(
    session: Session,
    subject_type: Annotated[SubjectType | None, Query()] = None,
    province: Annotated[
        ProvinceCode | None, Query(description="The subject's province (2 digits).")
    ] = None,
    verdict: Annotated[Verdict | None, Query(description="The latest verdict.")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[AtRiskItem]:
    """Subjects whose latest assessment (highest period) is `at_risk` or `discontinued`, or
    whose latest score fell by 15 points or more below the previous assessment's. `reasons`
    says which: `verdict_at_risk`, `verdict_discontinued`, `score_drop`. Lowest score first."""
    filters = AtRiskFilters(
        subject_type=subject_type.value if subject_type else None,
        province=province,
        verdict=verdict.value if verdict else None,
    )
    return await service.list_at_risk(
        session, filters, cursor=cursor, limit=limit, include_total=include_total
    )


@router.get(
    "/innovations/{innovation_id}/sustainability",
    response_model=SustainabilityTimeline,
    summary="Sustainability timeline of an innovation",
    responses=problems(401, 404, 422),
)
async def get_timeline(
    session: Session,
    principal: Reader,
    innovation_id: Annotated[
        Id,
        Path(
            description="Innovation id.",
            openapi_examples={
                "gkb": {
                    "summary": "Gerakan Kembali Bersekolah (demo data)",
                    "value": "7801cd81-7c43-5c3c-af76-39d648f35104",
                }
            },
        ),
    ],
) -> SustainabilityTimeline:
    """Every assessment of the innovation at its origin, of the commitments replicating it,
    and of the innovations registered as its replicas (and their commitments), ordered by
    period; `relation` says which. Drafts are 404 to anonymous clients."""
    return await service.timeline(session, principal, innovation_id)
