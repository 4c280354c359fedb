"""Action plans (/commitments/{id}/action-items): create, list by due date, PATCH with If-Match,
the commitment's progress as the weighted mean of its items (else the latest reported
percentage, by as_of), and province scope."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.schemas import today
from app.core.security import Role
from tests.conftest import MakeKey, problem, version_of
from tests.replication._api import (
    Headers,
    commitment_row,
    count,
    create_item,
    events_of,
    key,
    make_scene,
    post_report,
    rows,
    snapshot,
    url_of,
)


def items_url(commitment: object, item: object | None = None) -> str:
    return url_of(commitment, "/action-items" + (f"/{item}" if item else ""))


async def patch_item(
    client: httpx.AsyncClient,
    headers: Headers,
    commitment: object,
    item: dict[str, Any],
    body: dict[str, Any],
    etag: str | None = '"1"',
) -> httpx.Response:
    extra = {"If-Match": etag} if etag is not None else {}
    return await client.patch(items_url(commitment, item["id"]), json=body, headers=headers | extra)


async def progress(session: AsyncSession, commitment: object) -> float:
    return float((await commitment_row(session, commitment)).progress)


# --- Create and list ----------------------------------------------------------------------


async def test_create_returns_201_with_etag_defaults_and_one_event(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)

    r = await client.post(
        items_url(s.commitment),
        json={"title": "Menyusun Perbup", "due_on": "2022-03-31"},
        headers=admin,
    )

    assert r.status_code == 201, r.text
    assert r.headers["Location"] == items_url(s.commitment)
    assert version_of(r.headers["ETag"]) == 1
    item = r.json()
    assert (item["commitment_id"], item["title"], item["due_on"]) == (
        s.commitment,
        "Menyusun Perbup",
        "2022-03-31",
    )
    assert (item["weight"], item["status"], item["progress"], item["completed_on"]) == (
        1.0,
        "todo",
        0,
        None,
    )
    [row] = await rows(session, "SELECT title, weight, status FROM action_items")
    assert (row.title, float(row.weight), row.status) == ("Menyusun Perbup", 1.0, "todo")
    [event] = await events_of(session, item["id"])
    assert (event.action, event.entity, event.province_code) == (
        "action_item.created",
        "action_item",
        "33",
    )


async def test_item_created_done_is_completed_today(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)

    item = await create_item(client, admin, s.commitment, status="done", progress=100)

    assert item["completed_on"] == today().isoformat()


@pytest.mark.parametrize(
    ("field", "value"),
    [("weight", 0), ("weight", -1), ("progress", 101), ("progress", -1), ("status", "finished")],
)
async def test_create_with_an_out_of_range_field_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, field: str, value: object
) -> None:
    s = await make_scene(client, session, admin)

    r = await client.post(
        items_url(s.commitment), json={"title": "Perbup", field: value}, headers=admin
    )

    assert problem(r, 422)["errors"][0]["pointer"] == f"/body/{field}"
    assert await count(session, "action_items") == 0


async def test_create_on_an_unknown_commitment_is_404(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    r = await client.post(items_url(uuid.uuid4()), json={"title": "Perbup"}, headers=admin)

    problem(r, 404)
    assert await count(session, "action_items") == 0


async def test_list_is_by_due_date_with_undated_items_last(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    undated = await create_item(client, admin, s.commitment, title="Sosialisasi")
    late = await create_item(client, admin, s.commitment, title="Peluncuran", due_on="2022-09-30")
    early = await create_item(client, admin, s.commitment, title="Perbup", due_on="2022-03-31")

    r = await client.get(items_url(s.commitment))

    assert r.status_code == 200
    assert [i["id"] for i in r.json()] == [early["id"], late["id"], undated["id"]]


async def test_list_of_an_unknown_commitment_is_404(client: httpx.AsyncClient) -> None:
    problem(await client.get(items_url(uuid.uuid4())), 404)


# --- PATCH --------------------------------------------------------------------------------


async def test_patch_with_if_match_changes_the_item_and_returns_a_new_etag(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    item = await create_item(client, admin, s.commitment)

    r = await patch_item(client, admin, s.commitment, item, {"status": "doing", "progress": 40})

    assert r.status_code == 200, r.text
    assert version_of(r.headers["ETag"]) == 2
    assert (r.json()["status"], r.json()["progress"], r.json()["version"]) == ("doing", 40, 2)
    [row] = await rows(session, "SELECT status, progress, version FROM action_items")
    assert tuple(row) == ("doing", 40, 2)
    events = await events_of(session, item["id"])
    assert [e.action for e in events] == ["action_item.created", "action_item.updated"]
    assert events[1].changes == {"status": "doing", "progress": 40}


async def test_patch_to_done_sets_completed_on(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    item = await create_item(client, admin, s.commitment)

    r = await patch_item(client, admin, s.commitment, item, {"status": "done", "progress": 100})

    assert r.json()["completed_on"] == today().isoformat()


async def test_patch_without_if_match_is_428(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    item = await create_item(client, admin, s.commitment)
    before = await snapshot(session)

    r = await patch_item(client, admin, s.commitment, item, {"progress": 10}, etag=None)

    assert problem(r, 428)["code"] == "if_match_required"
    assert await snapshot(session) == before


async def test_patch_with_a_stale_etag_is_412(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    item = await create_item(client, admin, s.commitment)
    assert (
        await patch_item(client, admin, s.commitment, item, {"progress": 10})
    ).status_code == 200
    before = await snapshot(session)

    r = await patch_item(client, admin, s.commitment, item, {"progress": 20})

    assert problem(r, 412)["code"] == "stale_version"
    assert await snapshot(session) == before


async def test_patch_through_another_commitment_is_404(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    other = await make_scene(client, session, admin)
    item = await create_item(client, admin, s.commitment)
    before = await snapshot(session)

    r = await patch_item(client, admin, other.commitment, item, {"progress": 90})

    problem(r, 404)
    assert await snapshot(session) == before


@pytest.mark.parametrize("field", ["title", "weight", "status", "progress"])
async def test_patch_may_not_null_a_required_field(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, field: str
) -> None:
    s = await make_scene(client, session, admin)
    item = await create_item(client, admin, s.commitment)

    r = await patch_item(client, admin, s.commitment, item, {field: None})

    assert problem(r, 422)["errors"][0]["pointer"] == f"/body/{field}"


# --- Progress: weighted mean of the items, else the latest reported percentage -----------


async def test_progress_is_the_weighted_mean_of_the_items(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    await create_item(client, admin, s.commitment, weight=1, progress=100)
    await create_item(client, admin, s.commitment, weight=3, progress=0)

    assert await progress(session, s.commitment) == 25.0
    assert (await client.get(url_of(s.commitment))).json()["progress"] == 25.0


async def test_progress_is_rounded_to_two_decimals(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    await create_item(client, admin, s.commitment, weight=2, progress=50)
    await create_item(client, admin, s.commitment, weight=1, progress=0)
    await create_item(client, admin, s.commitment, weight=0.5, progress=35)

    # (2 × 50 + 1 × 0 + 0.5 × 35) / 3.5 = 33.571…
    assert (await client.get(url_of(s.commitment))).json()["progress"] == 33.57


async def test_patching_an_item_recomputes_progress_in_the_same_request(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    heavy = await create_item(client, admin, s.commitment, weight=3, progress=0)
    await create_item(client, admin, s.commitment, weight=1, progress=100)
    assert await progress(session, s.commitment) == 25.0

    r = await patch_item(client, admin, s.commitment, heavy, {"progress": 60})

    assert r.status_code == 200, r.text
    assert await progress(session, s.commitment) == 70.0  # (3 × 60 + 100) / 4


async def test_patching_an_item_weight_recomputes_progress(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    done = await create_item(client, admin, s.commitment, weight=1, progress=100)
    await create_item(client, admin, s.commitment, weight=1, progress=0)
    assert await progress(session, s.commitment) == 50.0

    await patch_item(client, admin, s.commitment, done, {"weight": 4})

    assert await progress(session, s.commitment) == 80.0


async def test_without_items_progress_is_the_latest_reported_percentage(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)

    r = await post_report(client, admin, s.commitment, as_of="2022-03-31", percent_complete=35)

    assert r.status_code == 201, r.text
    assert await progress(session, s.commitment) == 35.0


async def test_a_late_backfill_with_an_older_as_of_does_not_win(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    assert (
        await post_report(client, admin, s.commitment, as_of="2022-06-30", percent_complete=60)
    ).status_code == 201

    backfill = await post_report(
        client, admin, s.commitment, as_of="2022-03-31", percent_complete=20
    )
    assert backfill.status_code == 201, backfill.text
    assert await progress(session, s.commitment) == 60.0

    newer = await post_report(client, admin, s.commitment, as_of="2022-07-31", percent_complete=70)
    assert newer.status_code == 201
    assert await progress(session, s.commitment) == 70.0


async def test_a_report_of_the_same_as_of_replaces_the_percentage(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    await post_report(client, admin, s.commitment, as_of="2022-06-30", percent_complete=60)

    await post_report(client, admin, s.commitment, as_of="2022-06-30", percent_complete=55)

    assert await progress(session, s.commitment) == 55.0


async def test_items_outweigh_the_reported_percentage(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    await post_report(client, admin, s.commitment, as_of="2022-03-31", percent_complete=90)
    assert await progress(session, s.commitment) == 90.0

    await create_item(client, admin, s.commitment, progress=10)

    assert await progress(session, s.commitment) == 10.0
    await post_report(client, admin, s.commitment, as_of="2022-04-30", percent_complete=95)
    assert await progress(session, s.commitment) == 10.0


# --- Scope --------------------------------------------------------------------------------


async def test_coordinator_of_the_province_manages_the_action_plan(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    s = await make_scene(client, session, admin)
    coordinator = await key(make_key, Role.coordinator, "33")

    item = await create_item(client, coordinator, s.commitment)
    r = await patch_item(client, coordinator, s.commitment, item, {"progress": 50})

    assert r.status_code == 200, r.text
    assert await progress(session, s.commitment) == 50.0


REFUSED = [
    (Role.coordinator, "61", "other_province"),
    (Role.integration, "61", "role_not_allowed"),
    (Role.integration, "33", "role_not_allowed"),
]


@pytest.mark.parametrize(("role", "province", "code"), REFUSED)
async def test_create_refused_to_keys_that_may_not_manage_the_commitment(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    make_key: MakeKey,
    role: Role,
    province: str,
    code: str,
) -> None:
    s = await make_scene(client, session, admin)
    other = await key(make_key, role, province)
    before = await snapshot(session)

    r = await client.post(items_url(s.commitment), json={"title": "Perbup"}, headers=other)

    assert problem(r, 403)["code"] == code
    assert await snapshot(session) == before


@pytest.mark.parametrize(("role", "province", "code"), REFUSED)
async def test_patch_refused_to_keys_that_may_not_manage_the_commitment(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    make_key: MakeKey,
    role: Role,
    province: str,
    code: str,
) -> None:
    s = await make_scene(client, session, admin)
    item = await create_item(client, admin, s.commitment)
    other = await key(make_key, role, province)
    before = await snapshot(session)

    r = await patch_item(client, other, s.commitment, item, {"progress": 100})

    assert problem(r, 403)["code"] == code
    assert await snapshot(session) == before


async def test_patch_reopening_a_done_item_clears_completed_on(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    item = await create_item(client, admin, s.commitment, status="done", progress=100)

    r = await patch_item(client, admin, s.commitment, item, {"status": "doing", "progress": 80})

    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["completed_on"]) == ("doing", None)
    [row] = await rows(session, "SELECT status, completed_on FROM action_items")
    assert tuple(row) == ("doing", None)
