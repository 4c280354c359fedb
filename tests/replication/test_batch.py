"""POST /progress-reports/batch: up to 500 reports, one result per report in order, exactly the
valid ones stored; idempotent replay under the Idempotency-Key; province scope per report."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.security import Role
from tests.conftest import MakeKey, bearer, problem
from tests.core._platform import engine_count, eventually, institution_body
from tests.replication._api import (
    BATCH,
    COMMITMENTS,
    PROGRAMS,
    Headers,
    Scene,
    cancel,
    commitment_body,
    commitment_row,
    count,
    create_item,
    events_of,
    key,
    keyed,
    make_scene,
    program_body,
    rows,
    snapshot,
)


def report(commitment: object, **fields: Any) -> dict[str, Any]:
    return {
        "commitment_id": str(commitment),
        "as_of": "2022-03-31",
        "percent_complete": 40,
    } | fields


async def reports_of(session: AsyncSession, commitment: object) -> int:
    return await count(session, "progress_reports", "commitment_id = :c", c=str(commitment))


async def integration_of(make_key: MakeKey, province: str = "33") -> Headers:
    return await key(make_key, Role.integration, province)


# --- Size ---------------------------------------------------------------------------------


async def test_501_reports_are_422_and_nothing_is_stored(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    before = await snapshot(session)

    r = await client.post(BATCH, json={"reports": [report(s.commitment)] * 501}, headers=admin)

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/reports"
    assert await snapshot(session) == before


async def test_500_reports_are_accepted(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    reports = [report(s.commitment, percent_complete=n % 101) for n in range(500)]

    r = await client.post(BATCH, json={"reports": reports}, headers=admin)

    assert r.status_code == 200, r.text
    assert (r.json()["accepted"], r.json()["rejected"]) == (500, 0)
    assert await reports_of(session, s.commitment) == 500


async def test_empty_batch_is_422(client: httpx.AsyncClient, admin: Headers) -> None:
    problem(await client.post(BATCH, json={"reports": []}, headers=admin), 422)


# --- A mixed batch ------------------------------------------------------------------------


async def test_mixed_batch_has_one_result_per_report_in_order_and_stores_exactly_the_valid(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    a = await make_scene(client, session, admin)
    b = await make_scene(client, session, admin, adopter_region="33.19")
    sambas = await make_scene(client, session, admin, province="61", adopter_region="61.01")
    a_item = await create_item(client, admin, a.commitment)
    b_item = await create_item(client, admin, b.commitment)
    sambas_before = await commitment_row(session, sambas.commitment)
    reports = [
        report(
            a.commitment,
            percent_complete=45,
            item_updates=[{"item_id": a_item["id"], "progress": 45, "status": "doing"}],
        ),
        report(a.commitment, percent_complete=150),  # schema-invalid
        report(uuid.uuid4()),  # unknown commitment
        report(sambas.commitment),  # another province's commitment
        report(a.commitment, as_of="2021-01-01"),  # before the signing
        report(a.commitment, item_updates=[{"item_id": b_item["id"], "progress": 90}]),
        report(b.commitment, as_of="2022-04-30", percent_complete=10),
        report(b.commitment, evidence_urls=["ftp://files.example.go.id/a.pdf"]),
        report(b.commitment, status="launched"),  # an unknown field
    ]

    r = await client.post(
        BATCH, json={"reports": reports}, headers=keyed(await integration_of(make_key))
    )

    assert r.status_code == 200, r.text
    body = r.json()
    results = body["results"]
    assert [x["index"] for x in results] == list(range(9))
    assert [x["status"] for x in results] == [201, 422, 404, 403, 422, 422, 201, 422, 422]
    assert (body["accepted"], body["rejected"]) == (2, 7)
    assert [x["problem"]["code"] for x in results if x["problem"]] == [
        "validation_error",
        "not_found",
        "other_province",
        "validation_error",
        "validation_error",
        "validation_error",
        "validation_error",
    ]
    pointers = {
        x["index"]: [e["pointer"] for e in x["problem"]["errors"]]
        for x in results
        if x["status"] == 422
    }
    assert pointers == {
        1: ["/body/reports/1/percent_complete"],
        4: ["/body/reports/4/as_of"],
        5: ["/body/reports/5/item_updates/0/item_id"],
        7: ["/body/reports/7/evidence_urls/0"],
        8: ["/body/reports/8/status"],
    }
    assert all(x["problem"]["instance"] == BATCH for x in results if x["problem"])
    assert all(x["report"] is None for x in results if x["status"] != 201)
    assert (results[0]["report"]["commitment_id"], results[0]["report"]["percent_complete"]) == (
        a.commitment,
        45,
    )
    assert results[6]["report"]["commitment_id"] == b.commitment
    # Exactly the valid reports are stored, and only their effects applied.
    assert await reports_of(session, a.commitment) == 1
    assert await reports_of(session, b.commitment) == 1
    assert await reports_of(session, sambas.commitment) == 0
    stored = {str(x.id) for x in await rows(session, "SELECT id FROM progress_reports")}
    assert stored == {results[0]["report"]["id"], results[6]["report"]["id"]}
    [a_row] = await rows(
        session, "SELECT progress, status FROM action_items WHERE id = :id", id=a_item["id"]
    )
    [b_row] = await rows(
        session, "SELECT progress, status FROM action_items WHERE id = :id", id=b_item["id"]
    )
    assert (tuple(a_row), tuple(b_row)) == ((45, "doing"), (0, "todo"))
    assert (await commitment_row(session, a.commitment)).status == "in_progress"
    assert (await commitment_row(session, b.commitment)).status == "in_progress"
    assert float((await commitment_row(session, b.commitment)).progress) == 0.0  # its item's
    sambas_after = await commitment_row(session, sambas.commitment)
    assert (sambas_after.status, sambas_after.version) == ("committed", sambas_before.version)


async def test_batch_writes_one_event_per_stored_report_and_per_started_commitment(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    reports = [report(s.commitment, as_of=d) for d in ("2022-01-31", "2022-02-28")]
    reports.append(report(s.commitment, as_of="2020-01-01"))  # refused: before signing

    r = await client.post(BATCH, json={"reports": reports}, headers=admin)

    stored = [x["report"]["id"] for x in r.json()["results"] if x["status"] == 201]
    assert len(stored) == 2
    for report_id in stored:
        [event] = await events_of(session, report_id)
        assert (event.action, event.actor_role) == ("progress_report.created", "admin")
    transitions = [
        e for e in await events_of(session, s.commitment) if e.action == "commitment.transitioned"
    ]
    assert len(transitions) == 1


async def test_the_report_with_the_latest_as_of_sets_the_percentage_whatever_its_place(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    reports = [
        report(s.commitment, as_of="2022-06-30", percent_complete=60),
        report(s.commitment, as_of="2022-03-31", percent_complete=20),
    ]

    r = await client.post(BATCH, json={"reports": reports}, headers=admin)

    assert r.json()["accepted"] == 2
    row = await commitment_row(session, s.commitment)
    assert (float(row.progress), row.latest_percent, str(row.latest_as_of)) == (
        60.0,
        60,
        "2022-06-30",
    )


async def test_report_for_a_cancelled_commitment_fails_alone_with_409(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    live = await make_scene(client, session, admin)
    gone = await make_scene(client, session, admin, adopter_region="33.19")
    await cancel(client, admin, gone.commitment)

    r = await client.post(
        BATCH, json={"reports": [report(gone.commitment), report(live.commitment)]}, headers=admin
    )

    results = r.json()["results"]
    assert [x["status"] for x in results] == [409, 201]
    assert results[0]["problem"]["code"] == "commitment_cancelled"
    assert (
        await reports_of(session, gone.commitment),
        await reports_of(session, live.commitment),
    ) == (0, 1)


# --- Idempotency --------------------------------------------------------------------------


async def test_retried_batch_is_replayed_and_stored_once(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    s = await make_scene(client, session, admin)
    headers = keyed(await integration_of(make_key), "batch-2022-03")
    body = {"reports": [report(s.commitment), report(s.commitment, percent_complete=101)]}

    first = await client.post(BATCH, json=body, headers=headers)
    events_after_first = len(await events_of(session, s.commitment))
    again = await client.post(BATCH, json=body, headers=headers)

    assert first.status_code == again.status_code == 200
    assert "idempotent-replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert await reports_of(session, s.commitment) == 1
    assert len(await events_of(session, s.commitment)) == events_after_first
    assert (await commitment_row(session, s.commitment)).version == 2


async def test_a_large_batch_response_is_stored_compressed_and_replayed_byte_for_byte(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    s = await make_scene(client, session, admin)
    headers = keyed(await integration_of(make_key), "batch-2022-04")
    body = {"reports": [report(s.commitment, percent_complete=n) for n in range(100)]}

    first = await client.post(BATCH, json=body, headers=headers)
    again = await client.post(BATCH, json=body, headers=headers)

    assert len(first.content) > 8192
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    stored = await rows(
        session,
        "SELECT response_compressed, length(response_body) AS size FROM idempotency_keys "
        "WHERE key = 'batch-2022-04'",
    )
    assert [(r.response_compressed, r.size < len(first.content) // 4) for r in stored] == [
        (True, True)
    ]


async def test_same_key_with_another_body_is_422_and_stores_nothing_more(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    s = await make_scene(client, session, admin)
    headers = keyed(await integration_of(make_key), "batch-2022-04")
    first = await client.post(BATCH, json={"reports": [report(s.commitment)]}, headers=headers)
    assert first.status_code == 200
    before = await snapshot(session)

    r = await client.post(
        BATCH, json={"reports": [report(s.commitment, percent_complete=41)]}, headers=headers
    )

    assert problem(r, 422)["code"] == "idempotency_key_reused"
    assert await snapshot(session) == before


async def test_integration_batch_without_an_idempotency_key_is_400(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    s = await make_scene(client, session, admin)
    before = await snapshot(session)

    r = await client.post(
        BATCH, json={"reports": [report(s.commitment)]}, headers=await integration_of(make_key)
    )

    assert problem(r, 400)["code"] == "idempotency_key_required"
    assert await snapshot(session) == before


async def _committed_commitment(client: httpx.AsyncClient, admin: Headers) -> str:
    """A commitment set up through the API, every step committed."""

    async def created(url: str, body: dict[str, Any]) -> str:
        r = await client.post(url, json=body, headers=admin)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    origin = await created("/api/v1/institutions", institution_body(region_code="32.73"))
    innovation = await created(
        "/api/v1/innovations",
        {
            "title": "PIKOBAR",
            "sector": "health",
            "form": "public_service",
            "initiator": "agency",
            "institution_id": origin,
            "status": "published",
        },
    )
    adopter = await created(
        "/api/v1/institutions",
        institution_body(region_code="33.16", kind="regency_government"),
    )
    program = await created(PROGRAMS, program_body("33"))
    return await created(COMMITMENTS, commitment_body(program, innovation, adopter))


async def test_concurrent_retries_of_a_committed_batch_store_it_once(
    committed_client: httpx.AsyncClient,
    committed_key: Callable[..., Awaitable[str]],
    engine: AsyncEngine,
) -> None:
    admin = bearer(await committed_key(Role.admin))
    commitment = await _committed_commitment(committed_client, admin)
    integration = keyed(bearer(await committed_key(Role.integration, "33")), "batch-retry")
    body = {"reports": [report(commitment), report(commitment, as_of="2022-04-30")]}

    responses = await asyncio.gather(
        *(committed_client.post(BATCH, json=body, headers=integration) for _ in range(4))
    )
    later = await committed_client.post(BATCH, json=body, headers=integration)

    assert [r.status_code for r in responses if r.status_code >= 500] == []
    originals = [r for r in responses if "idempotent-replayed" not in r.headers]
    originals = [r for r in originals if r.status_code == 200]
    assert len(originals) == 1
    for r in [*responses, later]:
        if r is originals[0]:
            continue
        if r.status_code == 409:
            assert r.json()["code"] == "idempotency_in_flight"
        else:
            assert r.headers["Idempotent-Replayed"] == "true"
            assert r.content == originals[0].content
    assert later.headers["Idempotent-Replayed"] == "true"
    where = "commitment_id = :c"
    assert await engine_count(engine, "progress_reports", where, c=commitment) == 2
    assert await engine_count(engine, "events", "action = 'progress_report.created'") == 2


async def _waiting_for_a_lock(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        waiting = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    return bool(waiting)


async def test_a_report_that_waited_for_its_commitment_counts_the_item_update_it_waited_for(
    committed_client: httpx.AsyncClient,
    committed_key: Callable[..., Awaitable[str]],
    engine: AsyncEngine,
) -> None:
    """Another writer holds the commitment and has moved one item; a report on the other item
    waits, and once the writer commits, the commitment's progress counts both items."""
    admin = bearer(await committed_key(Role.admin))
    commitment = await _committed_commitment(committed_client, admin)
    first = await create_item(committed_client, admin, commitment)
    second = await create_item(committed_client, admin, commitment)
    body = {
        "reports": [report(commitment, item_updates=[{"item_id": second["id"], "progress": 100}])]
    }

    async with engine.connect() as writer:
        await writer.execute(
            text("SELECT id FROM commitments WHERE id = :c FOR UPDATE"), {"c": commitment}
        )
        await writer.execute(
            text("UPDATE action_items SET progress = 100 WHERE id = :i"), {"i": first["id"]}
        )
        posting = asyncio.create_task(committed_client.post(BATCH, json=body, headers=admin))
        assert await eventually(lambda: _waiting_for_a_lock(engine), within=10)
        await writer.commit()
    r = await posting

    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    async with engine.connect() as conn:
        progress = await conn.scalar(
            text("SELECT progress FROM commitments WHERE id = :c"), {"c": commitment}
        )
    assert progress == 100


