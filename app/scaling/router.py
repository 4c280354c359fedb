from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from fastapi.openapi.models import Example

from app.core.concurrency import IfMatchHeader, expected_version, set_etag
from app.core.db import Session
from app.core.docs import problems
from app.core.pagination import DEFAULT_LIMIT, Cursor, IncludeTotal, Limit
from app.core.routing import AppRoute
from app.core.schemas import Id, Page, ProvinceCode
from app.core.security import Principal, Role, open_data, requires
from app.scaling import service
from app.scaling.repository import DEFAULT_THRESHOLDS, ProposalFilters, Thresholds
from app.scaling.schemas import (
    Candidate,
    DecisionRequest,
    ProposalCreate,
    ProposalRead,
    ProposalStatus,
    ReviewRequest,
    TargetScale,
)

router = APIRouter(tags=["scaling"], route_class=AppRoute)

Proposer = Annotated[
    Principal, Depends(requires(Role.admin, Role.coordinator, province_scoped=True))
]
# Only reviewers decide (SPEC): admins and coordinators propose, they do not judge.
Reviewer = Annotated[Principal, Depends(requires(Role.reviewer))]
# Path examples: proposals of the demo data (app/demo) in the status each operation needs.
ProposalId = Annotated[
    Id,
    Path(
        description="Scaling proposal id.",
        openapi_examples={
            "kia_national": {
                "summary": "Kartu Insentif Anak → national (demo data, approved)",
                "value": "26911182-78a3-59b1-8dd4-e2f5897643e8",
            }
        },
    ),
]
SubmittedProposalId = Annotated[
    Id,
    Path(
        description="Scaling proposal id (`submitted` or `deferred`).",
        openapi_examples={
            "gkb_provincial": {
                "summary": "Gerakan Kembali Bersekolah → Jawa Tengah (demo data, submitted)",
                "value": "b2a181c7-11ee-532d-abba-eade8c43daed",
            }
        },
    ),
]
ProposalUnderReviewId = Annotated[
    Id,
    Path(
        description="Scaling proposal id (`under_review`).",
        openapi_examples={
            "akta_dd_national": {
                "summary": "Akta Kelahiran dan Kematian Terintegrasi Dana Desa → national "
                "(demo data, under review)",
                "value": "b8cd0b34-e5d5-5d62-8af7-f01b95f603b6",
            }
        },
    ),
]
PROPOSALS = "/api/v1/scaling-proposals"


# `async` though it awaits nothing: FastAPI runs a plain `def` dependency in a worker thread.
async def thresholds(
    min_replicas: Annotated[
        int,
        Query(
            ge=0,
            le=10_000,
            description="Criterion threshold: replicas needed, i.e. commitments adopting the "
            "innovation that are `launched` or `sustained` "
            f"(default {DEFAULT_THRESHOLDS.min_replicas}). Not the innovation's "
            "`replications`, which count every commitment not cancelled, also those only "
            "signed or stalled: a replica is a replication that runs.",
        ),
    ] = DEFAULT_THRESHOLDS.min_replicas,
    min_other_provinces: Annotated[
        int,
        Query(
            ge=0,
            le=38,
            description="Criterion threshold: distinct adopter provinces of those replicas "
            "(launched or sustained), other than the origin's "
            f"(default {DEFAULT_THRESHOLDS.min_other_provinces}).",
        ),
    ] = DEFAULT_THRESHOLDS.min_other_provinces,
    require_sustained: Annotated[
        bool,
        Query(
            description="Criterion: require the origin's latest sustainability verdict to be "
            "`sustained` (default true). With false the criterion shows the verdict and "
            "counts as met."
        ),
    ] = DEFAULT_THRESHOLDS.require_sustained,
    min_awards: Annotated[
        int,
        Query(
            ge=0,
            le=1000,
            description="Criterion threshold: awards needed "
            f"(default {DEFAULT_THRESHOLDS.min_awards}).",
        ),
    ] = DEFAULT_THRESHOLDS.min_awards,
) -> Thresholds:
    return Thresholds(
        min_replicas=min_replicas,
        min_other_provinces=min_other_provinces,
        require_sustained=require_sustained,
        min_awards=min_awards,
    )


