"""GET /api/v1/regions and /api/v1/regions/{code}: the Kemendagri reference regions."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import make_institution
from tests.conftest import problem

URL = "/api/v1/regions"


async def walk(
    client: httpx.AsyncClient, url: str, params: dict[str, Any], limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list, following `next_cursor`; also how many pages it took."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {**params, "limit": limit} | ({"cursor": cursor} if cursor else {})
        r = await client.get(url, params=query)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < 1000, "the cursor walk does not end"


async def test_there_are_38_provinces(client: httpx.AsyncClient) -> None:
    items, _ = await walk(client, URL, {"level": "province"}, limit=200)

    assert len(items) == 38
    assert {i["level"] for i in items} == {"province"}
    assert all(i["parent_code"] is None for i in items)
    assert {"code": "33", "name": "Jawa Tengah", "level": "province", "parent_code": None} in items


async def test_there_are_514_regencies_and_cities_across_pages(client: httpx.AsyncClient) -> None:
    regencies, regency_pages = await walk(client, URL, {"level": "regency"}, limit=100)
    cities, city_pages = await walk(client, URL, {"level": "city"}, limit=100)

    assert len(regencies) + len(cities) == 514
    assert (len(regencies), len(cities)) == (416, 98)
    assert regency_pages == 5  # 416 rows at 100 a page: the walk really followed cursors
    assert city_pages == 1
    assert {i["level"] for i in regencies} == {"regency"}
    assert {i["level"] for i in cities} == {"city"}


async def test_parent_filter_gives_the_35_regencies_and_cities_of_jawa_tengah(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get(URL, params={"parent": "33", "limit": 200})

    assert r.status_code == 200
    body = r.json()
    assert len(body["items"]) == 35
    assert body["next_cursor"] is None
    assert {i["parent_code"] for i in body["items"]} == {"33"}
    assert all(i["code"].startswith("33.") for i in body["items"])


async def test_q_matches_part_of_the_name_in_any_case(client: httpx.AsyncClient) -> None:
    r = await client.get(URL, params={"q": "mAgElAnG"})

    assert r.status_code == 200
    assert [(i["code"], i["name"]) for i in r.json()["items"]] == [
        ("33.08", "Kabupaten Magelang"),
        ("33.71", "Kota Magelang"),
    ]


async def test_q_treats_like_wildcards_as_plain_text(client: httpx.AsyncClient) -> None:
    r = await client.get(URL, params={"q": "%"})

    assert r.status_code == 200
    assert r.json()["items"] == []


async def test_filters_combine(client: httpx.AsyncClient) -> None:
    r = await client.get(URL, params={"parent": "33", "level": "city", "q": "kota"})

    assert r.status_code == 200
    codes = [i["code"] for i in r.json()["items"]]
    assert codes == ["33.71", "33.72", "33.73", "33.74", "33.75", "33.76"]


async def test_province_detail_lists_its_35_children(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{URL}/33")

    assert r.status_code == 200
    body = r.json()
    assert (body["code"], body["name"], body["level"]) == ("33", "Jawa Tengah", "province")
    assert len(body["children"]) == 35
    codes = [c["code"] for c in body["children"]]
    assert codes == sorted(codes)
    assert {c["parent_code"] for c in body["children"]} == {"33"}


async def test_regency_detail_is_kabupaten_brebes_without_children(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get(f"{URL}/33.29")

    assert r.status_code == 200
    assert r.json() == {
        "code": "33.29",
        "name": "Kabupaten Brebes",
        "level": "regency",
        "parent_code": "33",
        "children": [],
    }


async def test_unknown_region_code_is_404_problem(client: httpx.AsyncClient) -> None:
    body = problem(await client.get(f"{URL}/33.98"), 404)

    assert body["code"] == "not_found"
    assert body["instance"] == f"{URL}/33.98"


async def test_malformed_region_code_is_422_problem(client: httpx.AsyncClient) -> None:
    body = problem(await client.get(f"{URL}/jawa-tengah"), 422)

    assert body["errors"][0]["pointer"] == "/path/code"


async def test_cursor_walk_sees_every_region_exactly_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    items, pages = await walk(client, URL, {}, limit=37)

    codes = [i["code"] for i in items]
    stored = list((await session.scalars(text("SELECT code FROM regions ORDER BY code"))).all())
    assert len(stored) == 552
    assert codes == stored
    assert len(set(codes)) == len(codes)
    assert pages == 15  # ceil(552 / 37)


async def test_last_page_has_no_next_cursor(client: httpx.AsyncClient) -> None:
    r = await client.get(URL, params={"level": "province", "limit": 38})

    assert r.status_code == 200
    assert len(r.json()["items"]) == 38
    assert r.json()["next_cursor"] is None


def _tamper(cursor: str) -> str:
    """The same cursor with its payload changed and the signature left as it was."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    forged = raw.replace(b'"33.01"', b'"33.50"')
    assert forged != raw
    return base64.urlsafe_b64encode(forged).rstrip(b"=").decode()


async def test_tampered_cursor_is_400_invalid_cursor(client: httpx.AsyncClient) -> None:
    first = await client.get(URL, params={"parent": "33", "limit": 1})
    cursor = first.json()["next_cursor"]
    assert (await client.get(URL, params={"parent": "33", "cursor": cursor})).status_code == 200

    body = problem(await client.get(URL, params={"parent": "33", "cursor": _tamper(cursor)}), 400)

    assert body["code"] == "invalid_cursor"


async def test_garbage_cursor_is_400_invalid_cursor(client: httpx.AsyncClient) -> None:
    body = problem(await client.get(URL, params={"cursor": "bm90LWEtY3Vyc29y"}), 400)

    assert body["code"] == "invalid_cursor"


async def test_cursor_of_the_institutions_list_is_rejected(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_institution(session, name="Bappeda Kabupaten Brebes")
    await make_institution(session, name="Dinas Pendidikan Kabupaten Brebes")
    page = await client.get("/api/v1/institutions", params={"limit": 1})
    cursor = page.json()["next_cursor"]
    assert cursor is not None

    body = problem(await client.get(URL, params={"cursor": cursor}), 400)

    assert body["code"] == "invalid_cursor"


async def test_regions_cursor_is_rejected_by_the_institutions_list(
    client: httpx.AsyncClient,
) -> None:
    cursor = (await client.get(URL, params={"limit": 1})).json()["next_cursor"]

    body = problem(await client.get("/api/v1/institutions", params={"cursor": cursor}), 400)

    assert body["code"] == "invalid_cursor"


@pytest.mark.parametrize("limit", [0, -1, 201, 10_000])
async def test_limit_out_of_range_is_422_problem(client: httpx.AsyncClient, limit: int) -> None:
    body = problem(await client.get(URL, params={"limit": limit}), 422)

    assert body["code"] == "validation_error"
    assert body["errors"][0]["pointer"] == "/query/limit"


async def test_limit_200_is_accepted(client: httpx.AsyncClient) -> None:
    r = await client.get(URL, params={"limit": 200})

    assert r.status_code == 200
    assert len(r.json()["items"]) == 200


async def test_unknown_level_is_422_problem(client: httpx.AsyncClient) -> None:
    body = problem(await client.get(URL, params={"level": "village"}), 422)

    assert body["errors"][0]["pointer"] == "/query/level"


async def test_default_page_size_is_50(client: httpx.AsyncClient) -> None:
    r = await client.get(URL)

    assert r.status_code == 200
    assert len(r.json()["items"]) == 50
    assert r.json()["next_cursor"] is not None
