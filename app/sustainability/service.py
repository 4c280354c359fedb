"""Sustainability monitoring (pemantauan keberlanjutan): the versioned rubric, scoring,
assessments, and the due and at-risk lists."""

from __future__ import annotations

import decimal
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import (
    BadRequest,
    FieldError,
    Forbidden,
    NotFound,
    Unprocessable,
    field_error,
)
from app.core.events import record_event
from app.core.pagination import decode_cursor, next_cursor
from app.core.schemas import Page, today
from app.core.security import Principal, Role
from app.innovations import repository as innovations
from app.innovations import service as innovations_service
from app.models.replication import Commitment
from app.replication import repository as replication
from app.replication.schemas import CommitmentStatus
from app.replication.service import apply_transition
from app.sustainability import repository
from app.sustainability.repository import AssessmentFilters, AtRiskFilters, SubjectFilters
from app.sustainability.schemas import (
    AssessmentCreate,
    AssessmentRead,
    AtRiskItem,
    AtRiskReason,
    DueItem,
    DueReason,
    IndicatorPoints,
    Relation,
    RubricDefinition,
    RubricIndicator,
    RubricRead,
    SubjectType,
    SustainabilityTimeline,
    TimelineEntry,
    Verdict,
)

CENT = Decimal("0.01")
DUE_SORT = "due"
AT_RISK_SORT = "at_risk"

# --- Scoring (pure: the rubric is data, read from the table) ------------------------------


@dataclass(frozen=True, slots=True)
class Scored:
    score: Decimal
    verdict: Verdict
    breakdown: list[IndicatorPoints]


def _level_key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value.value if hasattr(value, "value") else value)


def indicator_fraction(indicator: RubricIndicator, value: Any) -> Decimal:
    """The share of the indicator's weight that `value` earns under the rubric."""
    if value is None:
        return Decimal(str(indicator.missing or 0))
    if indicator.levels is not None:
        key = _level_key(value)
        if key not in indicator.levels:
            raise LookupError(f"Rubric indicator {indicator.key} has no level {key!r}.")
        return Decimal(str(indicator.levels[key]))
    assert indicator.bands is not None  # noqa: S101 - the rubric schema checks one or the other
    fraction = Decimal(0)
    for band in indicator.bands:
        if value >= band.min:
            fraction = Decimal(str(band.fraction))
    return fraction


def verdict_for(score: Decimal, operating: bool, rubric: RubricDefinition) -> Verdict:
    """Not operating ⇒ the rubric's `not_operating_verdict`; else by the thresholds."""
    if not operating:
        return rubric.not_operating_verdict
    if score >= Decimal(str(rubric.thresholds.sustained)):
        return Verdict.sustained
    if score >= Decimal(str(rubric.thresholds.at_risk)):
        return Verdict.at_risk
    return Verdict.discontinued


def score(rubric: RubricDefinition, values: Mapping[str, Any]) -> Scored:
    """Points per indicator (weight × fraction, to the cent), their sum and the verdict."""
    breakdown: list[IndicatorPoints] = []
    total = Decimal(0)
    for indicator in rubric.indicators:
        value = values[indicator.key]
        fraction = indicator_fraction(indicator, value)
        weight = Decimal(str(indicator.weight))
        points = (weight * fraction).quantize(CENT, rounding=ROUND_HALF_UP)
        total += points
        breakdown.append(
            IndicatorPoints(
                indicator=indicator.key,
                value=_level_key(value) if hasattr(value, "value") else value,
                fraction=float(fraction),
                weight=float(weight),
                points=float(points),
            )
        )
    total = min(max(total, Decimal(0)), Decimal(100))
    return Scored(
        score=total, verdict=verdict_for(total, values["operating"], rubric), breakdown=breakdown
    )


# --- Rubric -------------------------------------------------------------------------------


