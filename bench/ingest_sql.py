"""The database CPU of batch ingestion's two statements, this checkout's against a git revision's.

`python -m bench.ingest_sql --database-url URL --against REV [--batches N] [--passes N]`

On a database `python -m bench.run` seeded (its cluster under `.data/bench-pg` while it runs),
one connection sends N batches of 500 reports (one item update each, as bulk_ingest's) for
other open commitments of province 32, each batch twice per pass: with the lock and ingest
statements of `app.replication.repository` as they are here, and as they are at REV, in a
random order, each in a transaction that is rolled back. Per pass it prints the backend's
CPU time per batch (from /proc/PID/schedstat: the server must run on this machine) of each
version, the lock statement's share apart. The batches repeat the day's reports (the lighter
path, as bulk_ingest's after its priming). Alternating batch by batch keeps the host's drift
in speed out of the comparison, which separate runs a few minutes apart do not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text

from app.core.embedded import connect_kwargs, to_async_url
from app.core.repository import CompiledQuery
from app.replication import repository
from bench.common import ROOT
from bench.explain_ingest import BATCH, PICK, report

Statements = tuple[CompiledQuery, CompiledQuery]


def statements_at(revision: str) -> Statements:
    """`_LOCK_BATCH` and `_INGEST` as the repository module of `revision` has them."""
    source = subprocess.run(  # noqa: S603 - git with our own arguments
        ["git", "show", f"{revision}:app/replication/repository.py"],  # noqa: S607
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout

    def sql(name: str) -> CompiledQuery:
        start = source.index(f'{name} = text(\n    """') + len(f'{name} = text(\n    """')
        return CompiledQuery(text(source[start : source.index('"""', start)]))

    return sql("_LOCK_BATCH"), sql("_INGEST")


def cpu_ns(pid: int) -> int:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


async def main(url: str, against: str, batches: int, passes: int) -> None:
    versions = {
        "here": (repository._LOCK_BATCH_QUERY, repository._INGEST_QUERY),
        against: statements_at(against),
    }
    conn = await asyncpg.connect(**connect_kwargs(to_async_url(url)))
    try:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        actor = await conn.fetchval("SELECT id FROM api_keys ORDER BY created_at LIMIT 1")
        picked = await conn.fetch(PICK, "32", 0, batches * BATCH)
        rng = random.Random(1)
        work: list[tuple[list[uuid.UUID], dict[str, Any]]] = []
        for n in range(len(picked) // BATCH):
            chosen = picked[n * BATCH : (n + 1) * BATCH]
            reports = [
                report(r["id"], r["item"], rng.randint(0, 100), rng.randint(0, 100)) for r in chosen
            ]
            params = {
                "reports": json.dumps(reports),
                "province": "32",
                "actor_id": actor,
                "actor_role": "integration",
            }
            work.append((sorted(uuid.UUID(r["id"]) for r in chosen), params))
        # Each version once over every batch, committed, so that both start from the day's
        # second report on each commitment.
        for lock, ingest in versions.values():
            for ids, params in work:
                async with conn.transaction():
                    rows = await conn.fetch(lock.sql, *lock.arguments({"ids": ids}))
                    args = ingest.arguments({**params, "row_ids": [r[0] for r in rows]})
                    await conn.fetch(ingest.sql, *args)
        print(f"{len(work)} batches of {BATCH} reports; CPU ms per batch of the backend")
        for n in range(passes):
            spent = {name: [0, 0] for name in versions}
            for ids, params in work:
                order = list(versions)
                rng.shuffle(order)
                for name in order:
                    lock, ingest = versions[name]
                    transaction = conn.transaction()
                    await transaction.start()
                    try:
                        before = cpu_ns(pid)
                        rows = await conn.fetch(lock.sql, *lock.arguments({"ids": ids}))
                        locked = cpu_ns(pid)
                        args = ingest.arguments({**params, "row_ids": [r[0] for r in rows]})
                        await conn.fetch(ingest.sql, *args)
                        spent[name][0] += locked - before
                        spent[name][1] += cpu_ns(pid) - before
                    finally:
                        await transaction.rollback()
            figures = "; ".join(
                f"{name} {total / 1e6 / len(work):.1f} (lock {lock / 1e6 / len(work):.1f})"
                for name, (lock, total) in spent.items()
            )
            print(f"pass {n + 1}: {figures}", flush=True)
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--against", required=True, help="a git revision")
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--passes", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.database_url, args.against, args.batches, args.passes))
