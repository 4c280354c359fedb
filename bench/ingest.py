"""Batch ingestion of progress reports: reports per second through the real service.

`python -m bench.ingest [--commitments N] [--batches N] [--concurrency N]`

A throwaway database gets N commitments (with two action items each); then 500-report
batches are posted to `POST /api/v1/progress-reports/batch` by an integration key with an
Idempotency-Key, from `--concurrency` clients. Prints reports/s and latency per batch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid
from datetime import date, timedelta

from app import cli
from app.core.security import Role
from bench.common import (
    backend_pids,
    cpu_by_pid,
    cpu_seconds,
    cpu_used,
    fresh_database,
    machine,
    seed_commitments,
    serve,
)


def make_batch(ids: list[str], items: dict[str, list[str]], size: int) -> bytes:
    """`size` reports on commitments drawn from `ids` (one client's share)."""
    start = date(2024, 2, 1)
    reports = []
    for _ in range(size):
        cid = random.choice(ids)
        item = random.choice(items[cid])
        reports.append(
            {
                "commitment_id": cid,
                "as_of": (start + timedelta(days=random.randint(0, 300))).isoformat(),
                "percent_complete": random.randint(0, 100),
                "item_updates": [{"item_id": item, "progress": random.randint(0, 100)}],
                "narrative": "Pelaksanaan sesuai rencana aksi; sosialisasi ke puskesmas.",
                "evidence_urls": ["https://example.go.id/laporan.pdf"],
                "reported_by": "Bappeda",
            }
        )
    return json.dumps({"reports": reports}).encode()


async def post(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """One HTTP/1.1 request on a kept-alive connection; the status and the body's first bytes.

    A bare socket client: httpx costs the client ~4 ms of CPU per batch, which on two cores
    is taken from the service and the database being measured.
    """
    writer.write(request)
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length)
    return int(status_line.split()[1]), body[:64]


async def run(
    base: str, key: str, bodies: list[bytes], concurrency: int
) -> tuple[float, list[float], int]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    latencies: list[float] = []
    errors = 0
    host, port = base.removeprefix("http://").split(":")

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while not queue.empty():
                body = queue.get_nowait()
                request = (
                    b"POST /api/v1/progress-reports/batch HTTP/1.1\r\n"
                    b"Host: %s\r\nAuthorization: Bearer %s\r\nIdempotency-Key: %s\r\n"
                    b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                    % (host.encode(), key.encode(), uuid.uuid4().hex.encode(), len(body))
                ) + body
                t0 = time.perf_counter()
                status, head = await post(reader, writer, request)
                latencies.append(time.perf_counter() - t0)
                # The body starts with the counts: no need to parse 500 results.
                if status != 200 or b'"rejected":0,' not in head:
                    errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commitments", type=int, default=1500)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    url = fresh_database("inovasi_bench_ingest")
    ids, items = asyncio.run(seed_commitments(url, args.commitments))
    key = cli.create_key(url, "bench integration", Role.integration, "33")
    random.seed(7)
    # Each client posts for its own share of the commitments, as each province's system
    # reports on its own commitments; clients that shared commitments would queue on their
    # row locks.
    shares = [ids[n :: args.concurrency] for n in range(args.concurrency)]
    warmup = [make_batch(shares[n % len(shares)], items, args.batch_size) for n in range(40)]
    bodies = [
        make_batch(shares[n % len(shares)], items, args.batch_size) for n in range(args.batches)
    ]
    with serve(url, workers=args.workers) as base:
        asyncio.run(run(base, key, warmup, args.concurrency))
        app_cpu, db_before = cpu_seconds(base.pids), cpu_by_pid(asyncio.run(backend_pids(url)))
        client_cpu = time.process_time()
        elapsed, latencies, errors = asyncio.run(run(base, key, bodies, args.concurrency))
        ended = asyncio.run(backend_pids(url))
        app_cpu, db_cpu = (
            cpu_seconds(base.pids) - app_cpu,
            cpu_used(db_before, ended),
        )
        client_cpu = time.process_time() - client_cpu
    reports = args.batches * args.batch_size
    latencies.sort()
    print(f"machine: {machine()}")
    print(
        f"commitments: {len(ids)}; batches: {args.batches} x {args.batch_size} reports; "
        f"clients: {args.concurrency}; service workers: {args.workers}"
    )
    print(f"reports/s: {reports / elapsed:,.0f}  (batches/s {args.batches / elapsed:.1f})")
    print(
        f"CPU ms per batch: service {app_cpu / args.batches * 1000:.1f}, "
        f"PostgreSQL backends {db_cpu / args.batches * 1000:.1f}, "
        f"load client {client_cpu / args.batches * 1000:.1f}  "
        f"(so one core each would allow {reports / max(app_cpu, db_cpu):,.0f} reports/s)"
    )
    print(
        f"batch latency ms: p50 {statistics.median(latencies) * 1000:.1f}  "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f}  errors: {errors}"
    )


if __name__ == "__main__":
    main()
