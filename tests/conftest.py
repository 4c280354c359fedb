"""Test harness: a real PostgreSQL, the real migrations, a rolled-back transaction per test.

The server is TEST_DATABASE_URL when set, else the embedded PostgreSQL under .data/. Each test
session builds a fresh database by running the Alembic migrations, and loads the regions once.
Each test runs inside one outer transaction that is rolled back at its end; the app's own
commits become savepoints inside it (`join_transaction_mode="create_savepoint"`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app import cli
from app.core.db import Database
from app.core.embedded import connect_kwargs, start_embedded, to_async_url
from app.core.keys import create_key
from app.core.security import Role
from app.main import create_app
from app.models.summaries import SUMMARY_TABLES

ROOT = Path(__file__).resolve().parent.parent


def server_url() -> URL:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        return to_async_url(configured)
    return start_embedded(ROOT / ".data")


async def recreate_database(admin: URL, name: str) -> URL:
    conn = await asyncpg.connect(**connect_kwargs(admin.set(database="postgres")))
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin.set(database=name)


async def drop_database(admin: URL, name: str) -> None:
    conn = await asyncpg.connect(**connect_kwargs(admin.set(database="postgres")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def server() -> URL:
    return server_url()


@pytest.fixture(scope="session")
def database_url(server: URL, worker_id: str) -> Iterator[URL]:
    """A fresh database for this test session (one per process), migrated to head.

    The process id in its name keeps concurrent runs on one server out of each other's way;
    it is dropped at the end of the session.
    """
    name = f"inovasi_test_{os.getpid()}_{worker_id}"
    url = asyncio.run(recreate_database(server, name))
    cli.migrate(url)
    cli.seed_regions(url)
    yield url
    asyncio.run(drop_database(server, name))


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    return str(getattr(request.config, "workerinput", {}).get("workerid", "main"))


@pytest.fixture(scope="session")
async def engine(database_url: URL) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url, pool_size=60, max_overflow=0)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            yield conn
        finally:
            await transaction.rollback()


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    factory = async_sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    async with factory() as session:
        yield session


@pytest.fixture
async def client(app: FastAPI, connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    """An API client whose requests all run inside the test's rolled-back transaction."""
    factory = async_sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.state.db = Database(
        engine=connection.engine, write_sessions=factory, read_sessions=factory, reads=connection
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


MakeKey = Callable[..., Awaitable[str]]


@pytest.fixture
def make_key(session: AsyncSession) -> MakeKey:
    """`await make_key(Role.coordinator, "33")` → a plaintext key, in the test transaction."""

    async def make(role: Role, province: str | None = None, name: str = "test") -> str:
        _, plaintext = await create_key(session, name=name, role=role, province_code=province)
        await session.flush()
        return plaintext

    return make


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def version_of(etag: str) -> int:
    """The record version an ETag carries (`"3-9f1c…"` → 3)."""
    return int(etag.strip('"').split("-")[0])


@pytest.fixture
async def admin(make_key: MakeKey) -> dict[str, str]:
    return bearer(await make_key(Role.admin))


# --- Tests that need real commits (concurrency) -------------------------------------------

TABLES_TO_CLEAN = (
    "idempotency_keys",
    "awards",
    "innovations",
    "institutions",
    "api_keys",
    "events",
    "replication_programs",
    *SUMMARY_TABLES,
)


@pytest.fixture
async def committed_app(app: FastAPI, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    """The app on the real engine: requests commit for real, as in production.

    Afterwards every table but the reference regions is emptied (triggers off, so the
    append-only event log can be cleared too), and the pool's idle connections are closed.
    """
    app.state.db = Database.from_engine(engine)
    try:
        yield app
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            await conn.execute(text(f"TRUNCATE {', '.join(TABLES_TO_CLEAN)} CASCADE"))
        # Close the idle connections a burst left in the pool: test runs share one server.
        await engine.dispose()


@pytest.fixture
async def committed_client(committed_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=committed_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
async def committed_key(engine: AsyncEngine) -> Callable[..., Awaitable[str]]:
    async def make(role: Role, province: str | None = None) -> str:
        async with AsyncSession(engine, expire_on_commit=False) as s, s.begin():
            _, plaintext = await create_key(s, name="committed", role=role, province_code=province)
        return plaintext

    return make


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert that `response` is a problem document with `status`, and return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "instance", "code"} <= body.keys()
    return body


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


__all__ = ["bearer", "problem"]
