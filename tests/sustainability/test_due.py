"""`GET /sustainability/due` on seeded data: exactly the subjects with no assessment in the
last 12 months, with the edges of "a year" on both sides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.schemas import today
from app.models.innovation import Innovation
from app.sustainability.service import year_before
from tests.builders import make_commitment, make_innovation, make_institution
from tests.conftest import problem
from tests.sustainability._helpers import DUE, make_assessment


@dataclass
class Seeded:
    due: dict[str, str]  # name → id of every subject that must be listed
    not_due: dict[str, str]
    ids: dict[str, str]  # every subject by name


async def _assessed(session: AsyncSession, on: date, **subject: Any) -> None:
    await make_assessment(session, period=on.year - 1, assessed_on=on, **subject)


@pytest.fixture
async def seeded(session: AsyncSession) -> Seeded:
    now = today()
    year_ago = year_before(now)
    brebes = await make_institution(session, region_code="33.29")
    pontianak = await make_institution(session, region_code="61.71")
    kudus = await make_institution(session, kind="regency_government", region_code="33.19")

    async def innovation(title: str, **kwargs: Any) -> Innovation:
        kwargs.setdefault("institution", brebes)
        return await make_innovation(session, title=title, **kwargs)

    launched_a_year_ago = await innovation("launched a year ago today", launched_on=year_ago)
    launched_within_a_year = await innovation(
        "launched a year ago tomorrow", launched_on=year_ago + timedelta(days=1)
    )
    registered_two_years_ago = await innovation("undated, registered 2 years ago", launched_on=None)
    await session.execute(
        update(Innovation)
        .where(Innovation.id == registered_two_years_ago.id)
        .values(created_at=Innovation.created_at - timedelta(days=730))
    )
    registered_today = await innovation("undated, registered today", launched_on=None)
    draft = await innovation("draft", status="draft", launched_on=date(2019, 1, 1))
    withdrawn = await innovation("withdrawn", status="withdrawn", launched_on=date(2019, 1, 1))
    assessed_a_year_ago = await innovation("assessed a year ago today")
    await _assessed(session, year_ago, innovation=assessed_a_year_ago)
    assessed_within_a_year = await innovation("assessed a year ago tomorrow")
    await _assessed(session, year_ago + timedelta(days=1), innovation=assessed_within_a_year)
    in_west_kalimantan = await innovation("of province 61", institution=pontianak)

    source = launched_within_a_year
    launched_never_assessed = await make_commitment(session, innovation=source, adopter=kudus)
    sustained_assessed_2_years_ago = await make_commitment(
        session, innovation=source, adopter=pontianak, status="sustained"
    )
    await _assessed(
        session, year_ago - timedelta(days=365), commitment=sustained_assessed_2_years_ago
    )
    launched_assessed_yesterday = await make_commitment(session, innovation=source, adopter=brebes)
    await _assessed(session, now - timedelta(days=1), commitment=launched_assessed_yesterday)
    in_progress = await make_commitment(
        session, innovation=launched_a_year_ago, adopter=kudus, status="in_progress"
    )
    cancelled = await make_commitment(
        session, innovation=launched_a_year_ago, adopter=pontianak, status="cancelled"
    )

    due = {
        "launched a year ago today": launched_a_year_ago.id,
        "undated, registered 2 years ago": registered_two_years_ago.id,
        "assessed a year ago today": assessed_a_year_ago.id,
        "of province 61": in_west_kalimantan.id,
        "launched commitment, never assessed": launched_never_assessed.id,
        "sustained commitment, assessed 2 years ago": sustained_assessed_2_years_ago.id,
    }
    not_due = {
        "launched a year ago tomorrow": launched_within_a_year.id,
        "undated, registered today": registered_today.id,
        "draft": draft.id,
        "withdrawn": withdrawn.id,
        "assessed a year ago tomorrow": assessed_within_a_year.id,
        "launched commitment, assessed yesterday": launched_assessed_yesterday.id,
        "in-progress commitment": in_progress.id,
        "cancelled commitment": cancelled.id,
    }
    as_text = {k: str(v) for k, v in (due | not_due).items()}
    return Seeded(
        due={k: str(v) for k, v in due.items()},
        not_due={k: str(v) for k, v in not_due.items()},
        ids=as_text,
    )


def subject_id(item: dict[str, Any]) -> str:
    return str(item["innovation_id"] or item["commitment_id"])


async def test_due_lists_exactly_the_subjects_without_an_assessment_in_12_months(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    r = await client.get(DUE)

    assert r.status_code == 200, r.text
    names = {v: k for k, v in seeded.ids.items()}
    assert sorted(names[subject_id(i)] for i in r.json()["items"]) == sorted(seeded.due)


async def test_due_items_say_why_they_are_due(client: httpx.AsyncClient, seeded: Seeded) -> None:
    items = {subject_id(i): i for i in (await client.get(DUE)).json()["items"]}
    year_ago = year_before(today())

    never = items[seeded.due["launched a year ago today"]]
    expired = items[seeded.due["assessed a year ago today"]]
    commitment = items[seeded.due["sustained commitment, assessed 2 years ago"]]
    assert (never["reason"], never["last_assessed_on"], never["last_period"]) == (
        "never_assessed",
        None,
        None,
    )
    assert never["launched_on"] == year_ago.isoformat()
    assert (expired["reason"], expired["last_assessed_on"], expired["last_period"]) == (
        "last_assessment_over_12_months",
        year_ago.isoformat(),
        year_ago.year - 1,
    )
    assert commitment["subject_type"] == "commitment"
    assert commitment["status"] == "sustained"
    assert commitment["reason"] == "last_assessment_over_12_months"
    assert commitment["source_innovation_title"] == "launched a year ago tomorrow"
    assert commitment["province_code"] == "61"


async def test_due_lists_never_assessed_first_then_the_longest_since_assessed(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    items = (await client.get(DUE)).json()["items"]

    never = sorted(
        seeded.due[name]
        for name in (
            "launched a year ago today",
            "undated, registered 2 years ago",
            "of province 61",
            "launched commitment, never assessed",
        )
    )
    assert [subject_id(i) for i in items] == [
        *never,
        seeded.due["sustained commitment, assessed 2 years ago"],
        seeded.due["assessed a year ago today"],
    ]


async def test_due_pages_walk_the_whole_list_once(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    whole = [subject_id(i) for i in (await client.get(DUE)).json()["items"]]
    walked: list[str] = []
    params: dict[str, Any] = {"limit": 2, "include_total": True}
    while True:
        page = (await client.get(DUE, params=params)).json()
        assert page["total"] == 6
        walked += [subject_id(i) for i in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert walked == whole


async def test_due_filters_by_province(client: httpx.AsyncClient, seeded: Seeded) -> None:
    r = await client.get(DUE, params={"province": "61"})

    assert sorted(subject_id(i) for i in r.json()["items"]) == sorted(
        [seeded.due["of province 61"], seeded.due["sustained commitment, assessed 2 years ago"]]
    )


async def test_due_filters_by_subject_type(client: httpx.AsyncClient, seeded: Seeded) -> None:
    r = await client.get(DUE, params={"subject_type": "commitment"})

    assert sorted(subject_id(i) for i in r.json()["items"]) == sorted(
        [
            seeded.due["launched commitment, never assessed"],
            seeded.due["sustained commitment, assessed 2 years ago"],
        ]
    )


async def test_due_refuses_a_tampered_cursor(client: httpx.AsyncClient) -> None:
    r = await client.get(DUE, params={"cursor": "abc"})

    assert problem(r, 400)["code"] == "invalid_cursor"


def test_year_before_a_29_february_is_28_february() -> None:
    assert year_before(date(2028, 2, 29)) == date(2027, 2, 28)
    assert year_before(date(2026, 11, 23)) == date(2025, 11, 23)
