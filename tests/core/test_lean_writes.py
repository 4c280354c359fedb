"""POSTs on the lean handler (`app.core.routing.lean_write`) answer as FastAPI's general
handler does: the same status, headers and body for every refusal, in the same order of
checks, and the same stored outcome, replayable under its `Idempotency-Key`, for a success.

A dependency override sends a request through the general handler, so each request is made
twice, once each way, and the two answers are compared.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.routing import AppRoute, lean_write
from app.core.security import Role
from tests.conftest import MakeKey, bearer
from tests.core.test_lean_reads import VOLATILE, _general_handler_only, _never_called
from tests.replication._api import (
    BATCH,
    Headers,
    create_item,
    keyed,
    make_scene,
    report_body,
    snapshot,
    url_of,
)

Post = Callable[..., Awaitable[tuple[httpx.Response, httpx.Response]]]


def lean_post_paths(app: FastAPI) -> set[str]:
    paths = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, AppRoute) and context.path_format is not None:
            effective = getattr(context, "_effective_route", route)
            if lean_write(effective, _never_called) is not None:
                paths.add(context.path_format)
    return paths


@pytest.fixture
def both(app: FastAPI, client: httpx.AsyncClient) -> Post:
    """POST through the lean handler, then the same through the general one; both answers."""

    async def post(
        path: str, headers: Headers | None = None, general_headers: Headers | None = None, **kw: Any
    ) -> tuple[httpx.Response, httpx.Response]:
        sent = {**(headers or {}), "X-Request-Id": "lean-or-general"}
        lean = await client.post(path, headers=sent, **kw)
        app.dependency_overrides[_general_handler_only] = _general_handler_only
        try:
            again = {**(general_headers or headers or {}), "X-Request-Id": "lean-or-general"}
            general = await client.post(path, headers=again, **kw)
        finally:
            app.dependency_overrides.pop(_general_handler_only)
        return lean, general

    return post


def _stable(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers.multi_items() if k not in VOLATILE]


def assert_same(lean: httpx.Response, general: httpx.Response) -> None:
    assert lean.status_code == general.status_code, (lean.text, general.text)
    assert lean.content == general.content
    assert _stable(lean.headers) == _stable(general.headers)


def test_posts_of_one_body_are_lean(app: FastAPI) -> None:
    paths = lean_post_paths(app)
    assert {
        "/api/v1/commitments/{commitment_id}/progress-reports",
        "/api/v1/progress-reports/batch",
        "/api/v1/innovations",
    } <= paths
    # A write that takes an If-Match header stays on the general handler.
    assert "/api/v1/commitments/{commitment_id}/transitions" not in paths


async def test_every_refusal_of_a_report_is_the_same_and_changes_nothing(
    both: Post, session: AsyncSession, admin: Headers, make_key: MakeKey, client: httpx.AsyncClient
) -> None:
    s = await make_scene(client, session, admin)
    url = url_of(s.commitment, "/progress-reports")
    other = await create_item(client, admin, (await make_scene(client, session, admin)).commitment)
    integration = bearer(await make_key(Role.integration, "33"))
    reviewer = bearer(await make_key(Role.reviewer))
    outsider = bearer(await make_key(Role.coordinator, "61"))
    before = await snapshot(session)
    good = report_body()
    cases: list[tuple[int, dict[str, Any]]] = [
        (422, {"headers": admin, "content": b"{not json", "ct": "application/json"}),
        (422, {"headers": admin, "content": b"", "ct": "application/json"}),
        (422, {"headers": admin, "content": b'{"as_of": "2022-03-31"}', "ct": "text/plain"}),
        (422, {"headers": admin, "content": b'{"as_of": "2022-03-31"}', "ct": None}),
        (401, {"headers": {}, "json": good}),
        (401, {"headers": bearer("ih_not-a-key"), "json": good}),
        (401, {"headers": {"Authorization": "Basic x"}, "json": good}),
        (403, {"headers": keyed(reviewer), "json": good}),
        (403, {"headers": keyed(outsider), "json": good}),
        (400, {"headers": integration, "json": good}),
        # A bad header and a bad body: one 422 listing both.
        (422, {"headers": admin | {"Idempotency-Key": "has space"}, "json": {"x": 1}}),
        (422, {"headers": admin | {"Idempotency-Key": "k" * 256}, "json": good}),
        (422, {"headers": admin, "json": good, "params": {"dry_run": "1"}}),
        (422, {"headers": admin, "json": report_body(percent_complete=101)}),
        (422, {"headers": admin, "json": report_body(as_of="2021-01-01")}),
        (422, {"headers": admin, "json": report_body(commitment_id=s.commitment)}),
        (
            422,
            {"headers": admin, "json": report_body(item_updates=[{"item_id": other["id"]}])},
        ),
        (413, {"headers": admin, "json": report_body(narrative="x" * (1024 * 1024))}),
    ]
    for status, case in cases:
        kw: dict[str, Any] = {k: v for k, v in case.items() if k in ("json", "content", "params")}
        headers = dict(case["headers"])
        if "ct" in case and case["ct"] is not None:
            headers["Content-Type"] = case["ct"]
        lean, general = await both(url, headers=headers, **kw)
        assert lean.status_code == status, (case, lean.text)
        assert_same(lean, general)
    for path in (
        url_of(uuid.uuid4(), "/progress-reports"),
        url_of("not-an-id", "/progress-reports"),
    ):
        lean, general = await both(path, headers=admin, json=good)
        assert lean.status_code in (404, 422), lean.text
        assert_same(lean, general)
    assert await snapshot(session) == before


async def test_a_stored_report_is_the_same_and_replays_the_same(
    both: Post, session: AsyncSession, admin: Headers, make_key: MakeKey, client: httpx.AsyncClient
) -> None:
    s = await make_scene(client, session, admin)
    url = url_of(s.commitment, "/progress-reports")
    integration = bearer(await make_key(Role.integration, "33"))
    first, second = keyed(integration, "lean"), keyed(integration, "general")
    body = report_body(narrative="Perbup disusun", evidence_urls=["https://blora.go.id/a"])

    lean, general = await both(url, headers=first, general_headers=second, json=body)

    assert lean.status_code == general.status_code == 201, (lean.text, general.text)
    assert _stable(lean.headers) == _stable(general.headers)
    volatile = {"id", "created_at"}
    a, b = lean.json(), general.json()
    assert a["id"] != b["id"]
    assert {k: v for k, v in a.items() if k not in volatile} == {
        k: v for k, v in b.items() if k not in volatile
    }
    # Each is stored under its key: a retry through either handler replays it.
    for headers, stored in ((first, lean), (second, general)):
        replay, replay_general = await both(url, headers=headers, json=body)
        for r in (replay, replay_general):
            assert r.status_code == 201
            assert r.headers["Idempotent-Replayed"] == "true"
            assert r.content == stored.content
    # The same key with another body is refused alike.
    reused, reused_general = await both(url, headers=first, json=report_body(percent_complete=41))
    assert reused.status_code == 422
    assert_same(reused, reused_general)


async def test_a_batch_is_the_same_through_either_handler(
    both: Post, session: AsyncSession, admin: Headers, make_key: MakeKey, client: httpx.AsyncClient
) -> None:
    s = await make_scene(client, session, admin)
    integration = bearer(await make_key(Role.integration, "33"))
    reports = [
        report_body(commitment_id=s.commitment),
        report_body(commitment_id=str(uuid.uuid4())),
        report_body(commitment_id=s.commitment, percent_complete=-1),
    ]

    lean, general = await both(
        BATCH,
        headers=keyed(integration, "batch-lean"),
        general_headers=keyed(integration, "batch-general"),
        json={"reports": reports},
    )

    assert lean.status_code == general.status_code == 200
    a, b = lean.json(), general.json()
    assert [r["status"] for r in a["results"]] == [r["status"] for r in b["results"]]
    assert [r["status"] for r in a["results"]] == [201, 404, 422]
    assert a["results"][1:] == b["results"][1:]
    refused, refused_general = await both(BATCH, headers=integration, json={"reports": reports})
    assert refused.status_code == 400
    assert_same(refused, refused_general)
