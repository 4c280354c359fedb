"""Bad input is a 4xx problem document, never a 5xx, and never changes the database.

Bodies are sent as raw bytes so that what reaches the server is exactly what a hostile or
broken client could send (lone surrogates, invalid UTF-8, truncated JSON, …).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import make_institution
from tests.conftest import problem

URL = "/api/v1/institutions"
JSON = {"Content-Type": "application/json"}
MiB = 1024 * 1024

VALID_CREATE: dict[str, Any] = {
    "name": "Dinas Kesehatan Kabupaten Brebes",
    "kind": "regional_agency",
    "region_code": "33.29",
}


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


# (id, raw body, expected status, pointer of the first error or None)
HOSTILE_BODIES: list[tuple[str, bytes, int, str | None]] = [
    ("unknown_field", dumps(VALID_CREATE | {"colour": "red"}), 422, "/body/colour"),
    ("nul_in_name", dumps(VALID_CREATE | {"name": "Dinas\x00Kesehatan"}), 422, "/body/name"),
    ("nul_in_region", dumps(VALID_CREATE | {"region_code": "33\x00.29"}), 422, "/body/region_code"),
    (
        "lone_surrogate_escaped",
        b'{"name": "\\ud800", "kind": "regional_agency"}',
        422,
        "/body/name",
    ),
    ("lone_low_surrogate", b'{"name": "Dinas \\udfff", "kind": "ministry"}', 422, "/body/name"),
    ("surrogate_as_utf8_bytes", b'{"name": "\xed\xa0\x80", "kind": "ministry"}', 422, "/body/name"),
    ("invalid_utf8", b'{"name": "\xff\xfe", "kind": "ministry"}', 400, None),
    ("name_over_300_chars", dumps(VALID_CREATE | {"name": "x" * 301}), 422, "/body/name"),
    ("blank_name", dumps(VALID_CREATE | {"name": "   "}), 422, "/body/name"),
    ("name_only_a_bom", dumps(VALID_CREATE | {"name": "\ufeff"}), 422, "/body/name"),
    ("name_only_separators", dumps(VALID_CREATE | {"name": "\x1c\x1f"}), 422, "/body/name"),
    (
        "name_of_300_chars_and_a_space",
        dumps(VALID_CREATE | {"name": "x" * 300 + " "}),
        422,
        "/body/name",
    ),
    ("name_is_a_number", dumps(VALID_CREATE | {"name": 123}), 422, "/body/name"),
    ("name_is_a_list", dumps(VALID_CREATE | {"name": ["Dinas"]}), 422, "/body/name"),
    ("name_is_infinite", b'{"name": 1e999, "kind": "ministry"}', 422, "/body/name"),
    ("name_is_nan", b'{"name": NaN, "kind": "ministry"}', 422, "/body/name"),
    ("kind_is_a_number", dumps(VALID_CREATE | {"kind": 5}), 422, "/body/kind"),
    ("unknown_kind", dumps(VALID_CREATE | {"kind": "kingdom"}), 422, "/body/kind"),
    ("region_is_a_number", dumps(VALID_CREATE | {"region_code": 33}), 422, "/body/region_code"),
    ("malformed_region", dumps(VALID_CREATE | {"region_code": "33.2"}), 422, "/body/region_code"),
    ("parent_not_a_uuid", dumps(VALID_CREATE | {"parent_id": "nope"}), 422, "/body/parent_id"),
    ("parent_is_a_number", dumps(VALID_CREATE | {"parent_id": 7}), 422, "/body/parent_id"),
    ("body_is_a_list", dumps([VALID_CREATE]), 422, "/body"),
    ("body_is_a_string", dumps("Dinas Kesehatan"), 422, "/body"),
    ("body_is_null", b"null", 422, "/body"),
    ("truncated_json", b'{"name": "Dinas', 422, None),
    ("not_json", b"name=Dinas&kind=ministry", 422, None),
    ("trailing_garbage", dumps(VALID_CREATE) + b"}", 422, None),
    ("deeply_nested", b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, None),
]
# PATCH takes the same hostile bodies, less the ones that only a create refuses.
HOSTILE_PATCH_BODIES = [case for case in HOSTILE_BODIES if case[0] != "body_is_null"]


async def count_institutions(session: AsyncSession) -> int:
    return int(await session.scalar(text("SELECT count(*) FROM institutions")) or 0)


@pytest.mark.parametrize(
    ("raw", "status", "pointer"),
    [pytest.param(raw, status, pointer, id=case) for case, raw, status, pointer in HOSTILE_BODIES],
)
async def test_hostile_create_body_is_a_4xx_problem_and_stores_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    raw: bytes,
    status: int,
    pointer: str | None,
) -> None:
    before = await count_institutions(session)

    r = await client.post(URL, content=raw, headers=admin | JSON)

    body = problem(r, status)
    if pointer is not None:
        assert body["errors"][0]["pointer"] == pointer
    assert await count_institutions(session) == before


@pytest.mark.parametrize(
    ("raw", "status", "pointer"),
    [
        pytest.param(raw, status, pointer, id=case)
        for case, raw, status, pointer in HOSTILE_PATCH_BODIES
    ],
)
async def test_hostile_patch_body_is_a_4xx_problem_and_changes_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    raw: bytes,
    status: int,
    pointer: str | None,
) -> None:
    institution = await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")
    before = await count_institutions(session)

    r = await client.patch(
        f"{URL}/{institution.id}", content=raw, headers=admin | JSON | {"If-Match": '"1"'}
    )

    body = problem(r, status)
    if pointer is not None:
        assert body["errors"][0]["pointer"] == pointer
    row = (
        await session.execute(
            text("SELECT name, kind, region_code, version FROM institutions WHERE id = :id"),
            {"id": institution.id},
        )
    ).one()
    assert tuple(row) == ("Dinas Kesehatan Kabupaten Brebes", "regional_agency", "33.29", 1)
    assert await count_institutions(session) == before


async def test_unknown_field_is_named_in_the_problem(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post(URL, json=VALID_CREATE | {"colour": "red"}, headers=admin)

    assert problem(r, 422)["errors"] == [{"pointer": "/body/colour", "detail": "Unknown field."}]


async def test_name_of_300_chars_is_accepted(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.post(URL, json=VALID_CREATE | {"name": "x" * 300}, headers=admin)

    assert r.status_code == 201, r.text


async def test_body_over_1_mib_is_413(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    raw = dumps(VALID_CREATE | {"name": "x" * (MiB + 1)})

    r = await client.post(URL, content=raw, headers=admin | JSON)

    assert problem(r, 413)["code"] == "content_too_large"
    assert await count_institutions(session) == 0


async def test_body_just_under_1_mib_is_validated_rather_than_refused(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    raw = dumps(VALID_CREATE | {"name": "x" * (MiB - 200)})
    assert len(raw) <= MiB

    r = await client.post(URL, content=raw, headers=admin | JSON)

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/name"
    assert await count_institutions(session) == 0


async def test_streamed_body_over_1_mib_without_length_is_413(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"kind": "ministry", "name": "'
        for _ in range(17):
            yield b"x" * 65_536
        yield b'"}'

    r = await client.post(URL, content=chunks(), headers=admin | JSON)

    assert "content-length" not in r.request.headers
    problem(r, 413)
    assert await count_institutions(session) == 0


async def test_patch_body_over_1_mib_is_413(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    institution = await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")
    raw = dumps({"name": "x" * (MiB + 1)})

    r = await client.patch(
        f"{URL}/{institution.id}", content=raw, headers=admin | JSON | {"If-Match": '"1"'}
    )

    problem(r, 413)
    version = await session.scalar(
        text("SELECT version FROM institutions WHERE id = :id"), {"id": institution.id}
    )
    assert version == 1


async def test_body_without_a_json_content_type_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    r = await client.post(
        URL, content=dumps(VALID_CREATE), headers=admin | {"Content-Type": "text/plain"}
    )

    problem(r, 422)
    assert await count_institutions(session) == 0


async def test_empty_body_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    r = await client.post(URL, content=b"", headers=admin | JSON)

    problem(r, 422)
    assert await count_institutions(session) == 0


@pytest.mark.parametrize(
    ("path", "params", "pointer"),
    [
        pytest.param(URL, {"q": "Dinas\x00"}, "/query/q", id="institutions_q_nul"),
        pytest.param(URL, {"q": "x" * 201}, "/query/q", id="institutions_q_too_long"),
        pytest.param(URL, {"q": ""}, "/query/q", id="institutions_q_empty"),
        pytest.param(URL, {"region": "33\x00"}, "/query/region", id="institutions_region_nul"),
        pytest.param(
            URL, {"province": "3\x003"}, "/query/province", id="institutions_province_nul"
        ),
        pytest.param(URL, {"kind": "ministry\x00"}, "/query/kind", id="institutions_kind_nul"),
        pytest.param(URL, {"parent_id": "\x00"}, "/query/parent_id", id="institutions_parent_nul"),
        pytest.param(URL, {"cursor": "abc\x00"}, "/query/cursor", id="institutions_cursor_nul"),
        pytest.param(URL, {"cursor": "a" * 1001}, "/query/cursor", id="cursor_too_long"),
        pytest.param(URL, {"limit": "\x00"}, "/query/limit", id="institutions_limit_nul"),
        pytest.param(URL, {"limit": "9" * 40}, "/query/limit", id="institutions_limit_huge"),
        pytest.param(URL, {"include_total": "perhaps"}, "/query/include_total", id="bad_bool"),
        pytest.param("/api/v1/regions", {"q": "\x00"}, "/query/q", id="regions_q_nul"),
        pytest.param("/api/v1/regions", {"q": "x" * 201}, "/query/q", id="regions_q_too_long"),
        pytest.param("/api/v1/regions", {"parent": "33\x00"}, "/query/parent", id="parent_nul"),
        pytest.param("/api/v1/regions", {"level": "\x00"}, "/query/level", id="regions_level_nul"),
    ],
)
async def test_hostile_query_parameter_is_422_problem(
    client: httpx.AsyncClient, path: str, params: dict[str, str], pointer: str
) -> None:
    body = problem(await client.get(path, params=params), 422)

    assert body["errors"][0]["pointer"] == pointer


async def test_lone_surrogate_in_a_query_parameter_is_not_a_5xx(
    client: httpx.AsyncClient,
) -> None:
    # %ED%A0%80 is a UTF-8-encoded surrogate; it decodes to U+FFFD and simply finds nothing.
    r = await client.get("/api/v1/regions?q=%ED%A0%80")

    assert r.status_code == 200
    assert r.json()["items"] == []


async def test_nul_byte_in_a_path_parameter_is_422_problem(client: httpx.AsyncClient) -> None:
    problem(await client.get("/api/v1/regions/33%00"), 422)


async def test_over_long_if_match_is_422_problem(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    institution = await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")

    r = await client.patch(
        f"{URL}/{institution.id}", json={"name": "Dinkes"}, headers=admin | {"If-Match": "1" * 101}
    )

    problem(r, 422)
    assert (
        await session.scalar(
            text("SELECT name FROM institutions WHERE id = :id"), {"id": institution.id}
        )
        == "Dinas Kesehatan Kabupaten Brebes"
    )


async def test_over_long_bearer_token_is_401_problem(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    r = await client.post(
        URL, json=VALID_CREATE, headers={"Authorization": "Bearer ih_" + "x" * 10_000}
    )

    problem(r, 401)
    assert await count_institutions(session) == 0


async def test_unknown_path_is_404_problem(client: httpx.AsyncClient) -> None:
    body = problem(await client.get("/api/v1/no-such-thing"), 404)

    assert body["code"] == "not_found"
    assert body["instance"] == "/api/v1/no-such-thing"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", f"{URL}/00000000-0000-0000-0000-000000000000"),
        ("PUT", f"{URL}/00000000-0000-0000-0000-000000000000"),
        ("DELETE", URL),
        ("POST", "/api/v1/regions"),
        ("PATCH", "/api/v1/regions/33"),
    ],
)
async def test_wrong_method_is_405_problem(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    r = await client.request(method, path)

    assert problem(r, 405)["code"] == "method_not_allowed"
    assert "allow" in r.headers


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/api/v1/institutions/e3e70682-c209-1cac-a29f-6fbed82c07cd", "GET, PATCH"),
        ("DELETE", "/api/v1/institutions", "GET, POST"),
        (
            "PUT",
            "/api/v1/commitments/e3e70682-c209-1cac-a29f-6fbed82c07cd/action-items",
            "GET, POST",
        ),
    ],
)
async def test_405_allow_names_every_method_of_the_path(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    r = await client.request(method, path)

    problem(r, 405)
    assert r.headers["allow"] == allowed


async def test_an_innovation_id_in_capitals_is_an_id(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/innovations/E3E70682-C209-1CAC-A29F-6FBED82C07CD")

    assert problem(r, 404)["detail"].startswith("Innovation e3e70682-c209-1cac")
