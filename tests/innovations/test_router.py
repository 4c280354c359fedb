"""/api/v1/innovations: create, read, visibility, PATCH rules, scope, awards, lineage, events,
list filters, sorts and keyset pagination."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role
from app.models.innovation import Award, Innovation
from app.models.institution import Institution
from tests.builders import make_award, make_innovation, make_institution
from tests.conftest import MakeKey, bearer, problem, version_of
from tests.innovations._api import (
    URL,
    Headers,
    count_events,
    count_innovations,
    events_of,
    ids,
    innovation_body,
    stored,
    walk,
    walked_ids,
)


async def patch(
    client: httpx.AsyncClient,
    headers: Headers,
    innovation_id: object,
    body: dict[str, Any],
    version: int | None = 1,
) -> httpx.Response:
    extra = {"If-Match": f'"{version}"'} if version is not None else {}
    return await client.patch(f"{URL}/{innovation_id}", json=body, headers=headers | extra)


# --- Create -------------------------------------------------------------------------------


async def test_create_returns_201_with_location_etag_and_read_model(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(
        session, name="Dinas Kesehatan Kota Semarang", region_code="33.74"
    )

    r = await client.post(
        URL, json=innovation_body(institution.id, tags=["ibu", "anak"]), headers=admin
    )

    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["Location"] == f"{URL}/{body['id']}"
    assert version_of(r.headers["ETag"]) == 1
    assert body["title"] == "Sayangi dan Dampingi Ibu dan Anak"
    assert body["institution"] == {
        "id": str(institution.id),
        "name": "Dinas Kesehatan Kota Semarang",
        "kind": "regional_agency",
    }
    assert (body["region_code"], body["province_code"]) == ("33.74", "33")
    assert (body["status"], body["scale"], body["version"]) == ("draft", "local", 1)
    assert body["launched_on"] == "2019-03-01"
    assert body["tags"] == ["ibu", "anak"]
    assert body["awards"] == []
    row = await stored(session, body["id"])
    assert (row.title, row.status, row.region_code, row.province_code) == (
        "Sayangi dan Dampingi Ibu dan Anak",
        "draft",
        "33.74",
        "33",
    )


async def test_location_of_created_innovation_serves_it(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    created = await client.post(URL, json=innovation_body(institution.id), headers=admin)

    r = await client.get(created.headers["Location"], headers=admin)

    assert r.status_code == 200
    assert r.json() == created.json()
    assert r.headers["ETag"] == created.headers["ETag"]


async def test_create_writes_exactly_one_event(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session, region_code="33.29")
    before = await count_events(session)

    r = await client.post(URL, json=innovation_body(institution.id), headers=admin)

    assert r.status_code == 201, r.text
    assert await count_events(session) == before + 1
    [event] = await events_of(session, r.json()["id"])
    assert (event.action, event.entity, event.province_code) == (
        "innovation.created",
        "innovation",
        "33",
    )
    assert event.changes["title"] == "Sayangi dan Dampingi Ibu dan Anak"


async def test_create_as_withdrawn_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)

    r = await client.post(
        URL, json=innovation_body(institution.id, status="withdrawn"), headers=admin
    )

    body = problem(r, 422)
    assert body["errors"][0]["pointer"] == "/body/status"
    assert await count_innovations(session) == 0


@pytest.mark.parametrize("launched_on", ["1900-01-01", "1899-12-31", "2999-01-01"])
async def test_create_with_launch_date_out_of_range_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, launched_on: str
) -> None:
    institution = await make_institution(session)

    r = await client.post(
        URL, json=innovation_body(institution.id, launched_on=launched_on), headers=admin
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/launched_on"
    assert await count_innovations(session) == 0


async def test_create_without_launch_date_lists_it_last(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    dated = await make_innovation(session, institution=institution, launched_on=date(1900, 1, 2))

    r = await client.post(
        URL,
        json=innovation_body(institution.id, launched_on=None, status="published"),
        headers=admin,
    )

    assert r.status_code == 201, r.text
    assert r.json()["launched_on"] is None
    assert ids(await client.get(URL)) == [str(dated.id), r.json()["id"]]


async def test_create_for_unknown_institution_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    r = await client.post(URL, json=innovation_body(uuid.uuid4()), headers=admin)

    body = problem(r, 422)
    assert body["errors"][0]["pointer"] == "/body/institution_id"
    assert await count_innovations(session) == 0


async def test_create_does_not_accept_scale(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)

    r = await client.post(
        URL, json=innovation_body(institution.id, scale="national"), headers=admin
    )

    body = problem(r, 422)
    assert {"pointer": "/body/scale", "detail": "Unknown field."} in body["errors"]
    assert await count_innovations(session) == 0


async def test_create_without_key_is_401(client: httpx.AsyncClient, session: AsyncSession) -> None:
    institution = await make_institution(session)

    r = await client.post(URL, json=innovation_body(institution.id))

    problem(r, 401)
    assert await count_innovations(session) == 0


async def test_coordinator_of_another_province_cannot_create(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    institution = await make_institution(session, region_code="33.29")
    kalbar = bearer(await make_key(Role.coordinator, "61"))
    before = await count_events(session)

    r = await client.post(URL, json=innovation_body(institution.id), headers=kalbar)

    assert problem(r, 403)["code"] == "other_province"
    assert await count_innovations(session) == 0
    assert await count_events(session) == before


async def test_coordinator_of_the_province_can_create(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    institution = await make_institution(session, region_code="33.29")
    jateng = bearer(await make_key(Role.coordinator, "33"))

    r = await client.post(URL, json=innovation_body(institution.id), headers=jateng)

    assert r.status_code == 201, r.text
    assert (await stored(session, r.json()["id"])).province_code == "33"


# --- Read and visibility ------------------------------------------------------------------


async def test_get_unknown_innovation_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{URL}/{uuid.uuid4()}")

    assert problem(r, 404)["code"] == "not_found"


async def test_get_returns_etag_of_current_version(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(session, institution=institution, title="Data Kota Open")

    r = await client.get(f"{URL}/{innovation.id}")

    assert r.status_code == 200
    assert version_of(r.headers["ETag"]) == 1
    assert r.json()["title"] == "Data Kota Open"


async def test_anonymous_get_of_a_draft_is_404(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    institution = await make_institution(session)
    draft = await make_innovation(session, institution=institution, status="draft")

    problem(await client.get(f"{URL}/{draft.id}"), 404)


async def test_writer_get_of_a_draft_is_200(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    institution = await make_institution(session)
    draft = await make_innovation(session, institution=institution, status="draft")
    coordinator = bearer(await make_key(Role.coordinator, "61"))

    r = await client.get(f"{URL}/{draft.id}", headers=coordinator)

    assert r.status_code == 200
    assert r.json()["status"] == "draft"


async def test_anonymous_list_never_shows_drafts_or_withdrawn(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    institution = await make_institution(session)
    published = await make_innovation(session, institution=institution, status="published")
    await make_innovation(session, institution=institution, status="draft")
    await make_innovation(session, institution=institution, status="withdrawn")

    assert ids(await client.get(URL)) == [str(published.id)]
    assert ids(await client.get(URL, params={"status": "draft"})) == []


async def test_writer_list_shows_drafts(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    published = await make_innovation(
        session, institution=institution, status="published", launched_on=date(2019, 1, 1)
    )
    draft = await make_innovation(
        session, institution=institution, status="draft", launched_on=date(2020, 1, 1)
    )

    assert ids(await client.get(URL, headers=admin)) == [str(draft.id), str(published.id)]


# --- PATCH --------------------------------------------------------------------------------


async def test_patch_without_if_match_is_428(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(session, institution=institution, title="Lama")

    r = await patch(client, admin, innovation.id, {"title": "Baru"}, version=None)

    assert problem(r, 428)["code"] == "if_match_required"
    row = await stored(session, innovation.id)
    assert (row.title, row.version) == ("Lama", 1)


async def test_patch_with_stale_if_match_is_412(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(session, institution=institution, title="Lama")
    assert (await patch(client, admin, innovation.id, {"summary": "satu"})).status_code == 200

    r = await patch(client, admin, innovation.id, {"title": "Baru"}, version=1)

    assert problem(r, 412)["code"] == "stale_version"
    row = await stored(session, innovation.id)
    assert (row.title, row.summary, row.version) == ("Lama", "satu", 2)


async def test_stale_if_match_is_412_before_the_move_is_judged(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(session, institution=institution, status="draft")
    assert (await patch(client, admin, innovation.id, {"status": "published"})).status_code == 200

    r = await patch(client, admin, innovation.id, {"status": "draft"}, version=1)

    assert problem(r, 412)["code"] == "stale_version"
    row = await stored(session, innovation.id)
    assert (row.status, row.version) == ("published", 2)


async def test_patch_applies_only_the_fields_sent(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(
        session, institution=institution, title="Lama", summary="Ringkasan", stage="trial"
    )

    r = await patch(client, admin, innovation.id, {"title": "Baru", "stage": "implementation"})

    assert r.status_code == 200, r.text
    assert version_of(r.headers["ETag"]) == 2
    body = r.json()
    assert (body["title"], body["stage"], body["summary"], body["version"]) == (
        "Baru",
        "implementation",
        "Ringkasan",
        2,
    )
    row = await stored(session, innovation.id)
    assert (row.title, row.stage, row.summary, row.version) == (
        "Baru",
        "implementation",
        "Ringkasan",
        2,
    )


async def test_patch_writes_exactly_one_event_with_the_changes(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session, region_code="33.29")
    innovation = await make_innovation(session, institution=institution, title="Lama")
    before = await count_events(session)

    r = await patch(client, admin, innovation.id, {"title": "Baru", "summary": ""})

    assert r.status_code == 200, r.text
    assert await count_events(session) == before + 1
    [event] = await events_of(session, innovation.id)
    assert (event.action, event.province_code) == ("innovation.updated", "33")
    assert event.changes == {"title": "Baru"}


async def test_patch_does_not_accept_scale(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(session, institution=institution)

    r = await patch(client, admin, innovation.id, {"scale": "national"})

    body = problem(r, 422)
    assert body["errors"] == [{"pointer": "/body/scale", "detail": "Unknown field."}]
    row = await stored(session, innovation.id)
    assert (row.scale, row.version) == ("local", 1)


async def test_patch_null_title_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(session, institution=institution, title="Lama")

    r = await patch(client, admin, innovation.id, {"title": None})

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/title"
    assert (await stored(session, innovation.id)).title == "Lama"


async def test_patch_without_key_is_401(client: httpx.AsyncClient, session: AsyncSession) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(session, institution=institution, title="Lama")

    problem(await patch(client, {}, innovation.id, {"title": "Baru"}), 401)
    assert (await stored(session, innovation.id)).title == "Lama"


async def test_patch_unknown_innovation_is_404(client: httpx.AsyncClient, admin: Headers) -> None:
    problem(await patch(client, admin, uuid.uuid4(), {"title": "Baru"}), 404)


@pytest.mark.parametrize(
    ("start", "to"),
    [("draft", "published"), ("published", "withdrawn")],
)
async def test_status_moves_forward(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, start: str, to: str
) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(session, institution=institution, status=start)

    r = await patch(client, admin, innovation.id, {"status": to})

    assert r.status_code == 200, r.text
    assert r.json()["status"] == to
    assert (await stored(session, innovation.id)).status == to


@pytest.mark.parametrize(
    ("start", "to", "allowed"),
    [
        ("published", "draft", ["withdrawn"]),
        ("withdrawn", "published", []),
        ("withdrawn", "draft", []),
    ],
)
async def test_status_cannot_move_back_409_lists_allowed_moves(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    start: str,
    to: str,
    allowed: list[str],
) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(session, institution=institution, status=start)

    r = await patch(client, admin, innovation.id, {"status": to})

    body = problem(r, 409)
    assert body["code"] == "illegal_transition"
    assert body["allowed"] == allowed
    row = await stored(session, innovation.id)
    assert (row.status, row.version) == (start, 1)


async def test_coordinator_of_another_province_cannot_change_innovation(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    institution = await make_institution(session, region_code="33.29")
    innovation = await make_innovation(session, institution=institution, title="Lama")
    kalbar = bearer(await make_key(Role.coordinator, "61"))
    before = await count_events(session)

    r = await patch(client, kalbar, innovation.id, {"title": "Baru"})

    assert problem(r, 403)["code"] == "other_province"
    row = await stored(session, innovation.id)
    assert (row.title, row.version) == ("Lama", 1)
    assert await count_events(session) == before


async def test_coordinator_of_the_province_can_change_innovation(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    institution = await make_institution(session, region_code="33.29")
    innovation = await make_innovation(session, institution=institution, title="Lama")
    jateng = bearer(await make_key(Role.coordinator, "33"))

    r = await patch(client, jateng, innovation.id, {"title": "Baru"})

    assert r.status_code == 200, r.text
    assert (await stored(session, innovation.id)).title == "Baru"


async def test_coordinator_cannot_move_innovation_to_another_province(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    brebes = await make_institution(session, region_code="33.29")
    pontianak = await make_institution(session, kind="city_government", region_code="61.71")
    innovation = await make_innovation(session, institution=brebes)
    jateng = bearer(await make_key(Role.coordinator, "33"))

    r = await patch(client, jateng, innovation.id, {"institution_id": str(pontianak.id)})

    assert problem(r, 403)["code"] == "other_province"
    row = await stored(session, innovation.id)
    assert (row.institution_id, row.province_code) == (brebes.id, "33")


async def test_changing_institution_moves_region_and_province(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    brebes = await make_institution(session, region_code="33.29")
    pontianak = await make_institution(session, kind="city_government", region_code="61.71")
    innovation = await make_innovation(session, institution=brebes)

    r = await patch(client, admin, innovation.id, {"institution_id": str(pontianak.id)})

    assert r.status_code == 200, r.text
    assert (r.json()["region_code"], r.json()["province_code"]) == ("61.71", "61")
    row = await stored(session, innovation.id)
    assert (row.institution_id, row.region_code, row.province_code) == (
        pontianak.id,
        "61.71",
        "61",
    )


async def test_innovation_follows_its_institution_when_the_institution_moves(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session, region_code="33.29")
    innovation = await make_innovation(session, institution=institution)
    other = await make_innovation(
        session, institution=await make_institution(session, region_code="33.29")
    )

    r = await client.patch(
        f"/api/v1/institutions/{institution.id}",
        json={"region_code": "61.71"},
        headers=admin | {"If-Match": '"1"'},
    )

    assert r.status_code == 200, r.text
    got = await client.get(f"{URL}/{innovation.id}")
    assert (got.json()["region_code"], got.json()["province_code"]) == ("61.71", "61")
    # The representation changed, so the ETag must change with it.
    assert version_of(got.headers["ETag"]) == 2
    row = await stored(session, innovation.id)
    assert (row.region_code, row.province_code, row.version) == ("61.71", "61", 2)
    untouched = await stored(session, other.id)
    assert (untouched.region_code, untouched.version) == ("33.29", 1)


# --- Awards -------------------------------------------------------------------------------


def award_url(innovation_id: object) -> str:
    return f"{URL}/{innovation_id}/awards"


async def count_awards(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Award)) or 0)


async def test_add_award_returns_201(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(session, institution=institution)

    r = await client.post(
        award_url(innovation.id),
        json={"competition": "KIPP", "year": 2019, "tier": "top_99", "decree_number": "SK 1"},
        headers=admin,
    )

    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["innovation_id"], body["competition"], body["year"], body["tier"]) == (
        str(innovation.id),
        "KIPP",
        2019,
        "top_99",
    )
    assert body["decree_number"] == "SK 1"
    assert version_of(r.headers["ETag"]) == 1
    award = await session.get(Award, uuid.UUID(body["id"]))
    assert award is not None
    assert (award.innovation_id, award.competition, award.year, award.tier) == (
        innovation.id,
        "KIPP",
        2019,
        "top_99",
    )


async def test_add_award_writes_exactly_one_event(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session, region_code="33.29")
    innovation = await make_innovation(session, institution=institution)
    before = await count_events(session)

    r = await client.post(
        award_url(innovation.id),
        json={"competition": "IGA", "year": 2021, "tier": "winner"},
        headers=admin,
    )

    assert r.status_code == 201, r.text
    assert await count_events(session) == before + 1
    [event] = await events_of(session, r.json()["id"])
    assert (event.action, event.entity, event.province_code) == ("award.created", "award", "33")
    assert event.changes["innovation_id"] == str(innovation.id)


async def test_duplicate_award_is_409(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(session, institution=institution)
    await make_award(session, innovation=innovation, competition="KIPP", year=2019, tier="top_45")
    before = await count_events(session)

    r = await client.post(
        award_url(innovation.id),
        json={"competition": "KIPP", "year": 2019, "tier": "top_45"},
        headers=admin,
    )

    assert problem(r, 409)["code"] == "duplicate_award"
    assert await count_awards(session) == 1
    assert await count_events(session) == before


async def test_same_competition_and_year_with_another_tier_is_a_new_award(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(session, institution=institution)
    await make_award(session, innovation=innovation, competition="KIPP", year=2019, tier="top_99")

    r = await client.post(
        award_url(innovation.id),
        json={"competition": "KIPP", "year": 2019, "tier": "top_45"},
        headers=admin,
    )

    assert r.status_code == 201, r.text
    assert await count_awards(session) == 2


async def test_kipp_award_with_a_non_kipp_tier_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(session, institution=institution)

    r = await client.post(
        award_url(innovation.id),
        json={"competition": "KIPP", "year": 2019, "tier": "winner"},
        headers=admin,
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/tier"
    assert await count_awards(session) == 0


async def test_award_for_unknown_innovation_is_404(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    r = await client.post(
        award_url(uuid.uuid4()),
        json={"competition": "KIPP", "year": 2019, "tier": "top_99"},
        headers=admin,
    )

    problem(r, 404)
    assert await count_awards(session) == 0


async def test_coordinator_of_another_province_cannot_add_award(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    institution = await make_institution(session, region_code="33.29")
    innovation = await make_innovation(session, institution=institution)
    kalbar = bearer(await make_key(Role.coordinator, "61"))

    r = await client.post(
        award_url(innovation.id),
        json={"competition": "KIPP", "year": 2019, "tier": "top_99"},
        headers=kalbar,
    )

    assert problem(r, 403)["code"] == "other_province"
    assert await count_awards(session) == 0


async def test_awards_appear_in_the_read_model_newest_first(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)
    innovation = await make_innovation(session, institution=institution)
    for competition, year, tier in (("KIPP", 2019, "top_99"), ("IGA", 2021, "winner")):
        r = await client.post(
            award_url(innovation.id),
            json={"competition": competition, "year": year, "tier": tier},
            headers=admin,
        )
        assert r.status_code == 201, r.text

    one = (await client.get(f"{URL}/{innovation.id}")).json()
    listed = (await client.get(URL)).json()["items"]

    expected = [("IGA", 2021, "winner"), ("KIPP", 2019, "top_99")]
    assert [(a["competition"], a["year"], a["tier"]) for a in one["awards"]] == expected
    assert [(a["competition"], a["year"], a["tier"]) for a in listed[0]["awards"]] == expected
    assert all(a["innovation_id"] == str(innovation.id) for a in one["awards"])


# --- Lineage ------------------------------------------------------------------------------


@dataclass
class Family:
    origin: Innovation
    replica: Innovation
    replica_of_replica: Innovation
    draft_replica: Innovation


@pytest.fixture
async def family(session: AsyncSession) -> Family:
    """Kartu Insentif Anak (Surakarta) → replica → its replica, plus a draft replica."""
    institution = await make_institution(session, region_code="33.72")
    origin = await make_innovation(session, institution=institution, title="Kartu Insentif Anak")
    replica = await make_innovation(
        session, institution=institution, title="Kartu Anak Blora", replica_of=origin
    )
    replica_of_replica = await make_innovation(
        session, institution=institution, title="Kartu Anak Cepu", replica_of=replica
    )
    draft_replica = await make_innovation(
        session, institution=institution, title="Kartu Anak Draf", replica_of=origin, status="draft"
    )
    return Family(origin, replica, replica_of_replica, draft_replica)


def tree(node: dict[str, Any]) -> tuple[str, list[Any]]:
    """A lineage node as (title, [children]) for a compact comparison."""
    return node["title"], [tree(child) for child in node["replicas"]]


async def test_create_with_replica_of_records_the_lineage(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, family: Family
) -> None:
    r = await client.post(
        URL,
        json=innovation_body(family.origin.institution_id, replica_of_id=str(family.origin.id)),
        headers=admin,
    )

    assert r.status_code == 201, r.text
    assert r.json()["replica_of_id"] == str(family.origin.id)
    assert (await stored(session, r.json()["id"])).replica_of_id == family.origin.id


async def test_lineage_is_the_nested_tree_of_replicas(
    client: httpx.AsyncClient, family: Family, admin: Headers
) -> None:
    r = await client.get(f"{URL}/{family.origin.id}/lineage", headers=admin)

    assert r.status_code == 200, r.text
    body = r.json()
    assert tree(body) == (
        "Kartu Insentif Anak",
        [("Kartu Anak Blora", [("Kartu Anak Cepu", [])]), ("Kartu Anak Draf", [])],
    )
    assert body["id"] == str(family.origin.id)
    assert body["replicas"][0]["id"] == str(family.replica.id)
    assert body["replicas"][0]["replicas"][0]["id"] == str(family.replica_of_replica.id)
    assert body["province_code"] == "33"


async def test_lineage_hides_draft_replicas_from_anonymous_clients(
    client: httpx.AsyncClient, family: Family
) -> None:
    r = await client.get(f"{URL}/{family.origin.id}/lineage")

    assert r.status_code == 200, r.text
    assert tree(r.json()) == (
        "Kartu Insentif Anak",
        [("Kartu Anak Blora", [("Kartu Anak Cepu", [])])],
    )


async def test_lineage_of_a_draft_is_404_to_anonymous_clients(
    client: httpx.AsyncClient, family: Family
) -> None:
    problem(await client.get(f"{URL}/{family.draft_replica.id}/lineage"), 404)


async def test_lineage_of_unknown_innovation_is_404(client: httpx.AsyncClient) -> None:
    problem(await client.get(f"{URL}/{uuid.uuid4()}/lineage"), 404)


async def test_replica_of_itself_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, family: Family
) -> None:
    r = await patch(client, admin, family.origin.id, {"replica_of_id": str(family.origin.id)})

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/replica_of_id"
    row = await stored(session, family.origin.id)
    assert (row.replica_of_id, row.version) == (None, 1)


async def test_replica_of_that_closes_a_cycle_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, family: Family
) -> None:
    r = await patch(
        client, admin, family.origin.id, {"replica_of_id": str(family.replica_of_replica.id)}
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/replica_of_id"
    row = await stored(session, family.origin.id)
    assert (row.replica_of_id, row.version) == (None, 1)


async def test_replica_of_unknown_innovation_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    institution = await make_institution(session)

    r = await client.post(
        URL, json=innovation_body(institution.id, replica_of_id=str(uuid.uuid4())), headers=admin
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/replica_of_id"
    assert await count_innovations(session) == 0


# --- List filters -------------------------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def catalogue(session: AsyncSession) -> dict[str, Innovation]:
    """Eight innovations that differ in every filtered attribute (six published)."""

    async def institution(name: str, kind: str, region_code: str | None) -> Institution:
        return await make_institution(session, name=name, kind=kind, region_code=region_code)

    brebes = await institution("Bappeda Kabupaten Brebes", "regional_agency", "33.29")
    semarang = await institution("Dinas Kesehatan Kota Semarang", "regional_agency", "33.74")
    jateng = await institution("Pemerintah Provinsi Jawa Tengah", "provincial_government", "33")
    pontianak = await institution("Pemerintah Kota Pontianak", "city_government", "61.71")
    bandung = await institution("DLH Kabupaten Bandung", "regional_agency", "32.04")
    ministry = await institution("Kementerian PANRB", "ministry", None)

    async def add(key: str, **fields: Any) -> tuple[str, Innovation]:
        return key, await make_innovation(session, **fields)

    rows = dict(
        [
            await add(
                "sekolah",
                institution=brebes,
                title="Gerakan Kembali Bersekolah",
                sector="education",
                stage="implementation",
                launched_on=date(2019, 5, 1),
                replication_count=5,
                updated_at=T0 + timedelta(hours=2),
            ),
            await add(
                "data",
                institution=semarang,
                title="Data Kota Semarang Open",
                sector="data_information",
                form="governance",
                digital=True,
                stage="trial",
                scale="provincial",
                launched_on=date(2020, 2, 1),
                replication_count=8,
                updated_at=T0 + timedelta(hours=1),
            ),
            await add(
                "ibu",
                institution=jateng,
                title="Sayangi dan Dampingi Ibu dan Anak",
                sector="health",
                stage="initiative",
                scale="national",
                launched_on=date(2018, 1, 1),
                replication_count=3,
                updated_at=T0 + timedelta(hours=6),
            ),
            await add(
                "izin",
                institution=pontianak,
                title="Proses Izin Dengan Jarimu",
                sector="licensing",
                form="other",
                digital=True,
                launched_on=date(2021, 7, 1),
                updated_at=T0 + timedelta(hours=3),
            ),
            await add(
                "plastik",
                institution=bandung,
                title="Bandung Anti Kantong Plastik",
                sector="environment",
                launched_on=None,
                updated_at=T0 + timedelta(hours=5),
            ),
            await add(
                "lab",
                institution=ministry,
                title="Laboratorium Inovasi Nasional",
                sector="governance",
                form="governance",
                stage="trial",
                launched_on=date(2016, 3, 1),
                updated_at=T0 + timedelta(hours=4),
            ),
            await add(
                "draft",
                institution=brebes,
                title="Konsep Posyandu Digital",
                sector="health",
                digital=True,
                stage="initiative",
                status="draft",
                launched_on=date(2022, 1, 1),
            ),
            await add(
                "old",
                institution=semarang,
                title="Layanan Lama",
                sector="education",
                status="withdrawn",
                launched_on=date(2017, 1, 1),
            ),
        ]
    )
    for key, competition, year, tier in (
        ("sekolah", "KIPP", 2019, "top_99"),
        ("sekolah", "IGA", 2020, "top_45"),
        ("data", "KIPP", 2020, "top_45"),
        ("ibu", "IGA", 2019, "winner"),
        ("izin", "KIPP", 2019, "top_45"),
        ("draft", "KIPP", 2019, "top_99"),
    ):
        await make_award(
            session, innovation=rows[key], competition=competition, year=year, tier=tier
        )
    return rows


def named(catalogue: dict[str, Innovation], *keys: str) -> list[str]:
    return [str(catalogue[k].id) for k in keys]


# Expected ids, in the default order (-launched_on, undated last), of an anonymous list.
FILTER_CASES = [
    pytest.param({"sector": "health"}, ["ibu"], id="sector"),
    pytest.param({"form": "governance"}, ["data", "lab"], id="form"),
    pytest.param({"digital": "true"}, ["izin", "data"], id="digital_true"),
    pytest.param({"digital": "false"}, ["sekolah", "ibu", "lab", "plastik"], id="digital_false"),
    pytest.param({"stage": "trial"}, ["data", "lab"], id="stage"),
    pytest.param({"status": "published"}, ["izin", "data", "sekolah", "ibu", "lab", "plastik"]),
    pytest.param({"scale": "provincial"}, ["data"], id="scale"),
    pytest.param({"province": "33"}, ["data", "sekolah", "ibu"], id="province"),
    pytest.param({"province": "61"}, ["izin"], id="province_61"),
    pytest.param({"region": "33"}, ["data", "sekolah", "ibu"], id="region_with_descendants"),
    pytest.param({"region": "33.74"}, ["data"], id="region_city"),
    pytest.param({"region": "32.04"}, ["plastik"], id="region_regency"),
    pytest.param({"region": "33.71"}, [], id="region_empty"),
    pytest.param({"award_competition": "KIPP"}, ["izin", "data", "sekolah"], id="competition"),
    pytest.param({"award_tier": "top_45"}, ["izin", "data", "sekolah"], id="tier"),
    pytest.param({"award_year": 2019}, ["izin", "sekolah", "ibu"], id="award_year"),
    pytest.param(
        {"award_competition": "KIPP", "award_year": 2019, "award_tier": "top_45"},
        ["izin"],
        id="award_conditions_on_one_award",
    ),
    pytest.param({"launched_from": "2019-01-01"}, ["izin", "data", "sekolah"], id="from"),
    pytest.param({"launched_to": "2019-12-31"}, ["sekolah", "ibu", "lab"], id="to"),
    pytest.param(
        {"launched_from": "2019-05-01", "launched_to": "2020-02-01"},
        ["data", "sekolah"],
        id="from_to_inclusive",
    ),
    pytest.param({"sector": "health", "province": "61"}, [], id="filters_combine"),
]


@pytest.mark.parametrize(("params", "expected"), FILTER_CASES)
async def test_list_filter(
    client: httpx.AsyncClient,
    catalogue: dict[str, Innovation],
    params: dict[str, Any],
    expected: list[str],
) -> None:
    assert ids(await client.get(URL, params=params)) == named(catalogue, *expected)


async def test_filter_status_for_writers_includes_drafts_and_withdrawn(
    client: httpx.AsyncClient, catalogue: dict[str, Innovation], admin: Headers
) -> None:
    assert ids(await client.get(URL, params={"status": "draft"}, headers=admin)) == named(
        catalogue, "draft"
    )
    assert ids(await client.get(URL, params={"status": "withdrawn"}, headers=admin)) == named(
        catalogue, "old"
    )


async def test_filter_institution(
    client: httpx.AsyncClient, catalogue: dict[str, Innovation], admin: Headers
) -> None:
    brebes = catalogue["sekolah"].institution_id

    r = await client.get(URL, params={"institution": str(brebes)}, headers=admin)

    assert ids(r) == named(catalogue, "draft", "sekolah")


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"sector": "space"}, "/query/sector"),
        ({"province": "3"}, "/query/province"),
        ({"region": "33.2"}, "/query/region"),
        ({"award_year": 1800}, "/query/award_year"),
        ({"launched_from": "yesterday"}, "/query/launched_from"),
        ({"sort": "-title"}, "/query/sort"),
        ({"limit": 0}, "/query/limit"),
        ({"limit": 201}, "/query/limit"),
    ],
)
async def test_bad_list_parameter_is_422(
    client: httpx.AsyncClient, params: dict[str, Any], pointer: str
) -> None:
    body = problem(await client.get(URL, params=params), 422)
    assert body["errors"][0]["pointer"] == pointer


# --- Sorts --------------------------------------------------------------------------------


def by_id_desc(catalogue: dict[str, Innovation], *keys: str) -> list[str]:
    return sorted(named(catalogue, *keys), key=uuid.UUID, reverse=True)


async def test_sort_launched_on_desc_puts_undated_last(
    client: httpx.AsyncClient, catalogue: dict[str, Innovation]
) -> None:
    r = await client.get(URL, params={"sort": "-launched_on"})

    assert ids(r) == named(catalogue, "izin", "data", "sekolah", "ibu", "lab", "plastik")


async def test_default_sort_is_launched_on_desc(
    client: httpx.AsyncClient, catalogue: dict[str, Innovation]
) -> None:
    assert ids(await client.get(URL)) == ids(await client.get(URL, params={"sort": "-launched_on"}))


async def test_sort_title(client: httpx.AsyncClient, catalogue: dict[str, Innovation]) -> None:
    r = await client.get(URL, params={"sort": "title"})

    assert ids(r) == named(catalogue, "plastik", "data", "sekolah", "lab", "izin", "ibu")


async def test_sort_updated_at_desc(
    client: httpx.AsyncClient, catalogue: dict[str, Innovation]
) -> None:
    r = await client.get(URL, params={"sort": "-updated_at"})

    assert ids(r) == named(catalogue, "ibu", "plastik", "lab", "izin", "sekolah", "data")


async def test_sort_replications_desc_breaks_ties_by_id(
    client: httpx.AsyncClient, catalogue: dict[str, Innovation]
) -> None:
    r = await client.get(URL, params={"sort": "-replications"})

    expected = named(catalogue, "data", "sekolah", "ibu")
    assert ids(r) == expected + by_id_desc(catalogue, "izin", "lab", "plastik")
    assert [i["replications"] for i in r.json()["items"]] == [8, 5, 3, 0, 0, 0]


# --- Keyset pagination --------------------------------------------------------------------


@dataclass(frozen=True)
class Tied:
    id: str
    title: str
    launched_on: date | None
    updated_at: datetime
    replications: int


def _launched(r: Tied) -> tuple[date, uuid.UUID]:
    return r.launched_on or date.min, uuid.UUID(r.id)


EXPECTED_ORDER: dict[str, Callable[[list[Tied]], list[Tied]]] = {
    "-launched_on": lambda rows: sorted(rows, key=_launched, reverse=True),
    "title": lambda rows: sorted(rows, key=lambda r: (r.title, uuid.UUID(r.id))),
    "-updated_at": lambda rows: sorted(
        rows, key=lambda r: (r.updated_at, uuid.UUID(r.id)), reverse=True
    ),
    "-replications": lambda rows: sorted(
        rows, key=lambda r: (r.replications, uuid.UUID(r.id)), reverse=True
    ),
}


@pytest.fixture
async def tied(session: AsyncSession) -> list[Tied]:
    """Nine published innovations whose sort keys tie in threes and twos, plus a draft."""
    institution = await make_institution(session)
    rows = []
    for n in range(9):
        innovation = await make_innovation(
            session,
            institution=institution,
            title=("Alpha", "Bravo", "Charlie")[n % 3],
            launched_on=(date(2020, 1, 1), date(2019, 1, 1), None)[n % 3],
            updated_at=T0 + timedelta(minutes=n // 3),
            replication_count=(2, 1, 0)[n // 3],
        )
        rows.append(
            Tied(
                str(innovation.id),
                innovation.title,
                innovation.launched_on,
                innovation.updated_at,
                innovation.replication_count,
            )
        )
    await make_innovation(session, institution=institution, title="Alpha", status="draft")
    return rows


@pytest.mark.parametrize("limit", [1, 2, 3])
@pytest.mark.parametrize("sort", list(EXPECTED_ORDER))
async def test_keyset_walk_sees_every_row_once_in_order(
    client: httpx.AsyncClient, tied: list[Tied], sort: str, limit: int
) -> None:
    expected = [r.id for r in EXPECTED_ORDER[sort](tied)]

    pages = await walk(client, {"sort": sort}, limit=limit)

    assert walked_ids(pages) == expected
    assert all(len(p["items"]) == limit for p in pages[:-1])
    assert len(pages) == -(-len(expected) // limit)


async def test_full_page_order_matches_walk(client: httpx.AsyncClient, tied: list[Tied]) -> None:
    for sort, order in EXPECTED_ORDER.items():
        assert ids(await client.get(URL, params={"sort": sort})) == [r.id for r in order(tied)]


async def test_include_total_counts_every_match_on_every_page(
    client: httpx.AsyncClient, tied: list[Tied]
) -> None:
    pages = await walk(client, {"sort": "title", "include_total": "true"}, limit=4)

    assert [p["total"] for p in pages] == [9, 9, 9]


async def test_total_is_absent_unless_asked(client: httpx.AsyncClient, tied: list[Tied]) -> None:
    assert "total" not in (await client.get(URL)).json()


async def test_include_total_honours_filters(
    client: httpx.AsyncClient, catalogue: dict[str, Innovation], admin: Headers
) -> None:
    r = await client.get(URL, params={"province": "33", "include_total": "true", "limit": 1})
    assert r.json()["total"] == 3
    r = await client.get(
        URL, params={"province": "33", "include_total": "true", "limit": 1}, headers=admin
    )
    assert r.json()["total"] == 5


async def test_last_page_has_no_cursor(client: httpx.AsyncClient, tied: list[Tied]) -> None:
    r = await client.get(URL, params={"limit": 9})

    assert len(r.json()["items"]) == 9
    assert r.json()["next_cursor"] is None


async def test_tampered_cursor_is_400(client: httpx.AsyncClient, tied: list[Tied]) -> None:
    cursor = (await client.get(URL, params={"limit": 2})).json()["next_cursor"]
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")

    r = await client.get(URL, params={"limit": 2, "cursor": tampered})

    assert problem(r, 400)["code"] == "invalid_cursor"


async def test_cursor_of_another_sort_is_400(client: httpx.AsyncClient, tied: list[Tied]) -> None:
    cursor = (await client.get(URL, params={"limit": 2, "sort": "title"})).json()["next_cursor"]

    r = await client.get(URL, params={"limit": 2, "sort": "-updated_at", "cursor": cursor})

    assert problem(r, 400)["code"] == "invalid_cursor"


# --- A cursor walk while rows are being committed -----------------------------------------


def rank_fields(sort: str, rank: int) -> dict[str, Any]:
    """Fields that put an innovation at `rank` (ascending = earlier in the list) for `sort`."""
    if sort == "title":
        return {"title": f"Inovasi {rank:03d}", "launched_on": "2020-01-01"}
    return {
        "title": "Inovasi",
        "launched_on": (date(2024, 1, 1) - timedelta(days=rank)).isoformat(),
    }


@pytest.mark.parametrize("sort", ["-launched_on", "title"])
async def test_cursor_walk_is_stable_while_rows_are_inserted(
    committed_client: httpx.AsyncClient,
    committed_key: Callable[..., Any],
    sort: str,
) -> None:
    headers = bearer(await committed_key(Role.admin))
    r = await committed_client.post(
        "/api/v1/institutions",
        json={
            "name": "Bappeda Kabupaten Brebes",
            "kind": "regional_agency",
            "region_code": "33.29",
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    institution_id = r.json()["id"]
    ranks: dict[str, int] = {}

    async def insert(rank: int) -> str:
        body = innovation_body(institution_id, status="published", **rank_fields(sort, rank))
        created = await committed_client.post(URL, json=body, headers=headers)
        assert created.status_code == 201, created.text
        ranks[created.json()["id"]] = rank
        return str(created.json()["id"])

    existing = [await insert(rank) for rank in (10, 20, 30, 40, 50, 60)]
    # Between page fetches: (rows sorting before the cursor, rows sorting after it).
    inserts_after_page = {1: ((15, 5), (35,)), 2: ((32,), (55, 70))}
    seen: list[str] = []
    invisible: list[str] = []
    cursor: str | None = None
    page_number = 0
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await committed_client.get(URL, params=params)).json()
        page_number += 1
        seen += [item["id"] for item in page["items"]]
        before, after = inserts_after_page.get(page_number, ((), ()))
        invisible += [await insert(rank) for rank in before]
        for rank in after:
            await insert(rank)
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)), "a row was seen twice"
    assert not set(invisible) & set(seen), "a row inserted before the cursor appeared"
    assert set(existing) <= set(seen)
    assert [ranks[i] for i in seen] == [10, 20, 30, 35, 40, 50, 55, 60, 70]
