"""The search statement alone, word by word, on a seeded benchmark database.

`python -m bench.search [--innovations N] [--ranked 200,500] [--repeat 5]`

For each word of `bench.seed.SEARCH_TERMS`, the best time of the service's statement for the
first page of `GET /api/v1/innovations?q=…` (planned for the call's words, as the service runs
it) on the database `bench.run` keeps; several `--ranked` show what `RANKED_MATCHES` costs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from sqlalchemy import Integer, bindparam
from sqlalchemy.engine import URL

from app.innovations import repository
from app.innovations.repository import page_statement
from bench.baseline import Statement
from bench.common import connect
from bench.run import bench_server, dataset
from bench.seed import SEARCH_TERMS

PAGE = 20


async def measure(url: URL, ranked: list[int], repeat: int) -> dict[str, list[float]]:
    """Per word, the best time in ms of its first page, for each number of ranked matches."""
    out: dict[str, list[float]] = {}
    async with connect(url) as conn:
        for term in (term for terms in SEARCH_TERMS.values() for term in terms):
            filters = repository.Filters(q=term, published_only=True)
            params = {**repository.filter_params(filters), "limit": PAGE + 1}
            keys = repository.relevance_sort(term)
            limit = bindparam("limit", type_=Integer)
            for n in ranked:
                query = Statement(page_statement(filters, keys, None, limit, ranked_matches=n))
                best = float("inf")
                for _ in range(repeat):
                    started = time.perf_counter()
                    prepared = await conn.prepare(query.sql)  # unnamed: planned per call
                    await prepared.fetch(*query.args(params))
                    best = min(best, time.perf_counter() - started)
                out.setdefault(term, []).append(best * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--innovations", type=int, default=1_000_000)
    parser.add_argument("--ranked", default=str(repository.RANKED_MATCHES))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ranked = [int(n) for n in args.ranked.split(",")]
    with bench_server() as server:
        url, _ = dataset(server, args.innovations, reseed=False)
        results = asyncio.run(measure(url, ranked, args.repeat))
    ranks = " / ".join(map(str, ranked))
    print(f"First page of {PAGE} by relevance, {args.innovations:,} innovations, {ranks} ranked")
    print(f"matches: ms, best of {args.repeat}")
    for kind, words in SEARCH_TERMS.items():
        for term in words:
            print(f"  {kind:<8} {term:<22}" + "".join(f"{ms:8.1f}" for ms in results[term]))
    means = [statistics.mean(times[n] for times in results.values()) for n in range(len(ranked))]
    print(f"  {'mean':<31}" + "".join(f"{ms:8.1f}" for ms in means))


if __name__ == "__main__":
    main()
