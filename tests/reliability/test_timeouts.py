"""A statement that runs into the statement timeout, and a pool with no free connection, are a
quick 503 (not a hang), and leave no session idle in a transaction; the same write retried
with its Idempotency-Key then succeeds."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
from sqlalchemy.engine import URL

from app.core.embedded import connect_kwargs
from tests import harness
from tests.reliability._load import idle_in_transaction
from tests.reliability.conftest import integration_key, report


@contextlib.asynccontextmanager
async def table_locked(url: URL, table: str) -> AsyncIterator[None]:
    """Hold an exclusive lock on `table`: whatever reads or writes it waits."""
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        async with conn.transaction():
            await conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            yield
    finally:
        await conn.close()


async def _waiting_on_locks(url: URL, count: int) -> None:
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        for _ in range(200):
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
                "AND application_name = $2 AND wait_event_type = 'Lock'",
                url.database,
                harness.APPLICATION_NAME,
            )
            if waiting >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"fewer than {count} requests waiting on the lock")
    finally:
        await conn.close()


def _report_request(
    client: httpx.AsyncClient, api_key: str, commitment: str, key: str
) -> asyncio.Future[httpx.Response]:
    return asyncio.ensure_future(
        client.post(
            f"/api/v1/commitments/{commitment}/progress-reports",
            json={"as_of": "2024-06-01", "percent_complete": 10},
            headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": key},
        )
    )


async def _timed(request: asyncio.Future[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


def test_statement_timeout_is_a_quick_503_that_leaves_nothing_open(fault_database: URL) -> None:
    url = fault_database
    commitments, _ = asyncio.run(harness.seed_commitments(url, 2))
    api_key = integration_key(url)
    env = {"DB_STATEMENT_TIMEOUT_MS": "500", "DB_LOCK_TIMEOUT_MS": "10000"}
    with harness.serve(url, env=env) as base:

        async def scenario() -> tuple[httpx.Response, float, httpx.Response, float, int, int]:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                async with table_locked(url, "progress_reports"):
                    write, write_s = await _timed(
                        _report_request(client, api_key, commitments[0], "timeout-1")
                    )
                    read, read_s = await _timed(
                        asyncio.ensure_future(
                            client.get(f"/api/v1/commitments/{commitments[0]}/progress-reports")
                        )
                    )
                idle = await idle_in_transaction(url)
                retried = await _report_request(client, api_key, commitments[0], "timeout-1")
                return write, write_s, read, read_s, idle, retried.status_code

        write, write_s, read, read_s, idle, retried = asyncio.run(scenario())
    report(
        "statement timeout 500 ms",
        {
            "write": f"{write.status_code} in {write_s:.3f}s",
            "read": f"{read.status_code} in {read_s:.3f}s",
            "Retry-After": write.headers.get("retry-after"),
            "idle in transaction": idle,
            "same write retried": retried,
        },
    )
    assert write.status_code == 503
    assert "retry-after" in write.headers
    assert read.status_code == 503
    assert write_s < 2
    assert read_s < 2
    assert idle == 0
    assert retried == 201


def test_exhausted_pool_is_a_quick_503_and_the_held_requests_complete(
    fault_database: URL,
) -> None:
    url = fault_database
    commitments, _ = asyncio.run(harness.seed_commitments(url, 2))
    api_key = integration_key(url)
    env = {
        "DB_POOL_SIZE": "2",
        "DB_MAX_OVERFLOW": "0",
        "DB_POOL_TIMEOUT_S": "0.5",
        "DB_STATEMENT_TIMEOUT_MS": "20000",
        "DB_LOCK_TIMEOUT_MS": "20000",
    }
    with harness.serve(url, env=env) as base:

        async def scenario() -> tuple[httpx.Response, float, list[int], int, int]:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                async with table_locked(url, "progress_reports"):
                    held = [
                        _report_request(client, api_key, commitments[i], f"held-{i}")
                        for i in range(2)
                    ]
                    await _waiting_on_locks(url, 2)
                    busy, busy_s = await _timed(
                        asyncio.ensure_future(client.get("/api/v1/regions"))
                    )
                completed = [r.status_code for r in await asyncio.gather(*held)]
                idle = await idle_in_transaction(url)
                after = (await client.get("/api/v1/regions")).status_code
                return busy, busy_s, completed, idle, after

        busy, busy_s, completed, idle, after = asyncio.run(scenario())
    report(
        "pool of 2 exhausted, pool timeout 0.5 s",
        {
            "request": f"{busy.status_code} in {busy_s:.3f}s",
            "Retry-After": busy.headers.get("retry-after"),
            "held writes": completed,
            "idle in transaction": idle,
            "next read": after,
        },
    )
    assert busy.status_code == 503
    assert "retry-after" in busy.headers
    assert busy_s < 2
    assert completed == [201, 201]
    assert idle == 0
    assert after == 200
