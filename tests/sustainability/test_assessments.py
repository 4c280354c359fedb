"""Recording assessments: server-side scoring, one subject, one per period, province scope,
and the commitment transition a sustained verdict brings."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.schemas import today
from app.core.security import Role
from app.models.event import Event
from app.models.innovation import Innovation
from app.models.replication import Commitment
from app.models.sustainability import SustainabilityAssessment
from tests.builders import make_commitment, make_innovation, make_institution
from tests.conftest import MakeKey, bearer, problem, version_of
from tests.sustainability._helpers import (
    ASSESSMENTS,
    WEAK,
    body,
    events_of,
    stored_assessment,
)


async def count_assessments(session: AsyncSession) -> int:
    stmt = select(func.count()).select_from(SustainabilityAssessment)
    return int(await session.scalar(stmt) or 0)


async def count_events(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Event)) or 0)


async def _commitment_now(session: AsyncSession, commitment: Commitment) -> Commitment:
    found = await session.get(Commitment, commitment.id, populate_existing=True)
    assert found is not None
    return found


@pytest.fixture
async def innovation(session: AsyncSession) -> Innovation:
    """A published innovation of Kabupaten Brebes (province 33)."""
    owner = await make_institution(session, region_code="33.29")
    return await make_innovation(session, institution=owner, title="Gerakan Kembali Bersekolah")


@pytest.fixture
async def commitment(session: AsyncSession, innovation: Innovation) -> Commitment:
    """A launched replica of it by an agency of Kota Pontianak (province 61)."""
    name = "Dinas Pendidikan Pontianak"
    adopter = await make_institution(session, name=name, region_code="61.71")
    return await make_commitment(session, innovation=innovation, adopter=adopter)


# --- Recording and scoring ----------------------------------------------------------------


async def test_assessment_of_an_innovation_is_scored_by_the_server_and_stored(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], innovation: Innovation
) -> None:
    r = await client.post(ASSESSMENTS, json=body(innovation=innovation.id), headers=admin)

    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["location"] == f"{ASSESSMENTS}/{created['id']}"
    assert version_of(r.headers["ETag"]) == 1
    assert created["subject_type"] == "innovation"
    assert created["innovation_id"] == str(innovation.id)
    assert created["commitment_id"] is None
    assert created["source_innovation_id"] == str(innovation.id)
    assert created["source_innovation_title"] == "Gerakan Kembali Bersekolah"
    assert created["province_code"] == "33"
    assert (created["score"], created["verdict"], created["rubric_version"]) == (
        95.0,
        "sustained",
        1,
    )
    assert [p["indicator"] for p in created["breakdown"]][:2] == ["legal_basis", "budget_years"]
    row = await stored_assessment(session, created["id"])
    assert (float(row.score), row.verdict, row.rubric_version, row.period) == (
        95.0,
        "sustained",
        1,
        2024,
    )
    assert row.breakdown == created["breakdown"]


async def test_assessment_writes_one_event(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], innovation: Innovation
) -> None:
    r = await client.post(ASSESSMENTS, json=body(innovation=innovation.id), headers=admin)

    events = await events_of(session, r.json()["id"])
    assert [(e.action, e.entity, e.province_code) for e in events] == [
        ("sustainability_assessment.created", "sustainability_assessment", "33")
    ]
    assert events[0].changes["score"] == "95.00"
    assert events[0].changes["verdict"] == "sustained"


async def test_client_cannot_send_a_score_or_verdict(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], innovation: Innovation
) -> None:
    sent = body(innovation=innovation.id, score=100, verdict="sustained")

    r = await client.post(ASSESSMENTS, json=sent, headers=admin)

    pointers = {e["pointer"] for e in problem(r, 422)["errors"]}
    assert pointers == {"/body/score", "/body/verdict"}
    assert await count_assessments(session) == 0


async def test_missing_indicator_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], innovation: Innovation
) -> None:
    sent = body(innovation=innovation.id)
    del sent["complaint_resolution_pct"]

    r = await client.post(ASSESSMENTS, json=sent, headers=admin)

    assert [e["pointer"] for e in problem(r, 422)["errors"]] == ["/body/complaint_resolution_pct"]
    assert await count_assessments(session) == 0


async def test_retry_with_the_same_idempotency_key_replays_and_stores_once(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], commitment: Commitment
) -> None:
    headers = admin | {"Idempotency-Key": "assessment-2024-pontianak"}
    first = await client.post(ASSESSMENTS, json=body(commitment=commitment.id), headers=headers)
    events = await count_events(session)

    again = await client.post(ASSESSMENTS, json=body(commitment=commitment.id), headers=headers)

    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await count_assessments(session) == 1
    assert await count_events(session) == events


# --- Exactly one subject ------------------------------------------------------------------


async def test_both_subjects_is_422_and_stores_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    innovation: Innovation,
    commitment: Commitment,
) -> None:
    events = await count_events(session)
    sent = body(innovation=innovation.id, commitment=commitment.id)

    r = await client.post(ASSESSMENTS, json=sent, headers=admin)

    pointers = {e["pointer"] for e in problem(r, 422)["errors"]}
    assert pointers == {"/body/innovation_id", "/body/commitment_id"}
    assert await count_assessments(session) == 0
    assert await count_events(session) == events


async def test_no_subject_is_422_and_stores_nothing(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    r = await client.post(ASSESSMENTS, json=body(), headers=admin)

    pointers = {e["pointer"] for e in problem(r, 422)["errors"]}
    assert pointers == {"/body/innovation_id", "/body/commitment_id"}
    assert await count_assessments(session) == 0


async def test_unknown_innovation_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    r = await client.post(ASSESSMENTS, json=body(innovation=uuid.uuid4()), headers=admin)

    assert [e["pointer"] for e in problem(r, 422)["errors"]] == ["/body/innovation_id"]


async def test_unknown_commitment_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    r = await client.post(ASSESSMENTS, json=body(commitment=uuid.uuid4()), headers=admin)

    assert [e["pointer"] for e in problem(r, 422)["errors"]] == ["/body/commitment_id"]


async def test_draft_innovation_is_not_assessed(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    owner = await make_institution(session, region_code="33.29")
    draft = await make_innovation(session, institution=owner, status="draft")

    r = await client.post(ASSESSMENTS, json=body(innovation=draft.id), headers=admin)

    assert [e["pointer"] for e in problem(r, 422)["errors"]] == ["/body/innovation_id"]
    assert await count_assessments(session) == 0


# --- One per subject and period -----------------------------------------------------------


async def test_second_assessment_of_an_innovation_for_the_same_period_is_409(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], innovation: Innovation
) -> None:
    first = await client.post(ASSESSMENTS, json=body(innovation=innovation.id), headers=admin)
    assert first.status_code == 201, first.text
    events = await count_events(session)

    again = body(innovation=innovation.id, assessed_on="2025-03-01", **WEAK)
    r = await client.post(ASSESSMENTS, json=again, headers=admin)

    assert problem(r, 409)["code"] == "duplicate_assessment"
    assert await count_assessments(session) == 1
    assert await count_events(session) == events
    assert float((await stored_assessment(session, first.json()["id"])).score) == 95.0


async def test_second_assessment_of_a_commitment_for_the_same_period_is_409(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], commitment: Commitment
) -> None:
    sent = body(commitment=commitment.id, **WEAK)
    first = await client.post(ASSESSMENTS, json=sent, headers=admin)
    assert first.status_code == 201, first.text

    r = await client.post(ASSESSMENTS, json=sent, headers=admin)

    assert problem(r, 409)["code"] == "duplicate_assessment"
    assert await count_assessments(session) == 1


async def test_same_subject_in_another_period_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], innovation: Innovation
) -> None:
    await client.post(ASSESSMENTS, json=body(innovation=innovation.id), headers=admin)

    r = await client.post(
        ASSESSMENTS,
        json=body(innovation=innovation.id, period=2023, assessed_on="2024-02-01"),
        headers=admin,
    )

    assert r.status_code == 201, r.text
    assert await count_assessments(session) == 2


async def test_an_innovation_and_its_replica_are_assessed_in_the_same_period(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    innovation: Innovation,
    commitment: Commitment,
) -> None:
    await client.post(ASSESSMENTS, json=body(innovation=innovation.id), headers=admin)

    r = await client.post(ASSESSMENTS, json=body(commitment=commitment.id), headers=admin)

    assert r.status_code == 201, r.text
    assert await count_assessments(session) == 2


# --- Period and dates ---------------------------------------------------------------------


async def test_future_period_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], innovation: Innovation
) -> None:
    sent = body(innovation=innovation.id, period=today().year + 1)

    r = await client.post(ASSESSMENTS, json=sent, headers=admin)

    assert [e["pointer"] for e in problem(r, 422)["errors"]] == ["/body/period"]


async def test_period_before_2000_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], innovation: Innovation
) -> None:
    sent = body(innovation=innovation.id, period=1999)

    r = await client.post(ASSESSMENTS, json=sent, headers=admin)

    assert [e["pointer"] for e in problem(r, 422)["errors"]] == ["/body/period"]


async def test_assessed_on_in_the_future_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], innovation: Innovation
) -> None:
    tomorrow = (today() + timedelta(days=1)).isoformat()
    sent = body(innovation=innovation.id, period=today().year, assessed_on=tomorrow)

    r = await client.post(ASSESSMENTS, json=sent, headers=admin)

    assert [e["pointer"] for e in problem(r, 422)["errors"]] == ["/body/assessed_on"]


async def test_assessed_on_before_the_period_began_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], innovation: Innovation
) -> None:
    sent = body(innovation=innovation.id, period=2024, assessed_on="2023-12-31")

    r = await client.post(ASSESSMENTS, json=sent, headers=admin)

    assert [e["pointer"] for e in problem(r, 422)["errors"]] == ["/body/assessed_on"]
    assert await count_assessments(session) == 0


async def test_current_year_assessed_today_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], innovation: Innovation
) -> None:
    sent = body(innovation=innovation.id, period=today().year, assessed_on=today().isoformat())

    r = await client.post(ASSESSMENTS, json=sent, headers=admin)

    assert r.status_code == 201, r.text


# --- Who may assess -----------------------------------------------------------------------


async def test_coordinator_assesses_an_innovation_of_its_province(
    client: httpx.AsyncClient, make_key: MakeKey, innovation: Innovation
) -> None:
    key = bearer(await make_key(Role.coordinator, "33"))

    r = await client.post(ASSESSMENTS, json=body(innovation=innovation.id), headers=key)

    assert r.status_code == 201, r.text


async def test_coordinator_of_another_province_gets_403_for_an_innovation(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey, innovation: Innovation
) -> None:
    key = bearer(await make_key(Role.coordinator, "61"))
    events = await count_events(session)

    r = await client.post(ASSESSMENTS, json=body(innovation=innovation.id), headers=key)

    assert problem(r, 403)["code"] == "other_province"
    assert await count_assessments(session) == 0
    assert await count_events(session) == events


async def test_coordinator_of_another_province_gets_403_for_a_commitment(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey, commitment: Commitment
) -> None:
    # The commitment's adopter is in 61; the innovation it replicates is from 33.
    key = bearer(await make_key(Role.coordinator, "33"))

    r = await client.post(ASSESSMENTS, json=body(commitment=commitment.id), headers=key)

    assert problem(r, 403)["code"] == "other_province"
    assert await count_assessments(session) == 0
    assert (await _commitment_now(session, commitment)).status == "launched"


async def test_integration_assesses_a_commitment_of_its_province(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey, commitment: Commitment
) -> None:
    key = bearer(await make_key(Role.integration, "61"))

    r = await client.post(ASSESSMENTS, json=body(commitment=commitment.id, **WEAK), headers=key)

    assert r.status_code == 201, r.text
    assert r.json()["province_code"] == "61"
    assert r.json()["source_innovation_id"] == str(commitment.innovation_id)


async def test_integration_of_another_province_gets_403_for_a_commitment(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey, commitment: Commitment
) -> None:
    key = bearer(await make_key(Role.integration, "33"))

    r = await client.post(ASSESSMENTS, json=body(commitment=commitment.id), headers=key)

    assert problem(r, 403)["code"] == "other_province"
    assert await count_assessments(session) == 0


async def test_integration_may_not_assess_an_innovation_even_of_its_province(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey, innovation: Innovation
) -> None:
    key = bearer(await make_key(Role.integration, "33"))

    r = await client.post(ASSESSMENTS, json=body(innovation=innovation.id), headers=key)

    assert problem(r, 403)["code"] == "role_not_allowed"
    assert await count_assessments(session) == 0


async def test_reviewer_may_not_assess(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey, innovation: Innovation
) -> None:
    key = bearer(await make_key(Role.reviewer))

    r = await client.post(ASSESSMENTS, json=body(innovation=innovation.id), headers=key)

    assert problem(r, 403)["code"] == "role_not_allowed"


# --- The commitment transition ------------------------------------------------------------


async def test_sustained_verdict_moves_a_launched_commitment_to_sustained(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], commitment: Commitment
) -> None:
    version = commitment.version

    r = await client.post(ASSESSMENTS, json=body(commitment=commitment.id), headers=admin)

    assert r.json()["verdict"] == "sustained"
    after = await _commitment_now(session, commitment)
    assert (after.status, after.version) == ("sustained", version + 1)
    transitions = await events_of(session, commitment.id)
    assert [(e.action, e.changes["from"], e.changes["to"]) for e in transitions] == [
        ("commitment.transitioned", "launched", "sustained")
    ]
    assert transitions[0].province_code == "61"


async def test_at_risk_verdict_leaves_a_launched_commitment_launched(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], commitment: Commitment
) -> None:
    r = await client.post(ASSESSMENTS, json=body(commitment=commitment.id, **WEAK), headers=admin)

    assert r.json()["verdict"] == "at_risk"
    assert (await _commitment_now(session, commitment)).status == "launched"
    assert await events_of(session, commitment.id) == []


async def test_sustained_verdict_on_an_in_progress_commitment_is_recorded_without_a_move(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], innovation: Innovation
) -> None:
    adopter = await make_institution(session, region_code="61.71")
    running = await make_commitment(
        session, innovation=innovation, adopter=adopter, status="in_progress"
    )

    r = await client.post(ASSESSMENTS, json=body(commitment=running.id), headers=admin)

    assert r.status_code == 201, r.text
    assert r.json()["verdict"] == "sustained"
    assert (await _commitment_now(session, running)).status == "in_progress"


async def test_not_operating_commitment_is_discontinued_and_stays_launched(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], commitment: Commitment
) -> None:
    sent = body(commitment=commitment.id, operating=False)

    r = await client.post(ASSESSMENTS, json=sent, headers=admin)

    assert (r.json()["score"], r.json()["verdict"]) == (95.0, "discontinued")
    assert (await _commitment_now(session, commitment)).status == "launched"


# --- Reading ------------------------------------------------------------------------------


async def test_get_returns_the_assessment_with_its_etag(
    client: httpx.AsyncClient, admin: dict[str, str], commitment: Commitment
) -> None:
    created = (
        await client.post(ASSESSMENTS, json=body(commitment=commitment.id), headers=admin)
    ).json()

    r = await client.get(f"{ASSESSMENTS}/{created['id']}")

    assert r.status_code == 200
    assert version_of(r.headers["ETag"]) == 1
    assert r.json() == created
    assert r.json()["adopter_name"] == "Dinas Pendidikan Pontianak"


async def test_get_unknown_assessment_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{ASSESSMENTS}/{uuid.uuid4()}")

    assert problem(r, 404)["code"] == "not_found"


# --- Bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"notes": "Perbup\x00 12"}, "/body/notes"),
        ({"notes": "x" * 10_001}, "/body/notes"),
        ({"evidence_urls": ["ftp://jdih.example.go.id/a.pdf"]}, "/body/evidence_urls/0"),
        ({"evidence_urls": ["https://example.go.id/"] * 11}, "/body/evidence_urls"),
        ({"budget_years": 4}, "/body/budget_years"),
        ({"staff_count": -1}, "/body/staff_count"),
        ({"beneficiaries_count": 10**13}, "/body/beneficiaries_count"),
        ({"complaint_resolution_pct": 101}, "/body/complaint_resolution_pct"),
        ({"incentive_idr": -5}, "/body/incentive_idr"),
        ({"legal_basis": "perda"}, "/body/legal_basis"),
        ({"monitoring": None}, "/body/monitoring"),
        ({"period": "2024a"}, "/body/period"),
        ({"assessed_on": "2025-02-30"}, "/body/assessed_on"),
        ({"innovation_id": "not-a-uuid"}, "/body/innovation_id"),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else None,
)
async def test_bad_input_is_422_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    innovation: Innovation,
    fields: dict[str, object],
    pointer: str,
) -> None:
    sent = body(innovation=innovation.id) | fields

    r = await client.post(ASSESSMENTS, json=sent, headers=admin)

    assert pointer in [e["pointer"] for e in problem(r, 422)["errors"]]
    assert await count_assessments(session) == 0
