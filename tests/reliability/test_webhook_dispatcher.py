"""`inovasi webhooks work` is killed (SIGKILL) again and again while it delivers: no event is
lost. Each event reaches the receiver at least once after the restarts (what was sent but not
yet recorded when the worker died arrives twice, never zero times); every copy carries the
same `webhook-id`. And the delivery latency under the mixed load, printed as a figure."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from app import cli
from app.core.embedded import connect_kwargs
from app.core.keys import create_key
from app.core.security import Role
from app.webhooks.dispatcher import DELIVERIES_PER_ROUND
from tests import harness
from tests.reliability._load import LoadStats, post_report
from tests.reliability.conftest import integration_key, report
from tests.webhooks._receiver import Answer, Received, receiving

WORKER_ENV = {
    "WEBHOOK_TIMEOUT_S": "2",
    "WEBHOOK_CONNECT_TIMEOUT_S": "1",
    "WEBHOOK_LEASE_S": "4",
    "WEBHOOK_POLL_INTERVAL_S": "0.05",
    "WEBHOOK_BACKOFF_BASE_S": "0.2",
    "WEBHOOK_BACKOFF_MAX_S": "1",
}


def _admin_key(url: URL) -> str:
    async def issue(session: AsyncSession) -> str:
        _, plaintext = await create_key(
            session, name="fault test", role=Role.admin, province_code=None
        )
        return plaintext

    return cli.run_in_session(url, issue)


@contextlib.contextmanager
def _worker(url: URL, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """`inovasi webhooks work` on `url` (with WORKER_ENV's settings unless `env` is given)."""
    environment = {
        **os.environ,
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "LOG_LEVEL": "WARNING",
        **(WORKER_ENV if env is None else env),
    }
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "app.cli", "webhooks", "work"],
        env=environment,
        cwd=harness.ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@pytest.mark.slow
def test_a_dispatcher_killed_mid_delivery_loses_no_event(fault_database: URL) -> None:
    events, kills = 60, 6

    def slow_accept(request: Received, n: int) -> Answer:
        return Answer(delay_s=0.2)  # long enough for a kill to land mid-request

    admin = {"Authorization": f"Bearer {_admin_key(fault_database)}"}
    with (
        receiving(slow_accept) as receiver,
        harness.serve(fault_database, env={"WEBHOOK_DISPATCHER": "false"}) as base,
        httpx.Client(base_url=base, headers=admin, timeout=30) as api,
    ):
        r = api.post(
            "/api/v1/webhooks", json={"url": receiver.url, "event_types": ["institution.*"]}
        )
        assert r.status_code == 201, r.text
        ids = []
        for n in range(events):
            body = {
                "name": f"Dinas Uji Gangguan {n}",
                "kind": "regional_agency",
                "region_code": "33.74",
            }
            created = api.post("/api/v1/institutions", json=body)
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])

        killed_mid_request = 0
        for kill in range(kills):
            # Each kill lands a few deliveries further on, while a request is in flight.
            wanted = len(receiver.received) + 1 + kill % 3 * 3
            with _worker(fault_database) as worker:
                deadline = time.monotonic() + 30
                while len(receiver.received) < wanted:
                    assert time.monotonic() < deadline, "the worker delivered nothing"
                    time.sleep(0.01)
                time.sleep(0.05)  # the receiver is still answering: the request is in flight
                worker.send_signal(signal.SIGKILL)
                killed_mid_request += 1
        started = time.monotonic()
        with _worker(fault_database):
            deadline = started + 120
            while time.monotonic() < deadline:
                got = {json.loads(b)["data"]["entity_id"] for b in receiver.bodies()}
                if got >= set(ids):
                    break
                time.sleep(0.1)
            recovered_s = time.monotonic() - started
            time.sleep(0.5)
        bodies = receiver.bodies()
        msg_ids = receiver.ids()

    received = Counter(json.loads(b)["data"]["entity_id"] for b in bodies)
    lost = [i for i in ids if received[i] == 0]
    twice = sum(1 for i in ids if received[i] > 1)
    by_msg = {json.loads(b)["data"]["entity_id"]: set() for b in bodies}
    for msg_id, body in zip(msg_ids, bodies, strict=True):
        by_msg[json.loads(body)["data"]["entity_id"]].add(msg_id)
    order = [json.loads(b)["data"]["entity_id"] for b in bodies]
    first_seen = sorted(ids, key=order.index)
    report(
        f"webhook worker SIGKILLed {killed_mid_request}x mid-delivery, {events} events",
        {
            "requests received": len(bodies),
            "events delivered": len(received),
            "lost": len(lost),
            "delivered twice or more": twice,
            "s to finish after the last restart": round(recovered_s, 2),
        },
    )
    assert lost == []
    assert set(received) == set(ids)
    assert all(len(m) == 1 for m in by_msg.values())  # a copy keeps its webhook-id
    assert first_seen == ids  # first arrivals in event-log order
    # What a killed worker had sent but not yet recorded goes again: at most one round each.
    assert twice <= killed_mid_request * DELIVERIES_PER_ROUND


def _lines(path: str) -> list[str]:
    with open(path) as f:
        return [line for line in f.read().splitlines() if line]


