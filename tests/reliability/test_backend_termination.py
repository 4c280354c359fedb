"""The service's database connections are killed (pg_terminate_backend), again and again,
while integrations post progress reports with Idempotency-Keys and retry: every acknowledged
write is stored exactly once, the only 5xx is 503 with Retry-After, and the pool recovers."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import URL

from app.core.embedded import connect_kwargs
from tests import harness
from tests.reliability._load import LoadStats, post_report, stored_reports, write_load
from tests.reliability.conftest import integration_key, report

SERVICE_ENV = {"DB_POOL_SIZE": "8", "DB_MAX_OVERFLOW": "0", "RETRY_AFTER_S": "1"}


async def _kill_backends(url: URL, every: float, until: float) -> int:
    """Terminate the service's backends on `url` every `every` seconds; the number killed."""
    killed = 0
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        while time.monotonic() < until:
            await asyncio.sleep(every)
            killed += await conn.fetchval(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND application_name = $2",
                url.database,
                harness.APPLICATION_NAME,
            )
    finally:
        await conn.close()
    return int(killed)


async def _recovery(
    base: str, api_key: str, commitment: str, stats: LoadStats
) -> tuple[float, int]:
    """Seconds until a write is acknowledged once the killing stops, and its attempts."""
    started, before, acknowledged = time.monotonic(), stats.requests, len(stats.acknowledged)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await post_report(client, api_key, commitment, stats, give_up_at=started + 30)
    assert len(stats.acknowledged) == acknowledged + 1, stats
    return time.monotonic() - started, stats.requests - before


def _run(url: URL, seconds: float, kill_every: float) -> None:
    commitments, _ = asyncio.run(harness.seed_commitments(url, 40))
    api_key = integration_key(url)
    stats = LoadStats()
    with harness.serve(url, env=SERVICE_ENV) as base:

        async def scenario() -> tuple[int, float, int]:
            until = time.monotonic() + seconds
            killed, _ = await asyncio.gather(
                _kill_backends(url, kill_every, until),
                write_load(base, api_key, commitments, stats, clients=8, seconds=seconds),
            )
            recovery, attempts = await _recovery(base, api_key, commitments[0], stats)
            return killed, recovery, attempts

        killed, recovery, attempts = asyncio.run(scenario())
        ready = httpx.get(base + "/readyz").status_code
    stored = asyncio.run(stored_reports(url, stats))
    report(
        f"pg_terminate_backend every {kill_every}s for {seconds:.0f}s",
        {
            "requests": stats.requests,
            "backends killed": killed,
            "acknowledged writes": len(stats.acknowledged),
            "replayed": stats.replayed,
            "rows found": stored.rows,
            "lost": len(stored.lost),
            "duplicates": stored.duplicated_keys,
            "5xx by code": stats.server_errors(),
            "network errors": stats.network_errors,
            "recovery s": round(recovery, 3),
        },
    )
    assert stats.unexpected == []
    assert stats.given_up == 0
    assert killed > 0
    assert set(stats.server_errors()) <= {503}
    assert stats.without_retry_after == 0
    assert stored.lost == []
    assert stored.duplicated_keys == 0
    assert stored.unacknowledged == 0
    assert stored.rows == len(stats.acknowledged)
    assert ready == 200
    assert attempts == 1, "the first write after the faults should succeed"


def test_killed_connections_lose_and_duplicate_no_acknowledged_write(fault_database: URL) -> None:
    _run(fault_database, seconds=8, kill_every=0.5)


@pytest.mark.slow
def test_killed_connections_for_a_minute_lose_and_duplicate_nothing(fault_database: URL) -> None:
    _run(fault_database, seconds=60, kill_every=0.25)