async def get_rubric(session: AsyncSession, version: int | None) -> RubricRead:
    """The current rubric (highest version), or the version asked for."""
    row = (
        await repository.current_rubric(session)
        if version is None
        else await repository.get_rubric(session, version)
    )
    if row is None:
        raise NotFound(f"Rubric version {version} does not exist.")
    return RubricRead(
        **RubricDefinition.model_validate(row.definition).model_dump(),
        version=row.version,
        title=row.title,
        effective_on=row.effective_on,
        created_at=row.created_at,
    )


# --- Assessments --------------------------------------------------------------------------

_SCORED_FIELDS = (
    "operating",
    "survived_leadership_change",
    "legal_basis",
    "budget_years",
    "in_regional_plan",
    "in_performance_indicators",
    "has_sop",
    "staff_count",
    "beneficiaries_count",
    "monitoring",
    "complaint_resolution_pct",
)


def to_read(row: Any) -> AssessmentRead:
    a = row.SustainabilityAssessment
    return AssessmentRead(
        id=a.id,
        subject_type=SubjectType.innovation if a.innovation_id else SubjectType.commitment,
        innovation_id=a.innovation_id,
        commitment_id=a.commitment_id,
        source_innovation_id=a.source_innovation_id,
        source_innovation_title=row.source_innovation_title,
        adopter_name=row.adopter_name,
        province_code=a.province_code,
        period=a.period,
        operating=a.operating,
        survived_leadership_change=a.survived_leadership_change,
        legal_basis=a.legal_basis,
        budget_years=a.budget_years,
        in_regional_plan=a.in_regional_plan,
        in_performance_indicators=a.in_performance_indicators,
        has_sop=a.has_sop,
        staff_count=a.staff_count,
        beneficiaries_count=a.beneficiaries_count,
        monitoring=a.monitoring,
        complaint_resolution_pct=a.complaint_resolution_pct,
        incentive_idr=a.incentive_idr,
        notes=a.notes,
        evidence_urls=a.evidence_urls,
        assessed_on=a.assessed_on,
        score=float(a.score),
        verdict=Verdict(a.verdict),
        breakdown=[IndicatorPoints.model_validate(p) for p in a.breakdown],
        rubric_version=a.rubric_version,
        created_at=a.created_at,
        updated_at=a.updated_at,
        version=a.version,
    )


@dataclass(frozen=True, slots=True)
class _Subject:
    province_code: str | None
    source_innovation_id: uuid.UUID
    commitment: Commitment | None


async def _subject(session: AsyncSession, principal: Principal, data: AssessmentCreate) -> _Subject:
    """The subject, checked against the caller: coordinators assess their province's
    subjects; integrations their province's commitments only."""
    if data.innovation_id is not None:
        if principal.role == Role.integration:
            raise Forbidden(
                "Integration keys assess commitments only, not innovations.",
                code="role_not_allowed",
            )
        innovation = await innovations.get(session, data.innovation_id)
        if innovation is None:
            raise field_error(
                "/body/innovation_id", f"Innovation {data.innovation_id} does not exist."
            )
        principal.ensure_province(innovation.province_code, "innovation")
        if innovation.status != "published":
            raise field_error("/body/innovation_id", "Only published innovations are assessed.")
        return _Subject(innovation.province_code, innovation.id, None)
    assert data.commitment_id is not None  # noqa: S101 - exactly one subject was checked
    # Locked: a sustained verdict may move it, serialised with its other status changes.
    commitment = await replication.lock_commitment(session, data.commitment_id)
    if commitment is None:
        raise field_error("/body/commitment_id", f"Commitment {data.commitment_id} does not exist.")
    principal.ensure_province(commitment.adopter_province_code, "commitment")
    return _Subject(commitment.adopter_province_code, commitment.innovation_id, commitment)


