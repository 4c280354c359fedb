"""Proposing: who may propose what, one open proposal per target, the evidence snapshot, and
the list and get."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role
from app.models.innovation import Innovation
from app.scaling import schemas
from tests.builders import make_award
from tests.conftest import MakeKey, bearer, problem, version_of
from tests.scaling._builders import (
    CANDIDATES,
    PROPOSALS,
    Headers,
    actions_of,
    decide,
    make_assessment,
    make_origin,
    make_replica,
    propose,
    proposed,
    review,
    stored_proposals,
)


@pytest.fixture
async def coordinator(make_key: MakeKey) -> Headers:
    return bearer(await make_key(Role.coordinator, "33"))


@pytest.fixture
async def reviewer(make_key: MakeKey) -> Headers:
    return bearer(await make_key(Role.reviewer))


@pytest.fixture
async def kia(session: AsyncSession) -> Innovation:
    """Kota Surakarta's Kartu Insentif Anak: three live replicas (two provinces outside Jawa
    Tengah), sustained in 2025, one award."""
    kia = await make_origin(session, title="Kartu Insentif Anak", region_code="33.72")
    await make_replica(session, innovation=kia, region_code="33.16", status="launched")
    await make_replica(session, innovation=kia, region_code="35.78", status="sustained")
    await make_replica(session, innovation=kia, region_code="61.01", status="launched")
    await make_replica(session, innovation=kia, region_code="62.01", status="in_progress")
    await make_assessment(session, innovation=kia, period=2024, verdict="at_risk", score=60)
    await make_assessment(session, innovation=kia, period=2025, verdict="sustained", score=84.5)
    await make_award(session, innovation=kia, competition="KIPP", year=2015, tier="top_99")
    return kia


# --- Who may propose what -------------------------------------------------------------------


async def test_coordinator_of_another_province_may_not_propose(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey, kia: Innovation
) -> None:
    r = await propose(client, bearer(await make_key(Role.coordinator, "61")), kia)

    assert problem(r, 403)["code"] == "other_province"
    assert await stored_proposals(session) == []
    assert await actions_of(session, kia.id) == []


async def test_coordinator_may_not_propose_a_provincial_programme_of_another_province(
    client: httpx.AsyncClient, session: AsyncSession, coordinator: Headers, kia: Innovation
) -> None:
    r = await propose(
        client, coordinator, kia, target_scale="provincial", target_province_code="61"
    )

    assert problem(r, 403)["code"] == "other_province"
    assert await stored_proposals(session) == []


async def test_admin_may_propose_a_provincial_programme_of_any_province(
    client: httpx.AsyncClient, admin: Headers, kia: Innovation
) -> None:
    r = await propose(client, admin, kia, target_scale="provincial", target_province_code="61")

    assert r.status_code == 201, r.text
    assert (r.json()["province_code"], r.json()["target_province_code"]) == ("33", "61")


@pytest.mark.parametrize(
    ("target_scale", "province", "pointer"),
    [
        ("provincial", None, "/body/target_province_code"),
        ("national", "33", "/body/target_province_code"),
        ("provincial", "99", "/body/target_province_code"),
        ("provincial", "33.72", "/body/target_province_code"),
    ],
    ids=["provincial without province", "national with province", "unknown", "a city"],
)
async def test_target_province_must_match_the_target_scale(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    kia: Innovation,
    target_scale: str,
    province: str | None,
    pointer: str,
) -> None:
    r = await propose(client, admin, kia, target_scale=target_scale, target_province_code=province)

    assert problem(r, 422)["errors"][0]["pointer"] == pointer
    assert await stored_proposals(session) == []


@pytest.mark.parametrize("status", ["draft", "withdrawn"])
async def test_only_published_innovations_can_be_proposed(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, status: str
) -> None:
    innovation = await make_origin(session, status=status)

    r = await propose(client, admin, innovation)

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/innovation_id"
    assert await stored_proposals(session) == []


async def test_unknown_innovation_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    r = await propose(client, admin, "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a")

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/innovation_id"


@pytest.mark.parametrize(
    ("scale", "target_scale", "province"),
    [
        ("national", "national", None),
        ("national", "provincial", "33"),
        ("provincial", "provincial", "33"),
    ],
)
async def test_an_innovation_already_at_or_above_the_target_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    scale: str,
    target_scale: str,
    province: str | None,
) -> None:
    innovation = await make_origin(session, scale=scale)

    r = await propose(
        client, admin, innovation, target_scale=target_scale, target_province_code=province
    )

    assert problem(r, 409)["code"] == "already_at_scale"
    assert await stored_proposals(session) == []


async def test_a_provincial_innovation_may_be_proposed_for_national(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    innovation = await make_origin(session, scale="provincial")

    r = await propose(client, admin, innovation, target_scale="national")

    assert r.status_code == 201, r.text


async def test_blank_rationale_is_422(
    client: httpx.AsyncClient, admin: Headers, kia: Innovation
) -> None:
    r = await propose(client, admin, kia, rationale="   ")

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/rationale"


# --- One open proposal per (innovation, target) -----------------------------------------


async def test_a_second_open_proposal_for_the_same_target_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    coordinator: Headers,
    kia: Innovation,
) -> None:
    first = await proposed(client, admin, kia)

    r = await propose(client, coordinator, kia)

    assert problem(r, 409)["code"] == "duplicate_proposal"
    assert [str(p.id) for p in await stored_proposals(session)] == [first.json()["id"]]


async def test_a_deferred_proposal_is_still_open(
    client: httpx.AsyncClient, admin: Headers, reviewer: Headers, kia: Innovation
) -> None:
    created = await proposed(client, admin, kia)
    reviewed = await review(client, reviewer, created.json()["id"])
    deferred = await decide(
        client, reviewer, created.json()["id"], "deferred", reviewed.headers["etag"]
    )
    assert deferred.status_code == 200, deferred.text

    r = await propose(client, admin, kia)

    assert problem(r, 409)["code"] == "duplicate_proposal"


async def test_a_new_proposal_is_allowed_after_the_previous_one_was_rejected(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    reviewer: Headers,
    kia: Innovation,
) -> None:
    created = await proposed(client, admin, kia)
    reviewed = await review(client, reviewer, created.json()["id"])
    await decide(client, reviewer, created.json()["id"], "rejected", reviewed.headers["etag"])

    r = await propose(client, admin, kia, rationale="Diajukan kembali dengan Perda.")

    assert r.status_code == 201, r.text
    assert {str(p.id): p.status for p in await stored_proposals(session)} == {
        created.json()["id"]: "rejected",
        r.json()["id"]: "submitted",
    }


async def test_open_proposals_for_different_targets_coexist(
    client: httpx.AsyncClient, admin: Headers, kia: Innovation
) -> None:
    await proposed(client, admin, kia, target_scale="national")
    await proposed(client, admin, kia, target_scale="provincial", target_province_code="33")

    r = await propose(client, admin, kia, target_scale="provincial", target_province_code="35")

    assert r.status_code == 201, r.text


# --- The evidence snapshot --------------------------------------------------------------


async def test_the_evidence_is_the_innovation_figures_and_default_criteria_when_proposed(
    client: httpx.AsyncClient, admin: Headers, kia: Innovation
) -> None:
    r = await proposed(client, admin, kia)

    evidence = r.json()["evidence"]
    assert evidence | {"taken_at": None} == {
        "taken_at": None,
        "criteria": {
            "replicas": {"value": 3, "threshold": 3, "met": True},
            "other_provinces": {"value": 2, "threshold": 2, "met": True},
            "origin_sustained": {"value": "sustained", "threshold": "sustained", "met": True},
            "awards": {"value": 1, "threshold": 1, "met": True},
        },
        "criteria_met": 4,
        "criteria_total": 4,
        "eligible": True,
        "replications_by_status": {"launched": 2, "sustained": 1, "in_progress": 1},
        "provinces_reached": 4,
        "awards": [{"competition": "KIPP", "year": 2015, "tier": "top_99"}],
        "latest_verdict": "sustained",
        "latest_score": 84.5,
        "latest_period": 2025,
    }


async def test_the_evidence_does_not_change_when_the_data_does(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, kia: Innovation
) -> None:
    created = await proposed(client, admin, kia)
    snapshot = created.json()["evidence"]
    await make_replica(session, innovation=kia, region_code="63.01", status="sustained")
    await make_assessment(session, innovation=kia, period=2026, verdict="discontinued")
    await make_award(session, innovation=kia, competition="IGA", year=2016, tier="winner")
    now = (await client.get(CANDIDATES, params={"limit": 200})).json()["items"]
    [candidate] = [c for c in now if c["innovation"]["id"] == str(kia.id)]
    assert candidate["criteria"]["replicas"]["value"] == 4  # the data did change

    served = await client.get(f"{PROPOSALS}/{created.json()['id']}")

    assert served.json()["evidence"] == snapshot
    [stored] = await stored_proposals(session)
    assert stored.evidence == snapshot


async def test_the_database_refuses_to_change_the_evidence(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, kia: Innovation
) -> None:
    created = await proposed(client, admin, kia)

    with pytest.raises(DBAPIError, match="keeps its evidence"):
        async with session.begin_nested():
            await session.execute(
                text("UPDATE scaling_proposals SET evidence = '{}' WHERE id = :id"),
                {"id": created.json()["id"]},
            )


# --- List and get ---------------------------------------------------------------------------


async def _three_proposals(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    reviewer: Headers,
) -> dict[str, str]:
    """A national proposal under review (Jawa Tengah), a provincial one submitted, and a
    national one of a Jawa Barat innovation; created in that order."""
    central = await make_origin(session, title="Jawa Tengah", region_code="33.72")
    west = await make_origin(session, title="Jawa Barat", region_code="32.73")
    national = (await proposed(client, admin, central)).json()["id"]
    await review(client, reviewer, national)
    provincial = (
        await proposed(client, admin, central, target_scale="provincial", target_province_code="33")
    ).json()["id"]
    west_national = (await proposed(client, admin, west)).json()["id"]
    # One transaction gives every row the same created_at: spread them out.
    for n, proposal_id in enumerate((national, provincial, west_national)):
        await session.execute(
            text(
                "UPDATE scaling_proposals SET created_at = now() + make_interval(mins => :n) "
                "WHERE id = :id"
            ),
            {"n": n, "id": proposal_id},
        )
    return {
        "central_national": national,
        "central_provincial": provincial,
        "west_national": west_national,
        "central_innovation": str(central.id),
    }


def _ids(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [p["id"] for p in r.json()["items"]]


async def test_list_is_newest_first_and_walks_pages(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, reviewer: Headers
) -> None:
    made = await _three_proposals(client, session, admin, reviewer)

    first = await client.get(PROPOSALS, params={"limit": 2, "include_total": "true"})
    second = await client.get(PROPOSALS, params={"limit": 2, "cursor": first.json()["next_cursor"]})

    assert first.json()["total"] == 3
    assert _ids(first) + _ids(second) == [
        made["west_national"],
        made["central_provincial"],
        made["central_national"],
    ]
    assert second.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "under_review"}, ["central_national"]),
        ({"status": "submitted"}, ["west_national", "central_provincial"]),
        ({"target_scale": "provincial"}, ["central_provincial"]),
        ({"target_scale": "national"}, ["west_national", "central_national"]),
        ({"province": "32"}, ["west_national"]),
        ({"innovation": "central_innovation"}, ["central_provincial", "central_national"]),
        ({"status": "approved"}, []),
    ],
)
async def test_list_filters(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    reviewer: Headers,
    params: dict[str, str],
    expected: list[str],
) -> None:
    made = await _three_proposals(client, session, admin, reviewer)
    query = {k: made.get(v, v) for k, v in params.items()}

    assert _ids(await client.get(PROPOSALS, params=query)) == [made[e] for e in expected]


async def test_get_serves_the_proposal_with_its_etag_to_anonymous_clients(
    client: httpx.AsyncClient, admin: Headers, reviewer: Headers, kia: Innovation
) -> None:
    created = await proposed(client, admin, kia)
    await review(client, reviewer, created.json()["id"])

    r = await client.get(f"{PROPOSALS}/{created.json()['id']}")

    assert r.status_code == 200, r.text
    assert version_of(r.headers["ETag"]) == 2
    body = r.json()
    assert (body["innovation_title"], body["status"], body["version"]) == (
        "Kartu Insentif Anak",
        "under_review",
        2,
    )
    assert body["evidence"] == created.json()["evidence"]


# --- Documentation --------------------------------------------------------------------------


def _examples(model: type[BaseModel]) -> list[Any]:
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict)
    return list(extra["examples"])


@pytest.mark.parametrize(
    "model",
    [
        schemas.Candidate,
        schemas.Evidence,
        schemas.ProposalCreate,
        schemas.ReviewRequest,
        schemas.DecisionRequest,
        schemas.ProposalRead,
    ],
)
def test_schema_examples_validate(model: type[BaseModel]) -> None:
    examples = _examples(model)

    assert examples
    for example in examples:
        model.model_validate(example)
