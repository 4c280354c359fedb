"""POST/GET /commitments/{id}/progress-reports: who may report, the Idempotency-Key that
integrations must send, date and URL rules, item updates and the first report's move to
in_progress in one transaction, append-only storage, the newest-first list, scope."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.schemas import today
from app.core.security import Role
from tests.conftest import MakeKey, problem
from tests.core._platform import key_id
from tests.replication._api import (
    Headers,
    cancel,
    commitment_row,
    count,
    create_item,
    events_of,
    key,
    keyed,
    make_scene,
    post_report,
    rows,
    set_commitment,
    snapshot,
    url_of,
    walk,
    walked_ids,
)


def reports_url(commitment: object) -> str:
    return url_of(commitment, "/progress-reports")


async def reports_of(session: AsyncSession, commitment: object) -> int:
    return await count(session, "progress_reports", "commitment_id = :c", c=str(commitment))


# --- Who may report -----------------------------------------------------------------------


async def test_admin_report_is_201_with_location_and_stored(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)

    r = await post_report(
        client,
        admin,
        s.commitment,
        as_of="2022-03-31",
        percent_complete=40,
        narrative="Perbup telah ditandatangani.",
        obstacles="Anggaran perubahan belum cair.",
        evidence_urls=["https://jdih.example.go.id/perbup-12-2022.pdf"],
        reported_by="Bappeda Kabupaten Blora",
    )

    assert r.status_code == 201, r.text
    assert r.headers["Location"] == reports_url(s.commitment)
    body = r.json()
    assert (body["commitment_id"], body["as_of"], body["percent_complete"]) == (
        s.commitment,
        "2022-03-31",
        40,
    )
    assert body["evidence_urls"] == ["https://jdih.example.go.id/perbup-12-2022.pdf"]
    [row] = await rows(session, "SELECT * FROM progress_reports")
    assert (str(row.id), row.percent_complete, row.narrative, row.reported_by) == (
        body["id"],
        40,
        "Perbup telah ditandatangani.",
        "Bappeda Kabupaten Blora",
    )
    assert row.evidence_urls == ["https://jdih.example.go.id/perbup-12-2022.pdf"]


async def test_coordinator_of_the_province_reports(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    s = await make_scene(client, session, admin)
    coordinator = await key(make_key, Role.coordinator, "33")

    r = await post_report(client, coordinator, s.commitment)

    assert r.status_code == 201, r.text
    assert await reports_of(session, s.commitment) == 1


async def test_integration_of_the_province_reports_with_an_idempotency_key(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    s = await make_scene(client, session, admin)
    plaintext = await make_key(Role.integration, "33", name="integrasi-jateng")
    integration = {"Authorization": f"Bearer {plaintext}"}

    r = await post_report(client, keyed(integration), s.commitment)

    assert r.status_code == 201, r.text
    [row] = await rows(session, "SELECT reporter_key_id FROM progress_reports")
    assert row.reporter_key_id == await key_id(session, plaintext)


async def test_integration_without_an_idempotency_key_is_400(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    s = await make_scene(client, session, admin)
    integration = await key(make_key, Role.integration, "33")
    before = await snapshot(session)

    r = await post_report(client, integration, s.commitment)

    assert problem(r, 400)["code"] == "idempotency_key_required"
    assert await snapshot(session) == before


async def test_integration_retry_with_the_same_key_is_replayed_and_stored_once(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, make_key: MakeKey
) -> None:
    s = await make_scene(client, session, admin)
    headers = keyed(await key(make_key, Role.integration, "33"), "laporan-2022-03")

    first = await post_report(client, headers, s.commitment)
    again = await post_report(client, headers, s.commitment)

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert await reports_of(session, s.commitment) == 1


@pytest.mark.parametrize(
    ("role", "province", "code"),
    [
        (Role.coordinator, "61", "other_province"),
        (Role.integration, "61", "other_province"),
        (Role.reviewer, None, "role_not_allowed"),
    ],
)
async def test_report_refused_to_keys_outside_the_commitment_province(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    make_key: MakeKey,
    role: Role,
    province: str | None,
    code: str,
) -> None:
    s = await make_scene(client, session, admin)
    other = keyed(await key(make_key, role, province))
    before = await snapshot(session)

    r = await post_report(client, other, s.commitment)

    assert problem(r, 403)["code"] == code
    assert await snapshot(session) == before


async def test_report_on_an_unknown_commitment_is_404(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    r = await post_report(client, admin, uuid.uuid4())

    problem(r, 404)
    assert await count(session, "progress_reports") == 0


# --- Rules of a report --------------------------------------------------------------------


async def test_as_of_in_the_future_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    tomorrow = (today() + timedelta(days=1)).isoformat()

    r = await post_report(client, admin, s.commitment, as_of=tomorrow)

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/as_of"
    assert await reports_of(session, s.commitment) == 0


async def test_as_of_today_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)

    r = await post_report(client, admin, s.commitment, as_of=today().isoformat())

    assert r.status_code == 201, r.text


async def test_as_of_before_signing_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin, signed_on="2021-11-02")
    before = await snapshot(session)

    r = await post_report(client, admin, s.commitment, as_of="2021-11-01")

    body = problem(r, 422)
    assert [e["pointer"] for e in body["errors"]] == ["/body/as_of"]
    assert await snapshot(session) == before


async def test_as_of_on_the_signing_day_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin, signed_on="2021-11-02")

    assert (await post_report(client, admin, s.commitment, as_of="2021-11-02")).status_code == 201


@pytest.mark.parametrize("percent", [-1, 101])
async def test_percent_out_of_range_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, percent: int
) -> None:
    s = await make_scene(client, session, admin)

    r = await post_report(client, admin, s.commitment, percent_complete=percent)

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/percent_complete"


async def test_item_update_naming_another_commitment_item_is_422_with_a_pointer(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    other = await make_scene(client, session, admin)
    own = await create_item(client, admin, s.commitment)
    foreign = await create_item(client, admin, other.commitment)
    before = await snapshot(session)

    r = await post_report(
        client,
        admin,
        s.commitment,
        item_updates=[
            {"item_id": own["id"], "progress": 50},
            {"item_id": foreign["id"], "progress": 100, "status": "done"},
        ],
    )

    body = problem(r, 422)
    assert [e["pointer"] for e in body["errors"]] == ["/body/item_updates/1/item_id"]
    assert await snapshot(session) == before


async def test_item_update_naming_no_item_at_all_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)

    r = await post_report(
        client, admin, s.commitment, item_updates=[{"item_id": str(uuid.uuid4()), "progress": 1}]
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/item_updates/0/item_id"


@pytest.mark.parametrize(
    "url",
    ["ftp://files.example.go.id/perbup.pdf", "javascript:alert(1)", "file:///etc/passwd", "perbup"],
)
async def test_evidence_url_must_be_http_or_https(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, url: str
) -> None:
    s = await make_scene(client, session, admin)

    r = await post_report(
        client, admin, s.commitment, evidence_urls=["https://example.go.id/ok", url]
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/evidence_urls/1"
    assert await reports_of(session, s.commitment) == 0


async def test_ten_evidence_urls_are_accepted_and_eleven_are_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    urls = [f"http://example.go.id/bukti-{n}.jpg" for n in range(11)]

    eleven = await post_report(client, admin, s.commitment, evidence_urls=urls)
    ten = await post_report(client, admin, s.commitment, evidence_urls=urls[:10])

    assert problem(eleven, 422)["errors"][0]["pointer"] == "/body/evidence_urls"
    assert ten.status_code == 201, ten.text
    assert await reports_of(session, s.commitment) == 1


async def test_unknown_field_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)

    r = await post_report(client, admin, s.commitment, status="launched")

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/status"


async def test_cancelled_commitment_takes_no_reports(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    await cancel(client, admin, s.commitment)
    before = await snapshot(session)

    r = await post_report(client, admin, s.commitment)

    assert problem(r, 409)["code"] == "commitment_cancelled"
    assert await snapshot(session) == before


# --- Accepting a report -------------------------------------------------------------------


async def test_first_report_applies_item_updates_and_starts_the_commitment(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    perbup = await create_item(client, admin, s.commitment, title="Perbup", weight=1)
    launch = await create_item(client, admin, s.commitment, title="Peluncuran", weight=3)
    version = (await commitment_row(session, s.commitment)).version

    r = await post_report(
        client,
        admin,
        s.commitment,
        as_of="2022-03-31",
        percent_complete=40,
        item_updates=[
            {"item_id": perbup["id"], "progress": 100, "status": "done"},
            {"item_id": launch["id"], "progress": 20},
        ],
    )

    assert r.status_code == 201, r.text
    items = {
        str(i.id): i
        for i in await rows(
            session, "SELECT id, progress, status, completed_on, version FROM action_items"
        )
    }
    assert (items[perbup["id"]].progress, items[perbup["id"]].status) == (100, "done")
    assert str(items[perbup["id"]].completed_on) == "2022-03-31"
    assert (items[launch["id"]].progress, items[launch["id"]].status) == (20, "todo")
    assert items[launch["id"]].completed_on is None
    assert {i.version for i in items.values()} == {2}
    row = await commitment_row(session, s.commitment)
    assert (row.status, float(row.progress), row.version) == ("in_progress", 40.0, version + 1)
    assert (row.latest_percent, str(row.latest_as_of)) == (40, "2022-03-31")
    assert row.last_report_at is not None
    events = await events_of(session, s.commitment)
    assert events[-1].action == "commitment.transitioned"
    assert events[-1].changes["from"] == "committed"
    assert events[-1].changes["to"] == "in_progress"
    [report_event] = await events_of(session, r.json()["id"])
    assert (report_event.action, report_event.province_code) == ("progress_report.created", "33")
    assert report_event.changes["commitment_id"] == s.commitment


async def test_later_reports_leave_the_status_alone(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    await post_report(client, admin, s.commitment, as_of="2022-03-31")
    transitions_before = [
        e for e in await events_of(session, s.commitment) if e.action == "commitment.transitioned"
    ]

    r = await post_report(client, admin, s.commitment, as_of="2022-04-30")

    assert r.status_code == 201
    transitions_after = [
        e for e in await events_of(session, s.commitment) if e.action == "commitment.transitioned"
    ]
    assert len(transitions_before) == len(transitions_after) == 1
    assert (await commitment_row(session, s.commitment)).status == "in_progress"


@pytest.mark.parametrize("status", ["stalled", "launched"])
async def test_report_does_not_move_a_commitment_that_is_not_committed(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, status: str
) -> None:
    s = await make_scene(client, session, admin)
    await set_commitment(session, s.commitment, status=status)

    assert (await post_report(client, admin, s.commitment)).status_code == 201

    assert (await commitment_row(session, s.commitment)).status == status
    assert [e.action for e in await events_of(session, s.commitment)] == ["commitment.created"]


async def test_refused_report_applies_no_item_update(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin, signed_on="2021-11-02")
    item = await create_item(client, admin, s.commitment)
    before = await snapshot(session)

    r = await post_report(
        client,
        admin,
        s.commitment,
        as_of="2021-10-01",
        item_updates=[{"item_id": item["id"], "progress": 100, "status": "done"}],
    )

    problem(r, 422)
    assert await snapshot(session) == before
    [row] = await rows(session, "SELECT progress, status FROM action_items")
    assert tuple(row) == (0, "todo")


# --- Append-only --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    ["UPDATE progress_reports SET percent_complete = 99", "DELETE FROM progress_reports"],
    ids=["update", "delete"],
)
async def test_reports_are_append_only_in_the_database(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers, statement: str
) -> None:
    s = await make_scene(client, session, admin)
    assert (await post_report(client, admin, s.commitment, percent_complete=40)).status_code == 201

    with pytest.raises(DBAPIError, match="append-only"):
        async with session.begin_nested():
            await session.execute(text(statement))

    [row] = await rows(session, "SELECT percent_complete FROM progress_reports")
    assert row.percent_complete == 40


# --- List ---------------------------------------------------------------------------------


async def _insert_report(
    session: AsyncSession, commitment: object, created_at: datetime, percent: int
) -> str:
    """A stored report with its own arrival time (in one test transaction every `now()` is
    the same, so the order of arrival is set here)."""
    report_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO progress_reports (id, commitment_id, as_of, percent_complete, created_at)"
            " VALUES (:id, :c, '2022-03-31', :p, :at)"
        ),
        {"id": report_id, "c": str(commitment), "p": percent, "at": created_at},
    )
    return str(report_id)


async def test_list_is_newest_first_and_walks_every_report_once(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    other = await make_scene(client, session, admin)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    offsets = [0, 5, 2, 2, 9, 1, 2]  # three share an arrival time: the id breaks the tie
    made = [
        (await _insert_report(session, s.commitment, base + timedelta(minutes=m), n), m)
        for n, m in enumerate(offsets)
    ]
    await _insert_report(session, other.commitment, base, 50)
    expected = [rid for rid, m in sorted(made, key=lambda t: (t[1], t[0]), reverse=True)]

    first = (await client.get(reports_url(s.commitment))).json()
    pages = await walk(client, reports_url(s.commitment), {}, limit=2)

    assert [r["id"] for r in first["items"]] == expected
    assert first["next_cursor"] is None
    assert walked_ids(pages) == expected
    assert [len(p["items"]) for p in pages] == [2, 2, 2, 1]


async def test_list_shows_what_was_reported(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)
    item = await create_item(client, admin, s.commitment)
    posted = await post_report(
        client,
        admin,
        s.commitment,
        percent_complete=55,
        item_updates=[{"item_id": item["id"], "progress": 55, "status": "doing"}],
    )

    [listed] = (await client.get(reports_url(s.commitment))).json()["items"]

    assert listed == posted.json()
    assert listed["item_updates"] == [{"item_id": item["id"], "progress": 55, "status": "doing"}]


async def test_list_of_an_unknown_commitment_is_404(client: httpx.AsyncClient) -> None:
    problem(await client.get(reports_url(uuid.uuid4())), 404)


async def test_list_of_a_commitment_without_reports_is_empty(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    s = await make_scene(client, session, admin)

    body: dict[str, Any] = (await client.get(reports_url(s.commitment))).json()

    assert body == {"items": [], "next_cursor": None}
