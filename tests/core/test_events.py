"""The append-only event log: one event per mutation, none for a failed request, enforced
append-only by the database, and the `GET /events` feed (scope, cursor, filters).

The feed lists an event only once its transaction is older than every transaction still
running. Inside the rolled-back `client` harness the test's own transaction is still running,
so the feed tests use `committed_client` (real commits); per-mutation checks read the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.pagination import encode_cursor
from app.core.security import Role
from tests.conftest import MakeKey, bearer, problem
from tests.core._platform import EVENTS, INSTITUTIONS, count, eventually, institution_body, key_id

CommittedKey = Callable[..., Awaitable[str]]


async def events_of(session: AsyncSession, entity_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        text("SELECT * FROM events WHERE entity_id = :i ORDER BY id"), {"i": entity_id}
    )
    return [dict(r) for r in rows.mappings()]


# --- One event per mutation ------------------------------------------------------------------


async def test_create_records_one_event_with_actor_and_changes(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    key = await make_key(Role.coordinator, "33")
    body = institution_body(region_code="33.74")
    r = await client.post(INSTITUTIONS, json=body, headers=bearer(key))
    assert r.status_code == 201, r.text
    [event] = await events_of(session, r.json()["id"])
    assert event["actor_id"] == await key_id(session, key)
    assert event["actor_role"] == "coordinator"
    assert event["action"] == "institution.created"
    assert event["entity"] == "institution"
    assert event["province_code"] == "33"
    assert event["changes"] == body | {"parent_id": None}
    assert event["at"] is not None
    assert event["txid"] > 0


async def test_patch_records_one_event_with_only_the_changed_fields(
    client: httpx.AsyncClient, session: AsyncSession, make_key: MakeKey
) -> None:
    key = await make_key(Role.admin)
    created = await client.post(INSTITUTIONS, json=institution_body(), headers=bearer(key))
    entity_id = created.json()["id"]
    r = await client.patch(
        f"{INSTITUTIONS}/{entity_id}",
        json={"name": "Dinas Baru", "kind": "regional_agency"},
        headers={**bearer(key), "If-Match": created.headers["etag"]},
    )
    assert r.status_code == 200, r.text
    created_event, updated = await events_of(session, entity_id)
    assert created_event["action"] == "institution.created"
    assert updated["action"] == "institution.updated"
    assert updated["actor_id"] == await key_id(session, key)
    assert updated["actor_role"] == "admin"
    assert updated["entity"] == "institution"
    assert updated["changes"] == {"name": "Dinas Baru"}


async def test_patch_that_changes_nothing_records_no_event(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    body = institution_body()
    created = await client.post(INSTITUTIONS, json=body, headers=admin)
    entity_id = created.json()["id"]
    r = await client.patch(
        f"{INSTITUTIONS}/{entity_id}",
        json={"name": body["name"]},
        headers={**admin, "If-Match": created.headers["etag"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1
    assert len(await events_of(session, entity_id)) == 1


async def test_event_of_a_national_record_has_no_province(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    body = institution_body(region_code=None, kind="ministry")
    r = await client.post(INSTITUTIONS, json=body, headers=admin)
    assert r.status_code == 201, r.text
    [event] = await events_of(session, r.json()["id"])
    assert event["province_code"] is None


# --- A failed request leaves no event ------------------------------------------------------


async def _duplicate_post(client: httpx.AsyncClient, admin: dict[str, str]) -> httpx.Response:
    body = institution_body()
    await client.post(INSTITUTIONS, json=body, headers=admin)
    return await client.post(INSTITUTIONS, json=body, headers=admin)


async def _invalid_post(client: httpx.AsyncClient, admin: dict[str, str]) -> httpx.Response:
    # A city government on a province code: refused by the service's rules.
    body = institution_body(region_code="33", kind="city_government")
    return await client.post(INSTITUTIONS, json=body, headers=admin)


async def _other_province_patch(
    client: httpx.AsyncClient, admin: dict[str, str], other: dict[str, str]
) -> httpx.Response:
    created = await client.post(INSTITUTIONS, json=institution_body(), headers=admin)
    return await client.patch(
        f"{INSTITUTIONS}/{created.json()['id']}",
        json={"name": "Bukan Provinsiku"},
        headers={**other, "If-Match": created.headers["etag"]},
    )


async def _stale_patch(client: httpx.AsyncClient, admin: dict[str, str]) -> httpx.Response:
    created = await client.post(INSTITUTIONS, json=institution_body(), headers=admin)
    return await client.patch(
        f"{INSTITUTIONS}/{created.json()['id']}",
        json={"name": "Basi"},
        headers={**admin, "If-Match": '"7"'},
    )


async def _duplicate_name_patch(client: httpx.AsyncClient, admin: dict[str, str]) -> httpx.Response:
    taken = institution_body()
    await client.post(INSTITUTIONS, json=taken, headers=admin)
    created = await client.post(INSTITUTIONS, json=institution_body(), headers=admin)
    return await client.patch(
        f"{INSTITUTIONS}/{created.json()['id']}",
        json={"name": taken["name"]},
        headers={**admin, "If-Match": created.headers["etag"]},
    )


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("duplicate POST", 409),
        ("invalid POST", 422),
        ("PATCH from another province", 403),
        ("stale PATCH", 412),
        ("PATCH to a taken name", 409),
    ],
)
async def test_failed_request_records_no_event(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_key: MakeKey,
    case: str,
    status: int,
) -> None:
    other = bearer(await make_key(Role.coordinator, "61"))
    requests: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
        "duplicate POST": lambda: _duplicate_post(client, admin),
        "invalid POST": lambda: _invalid_post(client, admin),
        "PATCH from another province": lambda: _other_province_patch(client, admin, other),
        "stale PATCH": lambda: _stale_patch(client, admin),
        "PATCH to a taken name": lambda: _duplicate_name_patch(client, admin),
    }
    institutions_before = await count(session, "institutions")
    events_before = await count(session, "events")
    r = await requests[case]()
    problem(r, status)
    # Every event there is belongs to a successful create made while setting up the case.
    created = await count(session, "institutions") - institutions_before
    assert await count(session, "events") - events_before == created
    assert await count(session, "events", "action <> 'institution.created'") == 0


# --- Append-only, enforced by the database -------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET action = 'tampered'",
        "UPDATE events SET changes = '{}'::jsonb WHERE id = (SELECT max(id) FROM events)",
        "DELETE FROM events",
        # CASCADE: webhook deliveries reference events; the rule refuses even that.
        "TRUNCATE events CASCADE",
    ],
)
async def test_events_cannot_be_changed_or_removed(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], statement: str
) -> None:
    r = await client.post(INSTITUTIONS, json=institution_body(), headers=admin)
    assert r.status_code == 201
    before = await events_of(session, r.json()["id"])
    with pytest.raises(DBAPIError, match="append-only"):
        async with session.begin_nested():
            await session.execute(text(statement))
    assert await events_of(session, r.json()["id"]) == before


# --- The feed: access ----------------------------------------------------------------------


async def test_feed_refuses_anonymous_clients(client: httpx.AsyncClient) -> None:
    assert problem(await client.get(EVENTS), 401)["code"] == "unauthorized"


@pytest.mark.parametrize(
    "cursor",
    [
        "tamper",  # flip a character of a real cursor
        "other-sort",  # a genuine cursor, made for another list
        "garbage",
    ],
)
async def test_feed_refuses_a_bad_cursor_with_400(
    client: httpx.AsyncClient, admin: dict[str, str], cursor: str
) -> None:
    real = encode_cursor("txid", [1, 1])
    values = {
        "tamper": real[:5] + ("A" if real[5] != "A" else "B") + real[6:],
        "other-sort": encode_cursor("name", ["x", 1]),
        "garbage": "bm90LWEtY3Vyc29y",
    }
    assert (await client.get(EVENTS, params={"after": real}, headers=admin)).status_code == 200
    r = await client.get(EVENTS, params={"after": values[cursor]}, headers=admin)
    assert problem(r, 400)["code"] == "invalid_cursor"


# --- The feed: contents (real commits) -----------------------------------------------------


async def _feed(
    client: httpx.AsyncClient, key: str, **params: Any
) -> tuple[list[dict[str, Any]], str | None]:
    r = await client.get(EVENTS, params=params, headers=bearer(key))
    assert r.status_code == 200, r.text
    page = r.json()
    return page["items"], page["next_cursor"]


async def _wait_for(client: httpx.AsyncClient, key: str, n: int) -> list[dict[str, Any]]:
    """The whole feed once it lists at least `n` events."""

    async def enough() -> list[dict[str, Any]] | None:
        items, _ = await _feed(client, key, limit=200)
        return items if len(items) >= n else None

    items = await eventually(enough)
    assert items is not None, f"the feed did not list {n} events in time"
    return items


async def _seed(client: httpx.AsyncClient, admin: str) -> dict[str, str]:
    """Four mutations: create in 33, create in 61, create a ministry (no province), patch 33."""
    ids = {}
    for label, body in (
        ("33", institution_body(region_code="33.74")),
        ("61", institution_body(region_code="61.71")),
        ("national", institution_body(region_code=None, kind="ministry")),
    ):
        r = await client.post(INSTITUTIONS, json=body, headers=bearer(admin))
        assert r.status_code == 201, r.text
        ids[label] = r.json()["id"]
    r = await client.patch(
        f"{INSTITUTIONS}/{ids['33']}",
        json={"name": "Dinas Diubah"},
        headers={**bearer(admin), "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    return ids


@pytest.mark.parametrize("role", [Role.admin, Role.reviewer])
async def test_national_keys_see_every_event(
    committed_client: httpx.AsyncClient, committed_key: CommittedKey, role: Role
) -> None:
    admin = await committed_key(Role.admin)
    ids = await _seed(committed_client, admin)
    await _wait_for(committed_client, admin, 4)
    items, _ = await _feed(committed_client, await committed_key(role), limit=200)
    assert [(e["action"], e["entity_id"]) for e in items] == [
        ("institution.created", ids["33"]),
        ("institution.created", ids["61"]),
        ("institution.created", ids["national"]),
        ("institution.updated", ids["33"]),
    ]
    assert [e["province_code"] for e in items] == ["33", "61", None, "33"]


@pytest.mark.parametrize("role", [Role.coordinator, Role.integration])
async def test_province_keys_see_only_their_province_events(
    committed_client: httpx.AsyncClient, committed_key: CommittedKey, role: Role
) -> None:
    admin = await committed_key(Role.admin)
    ids = await _seed(committed_client, admin)
    await _wait_for(committed_client, admin, 4)
    items, _ = await _feed(committed_client, await committed_key(role, "33"), limit=200)
    assert [(e["action"], e["entity_id"], e["province_code"]) for e in items] == [
        ("institution.created", ids["33"], "33"),
        ("institution.updated", ids["33"], "33"),
    ]


async def test_after_cursor_returns_only_newer_events(
    committed_client: httpx.AsyncClient, committed_key: CommittedKey
) -> None:
    admin = await committed_key(Role.admin)
    await _seed(committed_client, admin)
    everything = await _wait_for(committed_client, admin, 4)
    first, cursor = await _feed(committed_client, admin, limit=1)
    assert first == everything[:1]
    assert cursor is not None
    rest, after_rest = await _feed(committed_client, admin, after=cursor, limit=200)
    assert rest == everything[1:]
    assert after_rest not in (None, cursor)


async def test_next_cursor_advances_to_new_events_and_stays_put_without_them(
    committed_client: httpx.AsyncClient, committed_key: CommittedKey
) -> None:
    admin = await committed_key(Role.admin)
    await _seed(committed_client, admin)
    await _wait_for(committed_client, admin, 4)
    _, cursor = await _feed(committed_client, admin, limit=200)
    idle, same = await _feed(committed_client, admin, after=cursor)
    assert (idle, same) == ([], cursor)
    r = await committed_client.post(INSTITUTIONS, json=institution_body(), headers=bearer(admin))
    new_id = r.json()["id"]
    await _wait_for(committed_client, admin, 5)
    new, advanced = await _feed(committed_client, admin, after=cursor)
    assert [e["entity_id"] for e in new] == [new_id]
    assert advanced != cursor
    assert await _feed(committed_client, admin, after=advanced) == ([], advanced)


async def test_feed_filters_by_entity(
    committed_client: httpx.AsyncClient, committed_key: CommittedKey
) -> None:
    admin = await committed_key(Role.admin)
    await _seed(committed_client, admin)
    await _wait_for(committed_client, admin, 4)
    items, _ = await _feed(committed_client, admin, entity="institution")
    assert len(items) == 4
    assert await _feed(committed_client, admin, entity="innovation_x") == ([], None)


async def test_feed_filters_by_entity_id(
    committed_client: httpx.AsyncClient, committed_key: CommittedKey
) -> None:
    admin = await committed_key(Role.admin)
    ids = await _seed(committed_client, admin)
    await _wait_for(committed_client, admin, 4)
    items, _ = await _feed(committed_client, admin, entity="institution", entity_id=ids["33"])
    assert [e["action"] for e in items] == ["institution.created", "institution.updated"]
    assert {e["entity_id"] for e in items} == {ids["33"]}


async def test_feed_holds_back_commits_newer_than_a_running_transaction(
    committed_client: httpx.AsyncClient, committed_key: CommittedKey, engine: AsyncEngine
) -> None:
    """A transaction that started first may still commit an event with a smaller txid; until
    it ends, later commits stay hidden, so a client following the cursor never skips one."""
    admin = await committed_key(Role.admin)
    async with engine.connect() as conn:
        running = await conn.begin()
        await conn.execute(text("SELECT pg_current_xact_id()"))  # take a transaction id
        r = await committed_client.post(
            INSTITUTIONS, json=institution_body(), headers=bearer(admin)
        )
        assert r.status_code == 201
        hidden, _ = await _feed(committed_client, admin)
        await running.rollback()
    assert hidden == []
    [event] = await _wait_for(committed_client, admin, 1)
    assert event["entity_id"] == r.json()["id"]
