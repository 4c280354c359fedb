"""The request's unit of work: `app.core.db.get_session`, ended by `AppRoute` before the
response is sent (committed, or rolled back on failure; a read's connection given back)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import get_session
from app.core.routing import AppRoute
from app.core.security import AccessRule, Role
from app.ops.docs import router as docs_router
from tests.conftest import bearer
from tests.core._platform import INSTITUTIONS, engine_scalar, institution_body


def _takes_session(dependant: Dependant) -> bool:
    """Whether the route takes the session, or has a rule, which opens it to look up a key."""
    return any(
        d.call is get_session or isinstance(d.call, AccessRule) or _takes_session(d)
        for d in dependant.dependencies
    )


def test_every_route_that_takes_the_session_ends_it(app: FastAPI) -> None:
    """Only `AppRoute` ends the session: a route of another class would leave a write
    uncommitted and a read's connection checked out."""
    routes = [served.route for served in app.state.api_routes] + list(docs_router.routes)
    takers = [r for r in routes if _takes_session(getattr(r, "dependant", Dependant()))]
    assert takers, "no route takes the session"
    assert [r.path for r in takers if not isinstance(r, AppRoute)] == []


async def test_every_request_commits_or_gives_its_connection_back(
    committed_client: httpx.AsyncClient,
    committed_key: Callable[..., Awaitable[str]],
    engine: AsyncEngine,
) -> None:
    admin = bearer(await committed_key(Role.admin))
    created = await committed_client.post(INSTITUTIONS, json=institution_body(), headers=admin)
    assert created.status_code == 201, created.text
    institution_id = created.json()["id"]
    # Committed before the response: another connection sees it.
    seen = "SELECT count(*) FROM institutions WHERE id = :i"
    assert await engine_scalar(engine, seen, i=institution_id) == 1
    url = f"{INSTITUTIONS}/{institution_id}"
    duplicate = {**institution_body(), "name": created.json()["name"]}
    answers = [
        await committed_client.get(INSTITUTIONS),  # statements on the session's connection
        await committed_client.get(url),
        await committed_client.get(url, headers=admin),  # the key looked up in the session
        await committed_client.get(url, headers=bearer("ih_unknown")),  # 401 after the lookup
        await committed_client.get(f"/api/v1/innovations/{uuid.uuid4()}"),  # 404 after a read
        # The read by id takes no session; a key sent to it is looked up in one.
        await committed_client.get(f"/api/v1/innovations/{uuid.uuid4()}", headers=admin),
        await committed_client.get(f"{INSTITUTIONS}?no_such_filter=1"),  # 422, no statement
        await committed_client.patch(  # 412 after reading the row
            url, json={"name": "Dinas Uji Sesi"}, headers={**admin, "If-Match": '"9"'}
        ),
        # 409 after the key's claim was written: the claim is rolled back with the request.
        await committed_client.post(
            INSTITUTIONS, json=duplicate, headers={**admin, "Idempotency-Key": "uow-duplicate"}
        ),
    ]
    assert [r.status_code for r in answers] == [200, 200, 200, 401, 404, 404, 422, 412, 409]
    claimed = "SELECT count(*) FROM idempotency_keys WHERE key = 'uow-duplicate'"
    assert await engine_scalar(engine, claimed) == 0
    assert engine.pool.checkedout() == 0
