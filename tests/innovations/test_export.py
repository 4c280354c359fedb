"""GET /api/v1/innovations/export.csv: the list's rows, as CSV safe to open in a spreadsheet,
or as NDJSON (`format=jsonl`), streamed by COPY."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.innovations.export import BOM, ExportFormat, RowEnds, prepare_export, stream
from app.innovations.repository import Filters
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


# --- The CSV, byte for byte -------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def reference_csv(items: list[dict[str, Any]]) -> bytes:
    """The export of list items as Python's `csv` module writes it: the definition of the
    CSV's bytes (the export itself is written by PostgreSQL's COPY)."""

    def cell(value: str) -> str:
        return "'" + value if value.startswith(FORMULA_START) else value

    def iso(timestamp: str) -> str:
        return datetime.fromisoformat(timestamp).astimezone(UTC).isoformat()

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for item in items:
        awards = "; ".join(f"{a['competition']} {a['year']} {a['tier']}" for a in item["awards"])
        writer.writerow(
            cell(v)
            for v in (
                item["id"],
                item["title"],
                item["institution"]["id"],
                item["institution"]["name"],
                item["province_code"] or "",
                item["region_code"] or "",
                item["sector"],
                item["form"],
                "true" if item["digital"] else "false",
                item["initiator"],
                item["stage"],
                item["status"],
                item["scale"],
                item["launched_on"] or "",
                item["replica_of_id"] or "",
                str(item["replications"]),
                awards,
                "; ".join(item["tags"]),
                " ".join(item["evidence_urls"]),
                item["summary"],
                iso(item["created_at"]),
                iso(item["updated_at"]),
            )
        )
    return ("\ufeff" + buffer.getvalue()).encode()


# Cells that quoting, line ends and formula neutralising must each get right.
AWKWARD = [
    ("Koma, di judul", 'Kutipan "ganda" dan, koma'),
    ("Baris\nbaru", "satu\ndua\r\ntiga\rempat"),
    ('=HYPERLINK("http://x")', "+62 812"),
    ("-1 Antrean", "@SUM(A1)"),
    ("\tTab di depan", "\rCR di depan"),
    ('"', ""),
    ("\\.", "\\"),
    ("Akhir dengan CR\r", "\n"),
    ("Ünïcödé — inovasi ✓", "Garis miring \\ terbalik \\N dan \\t"),
    ("   spasi di depan", "' kutip tunggal"),
]


@pytest.fixture
async def awkward(session: AsyncSession) -> list[Innovation]:
    semarang = await make_institution(session, name='=Dinas "Kota", Semarang', region_code="33.74")
    rows = []
    for n, (title, summary) in enumerate(AWKWARD):
        row = await make_innovation(
            session,
            institution=semarang,
            title=title,
            summary=summary,
            tags=["-minus", "biasa"] if n % 2 else [],
            launched_on=date(2015 + n % 3, 1, 1) if n % 4 else None,
            replica_of=rows[0] if n == 3 else None,
            replication_count=n,
            digital=n % 2 == 0,
        )
        rows.append(row)
    await make_award(session, innovation=rows[1], competition="KIPP", year=2019, tier="top_99")
    await make_award(session, innovation=rows[1], competition="IGA", year=2021, tier="winner")
    await make_award(session, innovation=rows[1], competition="KIPP", year=2021, tier="top_45")
    await session.execute(
        update(Innovation)
        .where(Innovation.id == rows[2].id)
        .values(
            evidence_urls=["=https://a.example/x,y", "https://b.example/"],
            created_at=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
            updated_at=datetime(2024, 5, 6, 7, 8, 9, 120, tzinfo=UTC),
        )
    )
    await session.execute(
        update(Innovation).where(Innovation.id == rows[4].id).values(evidence_urls=["a b"])
    )
    return rows


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="default_order"),
        pytest.param({"sort": "title"}, id="by_title"),
        pytest.param({"sort": "-replications", "digital": "true"}, id="digital_by_replications"),
        pytest.param({"sort": "-updated_at", "award_competition": "IGA"}, id="award"),
    ],
)
async def test_csv_is_byte_for_byte_what_the_csv_module_writes(
    client: httpx.AsyncClient, awkward: list[Innovation], params: dict[str, Any]
) -> None:
    pages = await walk(client, params, limit=3)

    r = await client.get(EXPORT, params=params)

    assert r.status_code == 200
    assert r.content == reference_csv([item for page in pages for item in page["items"]])


async def test_csv_keeps_line_breaks_inside_cells_and_ends_rows_with_crlf(
    client: httpx.AsyncClient, awkward: list[Innovation]
) -> None:
    rows = {r["id"]: r for r in parse(await client.get(EXPORT))}

    assert rows[str(awkward[1].id)]["title"] == "Baris\nbaru"
    assert rows[str(awkward[1].id)]["summary"] == "satu\ndua\r\ntiga\rempat"
    assert rows[str(awkward[7].id)]["summary"] == "\n"
    assert rows[str(awkward[5].id)]["summary"] == ""


def copy_csv(rows: list[list[str]]) -> bytes:
    """CSV as COPY writes it: rows end with LF (cells quoted as the `csv` module does)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def test_row_ends_become_crlf_however_the_chunks_fall() -> None:
    rows = [["a", 'b "c"\nd', "e"], ["", "x\r\ny", '""'], ["\n", '"', "z"], ["1", "2", "3"]]
    data = copy_csv(rows)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    expected = buffer.getvalue().encode()

    for size in (1, 2, 3, 5, 7, len(data)):
        ends = RowEnds()
        chunks = [data[n : n + size] for n in range(0, len(data), size)]
        assert b"".join(ends(c) for c in chunks) == expected, size


