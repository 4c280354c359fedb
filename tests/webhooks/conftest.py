"""Webhook tests: a real dispatcher, real receivers on 127.0.0.1, real commits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.core.config import Settings
from app.webhooks.dispatcher import Dispatcher
from tests.conftest import bearer
from tests.core._platform import INSTITUTIONS, institution_body

WEBHOOKS = "/api/v1/webhooks"

# Fast retries and short timeouts, so that a test sees a whole retry series in seconds.
FAST: dict[str, Any] = {
    "webhook_backoff_base_s": 0.1,
    "webhook_backoff_max_s": 0.3,
    "webhook_timeout_s": 1.0,
    "webhook_connect_timeout_s": 1.0,
    "webhook_lease_s": 5.0,
    "webhook_poll_interval_s": 0.05,
}

StartDispatcher = Callable[..., Dispatcher]


@pytest.fixture(autouse=True)
async def no_subscription_left(engine: AsyncEngine) -> AsyncIterator[None]:
    """Committed subscriptions would be claimed by the next test's dispatcher: empty the
    webhook tables after each test."""
    yield
    async with engine.begin() as conn:
        await conn.execute(
            text("TRUNCATE webhook_attempts, webhook_deliveries, webhook_subscriptions")
        )


@pytest.fixture
async def start_dispatcher(engine: AsyncEngine) -> AsyncIterator[StartDispatcher]:
    """`start_dispatcher(**settings)`: a running dispatcher on the test database (stopped at
    the end of the test)."""
    started: list[Dispatcher] = []
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    def start(**overrides: Any) -> Dispatcher:
        dispatcher = Dispatcher(sessions, Settings(**{**FAST, **overrides}))
        dispatcher.start()
        started.append(dispatcher)
        return dispatcher

    yield start
    for dispatcher in started:
        await dispatcher.stop(grace_s=0.5)


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until `condition()` holds (fails the test after `within` seconds)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the condition")
        await asyncio.sleep(0.02)


async def subscribe(
    client: httpx.AsyncClient,
    key: str,
    url: str,
    event_types: list[str] | None = None,
) -> dict[str, Any]:
    r = await client.post(
        WEBHOOKS,
        json={"url": url, "event_types": event_types or ["*"]},
        headers=bearer(key),
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def make_institutions(
    client: httpx.AsyncClient, key: str, n: int, region_code: str = "33.74"
) -> list[str]:
    """`n` institutions, one request (one transaction, one event) each; their ids in order."""
    ids = []
    for _ in range(n):
        r = await client.post(
            INSTITUTIONS, json=institution_body(region_code=region_code), headers=bearer(key)
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


Waiter = Callable[[], Awaitable[None]]
