"""Builders and request bodies shared by the sustainability tests.

`make_assessment` inserts a stored assessment with the score and verdict given (as if scored
earlier), so the list tests can state their data exactly; the scoring itself is tested
through the API and the service's scoring function.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.event import Event
from app.models.innovation import Innovation
from app.models.replication import Commitment
from app.models.sustainability import SustainabilityAssessment

ASSESSMENTS = "/api/v1/sustainability-assessments"
RUBRIC = "/api/v1/rubrics/sustainability"
DUE = "/api/v1/sustainability/due"
AT_RISK = "/api/v1/sustainability/at-risk"

# Version 1 scores these 95.00 (sustained): 15 + 15 + 10 + 10 + 10 + 5 + 5 + 10 + 10 + 5.
STRONG: dict[str, Any] = {
    "operating": True,
    "survived_leadership_change": "yes",
    "legal_basis": "head_regulation",
    "budget_years": 3,
    "in_regional_plan": True,
    "in_performance_indicators": True,
    "has_sop": True,
    "staff_count": 4,
    "beneficiaries_count": 12500,
    "monitoring": "public_survey",
    "complaint_resolution_pct": 92,
}
# Version 1 scores these 36.25 (at_risk): 8 + 4.5 + 0 + 0 + 5 + 5 + 2.5 + 5 + 5 + 1.25.
WEAK: dict[str, Any] = {
    "operating": True,
    "survived_leadership_change": "not_applicable",
    "legal_basis": "decree",
    "budget_years": 1,
    "in_regional_plan": False,
    "in_performance_indicators": False,
    "has_sop": True,
    "staff_count": 2,
    "beneficiaries_count": 500,
    "monitoring": "internal",
    "complaint_resolution_pct": 40,
}


def body(
    *,
    innovation: object | None = None,
    commitment: object | None = None,
    period: int = 2024,
    assessed_on: str = "2025-02-10",
    **indicators: Any,
) -> dict[str, Any]:
    """A POST /sustainability-assessments body: STRONG indicators unless overridden."""
    out: dict[str, Any] = {"period": period, "assessed_on": assessed_on, **STRONG, **indicators}
    if innovation is not None:
        out["innovation_id"] = str(innovation)
    if commitment is not None:
        out["commitment_id"] = str(commitment)
    return out


async def make_assessment(
    session: AsyncSession,
    *,
    innovation: Innovation | None = None,
    commitment: Commitment | None = None,
    period: int,
    score: str | float = "80",
    verdict: str = "sustained",
    assessed_on: date | None = None,
) -> SustainabilityAssessment:
    if innovation is not None:
        source, province = innovation.id, innovation.province_code
    else:
        assert commitment is not None
        source, province = commitment.innovation_id, commitment.adopter_province_code
    assessment = SustainabilityAssessment(
        innovation_id=innovation.id if innovation else None,
        commitment_id=commitment.id if commitment else None,
        source_innovation_id=source,
        province_code=province,
        period=period,
        operating=verdict != "discontinued",
        survived_leadership_change="yes",
        legal_basis="head_regulation",
        budget_years=2,
        in_regional_plan=True,
        in_performance_indicators=True,
        has_sop=True,
        staff_count=3,
        beneficiaries_count=1000,
        monitoring="internal",
        complaint_resolution_pct=None,
        assessed_on=assessed_on or date(period + 1, 2, 1),
        score=Decimal(str(score)),
        verdict=verdict,
        breakdown=[],
        rubric_version=1,
    )
    session.add(assessment)
    await session.flush()
    return assessment


async def stored_assessment(session: AsyncSession, assessment_id: object) -> Any:
    """The row as the database has it now."""
    return await session.get(
        SustainabilityAssessment, uuid.UUID(str(assessment_id)), populate_existing=True
    )


async def events_of(session: AsyncSession, entity_id: object) -> list[Event]:
    stmt = select(Event).where(Event.entity_id == str(entity_id)).order_by(Event.id)
    return list((await session.scalars(stmt)).all())
