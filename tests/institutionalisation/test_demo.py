"""The institutionalisation part of the demo: Jawa Tengah's compliance view, the regulations,
the hubs (Kalimantan Barat's programme mentored by Universitas Tanjungpura's) and the
incentives, all marked as demo data."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import data
from app.demo import institutionalisation as demo
from tests._demo import connection, demo_connection

__all__ = ["connection", "demo_connection"]


async def test_jawa_tengah_2025_shows_opds_with_and_without_an_innovation(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get(
        "/api/v1/institutionalisation/compliance", params={"region": "33", "year": 2025}
    )

    assert r.status_code == 200, r.text
    governments = {g["name"]: g for g in r.json()["governments"]}
    province = governments["Pemerintah Provinsi Jawa Tengah"]
    semarang = governments["Pemerintah Kota Semarang"]
    assert (province["opds"], province["opds_with_innovation"], province["mandated"]) == (
        6,
        3,
        True,
    )
    assert [m["title"] for m in province["mandated_by"]] == ["Satu OPD Satu Inovasi"]
    assert (semarang["opds"], semarang["opds_with_innovation"], semarang["mandated"]) == (
        4,
        1,
        False,
    )
    items = [i["name"] for i in r.json()["items"]]
    assert "Dinas Sosial Provinsi Jawa Tengah" in items
    # Its Balai launched an innovation in 2025: the Health Office counts.
    assert "Dinas Kesehatan Provinsi Jawa Tengah" not in items
    assert r.json()["totals"]["incentives_idr"] == 4_750_000_000


async def test_kalimantan_barat_programme_is_mentored_by_the_untan_hub(
    client: httpx.AsyncClient,
) -> None:
    program = (
        await client.get(f"/api/v1/replication-programs/{data.program_id('kalbar_2022')}")
    ).json()
    hub = (await client.get(f"/api/v1/hubs/{demo.hub_id('jipp_untan')}")).json()

    assert program["mentor_hub_id"] == str(demo.hub_id("jipp_untan"))
    assert hub["host"]["name"] == "Universitas Tanjungpura"
    assert [p["id"] for p in hub["programs"]] == [str(data.program_id("kalbar_2022"))]
    hubs = (await client.get("/api/v1/hubs")).json()["items"]
    assert {h["province_code"] for h in hubs} == {"16", "35", "61", "73"}


async def test_records_are_marked_as_demo_data(session: AsyncSession) -> None:
    unmarked = await session.scalar(
        text(
            "SELECT (SELECT count(*) FROM regulations WHERE notes NOT LIKE '%' || :m || '%')"
            " + (SELECT count(*) FROM jipp_hubs WHERE description NOT LIKE :m || '%')"
            " + (SELECT count(*) FROM incentives WHERE notes NOT LIKE :m || '%')"
        ),
        {"m": data.DEMO_MARK},
    )

    assert unmarked == 0
    assert await session.scalar(text("SELECT count(*) FROM regulations")) == 3
