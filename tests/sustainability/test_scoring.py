"""Scoring with rubric version 1 as the migration stored it: every level, every band edge,
and both sides of each verdict threshold (in the scoring function and through the API)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.sustainability import service
from app.sustainability.schemas import RubricDefinition, Verdict
from tests.builders import make_innovation, make_institution
from tests.sustainability._helpers import ASSESSMENTS, STRONG, body


@pytest.fixture
async def rubric(session: AsyncSession) -> RubricDefinition:
    return await service.get_rubric(session, None)


def points(rubric: RubricDefinition, indicator: str, value: Any) -> float:
    """The points `indicator` earns with `value` (the other indicators at STRONG)."""
    scored = service.score(rubric, STRONG | {indicator: value})
    return next(p.points for p in scored.breakdown if p.indicator == indicator)


async def test_version_1_is_seeded_with_weights_summing_to_100(
    rubric: RubricDefinition,
) -> None:
    weights = {i.key: i.weight for i in rubric.indicators}

    assert weights == {
        "legal_basis": 20,
        "budget_years": 15,
        "in_regional_plan": 10,
        "in_performance_indicators": 10,
        "survived_leadership_change": 10,
        "has_sop": 5,
        "staff_count": 5,
        "beneficiaries_count": 10,
        "monitoring": 10,
        "complaint_resolution_pct": 5,
    }
    assert sum(weights.values()) == 100
    assert (rubric.thresholds.sustained, rubric.thresholds.at_risk) == (70, 35)


@pytest.mark.parametrize(
    ("indicator", "value", "expected"),
    [
        ("legal_basis", "none", 0),
        ("legal_basis", "decree", 8),
        ("legal_basis", "head_regulation", 15),
        ("legal_basis", "bylaw", 20),
        ("budget_years", 0, 0),
        ("budget_years", 1, 4.5),
        ("budget_years", 2, 9),
        ("budget_years", 3, 15),
        ("in_regional_plan", False, 0),
        ("in_regional_plan", True, 10),
        ("in_performance_indicators", False, 0),
        ("in_performance_indicators", True, 10),
        ("survived_leadership_change", "no", 0),
        ("survived_leadership_change", "not_applicable", 5),
        ("survived_leadership_change", "yes", 10),
        ("has_sop", False, 0),
        ("has_sop", True, 5),
        ("monitoring", "none", 0),
        ("monitoring", "internal", 5),
        ("monitoring", "public_survey", 10),
    ],
)
async def test_each_level_earns_its_share_of_the_weight(
    rubric: RubricDefinition, indicator: str, value: Any, expected: float
) -> None:
    assert points(rubric, indicator, value) == expected


@pytest.mark.parametrize(
    ("indicator", "value", "expected"),
    [
        # staff_count: 0 | 1–2 | 3+ of 5 points
        ("staff_count", 0, 0),
        ("staff_count", 1, 2.5),
        ("staff_count", 2, 2.5),
        ("staff_count", 3, 5),
        # beneficiaries_count: 0 | 1–99 | 100–999 | 1,000–9,999 | 10,000+ of 10 points
        ("beneficiaries_count", 0, 0),
        ("beneficiaries_count", 1, 2.5),
        ("beneficiaries_count", 99, 2.5),
        ("beneficiaries_count", 100, 5),
        ("beneficiaries_count", 999, 5),
        ("beneficiaries_count", 1000, 7.5),
        ("beneficiaries_count", 9999, 7.5),
        ("beneficiaries_count", 10000, 10),
        # complaint_resolution_pct: no channel | 0–49 | 50–79 | 80–89 | 90–100 of 5 points
        ("complaint_resolution_pct", None, 0),
        ("complaint_resolution_pct", 0, 1.25),
        ("complaint_resolution_pct", 49, 1.25),
        ("complaint_resolution_pct", 50, 2.5),
        ("complaint_resolution_pct", 79, 2.5),
        ("complaint_resolution_pct", 80, 3.75),
        ("complaint_resolution_pct", 89, 3.75),
        ("complaint_resolution_pct", 90, 5),
        ("complaint_resolution_pct", 100, 5),
    ],
)
async def test_numeric_band_edges(
    rubric: RubricDefinition, indicator: str, value: Any, expected: float
) -> None:
    assert points(rubric, indicator, value) == expected


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        ("100", Verdict.sustained),
        ("70.00", Verdict.sustained),
        ("69.99", Verdict.at_risk),
        ("35.00", Verdict.at_risk),
        ("34.99", Verdict.discontinued),
        ("0", Verdict.discontinued),
    ],
)
async def test_verdict_thresholds(rubric: RubricDefinition, score: str, expected: Verdict) -> None:
    assert service.verdict_for(Decimal(score), True, rubric) == expected


async def test_not_operating_is_discontinued_even_with_full_marks(
    rubric: RubricDefinition,
) -> None:
    scored = service.score(rubric, STRONG | {"operating": False})

    assert scored.score == Decimal("95.00")
    assert scored.verdict == Verdict.discontinued


async def test_strong_indicators_score_95(rubric: RubricDefinition) -> None:
    scored = service.score(rubric, STRONG)

    assert scored.score == Decimal("95.00")
    assert scored.verdict == Verdict.sustained
    assert sum(p.points for p in scored.breakdown) == 95


# Indicator sets that land exactly on, and just below, each threshold under version 1
# (scores move in steps of 0.25 at the finest; 69.50 and 34.50 are the nearest below).
AT_70 = {  # 20 + 15 + 10 + 0 + 5 + 5 + 5 + 5 + 5 + 0
    "legal_basis": "bylaw",
    "budget_years": 3,
    "in_regional_plan": True,
    "in_performance_indicators": False,
    "survived_leadership_change": "not_applicable",
    "has_sop": True,
    "staff_count": 3,
    "beneficiaries_count": 100,
    "monitoring": "internal",
    "complaint_resolution_pct": None,
}
BELOW_70 = AT_70 | {"budget_years": 1, "in_performance_indicators": True}  # − 10.5 + 10
AT_35 = {  # popular but unanchored: 0 + 0 + 0 + 0 + 0 + 5 + 5 + 10 + 10 + 5
    "legal_basis": "none",
    "budget_years": 0,
    "in_regional_plan": False,
    "in_performance_indicators": False,
    "survived_leadership_change": "no",
    "has_sop": True,
    "staff_count": 3,
    "beneficiaries_count": 10000,
    "monitoring": "public_survey",
    "complaint_resolution_pct": 90,
}
BELOW_35 = AT_35 | {"budget_years": 1, "has_sop": False}  # + 4.5 − 5


@pytest.mark.parametrize(
    ("indicators", "score", "verdict"),
    [
        (AT_70, 70.0, "sustained"),
        (BELOW_70, 69.5, "at_risk"),
        (AT_35, 35.0, "at_risk"),
        (BELOW_35, 34.5, "discontinued"),
    ],
    ids=["at 70", "just below 70", "at 35", "just below 35"],
)
async def test_posted_assessment_at_and_below_each_threshold(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    indicators: dict[str, Any],
    score: float,
    verdict: str,
) -> None:
    owner = await make_institution(session, region_code="33.29")
    innovation = await make_innovation(session, institution=owner)
    sent = body(innovation=innovation.id, **indicators)

    r = await client.post(ASSESSMENTS, json=sent, headers=admin)

    assert r.status_code == 201, r.text
    assert (r.json()["score"], r.json()["verdict"]) == (score, verdict)
    assert sum(p["points"] for p in r.json()["breakdown"]) == score