async def test_a_batch_fails_whole_when_an_item_it_updates_was_written_without_the_lock(
    committed_client: httpx.AsyncClient,
    committed_key: Callable[..., Awaitable[str]],
    engine: AsyncEngine,
) -> None:
    """Every writer of an action item locks its commitment first, so the batch updates its items
    by row address (see `repository._LOCK_BATCH`). A writer that skips the lock and moves an
    item while the batch waits for it makes that update find no row: the batch then fails and
    stores nothing, rather than answering 200 for an item update it did not make."""
    admin = bearer(await committed_key(Role.admin))
    commitment = await _committed_commitment(committed_client, admin)
    item = await create_item(committed_client, admin, commitment)
    body = {"reports": [report(commitment, item_updates=[{"item_id": item["id"], "progress": 90}])]}

    async with engine.connect() as writer:
        await writer.execute(
            text("UPDATE action_items SET progress = 10 WHERE id = :i"), {"i": item["id"]}
        )
        posting = asyncio.create_task(committed_client.post(BATCH, json=body, headers=admin))
        assert await eventually(lambda: _waiting_for_a_lock(engine), within=10)
        await writer.commit()
    r = await posting

    assert r.status_code == 500, r.text
    where = "commitment_id = :c"
    assert await engine_count(engine, "progress_reports", where, c=commitment) == 0
    async with engine.connect() as conn:
        progress = await conn.scalar(
            text("SELECT progress FROM action_items WHERE id = :i"), {"i": item["id"]}
        )
    assert progress == 10


