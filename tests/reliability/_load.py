"""A provincial integration's client: posts progress reports with an Idempotency-Key, and
retries with the same key on network errors, on 503 (after Retry-After) and on 409 in flight."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import asyncpg
import httpx
from sqlalchemy.engine import URL

from app.core.embedded import connect_kwargs

MARK = "fault-load "


@dataclass
class LoadStats:
    requests: int = 0
    network_errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    # Acknowledged writes: report id → Idempotency-Key.
    acknowledged: dict[str, str] = field(default_factory=dict)
    replayed: int = 0
    given_up: int = 0
    unexpected: list[str] = field(default_factory=list)
    without_retry_after: int = 0

    def server_errors(self) -> dict[int, int]:
        return {s: n for s, n in sorted(self.statuses.items()) if s >= 500}


def report_body(key: str) -> dict[str, object]:
    as_of = date(2024, 2, 1) + timedelta(days=random.randint(0, 300))
    return {
        "as_of": as_of.isoformat(),
        "percent_complete": random.randint(0, 100),
        "narrative": MARK + key,
        "reported_by": "Bappeda",
    }


async def post_report(
    client: httpx.AsyncClient,
    api_key: str,
    commitment_id: str,
    stats: LoadStats,
    *,
    give_up_at: float,
) -> None:
    """One report, retried until it is acknowledged (or `give_up_at`, a monotonic time)."""
    key = uuid.uuid4().hex
    body = report_body(key)
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": key}
    url = f"/api/v1/commitments/{commitment_id}/progress-reports"
    while time.monotonic() < give_up_at:
        stats.requests += 1
        try:
            r = await client.post(url, json=body, headers=headers)
        except httpx.TransportError:
            stats.network_errors += 1
            await asyncio.sleep(0.05)
            continue
        stats.statuses[r.status_code] += 1
        if r.status_code == 201:
            stats.acknowledged[r.json()["id"]] = key
            stats.replayed += r.headers.get("idempotent-replayed") == "true"
            return
        if r.status_code == 503:
            if "retry-after" not in r.headers:
                stats.without_retry_after += 1
            await asyncio.sleep(float(r.headers.get("retry-after", "1")))
            continue
        if r.status_code == 409 and r.json().get("code") == "idempotency_in_flight":
            await asyncio.sleep(0.1)
            continue
        stats.unexpected.append(f"{r.status_code} {r.text[:200]}")
        return
    stats.given_up += 1


async def write_load(
    base: str,
    api_key: str,
    commitments: list[str],
    stats: LoadStats,
    *,
    clients: int,
    seconds: float,
    patience: float = 30,
) -> None:
    """`clients` clients posting reports back to back for `seconds`; each retries its last
    report for up to `patience` seconds more."""
    stop_at = time.monotonic() + seconds

    async def client_loop(client: httpx.AsyncClient) -> None:
        while time.monotonic() < stop_at:
            await post_report(
                client, api_key, random.choice(commitments), stats, give_up_at=stop_at + patience
            )

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))


@dataclass
class Stored:
    rows: int
    lost: list[str]
    duplicated_keys: int
    unacknowledged: int


async def stored_reports(url: URL, stats: LoadStats) -> Stored:
    """Compare the acknowledged writes with the rows: by id, and by Idempotency-Key."""
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        rows = await conn.fetch(
            "SELECT id::text, narrative FROM progress_reports WHERE narrative LIKE $1",
            MARK + "%",
        )
    finally:
        await conn.close()
    ids = Counter(r["id"] for r in rows)
    keys = Counter(r["narrative"].removeprefix(MARK) for r in rows)
    return Stored(
        rows=len(rows),
        lost=[i for i in stats.acknowledged if ids[i] != 1],
        duplicated_keys=sum(1 for n in keys.values() if n > 1),
        unacknowledged=len(set(keys) - set(stats.acknowledged.values())),
    )


async def idle_in_transaction(url: URL) -> int:
    """The service's sessions left idle inside a transaction."""
    conn = await asyncpg.connect(**connect_kwargs(url))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
                "AND application_name = 'inovasi-hub' AND state LIKE 'idle in transaction%'",
                url.database,
            )
        )
    finally:
        await conn.close()
