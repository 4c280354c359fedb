"""The rubric served as data, and what a new rubric version changes (only new scores)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.sustainability import SustainabilityRubric
from tests.builders import make_innovation, make_institution
from tests.conftest import problem
from tests.sustainability._helpers import ASSESSMENTS, RUBRIC, body, stored_assessment


async def test_rubric_serves_version_1_with_weights_levels_and_thresholds(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get(RUBRIC)

    assert r.status_code == 200, r.text
    rubric = r.json()
    assert rubric["version"] == 1
    assert rubric["thresholds"] == {"sustained": 70.0, "at_risk": 35.0}
    assert rubric["not_operating_verdict"] == "discontinued"
    assert sum(i["weight"] for i in rubric["indicators"]) == 100
    legal = rubric["indicators"][0]
    assert (legal["key"], legal["term"]) == ("legal_basis", "Dasar hukum (SK → Perkada → Perda)")
    assert legal["levels"] == {"none": 0, "decree": 0.4, "head_regulation": 0.75, "bylaw": 1}
    staff = next(i for i in rubric["indicators"] if i["key"] == "staff_count")
    assert staff["bands"] == [
        {"min": 0, "fraction": 0},
        {"min": 1, "fraction": 0.5},
        {"min": 3, "fraction": 1},
    ]


async def test_rubric_of_an_unknown_version_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get(RUBRIC, params={"version": 99})

    assert problem(r, 404)["code"] == "not_found"


# Version 2 (a test's own): legal basis weighs 30, beneficiaries and monitoring 5 each.
async def _add_version_2(session: AsyncSession) -> None:
    v1 = await session.get(SustainabilityRubric, 1)
    assert v1 is not None
    definition: dict[str, Any] = copy.deepcopy(v1.definition)
    weights = {"legal_basis": 30, "beneficiaries_count": 5, "monitoring": 5}
    for indicator in definition["indicators"]:
        indicator["weight"] = weights.get(indicator["key"], indicator["weight"])
    session.add(
        SustainabilityRubric(
            version=2, title="Rubric 2", definition=definition, effective_on=date(2026, 11, 23)
        )
    )
    await session.flush()


@pytest.fixture
async def innovation_id(session: AsyncSession) -> str:
    owner = await make_institution(session, region_code="33.29")
    return str((await make_innovation(session, institution=owner)).id)


async def test_new_version_becomes_the_current_rubric(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _add_version_2(session)

    current = (await client.get(RUBRIC)).json()
    first = (await client.get(RUBRIC, params={"version": 1})).json()

    assert current["version"] == 2
    assert next(i["weight"] for i in current["indicators"] if i["key"] == "legal_basis") == 30
    assert first["version"] == 1
    assert next(i["weight"] for i in first["indicators"] if i["key"] == "legal_basis") == 20


async def test_new_version_scores_new_assessments_and_leaves_old_ones_as_scored(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], innovation_id: str
) -> None:
    old = await client.post(ASSESSMENTS, json=body(innovation=innovation_id), headers=admin)
    assert (old.json()["score"], old.json()["rubric_version"]) == (95.0, 1)
    await _add_version_2(session)

    new = await client.post(
        ASSESSMENTS,
        json=body(innovation=innovation_id, period=2023, assessed_on="2024-02-01"),
        headers=admin,
    )

    # Same indicators; v2: 22.5 + 15 + 10 + 10 + 10 + 5 + 5 + 5 + 5 + 5.
    assert (new.json()["score"], new.json()["rubric_version"]) == (92.5, 2)
    legal = next(p for p in new.json()["breakdown"] if p["indicator"] == "legal_basis")
    assert (legal["weight"], legal["points"]) == (30, 22.5)
    stored = await stored_assessment(session, old.json()["id"])
    assert (float(stored.score), stored.rubric_version) == (95.0, 1)
    assert (await client.get(f"{ASSESSMENTS}/{old.json()['id']}")).json() == old.json()