# --- NDJSON ------------------------------------------------------------------------------------

JSONL = {"format": "jsonl"}


def parse_jsonl(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.content == b"" or response.content.endswith(b"\n")
    return [json.loads(line) for line in response.content.decode().splitlines()]


def as_json_line(item: dict[str, Any]) -> dict[str, Any]:
    """A list item as the NDJSON export should write it."""
    iso = lambda t: datetime.fromisoformat(t).astimezone(UTC).isoformat()  # noqa: E731
    return {
        "id": item["id"],
        "title": item["title"],
        "institution_id": item["institution"]["id"],
        "institution_name": item["institution"]["name"],
        "province_code": item["province_code"],
        "region_code": item["region_code"],
        "sector": item["sector"],
        "form": item["form"],
        "digital": item["digital"],
        "initiator": item["initiator"],
        "stage": item["stage"],
        "status": item["status"],
        "scale": item["scale"],
        "launched_on": item["launched_on"],
        "replica_of_id": item["replica_of_id"],
        "replications": item["replications"],
        "awards": [
            {"competition": a["competition"], "year": a["year"], "tier": a["tier"]}
            for a in item["awards"]
        ],
        "tags": item["tags"],
        "evidence_urls": item["evidence_urls"],
        "summary": item["summary"],
        "created_at": iso(item["created_at"]),
        "updated_at": iso(item["updated_at"]),
    }


async def test_jsonl_is_one_object_per_innovation_with_typed_fields(
    client: httpx.AsyncClient, awkward: list[Innovation]
) -> None:
    pages = await walk(client, {}, limit=4)

    r = await client.get(EXPORT, params=JSONL)

    assert r.headers["content-disposition"] == 'attachment; filename="innovations.jsonl"'
    assert r.content.count(b"\n") == len(AWKWARD)
    lines = parse_jsonl(r)
    assert lines == [as_json_line(item) for page in pages for item in page["items"]]
    assert [list(line) for line in lines[:1]] == [HEADER]


async def test_jsonl_writes_values_as_they_are(
    client: httpx.AsyncClient, awkward: list[Innovation]
) -> None:
    lines = {line["id"]: line for line in parse_jsonl(await client.get(EXPORT, params=JSONL))}

    formula = lines[str(awkward[2].id)]
    assert (formula["title"], formula["summary"]) == ('=HYPERLINK("http://x")', "+62 812")
    assert formula["evidence_urls"] == ["=https://a.example/x,y", "https://b.example/"]
    assert (formula["created_at"], formula["updated_at"]) == (
        "2024-05-06T07:08:09+00:00",
        "2024-05-06T07:08:09.000120+00:00",
    )
    assert lines[str(awkward[1].id)]["awards"] == [
        {"competition": "KIPP", "year": 2021, "tier": "top_45"},
        {"competition": "IGA", "year": 2021, "tier": "winner"},
        {"competition": "KIPP", "year": 2019, "tier": "top_99"},
    ]
    assert lines[str(awkward[0].id)]["awards"] == []
    assert lines[str(awkward[3].id)]["replica_of_id"] == str(awkward[0].id)
    assert lines[str(awkward[0].id)]["launched_on"] is None


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"province": "33", "sort": "title"}, id="province_by_title"),
        pytest.param({"q": "kantong plastik"}, id="search"),
        pytest.param({"award_tier": "winner"}, id="award"),
    ],
)
async def test_jsonl_rows_are_the_list_rows_for_the_same_filters(
    client: httpx.AsyncClient, registry: dict[str, Innovation], params: dict[str, Any]
) -> None:
    lines = parse_jsonl(await client.get(EXPORT, params=params | JSONL))

    pages = await walk(client, params, limit=2)
    assert lines == [as_json_line(item) for page in pages for item in page["items"]]


