"""`GET /scaling/candidates`: every criterion explained, thresholds, ranking, pages, one
statement per page."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.models.innovation import Innovation
from tests.builders import make_award
from tests.conftest import problem
from tests.scaling._builders import CANDIDATES, make_assessment, make_origin, make_replica


async def seed_kartu_insentif_anak(session: AsyncSession) -> Innovation:
    """Kota Surakarta's innovation: four live replicas but in one other province only, an
    origin that was sustained in 2024 and at risk in 2025, and two awards."""
    kia = await make_origin(session, title="Kartu Insentif Anak", region_code="33.72")
    await make_replica(session, innovation=kia, region_code="33.16", status="launched")
    await make_replica(session, innovation=kia, region_code="33.19", status="sustained")
    await make_replica(session, innovation=kia, region_code="35.78", status="launched")
    await make_replica(session, innovation=kia, region_code="35.15", status="sustained")
    # Not live: neither counts as a replica nor as a province reached.
    await make_replica(session, innovation=kia, region_code="61.01", status="committed")
    await make_replica(session, innovation=kia, region_code="62.01", status="cancelled")
    await make_assessment(session, innovation=kia, period=2024, verdict="sustained")
    await make_assessment(session, innovation=kia, period=2025, verdict="at_risk", score=55.5)
    await make_award(session, innovation=kia, competition="KIPP", year=2015, tier="top_99")
    await make_award(session, innovation=kia, competition="IGA", year=2016, tier="winner")
    return kia


async def candidate_of(
    client: httpx.AsyncClient, innovation: Innovation, **params: Any
) -> dict[str, Any]:
    r = await client.get(CANDIDATES, params=params | {"limit": 200})
    assert r.status_code == 200, r.text
    [found] = [c for c in r.json()["items"] if c["innovation"]["id"] == str(innovation.id)]
    return dict(found)


async def ranking(client: httpx.AsyncClient, **params: Any) -> list[str]:
    r = await client.get(CANDIDATES, params=params | {"limit": 200})
    assert r.status_code == 200, r.text
    return [c["innovation"]["title"] for c in r.json()["items"]]


async def test_seeded_candidate_explains_exactly_which_criteria_it_meets_and_misses(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    kia = await seed_kartu_insentif_anak(session)

    candidate = await candidate_of(client, kia)

    assert candidate == {
        "innovation": {
            "id": str(kia.id),
            "title": "Kartu Insentif Anak",
            "province_code": "33",
            "scale": "local",
        },
        "criteria": {
            "replicas": {"value": 4, "threshold": 3, "met": True},
            "other_provinces": {"value": 1, "threshold": 2, "met": False},
            "origin_sustained": {"value": "at_risk", "threshold": "sustained", "met": False},
            "awards": {"value": 2, "threshold": 1, "met": True},
        },
        "criteria_met": 2,
        "criteria_total": 4,
        "eligible": False,
    }


async def test_threshold_overrides_turn_missed_criteria_into_met_ones(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    kia = await seed_kartu_insentif_anak(session)

    candidate = await candidate_of(
        client, kia, min_other_provinces=1, require_sustained="false", min_awards=2
    )

    assert candidate["criteria"] == {
        "replicas": {"value": 4, "threshold": 3, "met": True},
        "other_provinces": {"value": 1, "threshold": 1, "met": True},
        "origin_sustained": {"value": "at_risk", "threshold": None, "met": True},
        "awards": {"value": 2, "threshold": 2, "met": True},
    }
    assert (candidate["criteria_met"], candidate["eligible"]) == (4, True)


async def test_threshold_overrides_turn_met_criteria_into_missed_ones(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    kia = await seed_kartu_insentif_anak(session)

    candidate = await candidate_of(client, kia, min_replicas=5, min_awards=3)

    assert candidate["criteria"]["replicas"] == {"value": 4, "threshold": 5, "met": False}
    assert candidate["criteria"]["awards"] == {"value": 2, "threshold": 3, "met": False}
    assert candidate["criteria_met"] == 0


async def test_origin_verdict_is_the_assessment_of_the_highest_period_at_the_origin(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    origin = await make_origin(session, title="Asal")
    replica = await make_replica(session, innovation=origin, region_code="35.78")
    # Inserted out of order; and a replica's assessment is not the origin's.
    await make_assessment(session, innovation=origin, period=2025, verdict="sustained")
    await make_assessment(session, innovation=origin, period=2023, verdict="discontinued")
    await make_assessment(
        session, innovation=origin, period=2026, verdict="discontinued", commitment=replica
    )

    criteria = (await candidate_of(client, origin))["criteria"]

    assert criteria["origin_sustained"] == {
        "value": "sustained",
        "threshold": "sustained",
        "met": True,
    }


async def test_an_origin_never_assessed_misses_the_sustained_criterion(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    origin = await make_origin(session, title="Belum dinilai")

    candidate = await candidate_of(client, origin)

    assert candidate["criteria"] == {
        "replicas": {"value": 0, "threshold": 3, "met": False},
        "other_provinces": {"value": 0, "threshold": 2, "met": False},
        "origin_sustained": {"value": None, "threshold": "sustained", "met": False},
        "awards": {"value": 0, "threshold": 1, "met": False},
    }


async def test_other_provinces_count_live_replicas_outside_the_origin_province_once_each(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    origin = await make_origin(session, region_code="33.72")
    for region in ("33.16", "35.78", "35.15", "61.01"):
        await make_replica(session, innovation=origin, region_code=region, status="sustained")
    await make_replica(session, innovation=origin, region_code="62.01", status="in_progress")
    await make_replica(session, innovation=origin, region_code="63.01", status="stalled")

    criteria = (await candidate_of(client, origin))["criteria"]

    assert criteria["replicas"]["value"] == 4
    assert criteria["other_provinces"] == {"value": 2, "threshold": 2, "met": True}


async def test_national_and_unpublished_innovations_are_not_candidates(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_origin(session, title="Lokal")
    await make_origin(session, title="Provinsi", scale="provincial")
    await make_origin(session, title="Nasional", scale="national")
    await make_origin(session, title="Draf", status="draft")
    await make_origin(session, title="Ditarik", status="withdrawn")

    assert sorted(await ranking(client)) == ["Lokal", "Provinsi"]


async def test_candidates_rank_by_criteria_met_then_replicas(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    none_met = await make_origin(session, title="Nol")
    await make_replica(session, innovation=none_met, region_code="35.78")
    awarded = await make_origin(session, title="Satu, tanpa replika")
    await make_award(session, innovation=awarded)
    busy = await make_origin(session, title="Satu, dua replika")
    await make_replica(session, innovation=busy, region_code="33.16")
    await make_replica(session, innovation=busy, region_code="33.19")
    await make_award(session, innovation=busy)
    best = await make_origin(session, title="Empat")
    for region in ("35.78", "61.01", "62.01"):
        await make_replica(session, innovation=best, region_code=region)
    await make_assessment(session, innovation=best, period=2025, verdict="sustained")
    await make_award(session, innovation=best)

    assert await ranking(client) == ["Empat", "Satu, dua replika", "Satu, tanpa replika", "Nol"]


async def test_only_eligible_lists_the_innovations_meeting_every_criterion(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await seed_kartu_insentif_anak(session)
    other = await make_origin(session, title="Tanpa replika")
    await make_award(session, innovation=other)

    assert await ranking(client, only_eligible="true") == []
    assert await ranking(
        client, only_eligible="true", min_other_provinces=1, require_sustained="false"
    ) == ["Kartu Insentif Anak"]


async def test_province_filter_keeps_innovations_of_that_origin_province(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_origin(session, title="Jawa Tengah", region_code="33.72")
    await make_origin(session, title="Jawa Barat", region_code="32.73")

    assert await ranking(client, province="32") == ["Jawa Barat"]


async def test_pages_walk_the_whole_ranking_once_with_total(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    for n in range(5):
        origin = await make_origin(session, title=f"Inovasi {n}")
        for region in ("35.78", "61.01", "62.01")[: n % 4]:
            await make_replica(session, innovation=origin, region_code=region)
    expected = await ranking(client)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "include_total": "true"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(CANDIDATES, params=params)).json()
        assert page["total"] == 5
        seen += [c["innovation"]["title"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == expected
    assert len(set(seen)) == 5


async def test_a_cursor_made_for_other_thresholds_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    for n in range(3):
        await make_origin(session, title=f"Inovasi {n}")
    first = (await client.get(CANDIDATES, params={"limit": 1})).json()

    r = await client.get(CANDIDATES, params={"limit": 1, "cursor": first["next_cursor"]})
    assert r.status_code == 200, r.text
    r = await client.get(
        CANDIDATES, params={"limit": 1, "cursor": first["next_cursor"], "min_replicas": 1}
    )
    assert problem(r, 400)["code"] == "invalid_cursor"


async def test_negative_threshold_is_422(client: httpx.AsyncClient) -> None:
    r = await client.get(CANDIDATES, params={"min_replicas": -1})

    assert problem(r, 422)["errors"][0]["pointer"] == "/query/min_replicas"


async def test_a_page_is_one_statement_however_many_candidates(
    client: httpx.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    async def statements_for_a_page() -> list[str]:
        statements.clear()
        event.listen(connection.sync_connection, "before_cursor_execute", count)
        try:
            r = await client.get(CANDIDATES, params={"limit": 50})
        finally:
            event.remove(connection.sync_connection, "before_cursor_execute", count)
        assert r.status_code == 200, r.text
        return list(statements)

    await seed_kartu_insentif_anak(session)
    with_one = await statements_for_a_page()
    for n in range(10):
        origin = await make_origin(session, title=f"Inovasi {n}")
        await make_replica(session, innovation=origin, region_code="35.78")
        await make_assessment(session, innovation=origin, period=2025, verdict="sustained")
        await make_award(session, innovation=origin)

    with_eleven = await statements_for_a_page()

    assert len(with_eleven) == len(with_one)
    assert len([s for s in with_eleven if "FROM innovation_figures" in s]) == 1
