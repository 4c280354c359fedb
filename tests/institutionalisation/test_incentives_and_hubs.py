"""Incentives (DID) and JIPP hubs: scope, rules, members, and the programme's mentoring hub."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role
from tests.builders import make_innovation, make_institution
from tests.conftest import MakeKey, bearer, problem

INCENTIVES = "/api/v1/incentives"
HUBS = "/api/v1/hubs"
PROGRAMS = "/api/v1/replication-programs"


# --- Incentives -------------------------------------------------------------------------


async def test_a_coordinator_records_an_incentive_of_its_province(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    owner = await make_institution(session, region_code="33.29")
    innovation = await make_innovation(session, institution=owner)
    key = bearer(await make_key(Role.coordinator, "33"))
    body = {
        "region_code": "33.29",
        "year": 2025,
        "amount_idr": 1_500_000_000,
        "basis": "Keberlanjutan inovasi",
        "innovation_id": str(innovation.id),
    }

    r = await client.post(INCENTIVES, json=body, headers=key)

    assert r.status_code == 201, r.text
    assert (await client.get(r.headers["location"])).json() == r.json()
    assert r.json()["amount_idr"] == 1_500_000_000


async def test_an_incentive_of_another_province_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    key = bearer(await make_key(Role.coordinator, "61"))
    body = {"region_code": "33", "year": 2025, "amount_idr": 1, "basis": "KIPP"}

    r = await client.post(INCENTIVES, json=body, headers=key)

    assert problem(r, 403)["code"] == "other_province"
    assert await session.scalar(text("SELECT count(*) FROM incentives")) == 0


async def test_the_innovation_rewarded_is_of_the_same_province(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    owner = await make_institution(session, region_code="32.04")
    innovation = await make_innovation(session, institution=owner)
    body = {
        "region_code": "33",
        "year": 2025,
        "amount_idr": 1,
        "basis": "KIPP",
        "innovation_id": str(innovation.id),
    }

    r = await client.post(INCENTIVES, json=body, headers=admin)

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/innovation_id"


async def test_incentives_list_by_region_and_year(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for region, year in (("33", 2024), ("33.29", 2025), ("61", 2025)):
        body = {"region_code": region, "year": year, "amount_idr": 10, "basis": "Uji"}
        assert (await client.post(INCENTIVES, json=body, headers=admin)).status_code == 201

    async def regions(**params: Any) -> list[str]:
        return [
            i["region_code"] for i in (await client.get(INCENTIVES, params=params)).json()["items"]
        ]

    assert await regions(region="33") == ["33.29", "33"]
    assert await regions(year=2025, region="61") == ["61"]


async def test_province_statistics_total_the_incentives(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for region, amount in (("33", 100), ("33.29", 20), ("61", 5)):
        body = {"region_code": region, "year": 2025, "amount_idr": amount, "basis": "Uji"}
        assert (await client.post(INCENTIVES, json=body, headers=admin)).status_code == 201

    rows = {p["code"]: p for p in (await client.get("/api/v1/stats/provinces")).json()["items"]}

    assert (rows["33"]["incentives_idr"], rows["61"]["incentives_idr"]) == (120, 5)
    assert rows["32"]["incentives_idr"] == 0


# --- JIPP hubs --------------------------------------------------------------------------


async def _hub(
    client: httpx.AsyncClient, session: AsyncSession, headers: dict[str, str], **extra: Any
) -> httpx.Response:
    host = await make_institution(session, name=f"Universitas Uji {uuid.uuid4().hex[:6]}",
                                  kind="university", region_code="61.71")  # fmt: skip
    member = await make_institution(session, name=f"Pemkot Uji {uuid.uuid4().hex[:6]}",
                                    kind="city_government", region_code="61.71")  # fmt: skip
    body = {
        "name": "JIPP Hub Uji",
        "province_code": "61",
        "host_institution_id": str(host.id),
        "member_institution_ids": [str(member.id)],
        "mentors": ["Dr. Pendamping"],
    } | extra
    return await client.post(HUBS, json=body, headers=headers)


async def test_a_hub_is_registered_with_its_host_members_and_mentors(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    r = await _hub(client, session, admin)

    assert r.status_code == 201, r.text
    body = r.json()
    assert body["host"]["name"].startswith("Universitas Uji")
    assert [m["name"][:10] for m in body["members"]] == ["Pemkot Uji"]
    assert body["mentors"] == ["Dr. Pendamping"]
    assert (await client.get(r.headers["location"])).json() == body
    listed = (await client.get(HUBS, params={"province": "61"})).json()["items"]
    assert [h["id"] for h in listed] == [body["id"]]


async def test_a_coordinator_of_another_province_cannot_register_or_change_a_hub(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey, admin: dict[str, str]
) -> None:
    other = bearer(await make_key(Role.coordinator, "33"))
    refused = await _hub(client, session, other)
    assert problem(refused, 403)["code"] == "other_province"
    assert await session.scalar(text("SELECT count(*) FROM jipp_hubs")) == 0

    created = await _hub(client, session, admin)
    url = created.headers["location"]
    r = await client.patch(url, json={"mentors": []}, headers=other | {"If-Match": '"1"'})

    assert problem(r, 403)["code"] == "other_province"


async def test_unknown_members_are_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    r = await _hub(
        client, session, admin, member_institution_ids=["00000000-0000-4000-8000-000000000000"]
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/member_institution_ids"


async def test_patch_replaces_the_members(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    created = await _hub(client, session, admin)
    other = await make_institution(session, name="Pemkab Uji", kind="regency_government",
                                   region_code="61.12")  # fmt: skip

    r = await client.patch(
        created.headers["location"],
        json={"member_institution_ids": [str(other.id)]},
        headers=admin | {"If-Match": created.headers["etag"]},
    )

    assert r.status_code == 200, r.text
    assert ([m["name"] for m in r.json()["members"]], r.json()["version"]) == (["Pemkab Uji"], 2)
    change = await session.scalar(
        text("SELECT changes FROM events WHERE action = 'hub.updated' AND entity_id = :i"),
        {"i": created.json()["id"]},
    )
    assert change == {"member_institution_ids": [str(other.id)]}


async def test_a_programme_names_its_mentoring_hub(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    hub = (await _hub(client, session, admin)).json()
    body = {"name": "Replikasi Kalbar Uji", "province_code": "61", "fiscal_year": 2022}

    program = await client.post(PROGRAMS, json=body | {"mentor_hub_id": hub["id"]}, headers=admin)

    assert program.status_code == 201, program.text
    assert program.json()["mentor_hub_id"] == hub["id"]
    shown = (await client.get(f"{HUBS}/{hub['id']}")).json()["programs"]
    assert [p["name"] for p in shown] == ["Replikasi Kalbar Uji"]
    cleared = await client.patch(
        f"{PROGRAMS}/{program.json()['id']}",
        json={"mentor_hub_id": None},
        headers=admin | {"If-Match": program.headers["etag"]},
    )
    assert cleared.json()["mentor_hub_id"] is None


async def test_a_programme_with_an_unknown_hub_is_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {
        "name": "Replikasi Uji",
        "province_code": "61",
        "fiscal_year": 2022,
        "mentor_hub_id": "00000000-0000-4000-8000-000000000000",
    }

    r = await client.post(PROGRAMS, json=body, headers=admin)

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/mentor_hub_id"
