"""Where the time of one batch goes: the ingest statement of 500 reports under EXPLAIN
(ANALYZE, BUFFERS, WAL), rolled back, on a seeded bench database.

`python -m bench.explain_ingest --database-url URL [--province P] [--runs N]`

Each run takes 500 other open commitments of the province (one report each, as of today, with
one item update), as a provincial system's monthly batch would: the first report of the day
on each. Prints, per run, the statement's time and, for each table it writes (with the
subtree that feeds it) the time, the buffers hit, read and dirtied, and the WAL written, and
each trigger's time (EXPLAIN's timing adds to all of them). The URL is a
database `python -m bench.run` seeded (its cluster under `.data/bench-pg` while it runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from datetime import date
from typing import Any

import asyncpg

from app.core.embedded import connect_kwargs, to_async_url
from app.replication.repository import _INGEST_QUERY, _LOCK_BATCH_QUERY

BATCH = 500
PICK = """
    SELECT c.id::text AS id, min(a.id::text) AS item
    FROM commitments c JOIN action_items a ON a.commitment_id = c.id
    WHERE c.adopter_province_code = $1 AND c.status IN ('committed', 'in_progress', 'stalled')
    GROUP BY c.id ORDER BY md5(c.id::text) OFFSET $2 LIMIT $3
"""


def report(commitment_id: str, item_id: str, percent: int, progress: int) -> dict[str, Any]:
    """A provincial system's report on a commitment as of today, with one item update."""
    return {
        "commitment_id": commitment_id,
        "as_of": date.today().isoformat(),
        "percent_complete": percent,
        "item_updates": [{"item_id": item_id, "progress": progress}],
        "narrative": "Pelaksanaan sesuai rencana aksi.",
        "obstacles": "",
        "evidence_urls": ["https://example.go.id/laporan.pdf"],
        "reported_by": "Bappeda",
    }


def writes(node: dict[str, Any], found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ModifyTable nodes of a plan, outermost first."""
    if node.get("Node Type") == "ModifyTable":
        found.append(node)
    for child in node.get("Plans", []):
        writes(child, found)
    return found


def line(name: str, ms: float, n: dict[str, Any]) -> str:
    return (
        f"  {name:<30} {ms:8.1f} ms  hit {n.get('Shared Hit Blocks', 0):>7,}"
        f"  read {n.get('Shared Read Blocks', 0):>6,}"
        f"  dirtied {n.get('Shared Dirtied Blocks', 0):>6,}"
        f"  WAL {n.get('WAL Records', 0):>6,} records {n.get('WAL Bytes', 0) / 1e6:6.2f} MB"
    )


async def main(url: str, province: str, runs: int) -> None:
    conn = await asyncpg.connect(**connect_kwargs(to_async_url(url)))
    try:
        actor = await conn.fetchval("SELECT id FROM api_keys ORDER BY created_at LIMIT 1")
        for run in range(runs):
            picked = await conn.fetch(PICK, province, run * BATCH, BATCH)
            reports = [report(r["id"], r["item"], 50, 60) for r in picked]
            params = {
                "reports": json.dumps(reports),
                "province": province,
                "actor_id": actor or uuid.UUID(int=0),
                "actor_role": "integration",
            }
            sql = "EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) " + _INGEST_QUERY.sql
            tx = conn.transaction()
            await tx.start()
            try:
                # As the service does: the batch's commitments locked first, then the statement.
                ids = sorted({uuid.UUID(r["id"]) for r in picked})
                locked = await conn.fetch(
                    _LOCK_BATCH_QUERY.sql, *_LOCK_BATCH_QUERY.arguments({"ids": ids})
                )
                params["row_ids"] = [r["ctid"] for r in locked]
                [plan] = json.loads(await conn.fetchval(sql, *_INGEST_QUERY.arguments(params)))
            finally:
                await tx.rollback()
            top = plan["Plan"]
            print(f"run {run + 1}: {len(reports)} reports, {plan['Execution Time']:.1f} ms")
            for node in writes(top, []):
                name = f"{node['Operation'].lower()} {node['Relation Name']}"
                print(line(name, node["Actual Total Time"], node))
            for trigger in plan.get("Triggers", []):
                print(f"  trigger {trigger['Trigger Name']:<22} {trigger['Time']:8.1f} ms")
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--province", default="32")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.database_url, args.province, args.runs))
