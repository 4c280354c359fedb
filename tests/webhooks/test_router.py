"""The webhook API: subscriptions, their scope, secrets and target safety (no dispatcher)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role
from tests.conftest import MakeKey, bearer, problem

WEBHOOKS = "/api/v1/webhooks"
URL = "https://sipd.jatengprov.go.id/webhooks/inovasi"


async def _create(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await client.post(
        WEBHOOKS, json={"url": URL, "event_types": ["commitment.*"], **body}, headers=headers
    )


async def test_create_shows_the_secret_once(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    r = await _create(client, admin, description="Dasbor")
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["secret"].startswith("whsec_")
    assert r.headers["location"] == f"{WEBHOOKS}/{created['id']}"
    assert (created["status"], created["province_code"]) == ("active", None)
    got = await client.get(r.headers["location"], headers=admin)
    assert got.status_code == 200
    assert "secret" not in got.json()
    assert created["secret"] not in got.text
    listed = await client.get(WEBHOOKS, headers=admin)
    assert created["secret"] not in listed.text
    event = (
        await session.execute(
            text("SELECT action, changes FROM events WHERE entity_id = :id"), {"id": created["id"]}
        )
    ).one()
    assert event.action == "webhook.created"
    assert created["secret"] not in str(event.changes)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://receiver.example.go.id/hook", "https"),
        ("https://10.1.2.3/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("https://[fd00::1]/hook", "private"),
        ("https://[::ffff:192.168.1.1]/hook", "private"),
        ("https://100.64.0.1/hook", "private"),
        ("ftp://example.com/hook", None),
    ],
)
async def test_create_refuses_unsafe_targets(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    url: str,
    why: str | None,
) -> None:
    r = await _create(client, admin, url=url)
    body = problem(r, 422)
    assert body["errors"][0]["pointer"] == "/body/url"
    if why:
        assert why in body["detail"]
    count = await session.scalar(text("SELECT count(*) FROM webhook_subscriptions"))
    assert count == 0


async def test_loopback_http_is_allowed_where_configured(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """The test environment allows http to 127.0.0.1 (production allows none by default)."""
    r = await _create(client, admin, url="http://127.0.0.1:9/hook")
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "event_types",
    [[], ["commitment"], ["Commitment.*"], ["*.created"], ["a.b", "a.b"], ["x.y"] * 51],
)
async def test_create_refuses_bad_event_types(
    client: httpx.AsyncClient, admin: dict[str, str], event_types: list[str]
) -> None:
    r = await _create(client, admin, event_types=event_types)
    assert problem(r, 422)["errors"][0]["pointer"].startswith("/body/event_types")


async def test_a_coordinator_subscribes_for_its_province_and_sees_only_it(
    client: httpx.AsyncClient, make_key: MakeKey, admin: dict[str, str]
) -> None:
    central = bearer(await make_key(Role.coordinator, "33"))
    west = bearer(await make_key(Role.integration, "32"))
    mine = (await _create(client, central)).json()
    theirs = (await _create(client, west)).json()
    national = (await _create(client, admin)).json()
    assert (mine["province_code"], theirs["province_code"]) == ("33", "32")

    listed = (await client.get(WEBHOOKS, headers=central)).json()["items"]
    assert [w["id"] for w in listed] == [mine["id"]]
    everything = (await client.get(WEBHOOKS, headers=admin)).json()["items"]
    assert {w["id"] for w in everything} == {mine["id"], theirs["id"], national["id"]}
    for other in (theirs, national):
        r = await client.get(f"{WEBHOOKS}/{other['id']}", headers=central)
        assert problem(r, 403)["code"] == "other_province"
        r = await client.post(f"{WEBHOOKS}/{other['id']}/rotate-secret", headers=central)
        assert problem(r, 403)["code"] == "other_province"
        r = await client.delete(f"{WEBHOOKS}/{other['id']}", headers=central)
        assert problem(r, 403)["code"] == "other_province"


async def test_reviewers_may_not_subscribe(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    r = await _create(client, bearer(await make_key(Role.reviewer)))
    assert problem(r, 403)["code"] == "role_not_allowed"


async def test_patch_needs_if_match_and_pauses(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await _create(client, admin)
    url = created.headers["location"]
    assert problem(await client.patch(url, json={"status": "paused"}, headers=admin), 428)
    r = await client.patch(
        url, json={"status": "paused"}, headers=admin | {"If-Match": created.headers["etag"]}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["version"]) == ("paused", 2)
    stale = await client.patch(
        url, json={"description": "x"}, headers=admin | {"If-Match": created.headers["etag"]}
    )
    assert problem(stale, 412)["code"] == "stale_version"
    failing = await client.patch(
        url, json={"status": "failing"}, headers=admin | {"If-Match": r.headers["etag"]}
    )
    assert problem(failing, 422)


async def test_patch_refuses_an_unsafe_url(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await _create(client, admin)
    r = await client.patch(
        created.headers["location"],
        json={"url": "https://192.168.0.10/hook"},
        headers=admin | {"If-Match": created.headers["etag"]},
    )
    assert problem(r, 422)["errors"][0]["pointer"] == "/body/url"


async def test_delete_removes_the_subscription(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await _create(client, admin)
    url = created.headers["location"]
    assert (await client.delete(url, headers=admin)).status_code == 204
    assert problem(await client.get(url, headers=admin), 404)
    assert (await client.get(WEBHOOKS, headers=admin)).json()["items"] == []


async def test_rotation_returns_a_new_secret_and_the_overlap(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await _create(client, admin)
    url = created.headers["location"]
    r = await client.post(f"{url}/rotate-secret", json={"overlap_hours": 24}, headers=admin)
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != created.json()["secret"]
    assert rotated["previous_secret_expires_at"] is not None
    shown = (await client.get(url, headers=admin)).json()
    assert shown["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]
    assert shown["version"] == 2
    too_long = await client.post(f"{url}/rotate-secret", json={"overlap_hours": 169}, headers=admin)
    assert problem(too_long, 422)


async def test_the_delivery_log_of_an_unknown_webhook_is_404(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    r = await client.get(f"{WEBHOOKS}/{uuid.uuid4()}/deliveries", headers=admin)
    assert problem(r, 404)
    created = await _create(client, admin)
    r = await client.get(f"{created.headers['location']}/deliveries", headers=admin)
    assert r.json() == {"items": [], "next_cursor": None}
    r = await client.post(
        f"{created.headers['location']}/deliveries/{uuid.uuid4()}/redeliver", headers=admin
    )
    assert problem(r, 404)


async def test_the_list_pages_with_a_cursor(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ids = [(await _create(client, admin)).json()["id"] for _ in range(3)]
    first = (await client.get(WEBHOOKS, params={"limit": 2}, headers=admin)).json()
    second = (
        await client.get(
            WEBHOOKS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin
        )
    ).json()
    seen = [w["id"] for w in first["items"] + second["items"]]
    assert sorted(seen) == sorted(ids)
    assert second["next_cursor"] is None
