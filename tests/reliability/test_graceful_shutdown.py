"""SIGTERM while requests are in flight: the service stops taking connections, finishes the
requests it has (their writes are stored), and exits within its graceful timeout (20 s)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time

import asyncpg
import httpx
from sqlalchemy.engine import URL

from app.core.embedded import connect_kwargs
from tests import harness
from tests.reliability._load import LoadStats, stored_reports, write_load
from tests.reliability.conftest import integration_key, report
from tests.reliability.test_timeouts import _report_request, _waiting_on_locks, table_locked

GRACEFUL_TIMEOUT_S = 20
IN_FLIGHT = 6


def test_sigterm_finishes_in_flight_requests_and_exits_in_time(fault_database: URL) -> None:
    url = fault_database
    commitments, _ = asyncio.run(harness.seed_commitments(url, 20))
    api_key = integration_key(url)
    load = LoadStats()
    env = {"DB_STATEMENT_TIMEOUT_MS": "20000", "DB_LOCK_TIMEOUT_MS": "20000"}
    with harness.serve(url, env=env) as base:
        proc = base.proc

        async def scenario() -> tuple[list[httpx.Response], float, str]:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                background = asyncio.ensure_future(
                    write_load(base, api_key, commitments, load, clients=4, seconds=1.5, patience=0)
                )
                await asyncio.sleep(0.5)
                async with table_locked(url, "progress_reports"):
                    in_flight = [
                        _report_request(client, api_key, commitments[i], f"in-flight-{i}")
                        for i in range(IN_FLIGHT)
                    ]
                    await _waiting_on_locks(url, IN_FLIGHT)
                    proc.send_signal(signal.SIGTERM)
                    signalled = time.monotonic()
                    await asyncio.sleep(1)  # the requests stay in flight a second after it
                    try:
                        await httpx.AsyncClient().get(base + "/livez", timeout=2)
                        late = "answered"
                    except httpx.TransportError:
                        late = "refused"
                completed = await asyncio.gather(*in_flight)
                await background
                exited = await asyncio.to_thread(proc.wait, GRACEFUL_TIMEOUT_S + 5)
                assert exited is not None
                return completed, time.monotonic() - signalled, late

        try:
            completed, exit_s, late = asyncio.run(scenario())
        except subprocess.TimeoutExpired as exc:
            raise AssertionError("the service did not exit within its graceful timeout") from exc
        code = proc.returncode
    stored = asyncio.run(stored_reports(url, load))
    statuses = [r.status_code for r in completed]
    ids = [r.json()["id"] for r in completed if r.status_code == 201]
    in_flight_rows = asyncio.run(_rows_with_ids(url, ids))
    report(
        "SIGTERM with requests in flight",
        {
            "in-flight requests": statuses,
            "in-flight rows found": in_flight_rows,
            "load acknowledged writes": len(load.acknowledged),
            "load rows found": stored.rows,
            "lost": len(stored.lost),
            "5xx by code": load.server_errors(),
            "new connection after SIGTERM": late,
            "exit after s": round(exit_s, 3),
            "exit code": code,
        },
    )
    assert statuses == [201] * IN_FLIGHT
    assert in_flight_rows == IN_FLIGHT
    assert stored.lost == []
    assert stored.duplicated_keys == 0
    assert load.server_errors() == {}
    assert late == "refused"
    assert exit_s < GRACEFUL_TIMEOUT_S


async def _rows_with_ids(url: URL, ids: list[str]) -> int:
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM progress_reports WHERE id = ANY($1::uuid[])", ids
            )
        )
    finally:
        await conn.close()
