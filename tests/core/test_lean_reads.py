"""Reads by id on the lean handler (`app.core.routing.lean_read`) answer exactly as FastAPI's
general handler does: same status, headers and body, for every caller and every outcome.

A dependency override sends a request through the general handler, so each request is made
twice, once each way, and the two answers are compared.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from types import SimpleNamespace

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from app.core.middleware import RequestContextMiddleware
from app.core.routing import AppRoute, LeanRoutes, lean_read
from app.core.schemas import Id
from app.core.security import Role
from app.models.innovation import Innovation
from app.ops.router import Health
from tests.builders import make_award, make_innovation, make_institution
from tests.conftest import MakeKey, bearer

# Headers that differ between any two responses.
VOLATILE = {"x-request-id", "date"}


def _general_handler_only() -> None:
    """Never called: its presence in `dependency_overrides` turns the lean handler off."""


async def _never_called(request: Request) -> Response:
    raise AssertionError


def lean_paths(app: FastAPI) -> set[str]:
    paths = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, AppRoute) and context.path_format is not None:
            # The route as included (prefix, router dependencies), as FastAPI builds it.
            effective = getattr(context, "_effective_route", route)
            if lean_read(effective, _never_called) is not None:
                paths.add(context.path_format)
    return paths


Get = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def both(app: FastAPI, client: httpx.AsyncClient) -> Get:
    """GET through the lean handler, then through the general one; assert that the two
    answers are the same, and return it."""

    async def get(
        path: str, headers: dict[str, str] | None = None, **params: str
    ) -> httpx.Response:
        # One request id for both: problem documents carry it.
        sent = {**(headers or {}), "X-Request-Id": "lean-or-general"}
        lean = await client.get(path, headers=sent, params=params)
        app.dependency_overrides[_general_handler_only] = _general_handler_only
        try:
            general = await client.get(path, headers=sent, params=params)
        finally:
            app.dependency_overrides.pop(_general_handler_only)
        assert lean.status_code == general.status_code, (lean.text, general.text)
        assert lean.content == general.content
        assert _stable(lean.headers) == _stable(general.headers)
        return lean

    return get


def _stable(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers.multi_items() if k not in VOLATILE]


def test_reads_by_id_are_lean(app: FastAPI) -> None:
    paths = lean_paths(app)
    assert "/api/v1/innovations/{innovation_id}" in paths
    # Routes that take query parameters or write stay on the general handler.
    assert "/api/v1/innovations" not in paths


@pytest.fixture
async def innovations(session: AsyncSession) -> dict[str, Innovation]:
    semarang = await make_institution(session, name="Dinkes Kota Semarang", region_code="33.74")
    published = await make_innovation(session, institution=semarang, title="Sayangi Ibu")
    await make_award(session, innovation=published, competition="KIPP", year=2019, tier="top_99")
    draft = await make_innovation(session, institution=semarang, title="Konsep", status="draft")
    return {"published": published, "draft": draft}


async def test_innovation_read_is_the_same_for_every_caller_and_outcome(
    both: Get, innovations: dict[str, Innovation], make_key: MakeKey
) -> None:
    coordinator = bearer(await make_key(Role.coordinator, "33"))
    published = f"/api/v1/innovations/{innovations['published'].id}"
    draft = f"/api/v1/innovations/{innovations['draft'].id}"
    ok = await both(published)
    assert ok.status_code == 200
    assert ok.headers["etag"]
    assert ok.json()["awards"][0]["competition"] == "KIPP"
    assert (await both(draft)).status_code == 404
    assert (await both(draft, headers=coordinator)).status_code == 200
    assert (await both(published, headers=bearer("ih_not-a-key"))).status_code == 401
    assert (await both(published, headers={"Authorization": "Basic x"})).status_code == 401
    assert (await both(published, expand="all")).status_code == 422
    assert (await both(f"/api/v1/innovations/{uuid.uuid4()}")).status_code == 404


async def test_every_lean_route_answers_as_the_general_handler(
    app: FastAPI, both: Get, admin: dict[str, str]
) -> None:
    paths = lean_paths(app)
    assert {"/livez", "/readyz", "/api/v1/stats/overview"} <= paths
    for template in sorted(paths):
        path = template
        while "{" in path:
            start, end = path.index("{"), path.index("}")
            path = path[:start] + str(uuid.uuid4()) + path[end + 1 :]
        for headers in ({}, admin):
            await both(path, headers=headers)
            await both(path, unknown="1", headers=headers)


async def test_a_lean_route_behind_an_earlier_route_for_its_paths_is_left_to_the_router() -> None:
    """The middleware serves a lean route only where the router would pick that route."""
    first, second = APIRouter(route_class=AppRoute), APIRouter(route_class=AppRoute)

    @first.get("/things/{name}", response_model=Health)
    async def by_name(name: str, verbose: bool = False) -> Health:
        return Health(status=f"first {name}")

    @first.get("/only/{thing_id:id}", response_model=Health)
    async def only(thing_id: Id) -> Health:
        return Health(status=f"only {thing_id}")

    @second.get("/things/{thing_id:id}", response_model=Health)
    async def by_id(thing_id: Id) -> Health:
        return Health(status="second")

    app = FastAPI()
    app.add_middleware(RequestContextMiddleware)
    # These endpoints take no session: the request's read session is never used.
    unused = SimpleNamespace(info={}, in_transaction=lambda: False)
    app.state.db = SimpleNamespace(read_sessions=lambda: unused)
    app.include_router(first)
    app.include_router(second)

    lean = {route.path_format for route, _, _ in LeanRoutes(app).routes["GET"]}
    assert lean == {"/only/{thing_id}"}
    thing = uuid.uuid4()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        assert (await client.get(f"/things/{thing}")).json() == {"status": f"first {thing}"}
        assert (await client.get(f"/only/{thing}")).json() == {"status": f"only {thing}"}
