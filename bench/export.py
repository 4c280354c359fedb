"""The innovations export beside a plain COPY of the same statement, on a seeded database.

`python -m bench.export --database-url URL [--format csv,jsonl] [--runs 3] [--filter k=v …]
[--sort title]`

For each format and run: the endpoint (`GET /api/v1/innovations/export.csv`, anonymous, one
worker of `inovasi serve`, read over HTTP to the end), then `COPY (the export's statement)
TO STDOUT WITH (FORMAT csv, …)` on a connection of its own, the output read and dropped.
Prints MB, seconds and MB/s of each, and the endpoint's share of COPY's throughput (medians).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx
from sqlalchemy.engine import URL

from app.core.embedded import to_async_url
from app.innovations.export import ExportFormat, prepare_export
from app.innovations.repository import Filters
from bench.baseline import Statement
from bench.common import EXPORT, connect, download
from tests.harness import serve


async def plain_copy(
    url: URL, filters: Filters, sort: str | None, fmt: ExportFormat
) -> tuple[float, int]:
    """Seconds and bytes of a plain COPY of the export's statement (anonymous: published)."""
    export = prepare_export(filters, sort, fmt, published_only=True)
    statement = Statement(export.statement)
    arguments = statement.args(export.params)
    size = 0

    async def drop(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)

    async with connect(url) as conn:
        started = time.perf_counter()
        await conn.copy_from_query(
            statement.sql, *arguments, output=drop, timeout=900, **export.copy_options
        )
        return time.perf_counter() - started, size


def line(name: str, seconds: float, size: int) -> str:
    mb = size / 1e6
    return f"  {name:<9} {mb:9.1f} MB {seconds:8.2f} s {mb / seconds:8.1f} MB/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--format", default="csv,jsonl", help="comma-separated: csv, jsonl")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--filter", action="append", default=[], help="name=value, as the API")
    parser.add_argument("--sort", default=None)
    args = parser.parse_args()
    url = to_async_url(args.database_url)
    given = dict(f.split("=", 1) for f in args.filter)
    # The API's names for the filters whose field is named differently.
    filters = Filters(
        **{"institution_id" if k == "institution" else k: v for k, v in given.items()}
    )
    with serve(url) as base, httpx.Client(base_url=base, timeout=900) as client:
        for fmt in [ExportFormat(f) for f in args.format.split(",")]:
            params = {**given, "format": fmt.value, **({"sort": args.sort} if args.sort else {})}
            print(f"{fmt.value} {given or 'all'} sort={args.sort or 'default'}", flush=True)
            served: list[tuple[float, int]] = []
            copied: list[tuple[float, int]] = []
            for run in range(1, args.runs + 1):
                served.append(download(client, EXPORT, **params))
                copied.append(asyncio.run(plain_copy(url, filters, args.sort, fmt)))
                endpoint, copy = line("endpoint", *served[-1]), line("COPY", *copied[-1])
                print(f" run {run}\n{endpoint}\n{copy}", flush=True)
            print(" median")
            rates = []
            for name, runs in (("endpoint", served), ("COPY", copied)):
                seconds = statistics.median(s for s, _ in runs)
                print(line(name, seconds, runs[0][1]))
                rates.append(runs[0][1] / seconds)
            print(f"  endpoint throughput = {rates[0] / rates[1]:.2f} of COPY's", flush=True)


if __name__ == "__main__":
    main()