@router.get(
    "/scaling/candidates",
    response_model=Page[Candidate],
    summary="Rank candidates for scaling up",
    responses=problems(400, 401, 422),
    dependencies=[Depends(open_data())],
)
async def list_candidates(
    session: Session,
    criteria: Annotated[Thresholds, Depends(thresholds)],
    province: Annotated[
        ProvinceCode | None,
        Query(description="Filter: only innovations born in this province (their origin)."),
    ] = None,
    only_eligible: Annotated[
        bool,
        Query(
            description="Filter: only innovations that meet every criterion at the "
            "thresholds given."
        ),
    ] = False,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[Candidate]:
    """Published innovations not yet at national scale, ranked for scaling up (glokalisasi).

    Each candidate shows, for every criterion, its value, the threshold and whether it is
    met, plus how many are met. The criteria and their defaults: at least 3 `launched` or
    `sustained` replicas; those replicas in at least 2 provinces other than the origin's;
    the origin's latest sustainability verdict `sustained`; at least 1 award. Each
    threshold can be changed with its query parameter (a minimum of 0 is always met).

    Two kinds of query parameters: `min_replicas`, `min_other_provinces`,
    `require_sustained` and `min_awards` set the criteria (they change what is met, the
    ranking and `eligible`, never which innovations are listed); `province` and
    `only_eligible` filter the list. A replica is a commitment that is `launched` or
    `sustained`, a replication that runs: the `replications` of an innovation
    (`GET /innovations`) count every commitment not cancelled, also those only signed or
    stalled, and the evidence's `provinces_reached` their provinces.

    Ranking: criteria met (most first), then replicas (most first), then id. The cursor
    belongs to the thresholds it was made with: changing them needs a new first page.
    """
    return await service.list_candidates(
        session,
        criteria,
        province=province,
        only_eligible=only_eligible,
        cursor=cursor,
        limit=limit,
        include_total=include_total,
    )


@router.get(
    "/scaling-proposals",
    response_model=Page[ProposalRead],
    summary="List scaling proposals",
    responses=problems(400, 401, 422),
    dependencies=[Depends(open_data())],
)
async def list_proposals(
    session: Session,
    status: Annotated[ProposalStatus | None, Query()] = None,
    innovation: Annotated[Id | None, Query(description="Innovation id.")] = None,
    target_scale: Annotated[TargetScale | None, Query()] = None,
    province: Annotated[
        ProvinceCode | None, Query(description="The innovation's province.")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    include_total: IncludeTotal = False,
) -> Page[ProposalRead]:
    """Scaling proposals (usulan glokalisasi), newest first, with their evidence and
    decision."""
    filters = ProposalFilters(
        status=status.value if status else None,
        innovation_id=innovation,
        target_scale=target_scale.value if target_scale else None,
        province=province,
    )
    return await service.list_proposals(
        session, filters, cursor=cursor, limit=limit, include_total=include_total
    )


@router.post(
    "/scaling-proposals",
    response_model=ProposalRead,
    status_code=201,
    summary="Propose an innovation for scaling up",
    responses=problems(400, 401, 403, 409, 413, 422),
)
async def create_proposal(
    session: Session, principal: Proposer, body: ProposalCreate, response: Response
) -> ProposalRead:
    """Propose a published innovation as a `provincial` programme (with
    `target_province_code`) or a `national` one. Admins propose any innovation; coordinators
    innovations of their province, and a provincial target must be their province (403
    otherwise).

    The evidence is a snapshot of the innovation's figures and the default criteria taken
    now; it never changes afterwards. The proposal starts as `submitted`.

    422: unknown or unpublished innovation, or a target province that is missing, not a
    province, or sent with a national target. 409 `already_at_scale`: the innovation is
    already at (or above) the target. 409 `duplicate_proposal`: an open (submitted,
    under review or deferred) proposal for the same innovation and target exists; a new
    one is possible once it is approved or rejected.
    """
    proposal = await service.propose(session, principal, body)
    response.headers["Location"] = f"{PROPOSALS}/{proposal.id}"
    set_etag(response, proposal.version)
    return proposal


@router.get(
    "/scaling-proposals/{proposal_id}",
    response_model=ProposalRead,
    summary="Get a scaling proposal",
    responses=problems(401, 404, 422),
    dependencies=[Depends(open_data())],
)
async def get_proposal(
    session: Session, proposal_id: ProposalId, response: Response
) -> ProposalRead:
    """One proposal with its evidence snapshot, status and decision, and its `ETag` (send
    it as `If-Match` with a decision)."""
    proposal = await service.get_proposal(session, proposal_id)
    set_etag(response, proposal.version)
    return proposal


# The body is optional (`ReviewRequest | None`), so its schema is not a plain reference and
# the examples are given on the request body itself.
REVIEW_EXAMPLES: dict[str, Example] = {
    "with_notes": {
        "summary": "With notes for the event",
        "value": {"notes": "Dibahas pada rapat tim penilai 12 Desember."},
    },
    "empty": {"summary": "No notes", "value": {}},
}


@router.post(
    "/scaling-proposals/{proposal_id}/review",
    response_model=ProposalRead,
    summary="Start the review of a scaling proposal",
    responses=problems(400, 401, 403, 404, 409, 412, 413, 422),
)
async def review_proposal(
    session: Session,
    principal: Reviewer,
    proposal_id: SubmittedProposalId,
    response: Response,
    body: Annotated[ReviewRequest | None, Body(openapi_examples=REVIEW_EXAMPLES)] = None,
    if_match: IfMatchHeader = None,
) -> ProposalRead:
    """Reviewers only: `submitted → under_review`, or `deferred → under_review` to take a
    deferred proposal up again. Any other status is 409 with the allowed moves in
    `allowed`. The body is optional. `If-Match` is optional here and checked when sent."""
    version = expected_version(if_match) if if_match is not None else None
    proposal = await service.review(
        session, principal, proposal_id, version, body or ReviewRequest()
    )
    set_etag(response, proposal.version)
    return proposal


@router.post(
    "/scaling-proposals/{proposal_id}/decision",
    response_model=ProposalRead,
    summary="Decide a scaling proposal",
    responses=problems(400, 401, 403, 404, 409, 412, 413, 422, 428),
)
async def decide_proposal(
    session: Session,
    principal: Reviewer,
    proposal_id: ProposalUnderReviewId,
    body: DecisionRequest,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ProposalRead:
    """Reviewers only, on a proposal `under_review`, with `If-Match` (428 without, 412 when
    stale): `approved`, `rejected` or `deferred`, with notes and conditions. Approval sets
    the innovation's `scale` in the same transaction (`national`; or `provincial` unless it
    is already national). `approved` and `rejected` are final; a `deferred` proposal can be
    reviewed again. Any other move is 409 with the allowed ones in `allowed`."""
    proposal = await service.decide(
        session, principal, proposal_id, expected_version(if_match), body
    )
    set_etag(response, proposal.version)
    return proposal
