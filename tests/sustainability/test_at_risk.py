"""`GET /sustainability/at-risk` on seeded data: each subject's latest assessment (highest
period) decides, and a fall of 15 points or more since the previous one counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import make_commitment, make_innovation, make_institution
from tests.conftest import problem
from tests.sustainability._helpers import AT_RISK, make_assessment


@dataclass
class Seeded:
    ids: dict[str, str]  # subject name → innovation or commitment id
    latest: dict[str, str]  # subject name → its latest assessment's id


@pytest.fixture
async def seeded(session: AsyncSession) -> Seeded:
    brebes = await make_institution(session, region_code="33.29")
    kudus = await make_institution(session, region_code="33.19")
    pontianak = await make_institution(session, region_code="61.71")
    ids: dict[str, str] = {}
    latest: dict[str, str] = {}

    async def history(name: str, subject: dict[str, Any], *entries: tuple[Any, ...]) -> None:
        """`entries`: (period, score, verdict[, assessed_on]); the last one is the latest."""
        ids[name] = str(next(iter(subject.values())).id)
        for period, score, verdict, *on in entries:
            assessed_on = on[0] if on else None
            made = await make_assessment(
                session,
                period=period,
                score=score,
                verdict=verdict,
                assessed_on=assessed_on,
                **subject,
            )
        latest[name] = str(made.id)

    async def innovation(title: str) -> Any:
        return await make_innovation(session, institution=brebes, title=title)

    fell_to_at_risk = await innovation("fell to at risk")
    await history(
        "fell to at risk",
        {"innovation": fell_to_at_risk},
        (2023, "80", "sustained"),
        (2024, "50", "at_risk"),
    )
    await history(
        "discontinued",
        {"innovation": await innovation("discontinued")},
        (2024, "20", "discontinued"),
    )
    recovered = await innovation("recovered")
    await history(
        "recovered", {"innovation": recovered}, (2023, "50", "at_risk"), (2024, "80", "sustained")
    )
    # The highest period decides, not the latest assessment date (2023 was filled in later).
    await history(
        "backfilled",
        {"innovation": await innovation("backfilled")},
        (2023, "50", "at_risk", date(2025, 6, 1)),
        (2024, "80", "sustained", date(2025, 2, 1)),
    )
    # Commitments replicating `recovered`: their own subjects, apart from the innovation's.
    dropped_15 = await make_commitment(session, innovation=recovered, adopter=kudus)
    await history(
        "dropped 15",
        {"commitment": dropped_15},
        (2023, "90", "sustained"),
        (2024, "75", "sustained"),
    )
    dropped_14_99 = await make_commitment(session, innovation=recovered, adopter=brebes)
    await history(
        "dropped 14.99",
        {"commitment": dropped_14_99},
        (2023, "90", "sustained"),
        (2024, "75.01", "sustained"),
    )
    in_61 = await make_commitment(session, innovation=recovered, adopter=pontianak)
    await history("at risk in 61", {"commitment": in_61}, (2024, "60", "at_risk"))
    return Seeded(ids=ids, latest=latest)


def subject_id(item: dict[str, Any]) -> str:
    return str(item["innovation_id"] or item["commitment_id"])


async def test_at_risk_lists_exactly_the_weak_or_falling_subjects_lowest_score_first(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    r = await client.get(AT_RISK)

    assert r.status_code == 200, r.text
    names = {v: k for k, v in seeded.ids.items()}
    assert [names[subject_id(i)] for i in r.json()["items"]] == [
        "discontinued",
        "fell to at risk",
        "at risk in 61",
        "dropped 15",
    ]


async def test_at_risk_items_say_which_reasons_apply(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    names = {v: k for k, v in seeded.ids.items()}
    items = {names[subject_id(i)]: i for i in (await client.get(AT_RISK)).json()["items"]}

    assert {name: item["reasons"] for name, item in items.items()} == {
        "discontinued": ["verdict_discontinued"],
        "fell to at risk": ["verdict_at_risk", "score_drop"],
        "at risk in 61": ["verdict_at_risk"],
        "dropped 15": ["score_drop"],
    }


async def test_at_risk_item_carries_the_latest_and_previous_assessment(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    items = {subject_id(i): i for i in (await client.get(AT_RISK)).json()["items"]}

    fell = items[seeded.ids["fell to at risk"]]
    single = items[seeded.ids["at risk in 61"]]
    assert fell["assessment_id"] == seeded.latest["fell to at risk"]
    assert (fell["period"], fell["score"], fell["verdict"]) == (2024, 50.0, "at_risk")
    assert (fell["previous_period"], fell["previous_score"], fell["score_change"]) == (
        2023,
        80.0,
        -30.0,
    )
    assert (single["previous_period"], single["previous_score"], single["score_change"]) == (
        None,
        None,
        None,
    )
    assert single["subject_type"] == "commitment"
    assert single["source_innovation_title"] == "recovered"
    assert single["province_code"] == "61"


async def test_at_risk_filters_by_province_subject_type_and_verdict(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    async def listed(**params: Any) -> list[str]:
        items = (await client.get(AT_RISK, params=params)).json()["items"]
        return [subject_id(i) for i in items]

    assert await listed(province="61") == [seeded.ids["at risk in 61"]]
    assert await listed(subject_type="commitment") == [
        seeded.ids["at risk in 61"],
        seeded.ids["dropped 15"],
    ]
    assert await listed(verdict="sustained") == [seeded.ids["dropped 15"]]


async def test_at_risk_pages_walk_the_whole_list_once(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    whole = [subject_id(i) for i in (await client.get(AT_RISK)).json()["items"]]
    walked: list[str] = []
    params: dict[str, Any] = {"limit": 1, "include_total": True}
    while True:
        page = (await client.get(AT_RISK, params=params)).json()
        assert page["total"] == 4
        walked += [subject_id(i) for i in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert walked == whole
    assert len(walked) == 4


async def test_at_risk_refuses_a_cursor_of_another_list(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    due_cursor = (await client.get("/api/v1/sustainability/due", params={"limit": 1})).json()[
        "next_cursor"
    ]
    assert due_cursor is not None

    r = await client.get(AT_RISK, params={"cursor": due_cursor})

    assert problem(r, 400)["code"] == "invalid_cursor"