async def create_assessment(
    session: AsyncSession,
    principal: Principal,
    data: AssessmentCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> AssessmentRead:
    """Score an assessment with the current rubric and store it with that rubric's version.

    A `sustained` verdict on a `launched` commitment moves it to `sustained` in the same
    transaction (with its own event). `record_id`: the new record's id when the caller
    chooses it, else a random one."""
    if (data.innovation_id is None) == (data.commitment_id is None):
        detail = "Send exactly one subject: innovation_id or commitment_id."
        raise Unprocessable(
            detail,
            errors=[
                FieldError(pointer="/body/innovation_id", detail=detail),
                FieldError(pointer="/body/commitment_id", detail=detail),
            ],
        )
    if data.assessed_on.year < data.period:
        raise field_error(
            "/body/assessed_on", f"An assessment of {data.period} cannot be made before it began."
        )
    subject = await _subject(session, principal, data)
    rubric_row = await repository.current_rubric(session)
    if rubric_row is None:  # the migration seeds version 1
        raise RuntimeError("No sustainability rubric is stored.")
    rubric = RubricDefinition.model_validate(rubric_row.definition)
    indicators = {name: getattr(data, name) for name in _SCORED_FIELDS}
    scored = score(rubric, indicators)
    values: dict[str, Any] = data.model_dump(mode="json")
    values.update(
        id=record_id or uuid.uuid4(),
        innovation_id=data.innovation_id,
        commitment_id=data.commitment_id,
        assessed_on=data.assessed_on,
        source_innovation_id=subject.source_innovation_id,
        province_code=subject.province_code,
        score=scored.score,
        verdict=scored.verdict.value,
        breakdown=[p.model_dump() for p in scored.breakdown],
        rubric_version=rubric_row.version,
        assessed_by_key_id=principal.id,
    )
    assessment = await repository.insert_assessment(session, values)
    await record_event(
        session,
        principal,
        "sustainability_assessment.created",
        "sustainability_assessment",
        assessment.id,
        {k: v for k, v in values.items() if k not in ("id", "breakdown", "assessed_by_key_id")},
        subject.province_code,
    )
    commitment = subject.commitment
    if (
        commitment is not None
        and commitment.status == CommitmentStatus.launched.value
        and scored.verdict == Verdict.sustained
    ):
        await apply_transition(
            session,
            principal,
            commitment,
            CommitmentStatus.sustained,
            f"Sustainability assessment {data.period}: sustained (score {scored.score}).",
        )
    return await get_assessment(session, assessment.id)


async def get_assessment(session: AsyncSession, assessment_id: uuid.UUID) -> AssessmentRead:
    row = await repository.get_assessment_row(session, assessment_id)
    if row is None:
        raise NotFound(f"Sustainability assessment {assessment_id} does not exist.")
    return to_read(row)


async def list_assessments(
    session: AsyncSession,
    filters: AssessmentFilters,
    *,
    sort: str,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[AssessmentRead]:
    keys = repository.ASSESSMENT_SORTS[sort]
    where = repository.assessment_filters(filters)
    after = decode_cursor(cursor, sort, len(keys)) if cursor else None
    rows = await repository.list_assessments(session, where, keys, after, limit + 1)
    column = sort.lstrip("-")
    cursor_after = next_cursor(
        rows,
        limit,
        sort,
        lambda r: [getattr(r.SustainabilityAssessment, column), r.SustainabilityAssessment.id],
    )
    total = await repository.count_assessments(session, where) if include_total else None
    return Page[AssessmentRead](
        items=[to_read(r) for r in rows[:limit]], next_cursor=cursor_after, total=total
    )


# --- Due and at risk ----------------------------------------------------------------------


def year_before(day: date) -> date:
    """The same day a year earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


async def list_due(
    session: AsyncSession,
    filters: SubjectFilters,
    *,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[DueItem]:
    """Subjects due for an assessment: none in the last 12 months (a year to the day)."""
    year_ago = year_before(today())
    after = decode_cursor(cursor, DUE_SORT, 2) if cursor else None
    rows, keys = await repository.list_due(session, filters, year_ago, after, limit + 1)
    items = [
        DueItem(
            subject_type=SubjectType(r.subject_type),
            innovation_id=r.innovation_id,
            commitment_id=r.commitment_id,
            source_innovation_id=r.source_innovation_id,
            source_innovation_title=r.source_innovation_title,
            adopter_name=r.adopter_name,
            province_code=r.province_code,
            status=r.status,
            launched_on=r.launched_on,
            last_assessed_on=r.last_assessed_on,
            last_period=r.last_period,
            reason=DueReason.never_assessed
            if r.last_assessed_on is None
            else DueReason.last_assessment_over_12_months,
        )
        for r in rows[:limit]
    ]
    cursor_after = next_cursor(keys, limit, DUE_SORT, list)
    if not include_total:
        return Page[DueItem](items=items, next_cursor=cursor_after)
    total = await repository.count_due(session, filters, year_ago)
    return Page[DueItem](
        items=items,
        next_cursor=cursor_after,
        total=total.value,
        total_is_estimate=total.estimate,
    )


def _at_risk_item(r: Any) -> AtRiskItem:
    reasons: list[AtRiskReason] = []
    if r.verdict == Verdict.at_risk.value:
        reasons.append(AtRiskReason.verdict_at_risk)
    elif r.verdict == Verdict.discontinued.value:
        reasons.append(AtRiskReason.verdict_discontinued)
    if r.score_drop:
        reasons.append(AtRiskReason.score_drop)
    previous = r.previous_score
    return AtRiskItem(
        assessment_id=r.assessment_id,
        subject_type=SubjectType.innovation if r.innovation_id else SubjectType.commitment,
        innovation_id=r.innovation_id,
        commitment_id=r.commitment_id,
        source_innovation_id=r.source_innovation_id,
        source_innovation_title=r.source_innovation_title,
        adopter_name=r.adopter_name,
        province_code=r.province_code,
        period=r.period,
        assessed_on=r.assessed_on,
        score=float(r.score),
        verdict=Verdict(r.verdict),
        previous_period=r.previous_period,
        previous_score=float(previous) if previous is not None else None,
        score_change=float(r.score - previous) if previous is not None else None,
        reasons=reasons,
    )


def _at_risk_cursor(cursor: str) -> list[Any]:
    score_text, assessment_id = decode_cursor(cursor, AT_RISK_SORT, 2)
    try:
        return [Decimal(str(score_text)), assessment_id]
    except decimal.InvalidOperation as exc:  # a signed cursor we made always parses
        raise BadRequest("The cursor is not valid for this list.", code="invalid_cursor") from exc


async def list_at_risk(
    session: AsyncSession,
    filters: AtRiskFilters,
    *,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[AtRiskItem]:
    """Subjects whose latest assessment is at_risk or discontinued, or whose score fell by
    15 points or more since the previous assessment: lowest score first."""
    after = _at_risk_cursor(cursor) if cursor else None
    rows = await repository.list_at_risk(session, filters, after, limit + 1)
    total = await repository.count_at_risk(session, filters) if include_total else None
    return Page[AtRiskItem](
        items=[_at_risk_item(r) for r in rows[:limit]],
        next_cursor=next_cursor(
            rows, limit, AT_RISK_SORT, lambda r: [str(r.score), r.assessment_id]
        ),
        total=total,
    )


# --- Timeline -----------------------------------------------------------------------------


def _relation(depth: int, is_commitment: bool) -> Relation:
    if depth == 0:
        return Relation.commitment if is_commitment else Relation.origin
    return Relation.replica_commitment if is_commitment else Relation.replica


async def timeline(
    session: AsyncSession, principal: Principal | None, innovation_id: uuid.UUID
) -> SustainabilityTimeline:
    """The innovation's assessments, its replicas' and its commitments', by period.
    Anonymous clients see published innovations (and replicas) only."""
    innovation = await innovations_service.get_innovation(session, principal, innovation_id)
    rows = await repository.timeline(session, innovation_id, published_only=principal is None)
    entries = [
        TimelineEntry(
            **to_read(r).model_dump(),
            relation=_relation(r.depth, r.SustainabilityAssessment.commitment_id is not None),
        )
        for r in rows
    ]
    return SustainabilityTimeline(
        innovation_id=innovation.id, title=innovation.title, entries=entries
    )
