"""A JSON scalar must have the type the schema gives it: pydantic's lax mode would otherwise
store `0` as the date 1970-01-01, `"2022"` as the year 2022 and `1` as true."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role
from tests.conftest import MakeKey, bearer, problem
from tests.core._platform import count

PROGRAMS = "/api/v1/replication-programs"
PROGRAM: dict[str, Any] = {
    "name": "Replikasi Jawa Tengah",
    "province_code": "33",
    "fiscal_year": 2022,
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("signed_on", 0, id="date_as_number"),
        pytest.param("signed_on", "0", id="date_as_numeric_string"),
        pytest.param("signed_on", "20211102", id="date_without_dashes"),
        pytest.param("fiscal_year", "2022", id="integer_as_string"),
        pytest.param("fiscal_year", True, id="integer_as_boolean"),
    ],
)
async def test_a_scalar_of_the_wrong_json_type_is_422_and_stores_nothing(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey, field: str, value: Any
) -> None:
    key = bearer(await make_key(Role.admin))
    before = await count(session, "replication_programs")

    r = await client.post(PROGRAMS, json=PROGRAM | {field: value}, headers=key)

    assert problem(r, 422)["errors"][0]["pointer"] == f"/body/{field}"
    assert await count(session, "replication_programs") == before


async def test_a_boolean_as_a_number_is_422(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    key = bearer(await make_key(Role.admin))
    body = {"title": "Inovasi", "institution_id": "e3e70682-c209-1cac-a29f-6fbed82c07cd"}

    r = await client.post("/api/v1/innovations", json=body | {"digital": 1}, headers=key)

    assert any(e["pointer"] == "/body/digital" for e in problem(r, 422)["errors"])


async def test_a_whole_number_written_with_a_fraction_is_still_an_integer(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = bearer(await make_key(Role.admin))

    r = await client.post(PROGRAMS, json=PROGRAM | {"fiscal_year": 2022.0}, headers=key)

    assert r.status_code == 201, r.text
    assert r.json()["fiscal_year"] == 2022


async def test_a_date_filter_that_is_a_number_is_422(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/innovations", params={"launched_to": "0"})

    assert problem(r, 422)["errors"][0]["pointer"] == "/query/launched_to"


async def test_a_date_filter_in_iso_format_is_accepted(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/innovations", params={"launched_to": "2021-12-31"})

    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "written",
    [
        "e3e70682c2091caca29f6fbed82c07cd",
        "{e3e70682-c209-1cac-a29f-6fbed82c07cd}",
        "urn:uuid:e3e70682-c209-1cac-a29f-6fbed82c07cd",
    ],
)
async def test_an_id_not_written_8_4_4_4_12_is_422(client: httpx.AsyncClient, written: str) -> None:
    r = await client.get("/api/v1/commitments", params={"program": written})

    assert problem(r, 422)["errors"][0]["pointer"] == "/query/program"


async def test_a_query_parameter_given_twice_is_422(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/events?entity=institution&entity=innovation")

    assert problem(r, 422)["errors"] == [{"pointer": "/query/entity", "detail": "Give it once."}]


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        pytest.param("sectr=health", "/query/sectr", id="misspelt_filter"),
        pytest.param("=false", "/query/", id="nameless_parameter"),
    ],
)
async def test_a_query_parameter_the_operation_does_not_take_is_422(
    client: httpx.AsyncClient, query: str, pointer: str
) -> None:
    r = await client.get(f"/api/v1/innovations?{query}")

    assert [e["pointer"] for e in problem(r, 422)["errors"]] == [pointer]
