"""Competitions (kompetisi inovasi): the KIPP and the provinces' competitions, from
proposal to decree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.competitions import service
from app.competitions.schemas import (
    AssignmentsRequest,
    AssignmentsResult,
    CompetitionCreate,
    CompetitionRead,
    CompetitionStats,
    CompetitionStatus,
    CompetitionUpdate,
    Determination,
    DeterminationRequest,
    EntryCreate,
    EntryRead,
    EntryStatus,
    EntryUpdate,
    FieldVerificationRead,
    FieldVerificationRequest,
    Nomination,
    NominationRequest,
    ObjectionCreate,
    ObjectionRead,
    ObjectionResolution,
    RankingRow,
    RubricRead,
    ScoreCreate,
    ScoreRead,
    ScreeningRequest,
    StageClosed,
    TransitionRequest,
)
from app.core.concurrency import IfMatchHeader, expected_version, set_etag
from app.core.config import get_settings
from app.core.db import Session
from app.core.docs import problems
from app.core.pagination import DEFAULT_LIMIT, Cursor, IncludeTotal, Limit
from app.core.routing import AppRoute
from app.core.schemas import Id, Page, ProvinceCode
from app.core.security import Principal, Role, open_data, requires

router = APIRouter(tags=["competitions"], route_class=AppRoute)

# A competition is organised by admins (national) or its province's coordinator.
Organiser = Annotated[
    Principal, Depends(requires(Role.admin, Role.coordinator, province_scoped=True))
]
# Entries are drafted and submitted by admins, coordinators (their province's institutions)
# and submitters (their institution and those under it).
Submitter = Annotated[
    Principal,
    Depends(requires(Role.admin, Role.coordinator, Role.submitter, province_scoped=True)),
]
Evaluator = Annotated[Principal, Depends(requires(Role.evaluator))]
ScoreReader = Annotated[Principal, Depends(requires(Role.admin, Role.coordinator, Role.evaluator))]
AnyKey = Annotated[Principal, Depends(requires())]
Reader = Annotated[Principal | None, Depends(open_data())]

# Path examples: records of the demo data (app/demo/competitions.py).
KIPP_DEMO = "08baa6e4-7ea2-5a4c-8319-795803106c5b"
CompetitionId = Annotated[
    Id,
    Path(
        description="Competition id.",
        openapi_examples={"kipp": {"summary": "KIPP 2019 (demo, determined)", "value": KIPP_DEMO}},
    ),
]
EntryId = Annotated[
    Id,
    Path(
        description="Entry id.",
        openapi_examples={
            "labinov": {
                "summary": "Laboratorium Inovasi in KIPP 2019 (demo, awarded)",
                "value": "dc235e91-09ef-54ba-915a-16c858992d79",
            }
        },
    ),
]
ObjectionId = Annotated[
    Id,
    Path(
        description="Objection id.",
        openapi_examples={
            "open": {
                "summary": "An open objection (demo)",
                "value": "17b9cd2f-56df-5209-bf0b-c11c3480af50",
            }
        },
    ),
]
PlannedCompetitionId = Annotated[
    Id,
    Path(
        description="Competition id.",
        openapi_examples={
            "planned": {
                "summary": "A planned competition (demo)",
                "value": "b7652a97-1afc-530c-8865-de99dc2d4bb8",
            }
        },
    ),
]
EvaluationCompetitionId = Annotated[
    Id,
    Path(
        description="Competition id (in evaluation).",
        openapi_examples={
            "evaluation": {
                "summary": "A competition in evaluation (demo)",
                "value": "6fd8a05f-cea7-5f6a-92cf-a7c82a6c195b",
            }
        },
    ),
]
ObjectionWindowCompetitionId = Annotated[
    Id,
    Path(
        description="Competition id (in its objection window).",
        openapi_examples={
            "objection": {
                "summary": "A competition in its objection window (demo)",
                "value": "e81c2a99-4454-5266-a0b8-5d1c57a52942",
            }
        },
    ),
]
DeterminableCompetitionId = Annotated[
    Id,
    Path(
        description="Competition id (objection window over).",
        openapi_examples={
            "objection_over": {
                "summary": "Objection window over, ready for the decree (demo)",
                "value": "afc39eea-6946-588c-a001-a954ec943475",
            }
        },
    ),
]
ProvincialCompetitionId = Annotated[
    Id,
    Path(
        description="Competition id (a determined provincial one).",
        openapi_examples={
            "jateng": {
                "summary": "Jawa Tengah 2019 (demo, determined)",
                "value": "d7b7e109-5305-50b1-8e30-6eb81c2f4e1c",
            }
        },
    ),
]
DraftEntryId = Annotated[
    Id,
    Path(
        description="Entry id (a draft).",
        openapi_examples={
            "draft": {
                "summary": "A draft entry of an open competition (demo)",
                "value": "a22ca118-5454-556d-afaa-f306e8fe17b8",
            }
        },
    ),
]
SubmittedEntryId = Annotated[
    Id,
    Path(
        description="Entry id (submitted, awaiting screening).",
        openapi_examples={
            "submitted": {
                "summary": "A submitted entry (demo)",
                "value": "1393fb91-a76b-5411-b9af-3c514cb9b453",
            }
        },
    ),
]
EvaluatedEntryId = Annotated[
    Id,
    Path(
        description="Entry id (in evaluation).",
        openapi_examples={
            "in_evaluation": {
                "summary": "An entry in evaluation (demo)",
                "value": "2cd19622-9d2f-533a-bbda-7cb5788dcaf7",
            }
        },
    ),
]
Stage = Annotated[
    int,
    Path(
        ge=0,
        le=9,
        description="Stage number: 0 ranks towards the first tier, and so on.",
        openapi_examples={"proposal": {"summary": "Proposal evaluation", "value": 0}},
    ),
]
COMPETITIONS = "/api/v1/competitions"


@router.get(
    "/competitions",
    response_model=Page[CompetitionRead],
    summary="List competitions",
    responses=problems(400, 401, 422),
)
async def list_competitions(
    session: Session,
    principal: Reader,
    status: Annotated[CompetitionStatus | None, Query()] = None,
    year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    organizer: Annotated[
        ProvinceCode | None,
        Query(description="A province code; `national` is listed with `national=true`."),
    ] = None,
    national: Annotated[bool, Query(description="Only the national competitions.")] = False,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[CompetitionRead]:
    """Competitions (KIPP and provincial), newest year first. Open data."""
    return await service.list_competitions(
        session,
        status=status.value if status else None,
        year=year,
        organizer="national" if national else organizer,
        cursor=cursor,
        limit=limit,
        include_total=include_total,
    )


@router.post(
    "/competitions",
    response_model=CompetitionRead,
    status_code=201,
    summary="Create a competition",
    responses=problems(400, 401, 403, 409, 413, 422),
)
async def create_competition(
    session: Session, principal: Organiser, body: CompetitionCreate, response: Response
) -> CompetitionRead:
    """A competition in `planned`: admins any (national when `organizer_province_code` is
    null), coordinators their own province's (403 otherwise). Tiers default to KIPP's; each
    stage's rubric is pinned to its latest version."""
    created = await service.create_competition(session, principal, body)
    response.headers["Location"] = f"{COMPETITIONS}/{created.id}"
    set_etag(response, created.version)
    return created


