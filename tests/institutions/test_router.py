"""/api/v1/institutions: registration rules, filters, keyset pages, PATCH, scope and events."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role, hash_key
from app.models.api_key import ApiKey
from app.models.event import Event
from app.models.institution import Institution
from tests.builders import make_institution
from tests.conftest import MakeKey, bearer, problem, version_of

URL = "/api/v1/institutions"
Headers = dict[str, str]


async def count_institutions(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Institution)) or 0)


async def events_of(session: AsyncSession, entity_id: object) -> list[Event]:
    stmt = select(Event).where(Event.entity_id == str(entity_id)).order_by(Event.id)
    return list((await session.scalars(stmt)).all())


async def stored(session: AsyncSession, institution_id: uuid.UUID) -> Institution:
    """The row as the database has it now (not the session's cached copy)."""
    row = await session.get(Institution, institution_id, populate_existing=True)
    assert row is not None
    return row


async def create(client: httpx.AsyncClient, headers: Headers, **body: Any) -> httpx.Response:
    return await client.post(URL, json=body, headers=headers)


async def patch(
    client: httpx.AsyncClient,
    headers: Headers,
    institution_id: object,
    body: dict[str, Any],
    version: int | None = 1,
) -> httpx.Response:
    extra = {"If-Match": f'"{version}"'} if version is not None else {}
    return await client.patch(f"{URL}/{institution_id}", json=body, headers=headers | extra)


# --- Create -------------------------------------------------------------------------------


async def test_create_returns_201_with_location_and_etag(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    r = await create(
        client,
        admin,
        name="Dinas Kesehatan Kota Semarang",
        kind="regional_agency",
        region_code="33.74",
    )

    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["Location"] == f"{URL}/{body['id']}"
    assert version_of(r.headers["ETag"]) == 1
    assert body["name"] == "Dinas Kesehatan Kota Semarang"
    assert body["kind"] == "regional_agency"
    assert body["region_code"] == "33.74"
    assert body["province_code"] == "33"
    assert body["parent_id"] is None
    assert body["version"] == 1
    row = await stored(session, uuid.UUID(body["id"]))
    assert (row.name, row.kind, row.region_code, row.province_code) == (
        "Dinas Kesehatan Kota Semarang",
        "regional_agency",
        "33.74",
        "33",
    )


async def test_created_institution_is_readable_at_its_location(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    created = await create(client, admin, name="Kementerian PANRB", kind="ministry")

    r = await client.get(created.headers["Location"])

    assert r.status_code == 200
    assert r.json() == created.json()
    assert version_of(r.headers["ETag"]) == 1


async def test_create_strips_surrounding_whitespace_from_the_name(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    r = await create(client, admin, name="  Kementerian PANRB  ", kind="ministry")

    assert r.status_code == 201
    assert r.json()["name"] == "Kementerian PANRB"


@pytest.mark.parametrize(
    ("kind", "region_code"),
    [
        ("city_government", "33.71"),
        ("regency_government", "33.29"),
        ("provincial_government", "33"),
        ("ministry", None),
        ("regional_agency", "33"),
        ("regional_agency", "33.29"),
        ("regional_agency", "33.71"),
        ("hospital", "33.29"),
        ("regional_enterprise", "33"),
        ("university", None),
        ("university", "33.74"),
        ("agency", None),
        ("state_enterprise", None),
        ("other", "33.29"),
    ],
)
async def test_kind_on_a_region_of_the_matching_level_is_created(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    kind: str,
    region_code: str | None,
) -> None:
    r = await create(client, admin, name="Instansi Uji", kind=kind, region_code=region_code)

    assert r.status_code == 201, r.text
    row = await stored(session, uuid.UUID(r.json()["id"]))
    assert (row.kind, row.region_code) == (kind, region_code)


@pytest.mark.parametrize(
    ("kind", "region_code"),
    [
        ("city_government", "33.29"),  # a regency
        ("city_government", "33"),  # a province
        ("city_government", None),
        ("regency_government", "33.71"),  # a city
        ("regency_government", "33"),
        ("regency_government", None),
        ("provincial_government", "33.29"),
        ("provincial_government", None),
        ("ministry", "33"),
        ("ministry", "33.29"),
        ("regional_agency", None),
        ("hospital", None),
        ("regional_enterprise", None),
    ],
)
async def test_kind_on_a_region_of_the_wrong_level_is_422(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    kind: str,
    region_code: str | None,
) -> None:
    before = await count_institutions(session)

    r = await create(client, admin, name="Instansi Uji", kind=kind, region_code=region_code)

    body = problem(r, 422)
    assert body["errors"][0]["pointer"] == "/body/region_code"
    assert await count_institutions(session) == before


async def test_unknown_region_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    r = await create(client, admin, name="Dinas Uji", kind="regional_agency", region_code="33.98")

    body = problem(r, 422)
    assert body["errors"] == [
        {"pointer": "/body/region_code", "detail": "Region 33.98 does not exist."}
    ]
    assert await count_institutions(session) == 0


async def test_unknown_parent_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    r = await create(
        client,
        admin,
        name="Dinas Uji",
        kind="regional_agency",
        region_code="33.29",
        parent_id=str(uuid.uuid4()),
    )

    body = problem(r, 422)
    assert body["errors"][0]["pointer"] == "/body/parent_id"
    assert await count_institutions(session) == 0


async def test_opd_under_its_own_government_is_created(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    government = await make_institution(
        session, name="Pemerintah Kabupaten Brebes", kind="regency_government"
    )

    r = await create(
        client,
        admin,
        name="Bappeda Kabupaten Brebes",
        kind="regional_agency",
        region_code="33.29",
        parent_id=str(government.id),
    )

    assert r.status_code == 201, r.text
    assert r.json()["parent_id"] == str(government.id)


async def test_opd_whose_parent_is_in_another_region_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    government = await make_institution(
        session, name="Pemerintah Kabupaten Brebes", kind="regency_government"
    )

    r = await create(
        client,
        admin,
        name="Bappeda Kabupaten Cilacap",
        kind="regional_agency",
        region_code="33.01",
        parent_id=str(government.id),
    )

    body = problem(r, 422)
    assert body["errors"][0]["pointer"] == "/body/parent_id"
    assert "another region" in body["errors"][0]["detail"]
    assert await count_institutions(session) == 1


async def test_duplicate_name_in_the_same_region_is_409(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")

    r = await create(
        client,
        admin,
        name="Dinas Kesehatan Kabupaten Brebes",
        kind="regional_agency",
        region_code="33.29",
    )

    assert problem(r, 409)["code"] == "duplicate_institution"
    assert await count_institutions(session) == 1


async def test_same_name_in_another_region_is_created(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    await make_institution(session, name="Dinas Kesehatan", region_code="33.29")

    r = await create(
        client, admin, name="Dinas Kesehatan", kind="regional_agency", region_code="33.01"
    )

    assert r.status_code == 201, r.text
    assert await count_institutions(session) == 2


async def test_two_ministries_with_the_same_name_and_no_region_is_409(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    first = await create(client, admin, name="Kementerian Kesehatan", kind="ministry")
    assert first.status_code == 201

    second = await create(client, admin, name="Kementerian Kesehatan", kind="ministry")

    assert problem(second, 409)["code"] == "duplicate_institution"
    assert await count_institutions(session) == 1


async def test_create_without_a_key_is_401(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    r = await client.post(URL, json={"name": "Kementerian PANRB", "kind": "ministry"})

    problem(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert await count_institutions(session) == 0


async def test_create_with_an_unknown_key_is_401(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    r = await create(client, bearer("ih_not-a-real-key"), name="Kementerian PANRB", kind="ministry")

    problem(r, 401)
    assert await count_institutions(session) == 0


async def test_reviewer_cannot_create_an_institution(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    reviewer = bearer(await make_key(Role.reviewer))

    r = await create(client, reviewer, name="Kementerian PANRB", kind="ministry")

    assert problem(r, 403)["code"] == "role_not_allowed"
    assert await count_institutions(session) == 0


# --- Get ----------------------------------------------------------------------------------


async def test_get_unknown_institution_is_404(client: httpx.AsyncClient) -> None:
    missing = uuid.uuid4()

    body = problem(await client.get(f"{URL}/{missing}"), 404)

    assert body["code"] == "not_found"
    assert str(missing) in body["detail"]


async def test_get_is_open_to_anonymous_clients_with_an_etag(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    institution = await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")

    r = await client.get(f"{URL}/{institution.id}")

    assert r.status_code == 200
    assert version_of(r.headers["ETag"]) == 1
    assert r.json()["id"] == str(institution.id)
    assert r.json()["name"] == institution.name


async def test_get_with_a_malformed_id_is_422(client: httpx.AsyncClient) -> None:
    body = problem(await client.get(f"{URL}/not-a-uuid"), 422)

    assert body["errors"][0]["pointer"] == "/path/institution_id"


# --- List ---------------------------------------------------------------------------------


async def list_names(client: httpx.AsyncClient, **params: Any) -> list[str]:
    r = await client.get(URL, params={"limit": 200, **params})
    assert r.status_code == 200, r.text
    return [i["name"] for i in r.json()["items"]]


async def test_list_filters_by_kind(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_institution(session, name="RSUD Brebes", kind="hospital")
    await make_institution(session, name="Dinkes Brebes", kind="regional_agency")

    assert await list_names(client, kind="hospital") == ["RSUD Brebes"]


async def test_list_region_filter_includes_the_regions_under_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_institution(
        session, name="Pemprov Jawa Tengah", kind="provincial_government", region_code="33"
    )
    await make_institution(session, name="Dinkes Brebes", region_code="33.29")
    await make_institution(session, name="Dinkes Kota Bandung", region_code="32.73")
    await make_institution(session, name="Kementerian PANRB", kind="ministry", region_code=None)

    assert await list_names(client, region="33") == ["Dinkes Brebes", "Pemprov Jawa Tengah"]


async def test_list_region_filter_on_a_regency_excludes_its_province(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_institution(
        session, name="Pemprov Jawa Tengah", kind="provincial_government", region_code="33"
    )
    await make_institution(session, name="Dinkes Brebes", region_code="33.29")
    await make_institution(session, name="Dinkes Cilacap", region_code="33.01")

    assert await list_names(client, region="33.29") == ["Dinkes Brebes"]


async def test_list_filters_by_province(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_institution(session, name="Dinkes Brebes", region_code="33.29")
    await make_institution(
        session, name="Pemprov Kalimantan Barat", kind="provincial_government", region_code="61"
    )
    await make_institution(session, name="Dinkes Kota Pontianak", region_code="61.71")

    assert await list_names(client, province="61") == [
        "Dinkes Kota Pontianak",
        "Pemprov Kalimantan Barat",
    ]


async def test_list_filters_by_parent(client: httpx.AsyncClient, session: AsyncSession) -> None:
    brebes = await make_institution(session, name="Pemkab Brebes", kind="regency_government")
    cilacap = await make_institution(
        session, name="Pemkab Cilacap", kind="regency_government", region_code="33.01"
    )
    await make_institution(session, name="Bappeda Brebes", parent_id=brebes.id)
    await make_institution(session, name="Dinkes Brebes", parent_id=brebes.id)
    await make_institution(
        session, name="Dinkes Cilacap", region_code="33.01", parent_id=cilacap.id
    )

    assert await list_names(client, parent_id=str(brebes.id)) == ["Bappeda Brebes", "Dinkes Brebes"]


async def test_list_q_matches_part_of_the_name_in_any_case(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")
    await make_institution(session, name="RSUD Kesehatan Jiwa", kind="hospital")
    await make_institution(session, name="Bappeda Kabupaten Brebes")

    assert await list_names(client, q="KESEHATAN") == [
        "Dinas Kesehatan Kabupaten Brebes",
        "RSUD Kesehatan Jiwa",
    ]


async def test_list_q_treats_like_wildcards_as_plain_text(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_institution(session, name="Dinas 100% Digital")
    await make_institution(session, name="Dinas Kesehatan")

    assert await list_names(client, q="0%") == ["Dinas 100% Digital"]
    assert await list_names(client, q="_") == []


async def test_list_keyset_walk_returns_every_institution_once_sorted_by_name(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # Equal names in different regions make the id tie-breaker matter.
    for name, region in [
        ("Dinas Sosial", "33.29"),
        ("Bappeda", "33.29"),
        ("Dinas Sosial", "33.01"),
        ("Dinas Sosial", "33.71"),
        ("Inspektorat", "33.29"),
        ("Bappeda", "33.01"),
        ("Dinas Kesehatan", "33.74"),
    ]:
        await make_institution(session, name=name, region_code=region)
    expected = [
        str(i)
        for i in (
            await session.scalars(select(Institution.id).order_by(Institution.name, Institution.id))
        ).all()
    ]

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(URL, params=params)).json()
        seen.extend(i["id"] for i in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(expected) == 7
    assert seen == expected


async def test_list_keyset_walk_keeps_filters_across_pages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    for n in range(5):
        await make_institution(session, name=f"RSUD {n}", kind="hospital")
        await make_institution(session, name=f"Dinas {n}")

    first = (await client.get(URL, params={"kind": "hospital", "limit": 3})).json()
    rest = (
        await client.get(
            URL, params={"kind": "hospital", "limit": 3, "cursor": first["next_cursor"]}
        )
    ).json()

    names = [i["name"] for i in first["items"] + rest["items"]]
    assert names == [f"RSUD {n}" for n in range(5)]
    assert rest["next_cursor"] is None


async def test_list_include_total_counts_every_match(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    for n in range(3):
        await make_institution(session, name=f"RSUD {n}", kind="hospital")
    await make_institution(session, name="Dinkes Brebes")

    r = await client.get(URL, params={"kind": "hospital", "limit": 1, "include_total": "true"})

    assert r.status_code == 200
    assert r.json()["total"] == 3
    assert len(r.json()["items"]) == 1


async def test_list_without_include_total_has_no_total(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")

    r = await client.get(URL)

    assert r.status_code == 200
    assert "total" not in r.json()


async def test_list_with_an_unknown_kind_is_422(client: httpx.AsyncClient) -> None:
    body = problem(await client.get(URL, params={"kind": "kingdom"}), 422)

    assert body["errors"][0]["pointer"] == "/query/kind"


# --- Patch --------------------------------------------------------------------------------


async def test_patch_without_if_match_is_428(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")

    r = await patch(client, admin, institution.id, {"name": "Dinkes Brebes"}, version=None)

    assert problem(r, 428)["code"] == "if_match_required"
    row = await stored(session, institution.id)
    assert (row.name, row.version) == ("Dinas Kesehatan Kabupaten Brebes", 1)


async def test_patch_with_a_stale_if_match_is_412(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")

    r = await patch(client, admin, institution.id, {"name": "Dinkes Brebes"}, version=7)

    assert problem(r, 412)["code"] == "stale_version"
    row = await stored(session, institution.id)
    assert (row.name, row.version) == ("Dinas Kesehatan Kabupaten Brebes", 1)


async def test_patch_with_a_malformed_if_match_is_412(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")

    r = await client.patch(
        f"{URL}/{institution.id}", json={"name": "X"}, headers=admin | {"If-Match": "W/abc"}
    )

    problem(r, 412)
    assert (await stored(session, institution.id)).name == "Dinas Kesehatan Kabupaten Brebes"


async def test_patch_with_the_etag_of_an_earlier_version_is_412(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")
    assert (await patch(client, admin, institution.id, {"name": "Dinkes"})).status_code == 200

    r = await patch(client, admin, institution.id, {"name": "Dinkes Brebes"}, version=1)

    problem(r, 412)
    row = await stored(session, institution.id)
    assert (row.name, row.version) == ("Dinkes", 2)


async def test_patch_changes_only_the_fields_sent_and_returns_the_new_etag(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    government = await make_institution(session, name="Pemkab Brebes", kind="regency_government")
    opd = await make_institution(session, name="Dinkes Brebes", parent_id=government.id)

    r = await patch(client, admin, opd.id, {"name": "Dinas Kesehatan Kabupaten Brebes"})

    assert r.status_code == 200, r.text
    assert version_of(r.headers["ETag"]) == 2
    body = r.json()
    assert body["version"] == 2
    assert body["name"] == "Dinas Kesehatan Kabupaten Brebes"
    assert (body["kind"], body["region_code"], body["parent_id"]) == (
        "regional_agency",
        "33.29",
        str(government.id),
    )
    row = await stored(session, opd.id)
    assert (row.name, row.kind, row.region_code, row.parent_id, row.version) == (
        "Dinas Kesehatan Kabupaten Brebes",
        "regional_agency",
        "33.29",
        government.id,
        2,
    )
    assert row.updated_at >= row.created_at


async def test_patch_with_explicit_null_clears_the_parent(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    government = await make_institution(session, name="Pemkab Brebes", kind="regency_government")
    opd = await make_institution(session, name="Dinkes Brebes", parent_id=government.id)

    r = await patch(client, admin, opd.id, {"parent_id": None})

    assert r.status_code == 200, r.text
    assert r.json()["parent_id"] is None
    assert (await stored(session, opd.id)).parent_id is None


async def test_patch_setting_the_name_to_null_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")

    r = await patch(client, admin, institution.id, {"name": None})

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/name"
    assert (await stored(session, institution.id)).name == "Dinas Kesehatan Kabupaten Brebes"


async def test_patch_kind_to_one_that_does_not_fit_the_region_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(
        session, name="Dinas Kesehatan Kabupaten Brebes"
    )  # a regional agency on regency 33.29

    r = await patch(client, admin, institution.id, {"kind": "city_government"})

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/region_code"
    assert (await stored(session, institution.id)).kind == "regional_agency"


async def test_patch_making_a_parent_cycle_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    government = await make_institution(session, name="Pemkab Brebes", kind="regency_government")
    opd = await make_institution(session, name="Dinkes Brebes", parent_id=government.id)
    unit = await make_institution(session, name="Puskesmas Brebes", parent_id=opd.id)

    r = await patch(client, admin, government.id, {"parent_id": str(unit.id)})

    assert problem(r, 422)["errors"] == [
        {"pointer": "/body/parent_id", "detail": "An institution cannot be its own ancestor."}
    ]
    row = await stored(session, government.id)
    assert (row.parent_id, row.version) == (None, 1)


async def test_patch_making_an_institution_its_own_parent_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")

    r = await patch(client, admin, institution.id, {"parent_id": str(institution.id)})

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/parent_id"
    assert (await stored(session, institution.id)).parent_id is None


async def test_patch_to_a_duplicate_name_is_409(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    await make_institution(session, name="Dinkes Brebes")
    other = await make_institution(session, name="Bappeda Brebes")

    r = await patch(client, admin, other.id, {"name": "Dinkes Brebes"})

    assert problem(r, 409)["code"] == "duplicate_institution"
    row = await stored(session, other.id)
    assert (row.name, row.version) == ("Bappeda Brebes", 1)


async def test_patch_unknown_institution_is_404(client: httpx.AsyncClient, admin: Headers) -> None:
    problem(await patch(client, admin, uuid.uuid4(), {"name": "Dinkes"}), 404)


async def test_patch_with_the_same_values_keeps_the_version(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")

    r = await patch(client, admin, institution.id, {"name": institution.name})

    assert r.status_code == 200
    assert version_of(r.headers["ETag"]) == 1
    assert (await stored(session, institution.id)).version == 1
    assert await events_of(session, institution.id) == []


# --- Province scope -----------------------------------------------------------------------


async def test_coordinator_creates_an_institution_in_its_own_province(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    coordinator = bearer(await make_key(Role.coordinator, "33"))

    r = await create(
        client, coordinator, name="Dinkes Brebes", kind="regional_agency", region_code="33.29"
    )

    assert r.status_code == 201, r.text
    assert await count_institutions(session) == 1


async def test_coordinator_cannot_create_in_another_province(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    coordinator = bearer(await make_key(Role.coordinator, "61"))

    r = await create(
        client, coordinator, name="Dinkes Brebes", kind="regional_agency", region_code="33.29"
    )

    assert problem(r, 403)["code"] == "other_province"
    assert await count_institutions(session) == 0


async def test_coordinator_cannot_create_an_institution_without_a_region(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    coordinator = bearer(await make_key(Role.coordinator, "61"))

    r = await create(client, coordinator, name="Kementerian PANRB", kind="ministry")

    assert problem(r, 403)["code"] == "other_province"
    assert await count_institutions(session) == 0


async def test_coordinator_cannot_patch_in_another_province(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    institution = await make_institution(
        session, name="Dinas Kesehatan Kabupaten Brebes"
    )  # in 33.29
    coordinator = bearer(await make_key(Role.coordinator, "61"))

    r = await patch(client, coordinator, institution.id, {"name": "Dinkes Brebes"})

    assert problem(r, 403)["code"] == "other_province"
    row = await stored(session, institution.id)
    assert (row.name, row.version) == ("Dinas Kesehatan Kabupaten Brebes", 1)
    assert await events_of(session, institution.id) == []


async def test_coordinator_cannot_move_an_institution_into_another_province(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    institution = await make_institution(session, name="Dinkes Pontianak", region_code="61.71")
    coordinator = bearer(await make_key(Role.coordinator, "61"))

    r = await patch(client, coordinator, institution.id, {"region_code": "33.29"})

    assert problem(r, 403)["code"] == "other_province"
    assert (await stored(session, institution.id)).region_code == "61.71"


async def test_coordinator_patches_an_institution_of_its_own_province(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    institution = await make_institution(session, name="Dinkes Pontianak", region_code="61.71")
    coordinator = bearer(await make_key(Role.coordinator, "61"))

    r = await patch(client, coordinator, institution.id, {"name": "Dinas Kesehatan Pontianak"})

    assert r.status_code == 200, r.text
    assert (await stored(session, institution.id)).name == "Dinas Kesehatan Pontianak"


# --- Events -------------------------------------------------------------------------------


async def test_create_writes_one_institution_created_event(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    key = await make_key(Role.coordinator, "33")
    key_id = await session.scalar(select(ApiKey.id).where(ApiKey.key_hash == hash_key(key)))

    r = await create(
        client, bearer(key), name="Dinkes Brebes", kind="regional_agency", region_code="33.29"
    )

    assert r.status_code == 201
    events = await events_of(session, r.json()["id"])
    assert len(events) == 1
    event = events[0]
    assert (event.action, event.entity, event.actor_id, event.actor_role) == (
        "institution.created",
        "institution",
        key_id,
        "coordinator",
    )
    assert event.province_code == "33"
    assert event.changes["name"] == "Dinkes Brebes"
    assert event.changes["region_code"] == "33.29"


async def test_patch_writes_one_institution_updated_event_with_the_changes(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session, name="Dinas Kesehatan Kabupaten Brebes")

    r = await patch(client, admin, institution.id, {"name": "Dinkes Brebes", "kind": "hospital"})

    assert r.status_code == 200
    events = await events_of(session, institution.id)
    assert [e.action for e in events] == ["institution.updated"]
    assert events[0].changes == {"name": "Dinkes Brebes", "kind": "hospital"}
    assert events[0].actor_role == "admin"


async def test_failed_create_writes_no_event(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    before = await session.scalar(select(func.count()).select_from(Event))

    r = await create(
        client, admin, name="Pemkot Brebes", kind="city_government", region_code="33.29"
    )

    problem(r, 422)
    assert await session.scalar(select(func.count()).select_from(Event)) == before


async def test_each_write_adds_exactly_one_event(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    before = await session.scalar(select(func.count()).select_from(Event))

    created = await create(client, admin, name="Kementerian PANRB", kind="ministry")
    institution_id = created.json()["id"]
    await patch(client, admin, institution_id, {"name": "KemenPANRB"}, version=1)
    await patch(client, admin, institution_id, {"name": "Kementerian PANRB"}, version=2)

    actions = [e.action for e in await events_of(session, institution_id)]
    assert actions == ["institution.created", "institution.updated", "institution.updated"]
    assert await session.scalar(select(func.count()).select_from(Event)) == (before or 0) + 3
