"""The search statement alone, word by word, on a seeded benchmark database.

`python -m bench.search [--innovations N] [--ranked 200,500] [--repeat 5]`

For each word of `bench.seed.SEARCH_TERMS` (broad, common, medium, rare and partial words, by
the share of innovations they find), the first page of `GET /api/v1/innovations?q=…` sorted by
relevance: the service's own statement (`repository.page_statement`), run as the service runs
it (an unnamed statement, planned for the call's words), the best of `--repeat` runs, in
milliseconds of database time and one round trip. With several `--ranked` values it shows what
`RANKED_MATCHES` costs. The database is the one `bench.run` seeds and keeps (seeded first when
missing), on BENCH_DATABASE_URL's server or the bench cluster under `.data/bench-pg`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import asyncpg
from sqlalchemy import Integer, bindparam
from sqlalchemy.engine import URL

from app.core.embedded import connect_kwargs
from app.core.repository import CompiledQuery
from app.innovations import repository
from bench.run import bench_server, dataset
from bench.seed import SEARCH_TERMS

PAGE = 20


def statement(term: str, ranked: int) -> tuple[str, list[Any]]:
    filters = repository.Filters(q=term, published_only=True)
    stmt = repository.page_statement(
        filters,
        repository.relevance_sort(term),
        None,
        bindparam("limit", type_=Integer),
        ranked_matches=ranked,
    )
    query = CompiledQuery(stmt, planned_per_call=True)
    params = {**repository.filter_params(filters), "limit": PAGE + 1}
    return query.sql, query.arguments(params)


async def measure(url: URL, ranked: list[int], repeat: int) -> dict[int, dict[str, float]]:
    conn = await asyncpg.connect(**connect_kwargs(url))
    out: dict[int, dict[str, float]] = {n: {} for n in ranked}
    try:
        for words in SEARCH_TERMS.values():
            for term in words:
                for n in ranked:
                    sql, args = statement(term, n)
                    best = float("inf")
                    for _ in range(repeat):
                        started = time.perf_counter()
                        prepared = await conn.prepare(sql)  # unnamed: planned per call
                        await prepared.fetch(*args)
                        best = min(best, time.perf_counter() - started)
                    out[n][term] = best * 1000
    finally:
        await conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--innovations", type=int, default=1_000_000)
    parser.add_argument("--ranked", default=str(repository.RANKED_MATCHES))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ranked = [int(n) for n in args.ranked.split(",")]
    server, cluster = bench_server()
    try:
        url, _ = dataset(server, args.innovations, reseed=False)
        results = asyncio.run(measure(url, ranked, args.repeat))
    finally:
        if cluster is not None:
            cluster.stop()
    print(
        f"Search, first page of {PAGE}, {args.innovations:,} innovations (ms, best of "
        f"{args.repeat})\n"
    )
    print("| kind | word | " + " | ".join(f"{n} ranked" for n in ranked) + " |")
    print("|---|---|" + "---:|" * len(ranked))
    for kind, words in SEARCH_TERMS.items():
        for term in words:
            cells = " | ".join(f"{results[n][term]:.1f}" for n in ranked)
            print(f"| {kind} | {term} | {cells} |")
    means = " | ".join(f"**{statistics.mean(results[n].values()):.1f}**" for n in ranked)
    print(f"| | mean | {means} |")


if __name__ == "__main__":
    main()
