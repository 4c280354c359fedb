"""/api/v1/commitments: every rule of signing one, list filters (with the overdue and stale
flags both ways), both sorts walked with cursors, the detail, PATCH with If-Match, scope."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.schemas import today
from app.core.security import Role
from app.models.institution import Institution
from tests.builders import make_innovation, make_institution
from tests.conftest import MakeKey, problem, version_of
from tests.replication._api import (
    COMMITMENTS,
    Headers,
    Scene,
    commitment_body,
    commitment_row,
    count,
    create_commitment,
    create_item,
    create_program,
    days_ago,
    events_of,
    ids,
    key,
    make_scene,
    post_report,
    scalar,
    set_commitment,
    snapshot,
    url_of,
    walk,
    walked_ids,
)


@dataclass(frozen=True)
class Parts:
    """A province-33 programme, a published innovation of Kota Bandung (32.73) and adopters
    in Jawa Tengah; nothing signed yet."""

    program: str
    innovation: str
    origin: Institution
    adopters: list[Institution]


async def parts(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, adopters: int = 1
) -> Parts:
    origin = await make_institution(session, region_code="32.73")
    innovation = await make_innovation(session, institution=origin, title="PIKOBAR Uji")
    program = await create_program(client, admin, "33")
    regions = ["33.16", "33.19", "33.02", "33.24", "33.07", "33.71"]
    made = [
        await make_institution(session, kind="regency_government", region_code=regions[i % 6])
        for i in range(adopters)
    ]
    return Parts(program["id"], str(innovation.id), origin, made)


async def replication_count(session: AsyncSession, innovation: object) -> int:
    return int(
        await scalar(
            session, "SELECT replication_count FROM innovations WHERE id = :id", id=str(innovation)
        )
    )


# --- Create -------------------------------------------------------------------------------


async def test_create_returns_201_with_location_etag_derived_fields_and_one_event(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin)
    body = commitment_body(
        p.program,
        p.innovation,
        p.adopters[0].id,
        target_launch_on="2099-06-30",
        budget_idr=150_000_000,
        planned_modifications="Integrasi dengan data Dukcapil kabupaten.",
    )

    r = await client.post(COMMITMENTS, json=body, headers=admin)

    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["Location"] == f"{COMMITMENTS}/{created['id']}"
    assert version_of(r.headers["ETag"]) == 1
    assert created["innovation_title"] == "PIKOBAR Uji"
    assert created["adopter_name"] == p.adopters[0].name
    assert (
        created["adopter_region_code"],
        created["adopter_province_code"],
        created["origin_province_code"],
    ) == ("33.16", "33", "32")
    assert (created["status"], created["progress"], created["budget_idr"]) == (
        "committed",
        0.0,
        150_000_000,
    )
    # Signed in 2021 and never reported on: stale already.
    assert (created["overdue"], created["stale"], created["last_report_at"]) == (False, True, None)
    row = await commitment_row(session, created["id"])
    assert (row.status, row.adopter_province_code, row.budget_idr) == (
        "committed",
        "33",
        150_000_000,
    )
    [event] = await events_of(session, created["id"])
    assert (event.action, event.entity, event.province_code) == (
        "commitment.created",
        "commitment",
        "33",
    )
    assert await replication_count(session, p.innovation) == 1


async def test_coordinator_signs_a_commitment_in_its_province(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    p = await parts(client, session, admin)
    coordinator = await key(make_key, Role.coordinator, "33")

    created = await create_commitment(
        client, coordinator, p.program, p.innovation, p.adopters[0].id
    )

    assert created["adopter_province_code"] == "33"


async def test_national_programme_takes_adopters_of_any_province(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin)
    national = await create_program(client, admin, None)
    sambas = await make_institution(session, kind="regency_government", region_code="61.01")

    created = await create_commitment(client, admin, national["id"], p.innovation, sambas.id)

    assert created["adopter_province_code"] == "61"


@pytest.mark.parametrize("status", ["draft", "withdrawn"])
async def test_source_innovation_must_be_published(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, status: str
) -> None:
    p = await parts(client, session, admin)
    unpublished = await make_innovation(session, institution=p.origin, status=status)
    before = await snapshot(session)

    r = await client.post(
        COMMITMENTS,
        json=commitment_body(p.program, unpublished.id, p.adopters[0].id),
        headers=admin,
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/innovation_id"
    assert await snapshot(session) == before


async def test_adopter_may_not_replicate_its_own_innovation(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    program = await create_program(client, admin, "33")
    own = await make_institution(session, region_code=None, kind="university")
    innovation = await make_innovation(session, institution=own)
    before = await snapshot(session)

    r = await client.post(
        COMMITMENTS, json=commitment_body(program["id"], innovation.id, own.id), headers=admin
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/adopter_institution_id"
    assert await snapshot(session) == before


async def test_adopter_may_not_replicate_an_innovation_of_its_own_region(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    program = await create_program(client, admin, "33")
    health_office = await make_institution(session, region_code="33.16")
    innovation = await make_innovation(session, institution=health_office)
    regency = await make_institution(session, kind="regency_government", region_code="33.16")
    before = await snapshot(session)

    r = await client.post(
        COMMITMENTS, json=commitment_body(program["id"], innovation.id, regency.id), headers=admin
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/adopter_institution_id"
    assert await snapshot(session) == before


async def test_innovation_of_another_region_of_the_same_province_may_be_replicated(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    program = await create_program(client, admin, "33")
    magelang = await make_institution(session, region_code="33.71")
    innovation = await make_innovation(session, institution=magelang)
    blora = await make_institution(session, kind="regency_government", region_code="33.16")

    created = await create_commitment(client, admin, program["id"], innovation.id, blora.id)

    assert created["origin_province_code"] == created["adopter_province_code"] == "33"


async def test_adopter_must_be_inside_the_programme_province(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin)
    sambas = await make_institution(session, kind="regency_government", region_code="61.01")
    before = await snapshot(session)

    r = await client.post(
        COMMITMENTS, json=commitment_body(p.program, p.innovation, sambas.id), headers=admin
    )

    body = problem(r, 422)
    assert body["errors"][0]["pointer"] == "/body/adopter_institution_id"
    assert "33" in body["detail"]
    assert await snapshot(session) == before


async def test_second_commitment_of_the_same_adopter_to_the_same_innovation_is_409(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin)
    await create_commitment(client, admin, p.program, p.innovation, p.adopters[0].id)
    before = await snapshot(session)

    r = await client.post(
        COMMITMENTS,
        json=commitment_body(p.program, p.innovation, p.adopters[0].id, signed_on="2022-01-10"),
        headers=admin,
    )

    assert problem(r, 409)["code"] == "duplicate_commitment"
    assert await snapshot(session) == before
    assert await replication_count(session, p.innovation) == 1


async def test_same_adopter_and_innovation_in_another_programme_is_allowed(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin)
    await create_commitment(client, admin, p.program, p.innovation, p.adopters[0].id)
    second = await create_program(client, admin, "33", fiscal_year=2023)

    await create_commitment(client, admin, second["id"], p.innovation, p.adopters[0].id)

    assert await count(session, "commitments") == 2


async def test_negative_budget_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin)

    r = await client.post(
        COMMITMENTS,
        json=commitment_body(p.program, p.innovation, p.adopters[0].id, budget_idr=-1),
        headers=admin,
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/budget_idr"
    assert await count(session, "commitments") == 0


async def test_zero_budget_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin)

    created = await create_commitment(
        client, admin, p.program, p.innovation, p.adopters[0].id, budget_idr=0
    )

    assert created["budget_idr"] == 0


async def test_target_launch_before_signing_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin)
    body = commitment_body(
        p.program,
        p.innovation,
        p.adopters[0].id,
        signed_on="2021-11-02",
        target_launch_on="2021-11-01",
    )

    r = await client.post(COMMITMENTS, json=body, headers=admin)

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/target_launch_on"
    assert await count(session, "commitments") == 0


async def test_target_launch_on_the_signing_day_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin)

    created = await create_commitment(
        client, admin, p.program, p.innovation, p.adopters[0].id, target_launch_on="2021-11-02"
    )

    assert created["target_launch_on"] == "2021-11-02"


async def test_signing_in_the_future_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin)
    tomorrow = (today() + timedelta(days=1)).isoformat()

    r = await client.post(
        COMMITMENTS,
        json=commitment_body(p.program, p.innovation, p.adopters[0].id, signed_on=tomorrow),
        headers=admin,
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/signed_on"


@pytest.mark.parametrize("field", ["program_id", "innovation_id", "adopter_institution_id"])
async def test_unknown_referenced_id_is_422_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, field: str
) -> None:
    p = await parts(client, session, admin)
    body = commitment_body(p.program, p.innovation, p.adopters[0].id) | {field: str(uuid.uuid4())}
    before = await snapshot(session)

    r = await client.post(COMMITMENTS, json=body, headers=admin)

    assert problem(r, 422)["errors"][0]["pointer"] == f"/body/{field}"
    assert await snapshot(session) == before


async def test_closed_programme_takes_no_commitment(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin)
    closed = await create_program(client, admin, "33", status="closed")
    before = await snapshot(session)

    r = await client.post(
        COMMITMENTS,
        json=commitment_body(closed["id"], p.innovation, p.adopters[0].id),
        headers=admin,
    )

    assert problem(r, 409)["code"] == "program_closed"
    assert await snapshot(session) == before


async def test_integration_may_not_sign_a_commitment(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    p = await parts(client, session, admin)
    integration = await key(make_key, Role.integration, "33")
    before = await snapshot(session)

    r = await client.post(
        COMMITMENTS,
        json=commitment_body(p.program, p.innovation, p.adopters[0].id),
        headers=integration,
    )

    assert problem(r, 403)["code"] == "role_not_allowed"
    assert await snapshot(session) == before


async def test_another_province_coordinator_may_not_sign_for_an_adopter_here(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    p = await parts(client, session, admin)
    coordinator = await key(make_key, Role.coordinator, "61")
    before = await snapshot(session)

    r = await client.post(
        COMMITMENTS,
        json=commitment_body(p.program, p.innovation, p.adopters[0].id),
        headers=coordinator,
    )

    assert problem(r, 403)["code"] == "other_province"
    assert await snapshot(session) == before


async def test_coordinator_may_not_put_its_adopter_into_another_province_programme(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    p = await parts(client, session, admin)
    sambas = await make_institution(session, kind="regency_government", region_code="61.01")
    coordinator = await key(make_key, Role.coordinator, "61")
    before = await snapshot(session)

    r = await client.post(
        COMMITMENTS, json=commitment_body(p.program, p.innovation, sambas.id), headers=coordinator
    )

    assert problem(r, 403)["code"] == "other_province"
    assert await snapshot(session) == before


# --- Get ----------------------------------------------------------------------------------


async def test_get_returns_action_items_progress_and_latest_report(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    late = await create_item(client, admin, s.commitment, title="Peluncuran", due_on="2022-09-30")
    early = await create_item(client, admin, s.commitment, title="Perbup", due_on="2022-03-31")
    report = await post_report(
        client,
        admin,
        s.commitment,
        as_of="2022-04-01",
        percent_complete=30,
        item_updates=[{"item_id": early["id"], "progress": 100, "status": "done"}],
        narrative="Perbup ditandatangani.",
    )
    assert report.status_code == 201, report.text

    r = await client.get(url_of(s.commitment))

    assert r.status_code == 200
    body = r.json()
    assert version_of(r.headers["ETag"]) == body["version"]
    assert [i["id"] for i in body["action_items"]] == [early["id"], late["id"]]
    assert body["action_items"][0]["status"] == "done"
    assert body["progress"] == 50.0
    assert body["status"] == "in_progress"
    assert body["latest_report"]["id"] == report.json()["id"]
    assert body["latest_report"]["narrative"] == "Perbup ditandatangani."


async def test_get_without_items_or_reports(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)

    body = (await client.get(url_of(s.commitment))).json()

    assert (body["action_items"], body["latest_report"], body["progress"]) == ([], None, 0.0)


async def test_get_unknown_commitment_is_404(client: httpx.AsyncClient) -> None:
    problem(await client.get(url_of(uuid.uuid4())), 404)


# --- List: filters ------------------------------------------------------------------------


async def test_list_filters_by_program_province_adopter_and_innovation(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin, adopters=2)
    other_innovation = await make_innovation(session, institution=p.origin, title="Lain")
    national = await create_program(client, admin, None)
    sambas = await make_institution(session, kind="regency_government", region_code="61.01")
    a0 = await create_commitment(client, admin, p.program, p.innovation, p.adopters[0].id)
    a1 = await create_commitment(client, admin, p.program, p.innovation, p.adopters[1].id)
    a0_other = await create_commitment(
        client, admin, p.program, other_innovation.id, p.adopters[0].id
    )
    in_61 = await create_commitment(client, admin, national["id"], p.innovation, sambas.id)

    async def listed(**params: Any) -> set[str]:
        return set(ids(await client.get(COMMITMENTS, params=params)))

    assert await listed(program=p.program) == {a0["id"], a1["id"], a0_other["id"]}
    assert await listed(program=national["id"]) == {in_61["id"]}
    assert await listed(province="61") == {in_61["id"]}
    assert await listed(province="33") == {a0["id"], a1["id"], a0_other["id"]}
    assert await listed(adopter=str(p.adopters[0].id)) == {a0["id"], a0_other["id"]}
    assert await listed(innovation=str(other_innovation.id)) == {a0_other["id"]}
    assert await listed(innovation=p.innovation, province="33") == {a0["id"], a1["id"]}


async def test_list_filters_by_status(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin, adopters=3)
    made = [
        await create_commitment(client, admin, p.program, p.innovation, a.id) for a in p.adopters
    ]
    await set_commitment(session, made[1]["id"], status="stalled")

    assert ids(await client.get(COMMITMENTS, params={"status": "stalled"})) == [made[1]["id"]]
    committed = set(ids(await client.get(COMMITMENTS, params={"status": "committed"})))
    assert committed == {made[0]["id"], made[2]["id"]}


async def test_unknown_status_filter_is_422(client: httpx.AsyncClient) -> None:
    problem(await client.get(COMMITMENTS, params={"status": "done"}), 422)


async def test_overdue_flag_and_filter(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    """Overdue: the target launch has passed and the commitment is not launched, sustained
    or cancelled."""
    p = await parts(client, session, admin, adopters=6)
    past, future = "2022-06-30", "2099-06-30"
    cases = [  # (target, status, overdue)
        (past, "committed", True),
        (past, "in_progress", True),
        (past, "stalled", True),
        (past, "launched", False),
        (future, "committed", False),
        (None, "committed", False),
    ]
    expected: dict[str, bool] = {}
    for adopter, (target, status, overdue) in zip(p.adopters, cases, strict=True):
        c = await create_commitment(
            client, admin, p.program, p.innovation, adopter.id, target_launch_on=target
        )
        await set_commitment(session, c["id"], status=status)
        expected[c["id"]] = overdue
    for status in ("sustained", "cancelled"):
        extra = await make_institution(session, kind="regency_government", region_code="33.09")
        c = await create_commitment(
            client, admin, p.program, p.innovation, extra.id, target_launch_on=past
        )
        await set_commitment(session, c["id"], status=status)
        expected[c["id"]] = False

    listed = (await client.get(COMMITMENTS, params={"limit": 50})).json()["items"]
    assert {c["id"]: c["overdue"] for c in listed} == expected
    yes = set(ids(await client.get(COMMITMENTS, params={"overdue": "true"})))
    no = set(ids(await client.get(COMMITMENTS, params={"overdue": "false"})))
    assert yes == {cid for cid, flag in expected.items() if flag}
    assert no == {cid for cid, flag in expected.items() if not flag}


async def test_stale_flag_and_filter(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    """Stale: not final, and no progress report (else no signing) in the last 90 days."""
    p = await parts(client, session, admin, adopters=6)
    long_ago, lately = days_ago(400), days_ago(10)
    cases = [  # (signed_on, last_report_on, status, stale)
        (long_ago, None, "committed", True),
        (long_ago, days_ago(120), "in_progress", True),
        (long_ago, days_ago(95), "stalled", True),
        (long_ago, days_ago(30), "in_progress", False),
        (lately, None, "committed", False),
        (long_ago, None, "cancelled", False),
    ]
    expected: dict[str, bool] = {}
    for adopter, (signed, reported, status, stale) in zip(p.adopters, cases, strict=True):
        c = await create_commitment(
            client, admin, p.program, p.innovation, adopter.id, signed_on=signed.isoformat()
        )
        await set_commitment(session, c["id"], status=status, last_report_on=reported)
        expected[c["id"]] = stale

    listed = (await client.get(COMMITMENTS)).json()["items"]
    assert {c["id"]: c["stale"] for c in listed} == expected
    yes = set(ids(await client.get(COMMITMENTS, params={"stale": "true"})))
    no = set(ids(await client.get(COMMITMENTS, params={"stale": "false"})))
    assert yes == {cid for cid, flag in expected.items() if flag}
    assert no == {cid for cid, flag in expected.items() if not flag}


async def test_a_progress_report_makes_a_stale_commitment_fresh(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    assert (await client.get(url_of(s.commitment))).json()["stale"] is True

    assert (await post_report(client, admin, s.commitment)).status_code == 201

    assert (await client.get(url_of(s.commitment))).json()["stale"] is False
    assert ids(await client.get(COMMITMENTS, params={"stale": "true"})) == []


async def test_include_total_counts_matching_commitments(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin, adopters=3)
    for a in p.adopters:
        await create_commitment(client, admin, p.program, p.innovation, a.id)

    r = await client.get(COMMITMENTS, params={"include_total": True, "limit": 1})

    assert r.json()["total"] == 3


# --- List: sorts and cursors --------------------------------------------------------------


async def test_default_sort_is_newest_signing_first_and_walks_without_gaps(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin, adopters=6)
    dates = ["2021-11-02", "2022-01-10", "2021-11-02", "2022-05-01", "2021-12-01", "2022-01-10"]
    made = [
        await create_commitment(client, admin, p.program, p.innovation, a.id, signed_on=d)
        for a, d in zip(p.adopters, dates, strict=True)
    ]
    expected = [
        c["id"] for c in sorted(made, key=lambda c: (c["signed_on"], c["id"]), reverse=True)
    ]

    first = ids(await client.get(COMMITMENTS))
    pages = await walk(client, COMMITMENTS, {}, limit=4)
    small = await walk(client, COMMITMENTS, {"sort": "-signed_on"}, limit=1)

    assert first == expected
    assert walked_ids(pages) == expected
    assert [len(page["items"]) for page in pages] == [4, 2]
    assert walked_ids(small) == expected


async def test_updated_at_sort_is_latest_change_first_and_walks_without_gaps(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin, adopters=5)
    made = [
        await create_commitment(client, admin, p.program, p.innovation, a.id) for a in p.adopters
    ]
    base = datetime(2025, 1, 1, tzinfo=UTC)
    # Two rows share a timestamp: the id breaks the tie, across a page boundary too.
    offsets = [3, 1, 3, 0, 2]
    for c, hours in zip(made, offsets, strict=True):
        await set_commitment(session, c["id"], updated_at=base + timedelta(hours=hours))
    expected = [
        c["id"]
        for c, _ in sorted(
            zip(made, offsets, strict=True), key=lambda t: (t[1], t[0]["id"]), reverse=True
        )
    ]

    pages = await walk(client, COMMITMENTS, {"sort": "-updated_at"}, limit=2)

    assert walked_ids(pages) == expected
    assert len(pages) == 3


async def test_cursor_of_one_sort_is_refused_by_the_other(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin, adopters=2)
    for a in p.adopters:
        await create_commitment(client, admin, p.program, p.innovation, a.id)
    cursor = (await client.get(COMMITMENTS, params={"limit": 1})).json()["next_cursor"]

    r = await client.get(COMMITMENTS, params={"sort": "-updated_at", "cursor": cursor})

    assert problem(r, 400)["code"] == "invalid_cursor"


async def test_filtered_walk_keeps_the_filter(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    p = await parts(client, session, admin, adopters=5)
    made = [
        await create_commitment(client, admin, p.program, p.innovation, a.id) for a in p.adopters
    ]
    for c in made[:2]:
        await set_commitment(session, c["id"], status="stalled")

    pages = await walk(client, COMMITMENTS, {"status": "committed"}, limit=2)

    assert sorted(walked_ids(pages)) == sorted(c["id"] for c in made[2:])


# --- PATCH --------------------------------------------------------------------------------


async def patch(
    client: httpx.AsyncClient, headers: Headers, s: Scene, body: dict[str, Any], etag: str | None
) -> httpx.Response:
    extra = {"If-Match": etag} if etag is not None else {}
    return await client.patch(url_of(s.commitment), json=body, headers=headers | extra)


async def test_patch_changes_the_fields_sent_with_a_new_etag_and_one_event(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin, budget_idr=100)

    r = await patch(client, admin, s, {"budget_idr": 200_000_000, "mentors": "Undip"}, '"1"')

    assert r.status_code == 200, r.text
    assert version_of(r.headers["ETag"]) == 2
    body = r.json()
    assert (body["budget_idr"], body["mentors"], body["version"]) == (200_000_000, "Undip", 2)
    assert body["signed_on"] == "2021-11-02"
    row = await commitment_row(session, s.commitment)
    assert (row.budget_idr, row.mentors, row.version) == (200_000_000, "Undip", 2)
    events = await events_of(session, s.commitment)
    assert [e.action for e in events] == ["commitment.created", "commitment.updated"]
    assert events[1].changes == {"budget_idr": 200_000_000, "mentors": "Undip"}


async def test_patch_without_if_match_is_428(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    before = await snapshot(session)

    assert problem(await patch(client, admin, s, {"mentors": "X"}, None), 428)["code"] == (
        "if_match_required"
    )
    assert await snapshot(session) == before


async def test_patch_with_a_stale_etag_is_412(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    assert (await patch(client, admin, s, {"mentors": "A"}, '"1"')).status_code == 200
    before = await snapshot(session)

    assert problem(await patch(client, admin, s, {"mentors": "B"}, '"1"'), 412)["code"] == (
        "stale_version"
    )
    assert await snapshot(session) == before


async def test_patch_target_before_signing_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin, target_launch_on="2022-06-30")
    before = await snapshot(session)

    r = await patch(client, admin, s, {"signed_on": "2022-07-01"}, '"1"')

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/target_launch_on"
    assert await snapshot(session) == before


async def test_patch_negative_budget_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)

    r = await patch(client, admin, s, {"budget_idr": -5}, '"1"')

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/budget_idr"


@pytest.mark.parametrize("field", ["status", "program_id", "adopter_institution_id"])
async def test_patch_may_not_change_status_or_identity(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, field: str
) -> None:
    s = await make_scene(client, session, admin)
    value = "launched" if field == "status" else str(uuid.uuid4())

    r = await patch(client, admin, s, {field: value}, '"1"')

    assert problem(r, 422)["errors"][0]["pointer"] == f"/body/{field}"
    assert (await commitment_row(session, s.commitment)).version == 1


async def test_patch_may_clear_the_target_launch(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin, target_launch_on="2022-06-30")

    r = await patch(client, admin, s, {"target_launch_on": None}, '"1"')

    assert r.status_code == 200, r.text
    assert (r.json()["target_launch_on"], r.json()["overdue"]) == (None, False)


async def test_patch_of_an_unknown_commitment_is_404(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    r = await client.patch(
        url_of(uuid.uuid4()), json={"mentors": "X"}, headers=admin | {"If-Match": '"1"'}
    )

    problem(r, 404)


@pytest.mark.parametrize(
    ("role", "code"),
    [(Role.coordinator, "other_province"), (Role.integration, "role_not_allowed")],
)
async def test_another_province_key_may_not_patch_a_commitment(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    make_key: MakeKey,
    role: Role,
    code: str,
) -> None:
    s = await make_scene(client, session, admin)
    other = await key(make_key, role, "61")
    before = await snapshot(session)

    r = await patch(client, other, s, {"budget_idr": 1}, '"1"')

    assert problem(r, 403)["code"] == code
    assert await snapshot(session) == before


async def test_integration_of_the_province_may_not_patch_a_commitment(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    s = await make_scene(client, session, admin)
    integration = await key(make_key, Role.integration, "33")
    before = await snapshot(session)

    r = await patch(client, integration, s, {"budget_idr": 1}, '"1"')

    assert problem(r, 403)["code"] == "role_not_allowed"
    assert await snapshot(session) == before


async def test_coordinator_of_the_province_patches_a_commitment(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    s = await make_scene(client, session, admin)
    coordinator = await key(make_key, Role.coordinator, "33")

    r = await patch(client, coordinator, s, {"planned_modifications": "Versi kabupaten"}, '"1"')

    assert r.status_code == 200, r.text
    assert (await commitment_row(session, s.commitment)).planned_modifications == "Versi kabupaten"