# --- Scope --------------------------------------------------------------------------------


async def _two_commitments(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> list[Scene]:
    return [
        await make_scene(client, session, admin),
        await make_scene(client, session, admin, adopter_region="33.19"),
    ]


@pytest.mark.parametrize("role", [Role.coordinator, Role.integration])
async def test_another_province_key_gets_403_for_each_report_and_nothing_changes(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    make_key: MakeKey,
    role: Role,
) -> None:
    scenes = await _two_commitments(client, session, admin)
    other = keyed(await key(make_key, role, "61"))
    before = await snapshot(session)
    del before["idempotency_keys"]  # the 200 itself is kept for replay

    r = await client.post(
        BATCH, json={"reports": [report(s.commitment) for s in scenes]}, headers=other
    )

    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == [403, 403]
    assert {x["problem"]["code"] for x in r.json()["results"]} == {"other_province"}
    after = await snapshot(session)
    del after["idempotency_keys"]
    assert after == before


async def test_reviewer_may_not_post_a_batch(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    s = await make_scene(client, session, admin)
    reviewer = await key(make_key, Role.reviewer)
    before = await snapshot(session)

    r = await client.post(BATCH, json={"reports": [report(s.commitment)]}, headers=reviewer)

    assert problem(r, 403)["code"] == "role_not_allowed"
    assert await snapshot(session) == before


async def test_coordinator_batch_for_its_province_is_stored(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    scenes = await _two_commitments(client, session, admin)
    coordinator = await key(make_key, Role.coordinator, "33")

    r = await client.post(
        BATCH, json={"reports": [report(s.commitment) for s in scenes]}, headers=coordinator
    )

    assert r.json()["accepted"] == 2
    assert [await reports_of(session, s.commitment) for s in scenes] == [1, 1]


# --- Order within a batch -----------------------------------------------------------------


async def test_reports_of_one_batch_are_listed_newest_first_in_the_order_sent(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    reports = [report(s.commitment, percent_complete=n, as_of="2022-03-31") for n in range(5)]

    r = await client.post(BATCH, json={"reports": reports}, headers=admin)
    listed = await client.get(f"{COMMITMENTS}/{s.commitment}/progress-reports")
    detail = await client.get(f"{COMMITMENTS}/{s.commitment}")

    assert r.status_code == 200, r.text
    assert [x["percent_complete"] for x in listed.json()["items"]] == [4, 3, 2, 1, 0]
    assert detail.json()["latest_report"]["percent_complete"] == 4
    assert detail.json()["progress"] == 4.0


async def test_within_a_batch_the_latest_as_of_decides_an_item_and_the_percentage(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    item = await create_item(client, admin, s.commitment)
    newer = report(
        s.commitment,
        as_of="2022-05-31",
        percent_complete=70,
        item_updates=[{"item_id": item["id"], "progress": 80, "status": "doing"}],
    )
    older = report(
        s.commitment,
        as_of="2022-02-28",
        percent_complete=20,
        item_updates=[{"item_id": item["id"], "progress": 10, "status": "todo"}],
    )

    r = await client.post(BATCH, json={"reports": [newer, older]}, headers=admin)

    assert r.status_code == 200, r.text
    stored = await rows(
        session, "SELECT progress, status FROM action_items WHERE id = :i", i=item["id"]
    )
    assert [tuple(x) for x in stored] == [(80, "doing")]
    commitment = await commitment_row(session, s.commitment)
    assert (commitment.latest_percent, float(commitment.progress)) == (70, 80.0)
