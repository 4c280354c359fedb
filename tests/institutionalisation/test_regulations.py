"""Regulations on innovation: who records them (scope), the rules, the list and its filters."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role
from tests.conftest import MakeKey, bearer, problem

URL = "/api/v1/regulations"


def _body(**overrides: Any) -> dict[str, Any]:
    return {
        "region_code": "33",
        "kind": "head_regulation",
        "number": "12",
        "year": 2019,
        "title": "Satu OPD Satu Inovasi",
        "effective_on": "2019-10-01",
        "mandates_yearly_innovation": True,
    } | overrides


async def test_an_admin_records_a_regulation_with_its_event(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    r = await client.post(URL, json=_body(url="https://jdih.jatengprov.go.id/"), headers=admin)

    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == f"{URL}/{body['id']}"
    assert (body["region_code"], body["mandates_yearly_innovation"], body["version"]) == (
        "33",
        True,
        1,
    )
    events = await session.scalar(
        text("SELECT count(*) FROM events WHERE action = 'regulation.created' AND entity_id = :i"),
        {"i": body["id"]},
    )
    assert events == 1


async def test_a_coordinator_records_one_of_a_regency_of_its_province(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = bearer(await make_key(Role.coordinator, "33"))

    r = await client.post(URL, json=_body(region_code="33.29"), headers=key)

    assert r.status_code == 201, r.text


async def test_a_coordinator_of_another_province_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    key = bearer(await make_key(Role.coordinator, "61"))

    r = await client.post(URL, json=_body(region_code="33.29"), headers=key)

    assert problem(r, 403)["code"] == "other_province"
    assert await session.scalar(text("SELECT count(*) FROM regulations")) == 0


async def test_a_national_regulation_is_for_admins_only(
    client: httpx.AsyncClient, make_key: MakeKey, admin: dict[str, str]
) -> None:
    national = _body(region_code=None, kind="ministerial_regulation", number="91", year=2021)
    key = bearer(await make_key(Role.coordinator, "33"))

    assert problem(await client.post(URL, json=national, headers=key), 403)["code"] == (
        "other_province"
    )
    assert (await client.post(URL, json=national, headers=admin)).status_code == 201


async def test_a_duplicate_is_409(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    assert (await client.post(URL, json=_body(), headers=admin)).status_code == 201

    r = await client.post(URL, json=_body(title="Lain"), headers=admin)

    assert problem(r, 409)["code"] == "duplicate_regulation"


async def test_repealed_before_it_took_effect_is_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post(URL, json=_body(repealed_on="2019-01-01"), headers=admin)

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/repealed_on"


async def test_an_unknown_region_is_422(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    r = await client.post(URL, json=_body(region_code="33.98"), headers=admin)

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/region_code"


async def test_patch_needs_if_match_and_applies_the_fields_sent(
    client: httpx.AsyncClient, make_key: MakeKey, admin: dict[str, str]
) -> None:
    created = await client.post(URL, json=_body(), headers=admin)
    url = f"{URL}/{created.json()['id']}"

    assert problem(await client.patch(url, json={"title": "X"}, headers=admin), 428)
    other = bearer(await make_key(Role.coordinator, "61"))
    refused = await client.patch(
        url, json={"repealed_on": "2025-01-01"}, headers=other | {"If-Match": '"1"'}
    )
    assert problem(refused, 403)["code"] == "other_province"
    r = await client.patch(
        url, json={"repealed_on": "2025-01-01"}, headers=admin | {"If-Match": '"1"'}
    )

    assert r.status_code == 200, r.text
    assert (r.json()["repealed_on"], r.json()["title"], r.json()["version"]) == (
        "2025-01-01",
        "Satu OPD Satu Inovasi",
        2,
    )
    stale = await client.patch(url, json={"title": "Y"}, headers=admin | {"If-Match": '"1"'})
    assert problem(stale, 412)["code"] == "stale_version"


async def test_the_list_filters_and_is_newest_first(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for body in (
        _body(),
        _body(
            region_code="33.29",
            kind="bylaw",
            number="3",
            year=2020,
            mandates_yearly_innovation=False,
        ),
        _body(region_code="32", number="5", year=2021, mandates_yearly_innovation=False),
        _body(region_code=None, kind="ministerial_regulation", number="91", year=2021),
    ):
        assert (await client.post(URL, json=body, headers=admin)).status_code == 201

    async def numbers(**params: Any) -> list[str]:
        r = await client.get(URL, params=params)
        assert r.status_code == 200, r.text
        return [i["number"] for i in r.json()["items"]]

    assert await numbers(region="33") == ["3", "12"]
    assert await numbers(region="33.29") == ["3"]
    assert await numbers(national="true") == ["91"]
    assert await numbers(mandates_yearly_innovation="true", region="33") == ["12"]
    assert await numbers(kind="bylaw") == ["3"]
    assert await numbers(year=2021, national="false") == ["5"]
    first = (await client.get(URL, params={"limit": 2})).json()
    second = (await client.get(URL, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [i["year"] for i in first["items"] + second["items"]] == [2021, 2021, 2020, 2019]
    assert second["next_cursor"] is None