@contextlib.contextmanager
def _process(module: str, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", module, *args], cwd=harness.ROOT
    )
    try:
        time.sleep(0.5)
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def _mixed_load(
    base: str, api_key: str, commitments: list[str], innovations: list[str], seconds: float
) -> tuple[list[float], int]:
    """The bench's mix (80% reads by id, 15% lists, 5% progress reports) from 16 clients
    back to back: the API latencies (s) and the reports acknowledged."""
    latencies: list[float] = []
    stats = LoadStats()
    stop_at = time.monotonic() + seconds

    async def loop(client: httpx.AsyncClient) -> None:
        while time.monotonic() < stop_at:
            draw = random.random()
            started = time.monotonic()
            if draw < 0.80:
                r = await client.get(f"/api/v1/innovations/{random.choice(innovations)}")
                assert r.status_code == 200, r.text
            elif draw < 0.95:
                r = await client.get("/api/v1/innovations", params={"limit": 20})
                assert r.status_code == 200, r.text
            else:
                await post_report(
                    client, api_key, random.choice(commitments), stats, give_up_at=stop_at + 30
                )
            latencies.append(time.monotonic() - started)

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await asyncio.gather(*(loop(client) for _ in range(16)))
    assert stats.unexpected == []
    return latencies, len(stats.acknowledged)


async def _ids(url: URL, sql: str) -> list[str]:
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        return [str(r[0]) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def _phases(url: URL) -> str:
    """Where the time went, from the delivery log: event → queued, queued → first attempt."""
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        row = await conn.fetchrow(
            """
            WITH d AS (
                SELECT extract(epoch FROM d.created_at - e.at) * 1000 AS queued,
                       extract(epoch FROM min(a.attempted_at) - d.created_at) * 1000 AS sent
                FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
                JOIN webhook_attempts a ON a.delivery_id = d.id
                GROUP BY d.id, e.at
            )
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY queued) AS q50,
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY queued) AS q99,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY sent) AS s50,
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY sent) AS s99
            FROM d
            """
        )
    finally:
        await conn.close()
    return f"{row['q50']:.0f}/{row['q99']:.0f}, {row['s50']:.0f}/{row['s99']:.0f}"


@pytest.mark.slow
@pytest.mark.parametrize("where", ["inside serve", "own process"])
def test_delivery_latency_from_commit_to_receipt_under_mixed_load(
    cluster: harness.Cluster, where: str
) -> None:
    """The mixed load on `inovasi serve` (one worker) while webhooks are delivered by the
    dispatcher inside it, or by `inovasi webhooks work` beside it. Latency is measured from
    the event's `at` (the start of the writing transaction, so a little before its commit)
    to the receiver reading the request.

    On a cluster of its own: an event is delivered once every transaction older than it has
    ended, in any database of the cluster (the event feed's rule), so a long transaction of
    another database on a shared server would be measured instead."""
    fault_database = harness.fresh_database(cluster.url, "inovasi_webhook_latency")
    commitments, _ = asyncio.run(harness.seed_commitments(fault_database, 40))
    innovations = asyncio.run(_ids(fault_database, "SELECT id FROM innovations"))
    integration = integration_key(fault_database)
    admin = {"Authorization": f"Bearer {_admin_key(fault_database)}"}
    inside = where == "inside serve"
    env = {} if inside else {"WEBHOOK_DISPATCHER": "false"}
    port = harness.free_port()
    with (
        tempfile.NamedTemporaryFile("r", suffix=".log") as log,
        _process("tests.webhooks._receiver", str(port), log.name),
        harness.serve(fault_database, env=env) as base,
        httpx.Client(base_url=base, headers=admin, timeout=30) as api,
        contextlib.nullcontext() if inside else _worker(fault_database, {}),
    ):
        url = f"http://127.0.0.1:{port}/hooks"
        r = api.post("/api/v1/webhooks", json={"url": url, "event_types": ["*"]})
        assert r.status_code == 201, r.text
        if not inside:
            time.sleep(3)  # the worker process has started and made its first claim
        latencies, reports = asyncio.run(
            _mixed_load(base, integration, commitments, innovations, seconds=20)
        )
        deadline = time.monotonic() + 30
        while len(_lines(log.name)) < reports and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        received = [
            (json.loads(body)["data"]["at"], float(at))
            for at, body in (line.split(" ", 1) for line in _lines(log.name))
        ]
    delays = [at - datetime.fromisoformat(event_at).timestamp() for event_at, at in received]
    phases = asyncio.run(_phases(fault_database))
    report(
        f"webhook delivery under the mixed load (16 clients, 20 s), dispatcher {where}",
        {
            "API requests": len(latencies),
            "API p50 ms": round(_percentile(latencies, 50) * 1000, 1),
            "API p99 ms": round(_percentile(latencies, 99) * 1000, 1),
            "reports acknowledged": reports,
            "deliveries received": len(delays),
            "commit→receipt p50 ms": round(_percentile(delays, 50) * 1000, 1),
            "p99 ms": round(_percentile(delays, 99) * 1000, 1),
            "max ms": round(max(delays) * 1000, 1),
            "phases p50/p99 ms (event → queued, queued → sent)": phases,
        },
    )
    assert len(delays) >= reports > 0
