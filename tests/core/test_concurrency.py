"""Optimistic concurrency: `If-Match` on PATCH, and racing writers holding the same ETag."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.security import Role
from tests.conftest import bearer, problem, version_of
from tests.core._platform import INSTITUTIONS, count, engine_count, engine_scalar, institution_body

CommittedKey = Callable[..., Awaitable[str]]


async def test_concurrent_patches_with_one_etag_let_exactly_one_win(
    committed_client: httpx.AsyncClient, committed_key: CommittedKey, engine: AsyncEngine
) -> None:
    admin = bearer(await committed_key(Role.admin))
    created = await committed_client.post(INSTITUTIONS, json=institution_body(), headers=admin)
    assert created.status_code == 201, created.text
    url = f"{INSTITUTIONS}/{created.json()['id']}"
    etag = created.headers["etag"]
    responses = await asyncio.gather(
        *(
            committed_client.patch(
                url, json={"name": f"Dinas Uji Balapan {n}"}, headers={**admin, "If-Match": etag}
            )
            for n in range(8)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 7, statuses
    winner = next(r for r in responses if r.status_code == 200)
    for loser in (r for r in responses if r.status_code == 412):
        assert problem(loser, 412)["code"] == "stale_version"
    assert winner.json()["version"] == 2
    assert version_of(winner.headers["ETag"]) == 2
    row_id = created.json()["id"]
    assert (
        await engine_scalar(engine, "SELECT version FROM institutions WHERE id = :i", i=row_id) == 2
    )
    name = await engine_scalar(engine, "SELECT name FROM institutions WHERE id = :i", i=row_id)
    assert name == winner.json()["name"]
    updates = "entity_id = :i AND action = 'institution.updated'"
    assert await engine_count(engine, "events", updates, i=row_id) == 1


async def _created(client: httpx.AsyncClient, admin: dict[str, str]) -> httpx.Response:
    created = await client.post(INSTITUTIONS, json=institution_body(), headers=admin)
    assert created.status_code == 201, created.text
    return created


async def test_patch_without_if_match_is_428(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await _created(client, admin)
    r = await client.patch(
        f"{INSTITUTIONS}/{created.json()['id']}", json={"name": "Tanpa ETag"}, headers=admin
    )
    assert problem(r, 428)["code"] == "if_match_required"


# An unquoted `1` is understood as `"1"` (tests/core/test_caching.py).
@pytest.mark.parametrize("if_match", ['"0"', '"2"', 'W/"1"', '"x"', '"99999999999999999999"'])
async def test_patch_with_an_if_match_that_is_not_the_current_etag_is_412_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], if_match: str
) -> None:
    created = await _created(client, admin)
    row_id = created.json()["id"]
    r = await client.patch(
        f"{INSTITUTIONS}/{row_id}",
        json={"name": "Basi"},
        headers={**admin, "If-Match": if_match},
    )
    assert problem(r, 412)["code"] == "stale_version"
    assert await count(session, "institutions", "id = :i AND version = 1", i=row_id) == 1
    assert await count(session, "events", "entity_id = :i", i=row_id) == 1


async def test_patch_with_the_current_etag_succeeds_and_bumps_it(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await _created(client, admin)
    url = f"{INSTITUTIONS}/{created.json()['id']}"
    first = await client.patch(
        url, json={"name": "Nama Baru"}, headers={**admin, "If-Match": created.headers["etag"]}
    )
    assert first.status_code == 200, first.text
    assert version_of(first.headers["ETag"]) == 2
    replayed_etag = await client.patch(
        url, json={"name": "Lagi"}, headers={**admin, "If-Match": created.headers["etag"]}
    )
    problem(replayed_etag, 412)
