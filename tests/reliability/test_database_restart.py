"""PostgreSQL stops and starts again (a cluster the test owns): readiness turns 503 within
2 s, writes get 503 with Retry-After meanwhile, readiness is back within 5 s of the database's
return and the next write succeeds."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests import harness
from tests.reliability._load import LoadStats, post_report
from tests.reliability.conftest import integration_key, report


def _wait_for(base: str, status: int, within: float) -> float | None:
    """Seconds until GET /readyz answers `status` (polled every 50 ms), or None."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            if httpx.get(base + "/readyz", timeout=1.5).status_code == status:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    return None


def _write(base: str, api_key: str, commitment: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": f"w{time.time_ns()}"}
    body = {"as_of": "2024-06-01", "percent_complete": 10}
    url = f"{base}/api/v1/commitments/{commitment}/progress-reports"
    return httpx.post(url, json=body, headers=headers, timeout=10)


def test_readiness_follows_the_database_and_the_next_write_succeeds(
    cluster: harness.Cluster,
) -> None:
    url = harness.fresh_database(cluster.url, "inovasi_restart")
    commitments, _ = asyncio.run(harness.seed_commitments(url, 3))
    api_key = integration_key(url)
    with harness.serve(url, env={"RETRY_AFTER_S": "1"}) as base:
        assert _write(base, api_key, commitments[0]).status_code == 201

        cluster.stop()
        to_503 = _wait_for(base, 503, within=10)
        down = _write(base, api_key, commitments[0])
        time.sleep(1)

        cluster.start()
        to_200 = _wait_for(base, 200, within=15)
        stats = LoadStats()

        async def next_write() -> None:
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                await post_report(
                    client, api_key, commitments[1], stats, give_up_at=time.monotonic() + 10
                )

        asyncio.run(next_write())

    report(
        "PostgreSQL stopped and started",
        {
            "readyz 503 after s": None if to_503 is None else round(to_503, 3),
            "write while down": down.status_code,
            "Retry-After": down.headers.get("retry-after"),
            "readyz 200 after s": None if to_200 is None else round(to_200, 3),
            "next write attempts": stats.requests,
            "next write status": dict(stats.statuses),
        },
    )
    assert to_503 is not None
    assert to_503 <= 2
    assert down.status_code == 503
    assert down.headers.get("retry-after") == "1"
    assert to_200 is not None
    assert to_200 <= 5
    assert stats.statuses == {201: 1}
