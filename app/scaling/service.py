"""Scaling up (glokalisasi): candidates against criteria, proposals and reviewers' decisions."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import ensure_version
from app.core.errors import Conflict, NotFound, field_error
from app.core.events import record_event
from app.core.pagination import decode_cursor, next_cursor
from app.core.schemas import Page
from app.core.security import Principal
from app.core.transitions import ensure_transition
from app.innovations import repository as innovations
from app.models.scaling import ScalingProposal
from app.regions import repository as regions
from app.scaling import repository
from app.scaling.repository import DEFAULT_THRESHOLDS, ProposalFilters, Thresholds
from app.scaling.schemas import (
    CRITERIA_TOTAL,
    AwardSummary,
    Candidate,
    CandidateInnovation,
    Criteria,
    Criterion,
    Decision,
    DecisionRequest,
    Evidence,
    Outcome,
    ProposalCreate,
    ProposalRead,
    ProposalStatus,
    ReviewRequest,
    TargetScale,
)

P = ProposalStatus
TRANSITIONS: dict[ProposalStatus, frozenset[ProposalStatus]] = {
    P.submitted: frozenset({P.under_review}),
    P.under_review: frozenset({P.approved, P.rejected, P.deferred}),
    P.deferred: frozenset({P.under_review}),
    P.approved: frozenset(),
    P.rejected: frozenset(),
}
SCALE_RANK = {"local": 0, "provincial": 1, "national": 2}

# --- Candidates -------------------------------------------------------------------------


def _criteria(row: Any, t: Thresholds) -> Criteria:
    """The criteria of a `repository._figures` row (the verdicts were computed in SQL)."""
    return Criteria(
        replicas=Criterion(value=row.replicas, threshold=t.min_replicas, met=row.replicas_met),
        other_provinces=Criterion(
            value=row.other_provinces, threshold=t.min_other_provinces, met=row.provinces_met
        ),
        origin_sustained=Criterion(
            value=row.verdict,
            threshold="sustained" if t.require_sustained else None,
            met=row.sustained_met,
        ),
        awards=Criterion(value=row.awards, threshold=t.min_awards, met=row.awards_met),
    )


def _candidate(row: Any, t: Thresholds) -> Candidate:
    return Candidate(
        innovation=CandidateInnovation(
            id=row.id, title=row.title, province_code=row.province_code, scale=row.scale
        ),
        criteria=_criteria(row, t),
        criteria_met=row.met,
        criteria_total=CRITERIA_TOTAL,
        eligible=row.met == CRITERIA_TOTAL,
    )


async def list_candidates(
    session: AsyncSession,
    t: Thresholds,
    *,
    province: str | None,
    only_eligible: bool,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[Candidate]:
    """Published innovations not yet national, ranked by criteria met, then replicas."""
    name = t.cursor_name() + (":eligible" if only_eligible else "")
    after = decode_cursor(cursor, name, 3) if cursor else None
    where = repository.candidate_filters(province)
    rows = await repository.list_candidates(
        session,
        t,
        where,
        criteria_total=CRITERIA_TOTAL,
        only_eligible=only_eligible,
        after=after,
        limit=limit + 1,
    )
    items = [_candidate(r, t) for r in rows[:limit]]
    cursor_after = next_cursor(rows, limit, name, lambda r: [r.met, r.replicas, r.id])
    if not include_total:
        return Page[Candidate](items=items, next_cursor=cursor_after)
    total = await repository.count_candidates(
        session, t, where, criteria_total=CRITERIA_TOTAL, only_eligible=only_eligible
    )
    return Page[Candidate](
        items=items,
        next_cursor=cursor_after,
        total=total.value,
        total_is_estimate=total.estimate,
    )


async def evidence_of(session: AsyncSession, innovation_id: uuid.UUID) -> Evidence:
    """The snapshot a proposal keeps: the figures and the default criteria, now."""
    row = await repository.evidence_row(session, innovation_id)
    if row is None:
        raise NotFound(f"Innovation {innovation_id} does not exist.")
    return Evidence(
        taken_at=row.taken_at,
        criteria=_criteria(row, DEFAULT_THRESHOLDS),
        criteria_met=row.met,
        criteria_total=CRITERIA_TOTAL,
        eligible=row.met == CRITERIA_TOTAL,
        replications_by_status=row.replications_by_status,
        provinces_reached=row.provinces_reached,
        awards=[AwardSummary.model_validate(a) for a in row.award_list],
        latest_verdict=row.verdict,
        latest_score=float(row.score) if row.score is not None else None,
        latest_period=row.period,
    )


# --- Proposals --------------------------------------------------------------------------


def to_read(row: Any) -> ProposalRead:
    p: ScalingProposal = row.ScalingProposal
    decision = None
    if p.outcome is not None:
        assert p.decided_at is not None  # noqa: S101 - set together (one UPDATE)
        decision = Decision(
            outcome=Outcome(p.outcome),
            notes=p.notes or "",
            conditions=p.conditions or "",
            decided_by=p.decided_by or "",
            decided_at=p.decided_at,
        )
    return ProposalRead(
        id=p.id,
        innovation_id=p.innovation_id,
        innovation_title=row.innovation_title,
        province_code=p.province_code,
        target_scale=TargetScale(p.target_scale),
        target_province_code=p.target_province_code,
        rationale=p.rationale,
        evidence=Evidence.model_validate(p.evidence),
        status=P(p.status),
        proposed_by=p.proposed_by,
        reviewed_at=p.reviewed_at,
        decision=decision,
        created_at=p.created_at,
        updated_at=p.updated_at,
        version=p.version,
    )


async def get_proposal(session: AsyncSession, proposal_id: uuid.UUID) -> ProposalRead:
    row = await repository.get_proposal_row(session, proposal_id)
    if row is None:
        raise NotFound(f"Scaling proposal {proposal_id} does not exist.")
    return to_read(row)


async def list_proposals(
    session: AsyncSession,
    filters: ProposalFilters,
    *,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[ProposalRead]:
    where = repository.proposal_filters(filters)
    name = repository.PROPOSAL_SORT
    after = decode_cursor(cursor, name, 2) if cursor else None
    rows = await repository.list_proposals(session, where, after, limit + 1)
    items = [to_read(r) for r in rows[:limit]]
    cursor_after = next_cursor(
        rows, limit, name, lambda r: [r.ScalingProposal.created_at, r.ScalingProposal.id]
    )
    total = await repository.count_proposals(session, where) if include_total else None
    return Page[ProposalRead](items=items, next_cursor=cursor_after, total=total)


async def _check_target(principal: Principal, session: AsyncSession, data: ProposalCreate) -> None:
    pointer = "/body/target_province_code"
    if data.target_scale == TargetScale.national:
        if data.target_province_code is not None:
            raise field_error(pointer, "A national target has no province.")
        return
    if data.target_province_code is None:
        raise field_error(pointer, "A provincial target needs the province adopting it.")
    region = await regions.get_region(session, data.target_province_code)
    if region is None or region.level != "province":
        raise field_error(pointer, f"{data.target_province_code} is not a province code.")
    principal.ensure_province(data.target_province_code, "target province")


async def propose(
    session: AsyncSession,
    principal: Principal,
    data: ProposalCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> ProposalRead:
    """Propose a published innovation for a provincial or national programme.

    Coordinators propose innovations of their province, for their province (provincial) or
    for the nation. The evidence snapshot is taken now, in the same transaction.
    `record_id`: the new record's id when the caller chooses it, else a random one.
    """
    innovation = await innovations.get(session, data.innovation_id)
    if innovation is None:
        raise field_error("/body/innovation_id", f"Innovation {data.innovation_id} does not exist.")
    principal.ensure_province(innovation.province_code, "innovation")
    await _check_target(principal, session, data)
    if innovation.status != "published":
        raise field_error("/body/innovation_id", "Only published innovations can be scaled up.")
    if SCALE_RANK[innovation.scale] >= SCALE_RANK[data.target_scale.value]:
        raise Conflict(
            f"The innovation is already at {innovation.scale} scale.",
            code="already_at_scale",
        )
    evidence = await evidence_of(session, innovation.id)
    values: dict[str, Any] = {
        "id": record_id or uuid.uuid4(),
        "innovation_id": innovation.id,
        "province_code": innovation.province_code,
        "target_scale": data.target_scale.value,
        "target_province_code": data.target_province_code,
        "rationale": data.rationale,
        "evidence": evidence.model_dump(mode="json"),
        "proposed_by": principal.name,
        "proposed_by_key_id": principal.id,
    }
    proposal = await repository.insert_proposal(session, values)
    await record_event(
        session,
        principal,
        "scaling_proposal.created",
        "scaling_proposal",
        proposal.id,
        values,
        proposal.province_code,
    )
    return await get_proposal(session, proposal.id)


async def _locked(session: AsyncSession, proposal_id: uuid.UUID) -> ScalingProposal:
    proposal = await repository.lock_proposal(session, proposal_id)
    if proposal is None:
        raise NotFound(f"Scaling proposal {proposal_id} does not exist.")
    return proposal


def _ensure_move(proposal: ScalingProposal, to: ProposalStatus) -> ProposalStatus:
    current = P(proposal.status)
    ensure_transition(TRANSITIONS, current, to, "A proposal")
    return current


async def review(
    session: AsyncSession,
    principal: Principal,
    proposal_id: uuid.UUID,
    version: int | None,
    data: ReviewRequest,
) -> ProposalRead:
    """Start the review: `submitted → under_review`, or again after `deferred`."""
    proposal = await _locked(session, proposal_id)
    if version is not None:
        ensure_version(proposal.version, version)
    current = _ensure_move(proposal, P.under_review)
    await repository.update_proposal(
        session,
        proposal,
        proposal.version,
        {"status": P.under_review.value, "reviewed_at": func.now()},
    )
    await record_event(
        session,
        principal,
        "scaling_proposal.review_started",
        "scaling_proposal",
        proposal_id,
        {"from": current.value, "to": P.under_review.value, "notes": data.notes},
        proposal.province_code,
    )
    return await get_proposal(session, proposal_id)


async def decide(
    session: AsyncSession,
    principal: Principal,
    proposal_id: uuid.UUID,
    version: int,
    data: DecisionRequest,
) -> ProposalRead:
    """Decide a proposal under review. Approval raises the innovation's scale in the same
    transaction (a provincial approval never lowers a national innovation)."""
    proposal = await _locked(session, proposal_id)
    ensure_version(proposal.version, version)
    to = P(data.outcome.value)
    current = _ensure_move(proposal, to)
    decision = {
        "outcome": data.outcome.value,
        "notes": data.notes,
        "conditions": data.conditions,
        "decided_by": principal.name,
        "decided_by_key_id": principal.id,
    }
    await repository.update_proposal(
        session,
        proposal,
        version,
        {"status": to.value, **decision, "decided_at": func.now()},
    )
    await record_event(
        session,
        principal,
        "scaling_proposal.decided",
        "scaling_proposal",
        proposal_id,
        {"from": current.value, "to": to.value, **decision},
        proposal.province_code,
    )
    if to == P.approved:
        scaled = await repository.raise_scale(
            session, proposal.innovation_id, proposal.target_scale
        )
        if scaled is not None:
            scale, province = scaled
            await record_event(
                session,
                principal,
                "innovation.scaled",
                "innovation",
                proposal.innovation_id,
                {"scale": scale, "scaling_proposal_id": proposal_id},
                province,
            )
    return await get_proposal(session, proposal_id)
