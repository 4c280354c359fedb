"""`GET /sustainability-assessments`: typed filters, sorts and keyset pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import make_commitment, make_innovation, make_institution
from tests.conftest import problem
from tests.sustainability._helpers import ASSESSMENTS, make_assessment


@dataclass
class Seeded:
    origin: str  # innovation id
    commitment: str
    other_innovation: str
    ids: dict[str, str]  # label → assessment id


@pytest.fixture
async def seeded(session: AsyncSession) -> Seeded:
    brebes = await make_institution(session, region_code="33.29")
    pontianak = await make_institution(session, region_code="61.71")
    origin = await make_innovation(session, institution=brebes, title="Asal")
    other = await make_innovation(session, institution=pontianak, title="Lain")
    commitment = await make_commitment(session, innovation=origin, adopter=pontianak)
    made = {
        "origin 2022": await make_assessment(
            session, innovation=origin, period=2022, assessed_on=date(2023, 5, 1)
        ),
        "origin 2023": await make_assessment(
            session, innovation=origin, period=2023, verdict="at_risk", score="50"
        ),
        "replica 2023": await make_assessment(
            session, commitment=commitment, period=2023, assessed_on=date(2024, 8, 1)
        ),
        "replica 2024": await make_assessment(
            session, commitment=commitment, period=2024, verdict="discontinued", score="10"
        ),
        "other 2024": await make_assessment(session, innovation=other, period=2024),
    }
    return Seeded(
        origin=str(origin.id),
        commitment=str(commitment.id),
        other_innovation=str(other.id),
        ids={k: str(v.id) for k, v in made.items()},
    )


async def listed(client: httpx.AsyncClient, **params: Any) -> list[str]:
    r = await client.get(ASSESSMENTS, params=params)
    assert r.status_code == 200, r.text
    return [item["id"] for item in r.json()["items"]]


def labels(seeded: Seeded, ids: list[str]) -> list[str]:
    names = {v: k for k, v in seeded.ids.items()}
    return [names[i] for i in ids]


async def test_list_is_newest_period_first(client: httpx.AsyncClient, seeded: Seeded) -> None:
    ids = await listed(client)

    periods = [int(label.split()[-1]) for label in labels(seeded, ids)]
    assert len(ids) == 5
    assert periods == sorted(periods, reverse=True)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"province": "33"}, {"origin 2022", "origin 2023"}),
        ({"province": "61"}, {"replica 2023", "replica 2024", "other 2024"}),
        ({"period": 2023}, {"origin 2023", "replica 2023"}),
        ({"verdict": "at_risk"}, {"origin 2023"}),
        ({"subject_type": "commitment"}, {"replica 2023", "replica 2024"}),
        ({"subject_type": "innovation", "period": 2024}, {"other 2024"}),
    ],
)
async def test_list_filters(
    client: httpx.AsyncClient, seeded: Seeded, params: dict[str, Any], expected: set[str]
) -> None:
    assert set(labels(seeded, await listed(client, **params))) == expected


async def test_list_filters_by_subject(client: httpx.AsyncClient, seeded: Seeded) -> None:
    by_innovation = await listed(client, innovation=seeded.origin)
    by_commitment = await listed(client, commitment=seeded.commitment)
    by_source = await listed(client, source_innovation=seeded.origin)

    assert labels(seeded, by_innovation) == ["origin 2023", "origin 2022"]
    assert labels(seeded, by_commitment) == ["replica 2024", "replica 2023"]
    assert set(labels(seeded, by_source)) == {
        "origin 2022",
        "origin 2023",
        "replica 2023",
        "replica 2024",
    }


async def test_list_sorts_by_assessment_date(client: httpx.AsyncClient, seeded: Seeded) -> None:
    ids = await listed(client, sort="-assessed_on", commitment=seeded.commitment)

    # replica 2024 was assessed on 2025-02-01, replica 2023 on 2024-08-01.
    assert labels(seeded, ids) == ["replica 2024", "replica 2023"]


@pytest.mark.parametrize("sort", ["-period", "-assessed_on"])
async def test_pages_walk_the_whole_list_once(
    client: httpx.AsyncClient, seeded: Seeded, sort: str
) -> None:
    whole = await listed(client, sort=sort)
    walked: list[str] = []
    params: dict[str, Any] = {"limit": 2, "sort": sort, "include_total": True}
    while True:
        page = (await client.get(ASSESSMENTS, params=params)).json()
        assert page["total"] == 5
        walked += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert walked == whole


async def test_cursor_of_another_sort_is_400(client: httpx.AsyncClient, seeded: Seeded) -> None:
    page = (await client.get(ASSESSMENTS, params={"limit": 1})).json()

    r = await client.get(
        ASSESSMENTS, params={"cursor": page["next_cursor"], "sort": "-assessed_on"}
    )

    assert problem(r, 400)["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    "params",
    [{"verdict": "lapsed"}, {"province": "33.29"}, {"period": 1999}, {"subject_type": "x"}],
)
async def test_bad_filter_is_422(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    r = await client.get(ASSESSMENTS, params=params)

    assert problem(r, 422)["errors"]
