"""GET /api/v1/innovations/export.csv: the list's rows, as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.innovation import Innovation
from tests.builders import make_award, make_innovation, make_institution
from tests.conftest import problem
from tests.innovations._api import URL, Headers, walk

EXPORT = f"{URL}/export.csv"
HEADER = [
    "id",
    "title",
    "institution_id",
    "institution_name",
    "province_code",
    "region_code",
    "sector",
    "form",
    "digital",
    "initiator",
    "stage",
    "status",
    "scale",
    "launched_on",
    "replica_of_id",
    "replications",
    "awards",
    "tags",
    "evidence_urls",
    "summary",
    "created_at",
    "updated_at",
]


def parse(response: httpx.Response) -> list[dict[str, str]]:
    """The CSV body as one dict per row; asserts the header row first."""
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == HEADER
    return [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]


def as_exported(item: dict[str, Any]) -> dict[str, str]:
    """A list item as the export should write it."""
    return {
        "id": item["id"],
        "title": item["title"],
        "institution_id": item["institution"]["id"],
        "institution_name": item["institution"]["name"],
        "province_code": item["province_code"] or "",
        "region_code": item["region_code"] or "",
        "sector": item["sector"],
        "status": item["status"],
        "launched_on": item["launched_on"] or "",
        "replications": str(item["replications"]),
        "awards": "; ".join(f"{a['competition']} {a['year']} {a['tier']}" for a in item["awards"]),
        "tags": "; ".join(item["tags"]),
        "summary": item["summary"],
    }


async def listed(
    client: httpx.AsyncClient, params: dict[str, Any], headers: Headers | None = None
) -> list[dict[str, str]]:
    pages = await walk(client, params, limit=2, headers=headers)
    return [as_exported(item) for page in pages for item in page["items"]]


def subset(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    keys = (
        "id",
        "title",
        "institution_id",
        "institution_name",
        "province_code",
        "region_code",
        "sector",
        "status",
        "launched_on",
        "replications",
        "awards",
        "tags",
        "summary",
    )
    return [{k: row[k] for k in keys} for row in rows]


@pytest.fixture
async def registry(session: AsyncSession) -> dict[str, Innovation]:
    semarang = await make_institution(session, name="Dinkes Kota Semarang", region_code="33.74")
    bandung = await make_institution(session, name="DLH Kabupaten Bandung", region_code="32.04")
    rows = {
        "ibu": await make_innovation(
            session,
            institution=semarang,
            title="Sayangi dan Dampingi Ibu dan Anak",
            summary='Pendampingan "ibu hamil", bayi; dan balita,\nsampai usia dua tahun.',
            tags=["ibu", "anak"],
            launched_on=date(2018, 1, 1),
        ),
        "data": await make_innovation(
            session,
            institution=semarang,
            title="Data Kota Open",
            sector="data_information",
            launched_on=date(2020, 1, 1),
        ),
        "plastik": await make_innovation(
            session,
            institution=bandung,
            title="Bandung Anti Kantong Plastik",
            sector="environment",
            launched_on=None,
        ),
        "draft": await make_innovation(
            session, institution=semarang, title="Konsep Kantong Plastik", status="draft"
        ),
    }
    await make_award(session, innovation=rows["ibu"], competition="KIPP", year=2019, tier="top_99")
    await make_award(session, innovation=rows["ibu"], competition="IGA", year=2021, tier="winner")
    return rows


async def test_export_streams_csv_with_a_header_row(
    client: httpx.AsyncClient, registry: dict[str, Innovation]
) -> None:
    r = await client.get(EXPORT)

    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="innovations.csv"'
    assert r.content.startswith("\ufeffid,title,".encode())
    assert len(parse(r)) == 3


async def test_export_of_nothing_is_the_header_alone(client: httpx.AsyncClient) -> None:
    assert parse(await client.get(EXPORT)) == []


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="no_filter"),
        pytest.param({"province": "33"}, id="province"),
        pytest.param({"sector": "health", "sort": "title"}, id="sector_by_title"),
        pytest.param({"q": "kantong plastik"}, id="search"),
        pytest.param({"award_competition": "KIPP"}, id="award"),
        pytest.param({"sort": "title"}, id="by_title"),
    ],
)
async def test_export_rows_are_the_list_rows_for_the_same_filters(
    client: httpx.AsyncClient, registry: dict[str, Innovation], params: dict[str, Any]
) -> None:
    exported = parse(await client.get(EXPORT, params=params))

    assert subset(exported) == await listed(client, params)


async def test_export_writes_each_field_of_a_row(
    client: httpx.AsyncClient, registry: dict[str, Innovation]
) -> None:
    [row] = parse(await client.get(EXPORT, params={"sector": "health"}))

    ibu = registry["ibu"]
    assert row["id"] == str(ibu.id)
    assert row["institution_name"] == "Dinkes Kota Semarang"
    assert (row["province_code"], row["region_code"]) == ("33", "33.74")
    assert (row["digital"], row["scale"], row["launched_on"]) == ("false", "local", "2018-01-01")
    assert row["awards"] == "IGA 2021 winner; KIPP 2019 top_99"
    assert row["tags"] == "ibu; anak"
    assert row["summary"] == 'Pendampingan "ibu hamil", bayi; dan balita,\nsampai usia dua tahun.'


async def test_anonymous_export_never_includes_drafts(
    client: httpx.AsyncClient, registry: dict[str, Innovation]
) -> None:
    rows = parse(await client.get(EXPORT, params={"status": "draft"}))
    everything = parse(await client.get(EXPORT))

    assert rows == []
    assert str(registry["draft"].id) not in {r["id"] for r in everything}


async def test_writer_export_includes_drafts(
    client: httpx.AsyncClient, registry: dict[str, Innovation], admin: Headers
) -> None:
    rows = parse(await client.get(EXPORT, params={"status": "draft"}, headers=admin))

    assert [(r["id"], r["status"]) for r in rows] == [(str(registry["draft"].id), "draft")]


@pytest.mark.parametrize("title", ['=HYPERLINK("http://x")', "+62 Lapor", "-1 Antrean", "@SUM(A1)"])
async def test_formula_like_title_is_written_with_a_leading_quote(
    client: httpx.AsyncClient, session: AsyncSession, title: str
) -> None:
    institution = await make_institution(session)
    await make_innovation(session, institution=institution, title=title)
    await make_innovation(session, institution=institution, title="Layanan Biasa")

    rows = {r["id"]: r["title"] for r in parse(await client.get(EXPORT, params={"sort": "title"}))}

    cells = sorted(rows.values())
    assert "'" + title in cells
    assert "Layanan Biasa" in cells
    assert sorted(c.removeprefix("'") for c in cells) == sorted([title, "Layanan Biasa"])


async def test_formula_like_summary_is_neutralised_too(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    institution = await make_institution(session)
    await make_innovation(session, institution=institution, summary="=1+1")

    [row] = parse(await client.get(EXPORT))

    assert row["summary"] == "'=1+1"


async def test_export_spans_many_internal_pages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    institution = await make_institution(session)
    await session.execute(
        text(
            "INSERT INTO innovations (id, title, sector, form, initiator, stage, status,"
            " launched_on, institution_id)"
            " SELECT gen_random_uuid(), 'Inovasi ' || g, 'health', 'other', 'agency',"
            " 'trial', 'published', date '2020-01-01' + (g % 7), :institution"
            " FROM generate_series(1, 1100) AS g"
        ),
        {"institution": institution.id},
    )

    exported = parse(await client.get(EXPORT))
    pages = await walk(client, {}, limit=200)

    ids = [r["id"] for r in exported]
    assert len(ids) == len(set(ids)) == 1100
    assert ids == [item["id"] for page in pages for item in page["items"]]


async def test_export_with_an_invalid_filter_is_422(client: httpx.AsyncClient) -> None:
    body = problem(await client.get(EXPORT, params={"sector": "space"}), 422)

    assert body["errors"][0]["pointer"] == "/query/sector"


async def test_export_sorted_by_relevance_without_a_query_is_422(
    client: httpx.AsyncClient, registry: dict[str, Innovation]
) -> None:
    body = problem(await client.get(EXPORT, params={"sort": "relevance"}), 422)

    assert body["errors"][0]["pointer"] == "/query/sort"