async def test_anonymous_jsonl_never_includes_drafts(
    client: httpx.AsyncClient, registry: dict[str, Innovation], admin: Headers
) -> None:
    anonymous = parse_jsonl(await client.get(EXPORT, params={"status": "draft"} | JSONL))
    writer = parse_jsonl(
        await client.get(EXPORT, params={"status": "draft"} | JSONL, headers=admin)
    )

    assert anonymous == []
    assert [line["id"] for line in writer] == [str(registry["draft"].id)]


async def test_jsonl_of_nothing_is_empty(client: httpx.AsyncClient) -> None:
    assert parse_jsonl(await client.get(EXPORT, params=JSONL)) == []


async def test_unknown_export_format_is_422(client: httpx.AsyncClient) -> None:
    body = problem(await client.get(EXPORT, params={"format": "xlsx"}), 422)

    assert body["errors"][0]["pointer"] == "/query/format"


# --- Streaming ---------------------------------------------------------------------------------


async def test_an_export_the_client_leaves_stops_its_copy(
    committed_app: FastAPI, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        institution = await conn.scalar(
            text(
                "INSERT INTO institutions (id, name, kind, region_code)"
                " VALUES (gen_random_uuid(), 'Dinas Uji', 'regional_agency', '33.74')"
                " RETURNING id"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO innovations (id, title, summary, sector, form, initiator, stage,"
                " status, institution_id)"
                " SELECT gen_random_uuid(), 'Inovasi ' || g, repeat('ringkasan, ', 400),"
                " 'health', 'other', 'agency', 'trial', 'published', :institution"
                " FROM generate_series(1, 8000) AS g"
            ),
            {"institution": institution},
        )
    db = committed_app.state.db
    export = prepare_export(Filters(), None, ExportFormat.csv, published_only=True)

    chunks = stream(db.write_sessions, export)
    received = [await anext(chunks) for _ in range(3)]
    async with engine.connect() as conn:
        running = await conn.scalar(COPYING)
    await chunks.aclose()

    assert received[0].startswith(BOM + b"id,title,")
    assert running == 1
    async with engine.connect() as conn:
        for _ in range(50):
            if await conn.scalar(COPYING) == 0:
                break
            await asyncio.sleep(0.1)
        assert await conn.scalar(COPYING) == 0
    # The pool still serves a whole export afterwards.
    whole = b"".join([c async for c in stream(db.write_sessions, export)])
    assert len(whole.split(b"\r\n")) == 8000 + 2


COPYING = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE state = 'active' AND query LIKE 'COPY (SELECT innovations.id%'"
)
