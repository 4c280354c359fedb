"""Builders and helpers of the scaling tests: replicas, origin assessments, API calls.

Commitments and assessments are inserted directly (the tests are about what scaling derives
from them, not about how they are made); everything stays in the test's transaction.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.event import Event
from app.models.innovation import Innovation
from app.models.replication import Commitment, ReplicationProgram
from app.models.scaling import ScalingProposal
from app.models.sustainability import SustainabilityAssessment
from tests.builders import make_commitment, make_innovation, make_institution, make_program

PROPOSALS = "/api/v1/scaling-proposals"
CANDIDATES = "/api/v1/scaling/candidates"
Headers = dict[str, str]


async def make_replica(
    session: AsyncSession,
    *,
    innovation: Innovation,
    region_code: str,
    status: str = "launched",
    program: ReplicationProgram | None = None,
) -> Commitment:
    """A commitment of a new regency government in `region_code` to adopt `innovation`."""
    adopter = await make_institution(session, kind="regency_government", region_code=region_code)
    program = program or await make_program(session, province_code=None)
    return await make_commitment(
        session, innovation=innovation, adopter=adopter, status=status, program=program
    )


async def make_assessment(
    session: AsyncSession,
    *,
    innovation: Innovation,
    period: int,
    verdict: str,
    score: float = 80.0,
    commitment: Commitment | None = None,
) -> SustainabilityAssessment:
    """An assessment of the innovation at its origin (or, with `commitment`, of a replica)."""
    await session.execute(
        text(
            "INSERT INTO sustainability_rubrics (version, title, definition, effective_on) "
            "VALUES (1, 'v1', '{}', '2026-01-01') ON CONFLICT DO NOTHING"
        )
    )
    assessment = SustainabilityAssessment(
        innovation_id=None if commitment else innovation.id,
        commitment_id=commitment.id if commitment else None,
        source_innovation_id=innovation.id,
        province_code=commitment.adopter_province_code if commitment else innovation.province_code,
        period=period,
        operating=verdict != "discontinued",
        survived_leadership_change="yes",
        legal_basis="head_regulation",
        budget_years=3,
        in_regional_plan=True,
        in_performance_indicators=True,
        has_sop=True,
        staff_count=4,
        beneficiaries_count=1000,
        monitoring="internal",
        assessed_on=date(period, 12, 1),
        score=score,
        verdict=verdict,
        rubric_version=1,
    )
    session.add(assessment)
    await session.flush()
    return assessment


async def make_origin(
    session: AsyncSession,
    *,
    title: str = "Inovasi Uji",
    region_code: str = "33.72",
    status: str = "published",
    scale: str = "local",
) -> Innovation:
    """A published innovation of an agency in `region_code` (Kota Surakarta by default)."""
    institution = await make_institution(session, region_code=region_code)
    return await make_innovation(
        session, institution=institution, title=title, status=status, scale=scale
    )


async def stored_innovation(session: AsyncSession, innovation_id: object) -> Innovation:
    row = await session.get(Innovation, uuid.UUID(str(innovation_id)), populate_existing=True)
    assert row is not None
    return row


async def stored_proposals(session: AsyncSession) -> list[ScalingProposal]:
    stmt = select(ScalingProposal).order_by(ScalingProposal.created_at, ScalingProposal.id)
    return list((await session.scalars(stmt.execution_options(populate_existing=True))).all())


async def actions_of(session: AsyncSession, entity_id: object) -> list[str]:
    stmt = select(Event.action).where(Event.entity_id == str(entity_id)).order_by(Event.id)
    return list((await session.scalars(stmt)).all())


async def propose(
    client: httpx.AsyncClient,
    headers: Headers,
    innovation: Innovation | str,
    target_scale: str = "national",
    target_province_code: str | None = None,
    rationale: str = "Direplikasi luas dan berkelanjutan.",
) -> httpx.Response:
    body: dict[str, Any] = {
        "innovation_id": str(innovation.id if isinstance(innovation, Innovation) else innovation),
        "target_scale": target_scale,
        "rationale": rationale,
    }
    if target_province_code is not None:
        body["target_province_code"] = target_province_code
    return await client.post(PROPOSALS, json=body, headers=headers)


async def proposed(
    client: httpx.AsyncClient, headers: Headers, innovation: Innovation, **fields: Any
) -> httpx.Response:
    r = await propose(client, headers, innovation, **fields)
    assert r.status_code == 201, r.text
    return r


async def review(
    client: httpx.AsyncClient, headers: Headers, proposal_id: str, **extra: Any
) -> httpx.Response:
    return await client.post(f"{PROPOSALS}/{proposal_id}/review", json={}, headers=headers | extra)


async def decide(
    client: httpx.AsyncClient,
    headers: Headers,
    proposal_id: str,
    outcome: str,
    etag: str | None,
    notes: str = "Dibahas tim penilai.",
    conditions: str = "",
) -> httpx.Response:
    if etag is not None:
        headers = headers | {"If-Match": etag}
    return await client.post(
        f"{PROPOSALS}/{proposal_id}/decision",
        json={"outcome": outcome, "notes": notes, "conditions": conditions},
        headers=headers,
    )