@router.get(
    "/competitions/{competition_id}",
    response_model=CompetitionRead,
    summary="Get a competition",
    responses=problems(401, 404, 422),
)
async def get_competition(
    session: Session, principal: Reader, competition_id: CompetitionId, response: Response
) -> CompetitionRead:
    """One competition with its rules, tiers and status, and its `ETag`."""
    competition = await service.get_competition(session, competition_id)
    set_etag(response, competition.version)
    return competition


@router.patch(
    "/competitions/{competition_id}",
    response_model=CompetitionRead,
    summary="Change a competition",
    responses=problems(401, 403, 404, 409, 412, 413, 422, 428),
)
async def update_competition(
    session: Session,
    principal: Organiser,
    competition_id: PlannedCompetitionId,
    body: CompetitionUpdate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> CompetitionRead:
    """The organiser changes the fields sent (`If-Match` required). Group rules only while
    `planned`, the window until screening; nothing once determined (409)."""
    updated = await service.update_competition(
        session, principal, competition_id, expected_version(if_match), body
    )
    set_etag(response, updated.version)
    return updated


@router.post(
    "/competitions/{competition_id}/transitions",
    response_model=CompetitionRead,
    summary="Change a competition's status",
    responses=problems(400, 401, 403, 404, 409, 412, 413, 422),
)
async def transition(
    session: Session,
    principal: Organiser,
    competition_id: PlannedCompetitionId,
    body: TransitionRequest,
    response: Response,
    if_match: IfMatchHeader = None,
) -> CompetitionRead:
    """`planned → open → screening → evaluation → objection`; an illegal move is 409 with
    the allowed ones. To evaluation: every submitted entry screened (409 naming them). To
    objection: every stage closed; the window runs `objection_days` from today.
    `If-Match` optional, checked when sent."""
    version = expected_version(if_match) if if_match is not None else None
    moved = await service.transition(session, principal, competition_id, version, body)
    set_etag(response, moved.version)
    return moved


@router.get(
    "/competitions/{competition_id}/rubrics",
    response_model=list[RubricRead],
    summary="The competition's rubrics",
    responses=problems(401, 404, 422),
)
async def competition_rubrics(
    session: Session, principal: Reader, competition_id: CompetitionId
) -> list[RubricRead]:
    """The versioned rubric each stage is scored with (criteria, weights, scale, divergence
    threshold and the source of the weights)."""
    return await service.competition_rubrics(session, competition_id)


@router.get(
    "/competitions/{competition_id}/entries",
    response_model=Page[EntryRead],
    summary="List a competition's entries",
    responses=problems(400, 401, 404, 422),
)
async def list_entries(
    session: Session,
    principal: Reader,
    competition_id: CompetitionId,
    status: Annotated[EntryStatus | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[EntryRead]:
    """The entries the caller may see: the organiser and admins all; an evaluator those it
    is assigned; a submitter its institution's; a coordinator its province's; after the
    determination everyone the finalists. Stage scores only for the organiser, or after the
    determination."""
    return await service.list_entries(
        session,
        principal,
        competition_id,
        status=status.value if status else None,
        cursor=cursor,
        limit=limit,
        include_total=include_total,
    )


@router.post(
    "/competitions/{competition_id}/entries",
    response_model=EntryRead,
    status_code=201,
    summary="Draft an entry",
    responses=problems(400, 401, 403, 404, 409, 413, 422),
)
async def create_entry(
    session: Session,
    principal: Submitter,
    competition_id: PlannedCompetitionId,
    body: EntryCreate,
    response: Response,
) -> EntryRead:
    """A draft entry (proposal) of an innovation, while the competition is planned or open.
    One entry per innovation per competition (409 `duplicate_entry`). Submitters for their
    institution and those under it, coordinators for their province's."""
    entry = await service.create_entry(session, principal, competition_id, body)
    response.headers["Location"] = f"/api/v1/entries/{entry.id}"
    set_etag(response, entry.version)
    return entry


@router.get(
    "/entries/{entry_id}",
    response_model=EntryRead,
    summary="Get an entry",
    responses=problems(401, 404, 422),
)
async def get_entry(
    session: Session, principal: Reader, entry_id: EntryId, response: Response
) -> EntryRead:
    """One entry, for a caller who may see it (404 otherwise: nothing tells it exists)."""
    entry = await service.get_entry(session, principal, entry_id)
    set_etag(response, entry.version)
    return entry


@router.patch(
    "/entries/{entry_id}",
    response_model=EntryRead,
    summary="Change a draft entry",
    responses=problems(401, 403, 404, 409, 412, 413, 422, 428),
)
async def update_entry(
    session: Session,
    principal: Submitter,
    entry_id: DraftEntryId,
    body: EntryUpdate,
    response: Response,
    if_match: IfMatchHeader = None,
) -> EntryRead:
    """Change a draft (`If-Match` required); a submitted entry is 409."""
    entry = await service.update_entry(
        session, principal, entry_id, expected_version(if_match), body
    )
    set_etag(response, entry.version)
    return entry


@router.post(
    "/entries/{entry_id}/submit",
    response_model=EntryRead,
    summary="Submit an entry",
    responses=problems(400, 401, 403, 404, 409, 412, 413, 422),
)
async def submit_entry(
    session: Session,
    principal: Submitter,
    entry_id: DraftEntryId,
    response: Response,
    if_match: IfMatchHeader = None,
) -> EntryRead:
    """Submit a draft. 409 `submission_closed` outside the window; 422 `too_young` when the
    innovation is younger than its group's minimum at closing; 422 `over_quota` when the
    agency (top of the submitting chain) has its group's quota submitted. A title similar
    to another entry's (pg_trgm similarity ≥ 0.6) is flagged in `near_duplicates`."""
    version = expected_version(if_match) if if_match is not None else None
    entry = await service.submit_entry(session, principal, entry_id, version)
    set_etag(response, entry.version)
    return entry


@router.post(
    "/entries/{entry_id}/screening",
    response_model=EntryRead,
    summary="Screen an entry",
    responses=problems(400, 401, 403, 404, 409, 412, 413, 422),
)
async def screen_entry(
    session: Session,
    principal: Organiser,
    entry_id: SubmittedEntryId,
    body: ScreeningRequest,
    response: Response,
    if_match: IfMatchHeader = None,
) -> EntryRead:
    """Administrative selection (seleksi administrasi), while the competition is in
    screening: `passed` → in evaluation, `failed` with reason codes → screened out."""
    version = expected_version(if_match) if if_match is not None else None
    entry = await service.screen_entry(session, principal, entry_id, version, body)
    set_etag(response, entry.version)
    return entry


@router.post(
    "/competitions/{competition_id}/assignments",
    response_model=AssignmentsResult,
    summary="Assign evaluators",
    responses=problems(400, 401, 403, 404, 409, 413, 422),
    # 10,000 pairs of ids: a batch's limit, not a record's.
    max_body_size=get_settings().batch_max_body_bytes,
)
async def assign(
    session: Session,
    principal: Organiser,
    competition_id: EvaluationCompetitionId,
    body: AssignmentsRequest,
) -> AssignmentsResult:
    """Assign evaluators (keys of role `evaluator`) to entries of the open stage, up to
    10,000 pairs in one statement; a pair assigned already is kept."""
    return await service.assign(session, principal, competition_id, body)


@router.post(
    "/entries/{entry_id}/scores",
    response_model=ScoreRead,
    status_code=201,
    summary="Score an entry",
    responses=problems(400, 401, 403, 404, 409, 413, 422),
)
async def score_entry(
    session: Session, principal: Evaluator, entry_id: EvaluatedEntryId, body: ScoreCreate
) -> ScoreRead:
    """Evaluators only, on an entry assigned to them at the open stage (404 otherwise):
    every criterion of the stage's rubric, on its scale. One score per evaluator, entry and
    stage (409 `already_scored`)."""
    return await service.score_entry(session, principal, entry_id, body)


@router.get(
    "/entries/{entry_id}/scores",
    response_model=list[ScoreRead],
    summary="Read an entry's scores",
    responses=problems(401, 403, 404, 422),
)
async def list_scores(
    session: Session, principal: ScoreReader, entry_id: EntryId
) -> list[ScoreRead]:
    """Scores and comments are confidential: the organiser and admins read them all, an
    evaluator its own (404 for an entry it is not assigned)."""
    return await service.list_scores(session, principal, entry_id)


@router.post(
    "/entries/{entry_id}/field-verification",
    response_model=FieldVerificationRead,
    summary="Record a field verification",
    responses=problems(400, 401, 403, 404, 409, 413, 422),
)
async def verify_in_field(
    session: Session,
    principal: Organiser,
    entry_id: EvaluatedEntryId,
    body: FieldVerificationRequest,
) -> FieldVerificationRead:
    """The field observation (observasi lapangan) of an entry in evaluation; it replaces an
    earlier one. Tiers that require it admit only verified entries."""
    return await service.verify_in_field(session, principal, entry_id, body)


@router.post(
    "/competitions/{competition_id}/stages/{stage}/close",
    response_model=StageClosed,
    summary="Close a stage",
    responses=problems(400, 401, 403, 404, 409, 413, 422),
)
async def close_stage(
    session: Session, principal: Organiser, competition_id: EvaluationCompetitionId, stage: Stage
) -> StageClosed:
    """Rank the stage's entries by stage score (the mean of its evaluators' totals; ties:
    earlier submission first), store the ranking and advance the tier's size. 409
    `stage_outstanding`, naming the entries, while one has fewer than two scores or two
    that diverge beyond the rubric's threshold with no third. Closing again changes
    nothing."""
    return await service.close_stage(session, principal, competition_id, stage)


@router.get(
    "/competitions/{competition_id}/stages/{stage}/ranking",
    response_model=Page[RankingRow],
    summary="A closed stage's ranking",
    responses=problems(400, 401, 403, 404, 422),
)
async def ranking(
    session: Session,
    principal: Reader,
    competition_id: CompetitionId,
    stage: Stage,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[RankingRow]:
    """The ranking stored when the stage closed: the organiser and admins before the
    determination (403 `not_published` for others), everyone after."""
    return await service.ranking(
        session, principal, competition_id, stage, cursor=cursor, limit=limit
    )


@router.get(
    "/competitions/{competition_id}/objections",
    response_model=Page[ObjectionRead],
    summary="List objections",
    responses=problems(400, 401, 404, 422),
)
async def list_objections(
    session: Session,
    principal: AnyKey,
    competition_id: CompetitionId,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ObjectionRead]:
    """Objections (sanggahan) filed, oldest first."""
    return await service.list_objections(session, competition_id, cursor=cursor, limit=limit)


@router.post(
    "/competitions/{competition_id}/objections",
    response_model=ObjectionRead,
    status_code=201,
    summary="File an objection",
    responses=problems(400, 401, 404, 409, 413, 422),
)
async def file_objection(
    session: Session,
    principal: AnyKey,
    competition_id: ObjectionWindowCompetitionId,
    body: ObjectionCreate,
    response: Response,
) -> ObjectionRead:
    """Any key holder objects to a finalist, with grounds, during the objection window."""
    objection = await service.file_objection(session, principal, competition_id, body)
    response.headers["Location"] = f"{COMPETITIONS}/{competition_id}/objections"
    set_etag(response, objection.version)
    return objection


@router.get(
    "/objections/{objection_id}",
    response_model=ObjectionRead,
    summary="Get an objection",
    responses=problems(401, 404, 422),
)
async def get_objection(
    session: Session, principal: AnyKey, objection_id: ObjectionId, response: Response
) -> ObjectionRead:
    """One objection with its resolution, and its `ETag` (send it as `If-Match` with the
    resolution)."""
    objection = await service.get_objection(session, objection_id)
    set_etag(response, objection.version)
    return objection


@router.post(
    "/objections/{objection_id}/resolution",
    response_model=ObjectionRead,
    summary="Resolve an objection",
    responses=problems(400, 401, 403, 404, 409, 412, 413, 422),
)
async def resolve_objection(
    session: Session,
    principal: Organiser,
    objection_id: ObjectionId,
    body: ObjectionResolution,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ObjectionRead:
    """The organiser resolves: `upheld` disqualifies the entry and, at each stage where it
    advanced, the next in rank moves up; `rejected` keeps it."""
    version = expected_version(if_match) if if_match is not None else None
    objection = await service.resolve_objection(session, principal, objection_id, version, body)
    set_etag(response, objection.version)
    return objection


@router.post(
    "/competitions/{competition_id}/determination",
    response_model=Determination,
    summary="Determine the winners",
    responses=problems(400, 401, 403, 404, 409, 412, 413, 422),
)
async def determine(
    session: Session,
    principal: Organiser,
    competition_id: DeterminableCompetitionId,
    body: DeterminationRequest,
    response: Response,
    if_match: IfMatchHeader = None,
) -> Determination:
    """After the objection window, with every objection resolved: the decree. Creates, in
    one transaction, every finalist's awards (each tier it reached, linked to the
    competition); the competition becomes read-only. A second determination is 409
    `already_determined`."""
    version = expected_version(if_match) if if_match is not None else None
    result = await service.determine(session, principal, competition_id, version, body)
    set_etag(response, result.competition.version)
    return result


@router.post(
    "/competitions/{competition_id}/nominations",
    response_model=Nomination,
    summary="Nominate finalists to the national competition",
    responses=problems(400, 401, 403, 404, 409, 413, 422),
)
async def nominate(
    session: Session,
    principal: Organiser,
    competition_id: ProvincialCompetitionId,
    body: NominationRequest,
) -> Nomination:
    """Forward a determined provincial competition's finalists into an open national one
    as submitted entries, answers carried over and `nominated_from_entry_id` kept."""
    return await service.nominate(session, principal, competition_id, body)


@router.get(
    "/competitions/{competition_id}/stats",
    response_model=CompetitionStats,
    summary="A competition's statistics",
    responses=problems(401, 404, 422),
)
async def stats(
    session: Session, principal: Reader, competition_id: CompetitionId
) -> CompetitionStats:
    """Entries by status; entries by tier, screening failures counted by reason and each
    tier's composition by institution kind and by province (innovations and distinct
    agencies): for everyone once determined, for the organiser and admins before."""
    return await service.stats(session, principal, competition_id)
