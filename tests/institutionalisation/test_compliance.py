"""The "one OPD, one innovation" compliance view on a built scenario: which OPDs count, under
which government, for which year; the page of OPDs without one; mandating regulations and
incentives."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.institution import Institution
from app.models.institutionalisation import Incentive, Regulation
from tests.builders import make_innovation, make_institution
from tests.conftest import problem

URL = "/api/v1/institutionalisation/compliance"
YEAR = 2024


async def _opd(session: AsyncSession, name: str, government: Institution) -> Institution:
    return await make_institution(
        session, name=name, region_code=government.region_code, parent_id=government.id
    )


@pytest.fixture
async def scenario(session: AsyncSession) -> dict[str, Any]:
    """Jawa Tengah's government with five OPDs, Kabupaten Brebes' with two, and Jawa Barat's
    with one; innovations in 2024, in another year, withdrawn, or owned by a sub-unit."""
    prov = await make_institution(
        session, name="Pemprov Uji", kind="provincial_government", region_code="33"
    )
    brebes = await make_institution(
        session, name="Pemkab Uji", kind="regency_government", region_code="33.29"
    )
    jabar = await make_institution(
        session, name="Pemprov Jabar Uji", kind="provincial_government", region_code="32"
    )
    a = await _opd(session, "A Dinas Kesehatan", prov)
    b = await _opd(session, "B Dinas Sosial", prov)
    c = await _opd(session, "C Dinas Pendidikan", prov)
    d = await _opd(session, "D Dinas Kominfo", prov)
    e = await _opd(session, "E Dinas Perizinan", prov)
    uptd = await _opd(session, "UPTD di bawah D", d)
    deeper = await _opd(session, "Seksi di bawah UPTD A", await _opd(session, "UPTD A", a))
    f = await _opd(session, "F Bappeda Brebes", brebes)
    h = await _opd(session, "H Dinsos Brebes", brebes)
    g = await _opd(session, "G Dinas Jabar", jabar)
    # A university's faculty is not an OPD of any government.
    university = await make_institution(
        session, name="Universitas Uji", kind="university", region_code="33.74"
    )
    await make_institution(
        session, name="Fakultas Uji", kind="other", region_code="33.74", parent_id=university.id
    )
    await make_innovation(session, institution=a, launched_on=date(2024, 6, 1))
    await make_innovation(session, institution=b, launched_on=date(2023, 6, 1))
    await make_innovation(session, institution=uptd, launched_on=date(2024, 12, 31))
    await make_innovation(session, institution=e, launched_on=date(2024, 3, 1), status="withdrawn")
    await make_innovation(session, institution=f, launched_on=date(2024, 1, 1), status="draft")
    await make_innovation(session, institution=g, launched_on=date(2024, 2, 1))
    await make_innovation(session, institution=deeper, launched_on=date(2021, 2, 1))
    return {
        "prov": prov, "brebes": brebes, "jabar": jabar,
        "a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "h": h, "g": g,
    }  # fmt: skip


def _by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["name"]: g for g in body["governments"]}


async def test_counts_opds_with_an_innovation_of_the_year_per_government(
    client: httpx.AsyncClient, scenario: dict[str, Any]
) -> None:
    r = await client.get(URL, params={"region": "33", "year": YEAR})

    assert r.status_code == 200, r.text
    body = r.json()
    governments = _by_name(body)
    # A (its own, 2024) and D (its UPTD's, 2024) count; B (2023), C (none) and E (withdrawn)
    # do not; the UPTDs are not OPDs of their own.
    prov = governments["Pemprov Uji"]
    assert (prov["opds"], prov["opds_with_innovation"], prov["opds_without_innovation"]) == (
        5,
        2,
        3,
    )
    assert prov["coverage_pct"] == 40.0
    # A draft is registered: F counts, H does not.
    brebes = governments["Pemkab Uji"]
    assert (brebes["opds"], brebes["opds_with_innovation"], brebes["coverage_pct"]) == (2, 1, 50.0)
    # Jawa Barat's government is outside the region.
    assert set(governments) == {"Pemprov Uji", "Pemkab Uji"}
    assert body["totals"] == {
        "governments": 2,
        "opds": 7,
        "opds_with_innovation": 3,
        "opds_without_innovation": 4,
        "coverage_pct": 42.9,
        "incentives_idr": 0,
    }
    assert [i["name"] for i in body["items"]] == [
        "B Dinas Sosial",
        "C Dinas Pendidikan",
        "E Dinas Perizinan",
        "H Dinsos Brebes",
    ]
    assert body["items"][3]["government_id"] == str(scenario["brebes"].id)
    assert (body["region_name"], body["next_cursor"]) == ("Jawa Tengah", None)


async def test_another_year_counts_other_innovations(
    client: httpx.AsyncClient, scenario: dict[str, Any]
) -> None:
    r = await client.get(URL, params={"region": "33", "year": 2023})

    prov = _by_name(r.json())["Pemprov Uji"]
    assert (prov["opds"], prov["opds_with_innovation"]) == (5, 1)  # B only
    # A's sub-unit of a sub-unit had one in 2021: it counts for A, at any depth.
    r = await client.get(URL, params={"region": "33", "year": 2021})
    assert _by_name(r.json())["Pemprov Uji"]["opds_with_innovation"] == 1


async def test_an_innovation_registered_this_year_counts_without_a_launch_date(
    client: httpx.AsyncClient, session: AsyncSession, scenario: dict[str, Any]
) -> None:
    this_year = datetime.now(ZoneInfo("Asia/Jakarta")).year
    await make_innovation(session, institution=scenario["c"], launched_on=None)

    r = await client.get(URL, params={"region": "33", "year": this_year})

    # Every innovation of the scenario was registered this year (withdrawn ones aside).
    assert [i["name"] for i in r.json()["items"]] == ["E Dinas Perizinan", "H Dinsos Brebes"]


async def test_a_regency_shows_its_own_government_only(
    client: httpx.AsyncClient, scenario: dict[str, Any]
) -> None:
    r = await client.get(URL, params={"region": "33.29", "year": YEAR})

    body = r.json()
    assert [g["name"] for g in body["governments"]] == ["Pemkab Uji"]
    assert [i["name"] for i in body["items"]] == ["H Dinsos Brebes"]
    assert body["region_name"] == "Kabupaten Brebes"


async def test_the_page_of_opds_without_one_is_keyset_paginated(
    client: httpx.AsyncClient, scenario: dict[str, Any]
) -> None:
    names: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"region": "33", "year": YEAR, "limit": 1}
        if cursor:
            params["cursor"] = cursor
        body = (await client.get(URL, params=params | {"include_total": "true"})).json()
        assert body["total"] == 4
        names += [i["name"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert names == ["B Dinas Sosial", "C Dinas Pendidikan", "E Dinas Perizinan", "H Dinsos Brebes"]


async def test_a_cursor_belongs_to_its_region_and_year(
    client: httpx.AsyncClient, scenario: dict[str, Any]
) -> None:
    first = (await client.get(URL, params={"region": "33", "year": YEAR, "limit": 1})).json()

    r = await client.get(
        URL, params={"region": "33", "year": 2023, "limit": 1, "cursor": first["next_cursor"]}
    )

    assert problem(r, 400)["code"] == "invalid_cursor"


async def test_mandated_by_a_regulation_in_force_of_its_own_region_or_national(
    client: httpx.AsyncClient, session: AsyncSession, scenario: dict[str, Any]
) -> None:
    session.add_all(
        [
            Regulation(
                region_code="33", kind="head_regulation", number="1", year=2019,
                title="Satu OPD Satu Inovasi", effective_on=date(2019, 10, 1),
                mandates_yearly_innovation=True,
            ),
            # Repealed before 2024, and one that mandates nothing.
            Regulation(
                region_code="33.29", kind="head_regulation", number="2", year=2018,
                title="Perbup lama", effective_on=date(2018, 1, 1),
                repealed_on=date(2023, 12, 31), mandates_yearly_innovation=True,
            ),
            Regulation(
                region_code="33.29", kind="bylaw", number="3", year=2020,
                title="Perda Inovasi Daerah", effective_on=date(2020, 1, 1),
            ),
        ]
    )  # fmt: skip
    await session.flush()

    governments = _by_name((await client.get(URL, params={"region": "33", "year": YEAR})).json())

    assert governments["Pemprov Uji"]["mandated"] is True
    assert [r["title"] for r in governments["Pemprov Uji"]["mandated_by"]] == [
        "Satu OPD Satu Inovasi"
    ]
    # The province's Pergub binds its own OPDs, not the regency's.
    assert (governments["Pemkab Uji"]["mandated"], governments["Pemkab Uji"]["mandated_by"]) == (
        False,
        [],
    )
    # In 2023 the Perbup was still in force.
    governments = _by_name((await client.get(URL, params={"region": "33", "year": 2023})).json())
    assert governments["Pemkab Uji"]["mandated"] is True
    # Not yet in force in 2018.
    governments = _by_name((await client.get(URL, params={"region": "33", "year": 2017})).json())
    assert governments["Pemprov Uji"]["mandated"] is False


async def test_a_national_mandate_binds_every_government(
    client: httpx.AsyncClient, session: AsyncSession, scenario: dict[str, Any]
) -> None:
    session.add(
        Regulation(
            region_code=None, kind="ministerial_regulation", number="9", year=2022,
            title="Permen Uji", effective_on=date(2022, 1, 1), mandates_yearly_innovation=True,
        )
    )  # fmt: skip
    await session.flush()

    body = (await client.get(URL, params={"region": "33", "year": YEAR})).json()

    assert [g["mandated"] for g in body["governments"]] == [True, True]


async def test_incentives_of_the_year_per_government_and_for_the_region(
    client: httpx.AsyncClient, session: AsyncSession, scenario: dict[str, Any]
) -> None:
    session.add_all(
        [
            Incentive(region_code="33", year=YEAR, amount_idr=100, basis="KIPP"),
            Incentive(region_code="33.29", year=YEAR, amount_idr=50, basis="Keberlanjutan"),
            Incentive(region_code="33.29", year=2023, amount_idr=7, basis="Tahun lain"),
            Incentive(region_code="33.74", year=YEAR, amount_idr=3, basis="Tanpa pemerintah"),
            Incentive(region_code="32", year=YEAR, amount_idr=9, basis="Provinsi lain"),
        ]
    )
    await session.flush()

    body = (await client.get(URL, params={"region": "33", "year": YEAR})).json()

    governments = _by_name(body)
    assert governments["Pemprov Uji"]["incentives_idr"] == 100
    assert governments["Pemkab Uji"]["incentives_idr"] == 50
    assert body["totals"]["incentives_idr"] == 153


async def test_without_a_region_every_government_of_the_country(
    client: httpx.AsyncClient, scenario: dict[str, Any]
) -> None:
    body = (await client.get(URL, params={"year": YEAR})).json()

    assert {g["name"] for g in body["governments"]} == {
        "Pemprov Uji",
        "Pemkab Uji",
        "Pemprov Jabar Uji",
    }
    assert (body["region_code"], body["region_name"]) == (None, None)
    assert body["totals"]["opds"] == 8


async def test_an_unknown_region_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get(URL, params={"region": "33.98"})

    assert problem(r, 404)["code"] == "not_found"


async def test_is_open_data(client: httpx.AsyncClient, scenario: dict[str, Any]) -> None:
    r = await client.get(URL, params={"region": "33"})

    assert r.status_code == 200
    assert r.headers["cache-control"].startswith("public")
