"""Database outages: every API request answers 503 with Retry-After, never a 500; the
readiness probe fails and the liveness probe does not."""

from __future__ import annotations

import asyncio
import secrets
import socket
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from app.core.db import Database, create_engine
from app.core.embedded import connect_kwargs
from app.core.security import KEY_PREFIX
from app.main import create_app
from tests.conftest import bearer, problem
from tests.core._platform import INSTITUTIONS, institution_body

SETTINGS = Settings(db_connect_timeout_s=0.5, db_pool_timeout_s=0.5)


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections (into its backlog) and never says a word."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


def _url(port: int) -> URL:
    return URL.create(
        "postgresql+asyncpg", username="postgres", host="127.0.0.1", port=port, database="x"
    )


async def _client_for(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(SETTINGS)
    app.state.db = Database.from_engine(engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c
    finally:
        await engine.dispose()


@pytest.fixture
async def refused() -> AsyncIterator[httpx.AsyncClient]:
    """The app on a database server that is down (connection refused)."""
    async for c in _client_for(create_engine(_url(_unused_port()), SETTINGS)):
        yield c


@pytest.fixture
async def silent(silent_port: int) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a database server that accepts connections and never answers."""
    async for c in _client_for(create_engine(_url(silent_port), SETTINGS)):
        yield c


def _unavailable(r: httpx.Response) -> None:
    body = problem(r, 503)
    assert body["code"] == "service_unavailable"
    assert int(r.headers["retry-after"]) >= 1
    assert "Traceback" not in r.text


def _random_key() -> dict[str, str]:
    return bearer(KEY_PREFIX + secrets.token_urlsafe(32))


# A read through the session, and the read by id, which draws its own pooled connection
# (`app.core.driver.fetch_row`); the second answers 404 once the database is back.
READS = [("/api/v1/regions", 200), (f"/api/v1/innovations/{uuid.uuid4()}", 404)]


@pytest.mark.parametrize(("path", "_"), READS)
async def test_read_is_503_with_retry_after_when_the_database_is_down(
    refused: httpx.AsyncClient, path: str, _: int
) -> None:
    _unavailable(await refused.get(path))


async def test_keyed_read_is_503_not_401_when_the_database_is_down(
    refused: httpx.AsyncClient,
) -> None:
    _unavailable(await refused.get("/api/v1/events", headers=_random_key()))


async def test_write_is_503_with_retry_after_when_the_database_is_down(
    refused: httpx.AsyncClient,
) -> None:
    r = await refused.post(
        INSTITUTIONS,
        json=institution_body(),
        headers={**_random_key(), "Idempotency-Key": "outage"},
    )
    _unavailable(r)


async def test_readiness_is_503_when_the_database_is_down(refused: httpx.AsyncClient) -> None:
    _unavailable(await refused.get("/readyz"))


async def test_liveness_is_200_when_the_database_is_down(refused: httpx.AsyncClient) -> None:
    r = await refused.get("/livez")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


@pytest.mark.parametrize(("path", "_"), READS)
async def test_read_is_503_when_the_database_never_answers(
    silent: httpx.AsyncClient, path: str, _: int
) -> None:
    r = await asyncio.wait_for(silent.get(path), timeout=10)
    _unavailable(r)


async def test_write_is_503_when_the_database_never_answers(silent: httpx.AsyncClient) -> None:
    r = await asyncio.wait_for(
        silent.post(INSTITUTIONS, json=institution_body(), headers=_random_key()), timeout=10
    )
    _unavailable(r)


async def test_readiness_is_503_when_the_database_never_answers(
    silent: httpx.AsyncClient,
) -> None:
    _unavailable(await asyncio.wait_for(silent.get("/readyz"), timeout=10))


@pytest.mark.parametrize(("path", "status"), READS)
async def test_request_is_503_when_no_pooled_connection_frees_up_in_time(
    database_url: URL, path: str, status: int
) -> None:
    """A busy database (pool exhausted) is a 503 too, after the pool timeout."""
    settings = Settings(db_pool_size=1, db_max_overflow=0, db_pool_timeout_s=0.3)
    engine = create_engine(database_url, settings)
    app = create_app(settings)
    app.state.db = Database.from_engine(engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            async with engine.connect() as held:
                await held.exec_driver_sql("SELECT 1")
                busy = await c.get(path)
            freed = await c.get(path)
    finally:
        await engine.dispose()
    _unavailable(busy)
    assert freed.status_code == status


async def test_read_by_id_recovers_when_its_pooled_connection_is_terminated(
    database_url: URL,
) -> None:
    """The read by id runs on a pooled connection of its own: when the server terminates it,
    the read answers 503 at worst (never a 500), and the next read gets a live connection."""
    settings = Settings(db_pool_size=1, db_max_overflow=0)
    engine = create_engine(database_url, settings)
    app = create_app(settings)
    app.state.db = Database.from_engine(engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    path = f"/api/v1/innovations/{uuid.uuid4()}"
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            assert (await c.get(path)).status_code == 404
            admin = await asyncpg.connect(**connect_kwargs(database_url))
            try:
                killed = await admin.fetchval(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))"
                    " FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
                    database_url.database,
                    "inovasi-hub",
                )
            finally:
                await admin.close()
            assert killed == 1
            first = await c.get(path)
            second = await c.get(path)
    finally:
        await engine.dispose()
    if first.status_code != 404:
        _unavailable(first)
    assert second.status_code == 404
