"""/api/v1/replication-programs: create (who may, for which province), list filters and keyset
pagination, get, PATCH with If-Match, and province scope."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role
from tests.conftest import MakeKey, problem, version_of
from tests.replication._api import (
    PROGRAMS,
    Headers,
    count,
    create_program,
    events_of,
    ids,
    key,
    program_body,
    rows,
    snapshot,
    walk,
    walked_ids,
)

# --- Create -------------------------------------------------------------------------------


async def test_admin_creates_a_province_programme_with_location_etag_and_event(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    r = await client.post(PROGRAMS, json=program_body("33"), headers=admin)

    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["Location"] == f"{PROGRAMS}/{body['id']}"
    assert version_of(r.headers["ETag"]) == 1
    assert (body["province_code"], body["fiscal_year"], body["signed_on"]) == (
        "33",
        2022,
        "2021-11-02",
    )
    assert (body["status"], body["version"]) == ("active", 1)
    [row] = await rows(session, "SELECT name, province_code, status FROM replication_programs")
    assert tuple(row) == ("Replikasi Inovasi Jawa Tengah 2021", "33", "active")
    [event] = await events_of(session, body["id"])
    assert (event.action, event.entity, event.province_code) == (
        "program.created",
        "replication_program",
        "33",
    )


async def test_admin_creates_a_national_programme(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    body = await create_program(client, admin, None, name="Replikasi Nasional")

    assert body["province_code"] is None
    assert await count(session, "replication_programs", "province_code IS NULL") == 1


async def test_status_defaults_to_planned(client: httpx.AsyncClient, admin: Headers) -> None:
    body = program_body("33")
    del body["status"]

    r = await client.post(PROGRAMS, json=body, headers=admin)

    assert r.status_code == 201, r.text
    assert r.json()["status"] == "planned"


async def test_coordinator_creates_a_programme_of_its_own_province(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    coordinator = await key(make_key, Role.coordinator, "33")

    body = await create_program(client, coordinator, "33")

    [event] = await events_of(session, body["id"])
    assert (event.action, event.actor_role) == ("program.created", "coordinator")


@pytest.mark.parametrize("province", [None, "61"], ids=["national", "another province"])
async def test_coordinator_may_not_create_a_programme_outside_its_province(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey, province: str | None
) -> None:
    coordinator = await key(make_key, Role.coordinator, "33")
    before = await snapshot(session)

    r = await client.post(PROGRAMS, json=program_body(province), headers=coordinator)

    assert problem(r, 403)["code"] == "other_province"
    assert await snapshot(session) == before


async def test_integration_may_not_create_a_programme(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    integration = await key(make_key, Role.integration, "33")
    before = await snapshot(session)

    r = await client.post(PROGRAMS, json=program_body("33"), headers=integration)

    assert problem(r, 403)["code"] == "role_not_allowed"
    assert await snapshot(session) == before


@pytest.mark.parametrize("code", ["33.16", "33.71", "99"], ids=["regency", "city", "unknown"])
async def test_province_code_must_be_a_province(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, code: str
) -> None:
    r = await client.post(PROGRAMS, json=program_body(code), headers=admin)

    body = problem(r, 422)
    assert [e["pointer"] for e in body["errors"]] == ["/body/province_code"]
    assert await count(session, "replication_programs") == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("fiscal_year", 1999), ("fiscal_year", 2101), ("name", " "), ("status", "running")],
)
async def test_create_with_an_invalid_field_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, field: str, value: object
) -> None:
    r = await client.post(PROGRAMS, json=program_body("33", **{field: value}), headers=admin)

    body = problem(r, 422)
    assert body["errors"][0]["pointer"] == f"/body/{field}"
    assert await count(session, "replication_programs") == 0


# --- Get ----------------------------------------------------------------------------------


async def test_get_returns_the_programme_with_its_etag(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    created = await create_program(client, admin, "33")

    r = await client.get(f"{PROGRAMS}/{created['id']}")

    assert r.status_code == 200
    assert r.json() == created
    assert version_of(r.headers["ETag"]) == 1


async def test_get_unknown_programme_is_404(client: httpx.AsyncClient) -> None:
    problem(await client.get(f"{PROGRAMS}/{uuid.uuid4()}"), 404)


# --- List ---------------------------------------------------------------------------------


async def test_list_filters_by_province(client: httpx.AsyncClient, admin: Headers) -> None:
    central = await create_program(client, admin, "33")
    await create_program(client, admin, "61")
    await create_program(client, admin, None)

    assert ids(await client.get(PROGRAMS, params={"province": "33"})) == [central["id"]]


async def test_list_filters_by_fiscal_year(client: httpx.AsyncClient, admin: Headers) -> None:
    fy2022 = await create_program(client, admin, "33", fiscal_year=2022)
    await create_program(client, admin, "33", fiscal_year=2023)

    assert ids(await client.get(PROGRAMS, params={"fiscal_year": 2022})) == [fy2022["id"]]


async def test_list_filters_by_status(client: httpx.AsyncClient, admin: Headers) -> None:
    await create_program(client, admin, "33", status="active")
    closed = await create_program(client, admin, "33", status="closed")

    assert ids(await client.get(PROGRAMS, params={"status": "closed"})) == [closed["id"]]


async def test_list_combines_filters(client: httpx.AsyncClient, admin: Headers) -> None:
    wanted = await create_program(client, admin, "61", fiscal_year=2022, status="active")
    await create_program(client, admin, "61", fiscal_year=2022, status="planned")
    await create_program(client, admin, "61", fiscal_year=2021, status="active")
    await create_program(client, admin, "33", fiscal_year=2022, status="active")

    r = await client.get(
        PROGRAMS, params={"province": "61", "fiscal_year": 2022, "status": "active"}
    )

    assert ids(r) == [wanted["id"]]


@pytest.mark.parametrize(
    "params", [{"province": "3"}, {"fiscal_year": 1999}, {"status": "running"}]
)
async def test_list_with_an_invalid_filter_is_422(
    client: httpx.AsyncClient, params: dict[str, str | int]
) -> None:
    problem(await client.get(PROGRAMS, params=params), 422)


async def test_list_is_newest_fiscal_year_first(client: httpx.AsyncClient, admin: Headers) -> None:
    old = await create_program(client, admin, "33", fiscal_year=2020)
    new = await create_program(client, admin, "33", fiscal_year=2024)
    middle = await create_program(client, admin, "33", fiscal_year=2022)

    assert ids(await client.get(PROGRAMS)) == [new["id"], middle["id"], old["id"]]


async def test_keyset_walk_returns_every_programme_once_in_order(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    created = [
        await create_program(client, admin, "33", fiscal_year=year)
        for year in (2021, 2022, 2022, 2022, 2023, 2023, 2024)
    ]
    expected = [
        p["id"] for p in sorted(created, key=lambda p: (p["fiscal_year"], p["id"]), reverse=True)
    ]

    pages = await walk(client, PROGRAMS, {}, limit=2)

    assert walked_ids(pages) == expected
    assert [len(p["items"]) for p in pages] == [2, 2, 2, 1]


async def test_keyset_walk_keeps_the_filters(client: httpx.AsyncClient, admin: Headers) -> None:
    wanted = [await create_program(client, admin, "61", fiscal_year=2022) for _ in range(3)]
    for _ in range(3):
        await create_program(client, admin, "33", fiscal_year=2022)

    pages = await walk(client, PROGRAMS, {"province": "61"}, limit=2)

    assert sorted(walked_ids(pages)) == sorted(p["id"] for p in wanted)
    assert len(pages) == 2


async def test_include_total_counts_matching_programmes(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    for _ in range(3):
        await create_program(client, admin, "33")
    await create_program(client, admin, "61")

    r = await client.get(PROGRAMS, params={"province": "33", "limit": 1, "include_total": True})

    assert r.json()["total"] == 3
    assert len(r.json()["items"]) == 1


async def test_cursor_of_another_list_is_400(client: httpx.AsyncClient, admin: Headers) -> None:
    for _ in range(2):
        await create_program(client, admin, "33")
    cursor = (await client.get(PROGRAMS, params={"limit": 1})).json()["next_cursor"]

    r = await client.get("/api/v1/commitments", params={"cursor": cursor})

    assert problem(r, 400)["code"] == "invalid_cursor"


# --- PATCH --------------------------------------------------------------------------------


async def test_patch_with_if_match_changes_the_fields_sent_and_returns_a_new_etag(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    created = await create_program(client, admin, "33")
    url = f"{PROGRAMS}/{created['id']}"

    r = await client.patch(
        url,
        json={"status": "closed", "mentor_team": "Tim JIPP"},
        headers=admin | {"If-Match": '"1"'},
    )

    assert r.status_code == 200, r.text
    assert version_of(r.headers["ETag"]) == 2
    body = r.json()
    assert (body["status"], body["mentor_team"], body["version"]) == ("closed", "Tim JIPP", 2)
    assert body["name"] == created["name"]
    [row] = await rows(session, "SELECT status, mentor_team, version FROM replication_programs")
    assert tuple(row) == ("closed", "Tim JIPP", 2)
    actions = [e.action for e in await events_of(session, created["id"])]
    assert actions == ["program.created", "program.updated"]
    assert (await events_of(session, created["id"]))[1].changes == {
        "status": "closed",
        "mentor_team": "Tim JIPP",
    }


async def test_patch_without_if_match_is_428(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    created = await create_program(client, admin, "33")
    before = await snapshot(session)

    r = await client.patch(f"{PROGRAMS}/{created['id']}", json={"name": "Baru"}, headers=admin)

    assert problem(r, 428)["code"] == "if_match_required"
    assert await snapshot(session) == before


async def test_patch_with_a_stale_etag_is_412(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    created = await create_program(client, admin, "33")
    url = f"{PROGRAMS}/{created['id']}"
    first = await client.patch(url, json={"name": "Satu"}, headers=admin | {"If-Match": '"1"'})
    assert first.status_code == 200
    before = await snapshot(session)

    r = await client.patch(url, json={"name": "Dua"}, headers=admin | {"If-Match": '"1"'})

    assert problem(r, 412)["code"] == "stale_version"
    assert await snapshot(session) == before
    assert (await client.get(url)).json()["name"] == "Satu"


async def test_patch_that_changes_nothing_keeps_the_version_and_writes_no_event(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    created = await create_program(client, admin, "33")

    r = await client.patch(
        f"{PROGRAMS}/{created['id']}",
        json={"status": created["status"]},
        headers=admin | {"If-Match": '"1"'},
    )

    assert r.status_code == 200
    assert version_of(r.headers["ETag"]) == 1
    assert len(await events_of(session, created["id"])) == 1


@pytest.mark.parametrize("field", ["name", "fiscal_year", "status"])
async def test_patch_may_not_null_a_required_field(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, field: str
) -> None:
    created = await create_program(client, admin, "33")
    before = await snapshot(session)

    r = await client.patch(
        f"{PROGRAMS}/{created['id']}", json={field: None}, headers=admin | {"If-Match": '"1"'}
    )

    assert problem(r, 422)["errors"][0]["pointer"] == f"/body/{field}"
    assert await snapshot(session) == before


async def test_patch_of_an_unknown_field_is_422(client: httpx.AsyncClient, admin: Headers) -> None:
    created = await create_program(client, admin, "33")

    r = await client.patch(
        f"{PROGRAMS}/{created['id']}",
        json={"province_code": "61"},
        headers=admin | {"If-Match": '"1"'},
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/province_code"


async def test_patch_of_an_unknown_programme_is_404(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    r = await client.patch(
        f"{PROGRAMS}/{uuid.uuid4()}", json={"name": "X"}, headers=admin | {"If-Match": '"1"'}
    )

    problem(r, 404)


async def test_coordinator_patches_its_own_province_programme(
    client: httpx.AsyncClient, admin: Headers, make_key: MakeKey
) -> None:
    created = await create_program(client, admin, "33")
    coordinator = await key(make_key, Role.coordinator, "33")

    r = await client.patch(
        f"{PROGRAMS}/{created['id']}",
        json={"description": "Putaran kedua"},
        headers=coordinator | {"If-Match": '"1"'},
    )

    assert r.status_code == 200, r.text
    assert r.json()["description"] == "Putaran kedua"


@pytest.mark.parametrize("province", [None, "33"], ids=["national", "province 33"])
async def test_another_province_coordinator_may_not_patch_a_programme(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    make_key: MakeKey,
    province: str | None,
) -> None:
    created = await create_program(client, admin, province)
    coordinator = await key(make_key, Role.coordinator, "61")
    before = await snapshot(session)

    r = await client.patch(
        f"{PROGRAMS}/{created['id']}",
        json={"status": "closed"},
        headers=coordinator | {"If-Match": '"1"'},
    )

    assert problem(r, 403)["code"] == "other_province"
    assert await snapshot(session) == before


async def test_integration_may_not_patch_a_programme(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    created = await create_program(client, admin, "33")
    integration = await key(make_key, Role.integration, "33")
    before = await snapshot(session)

    r = await client.patch(
        f"{PROGRAMS}/{created['id']}",
        json={"status": "closed"},
        headers=integration | {"If-Match": '"1"'},
    )

    assert problem(r, 403)["code"] == "role_not_allowed"
    assert await snapshot(session) == before
