"""The benchmark data set (`bench/seed.py`): seeded into databases of its own, checked for the
invariants the service keeps, compared across runs, and read and written through the API."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.core.db import Database
from app.core.embedded import connect_kwargs
from app.core.keys import create_key
from app.core.security import Role
from app.innovations.schemas import KIPP_TIERS
from app.main import create_app
from app.replication.schemas import CommitmentStatus
from app.replication.service import TRANSITIONS
from bench.seed import SEARCH_TERMS, TABLES, seed
from tests.conftest import drop_database
from tests.harness import fresh_database

SIZE = 2_000
SMALL = 300  # the same numbering: its records are the first ones of SIZE


@dataclass(frozen=True)
class Seeded:
    url: URL
    small: URL
    summary: dict[str, Any]


async def _clone(server: URL, template: str, name: str) -> URL:
    conn = await asyncpg.connect(**connect_kwargs(server.set(database="postgres")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return server.set(database=name)


@pytest.fixture(scope="module")
def seeded(server: URL) -> Iterator[Seeded]:
    """A migrated database with the regions, copied before seeding: SIZE innovations in one,
    SMALL in the other."""
    name = f"inovasi_test_seed_{os.getpid()}"
    url = fresh_database(server, name)
    small = asyncio.run(_clone(server, name, name + "_small"))
    try:
        summary = asyncio.run(seed(url, SIZE))
        asyncio.run(seed(small, SMALL))
        yield Seeded(url, small, summary)
    finally:
        asyncio.run(drop_database(server, name))
        asyncio.run(drop_database(server, name + "_small"))


@pytest.fixture
async def db(seeded: Seeded) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(**connect_kwargs(seeded.url))
    try:
        yield conn
    finally:
        await conn.close()


async def _violations(db: asyncpg.Connection, sql: str) -> list[asyncpg.Record]:
    return list(await db.fetch(sql + " LIMIT 5"))


def test_summary_counts_rows_and_sizes(seeded: Seeded) -> None:
    s = seeded.summary
    assert s["innovations"] == SIZE
    assert set(s["rows"]) == set(TABLES) == set(s["tables"])
    rows = s["rows"]
    assert rows["innovations"] == SIZE
    assert 7 <= rows["progress_reports"] / rows["commitments"] <= 13
    assert 2 <= rows["action_items"] / rows["commitments"] <= 3
    assert rows["events"] >= rows["innovations"] + rows["commitments"]
    assert all(t["total_bytes"] >= t["heap_bytes"] > 0 for t in s["tables"].values())
    assert s["database_bytes"] > sum(t["total_bytes"] for t in s["tables"].values())
    assert s["seconds"] > 0


async def test_distributions_are_skewed_as_intended(db: asyncpg.Connection) -> None:
    status = dict(await db.fetch("SELECT status, count(*) FROM innovations GROUP BY 1"))
    assert 0.80 <= status["published"] / SIZE <= 0.90
    assert 0.06 <= status["draft"] / SIZE <= 0.14
    assert 0.02 <= status["withdrawn"] / SIZE <= 0.08
    provinces = [
        r[0]
        for r in await db.fetch(
            "SELECT province_code FROM innovations WHERE province_code IS NOT NULL "
            "GROUP BY 1 ORDER BY count(*) DESC"
        )
    ]
    assert set(provinces[:3]) == {"32", "33", "35"}
    sectors = [
        r[0]
        for r in await db.fetch("SELECT sector FROM innovations GROUP BY 1 ORDER BY count(*) DESC")
    ]
    assert sectors[0] == "health"
    assert set(sectors[1:3]) <= {"education", "population_administration"}
    digital = await db.fetchval("SELECT avg(digital::int) FROM innovations")
    assert 0.52 <= digital <= 0.68
    per_innovation = await db.fetch(
        """
        SELECT count(c.id) AS n FROM innovations i
        LEFT JOIN commitments c ON c.innovation_id = i.id
        WHERE i.status = 'published' GROUP BY i.id
        """
    )
    counts = sorted(r["n"] for r in per_innovation)
    assert 2.6 <= sum(counts) / len(counts) <= 3.6  # about three per published innovation
    assert sum(n <= 2 for n in counts) / len(counts) >= 0.65  # most have none to two
    assert counts[-1] >= 40  # and a few very many
    assert await db.fetchval("SELECT count(*) FROM commitments WHERE status <> 'committed'")


async def test_innovations_carry_their_institutions_region_and_replications(
    db: asyncpg.Connection,
) -> None:
    assert not await _violations(
        db,
        """
        SELECT i.id FROM innovations i JOIN institutions s ON s.id = i.institution_id
        WHERE i.region_code IS DISTINCT FROM s.region_code
           OR i.province_code IS DISTINCT FROM s.province_code
           OR i.replication_count <> (SELECT count(*) FROM commitments c
                                      WHERE c.innovation_id = i.id AND c.status <> 'cancelled')
           OR i.replica_of_id = i.id
           OR i.launched_on > current_date
           OR i.version <> CASE WHEN i.status = 'withdrawn' THEN 2 ELSE 1 END
        """,
    )
    assert not await _violations(
        db,
        """
        SELECT a.id FROM awards a JOIN innovations i ON i.id = a.innovation_id
        WHERE i.status <> 'published' OR a.created_at < i.created_at
           OR a.created_at > now()
        """,
    )
    kipp = {r[0] for r in await db.fetch("SELECT tier FROM awards WHERE competition = 'KIPP'")}
    assert kipp
    assert kipp <= {t.value for t in KIPP_TIERS}


async def test_every_foreign_key_holds(db: asyncpg.Connection) -> None:
    """The load skips the foreign-key checks; the data keeps them all the same."""
    keys = await db.fetch(
        """
        SELECT c.conname, c.conrelid::regclass::text AS t, c.confrelid::regclass::text AS r,
               a.attname AS col, b.attname AS ref
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        JOIN pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = c.confkey[1]
        WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
          AND cardinality(c.conkey) = 1
        """
    )
    assert len(keys) > 10
    for k in keys:
        broken = await db.fetchval(
            f"""
            SELECT count(*) FROM {k["t"]} x WHERE x.{k["col"]} IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM {k["r"]} y WHERE y.{k["ref"]} = x.{k["col"]})
            """  # noqa: S608 - names from the catalog
        )
        assert broken == 0, k["conname"]


async def test_commitments_follow_the_rules_of_the_service(db: asyncpg.Connection) -> None:
    assert not await _violations(
        db,
        """
        SELECT c.id FROM commitments c
        JOIN institutions a ON a.id = c.adopter_institution_id
        JOIN innovations i ON i.id = c.innovation_id
        JOIN replication_programs p ON p.id = c.program_id
        WHERE c.adopter_region_code IS DISTINCT FROM a.region_code
           OR c.adopter_province_code IS DISTINCT FROM a.province_code
           OR c.origin_province_code IS DISTINCT FROM i.province_code
           OR i.status <> 'published'
           OR a.id = i.institution_id OR a.region_code = i.region_code
           OR (p.province_code IS NOT NULL AND p.province_code <> a.province_code)
           OR extract(year FROM c.signed_on) <> p.fiscal_year
           OR c.target_launch_on < c.signed_on
           OR c.created_at < i.created_at OR c.created_at < p.created_at
           OR c.updated_at < c.created_at OR c.updated_at > now()
           OR (c.status IN ('stalled', 'cancelled') AND c.status_reason IS NULL)
        """,
    )


async def test_commitments_derived_columns_match_their_reports_and_items(
    db: asyncpg.Connection,
) -> None:
    # The latest report (by as_of), the last one to come in, and the progress as the
    # service computes it (weighted mean of the items, else the latest percentage).
    assert not await _violations(
        db,
        """
        WITH latest AS (
            SELECT DISTINCT ON (commitment_id) commitment_id, as_of, percent_complete
            FROM progress_reports ORDER BY commitment_id, as_of DESC, created_at DESC
        ), last AS (
            SELECT commitment_id, max(created_at) AS at, count(*) AS n
            FROM progress_reports GROUP BY commitment_id
        )
        SELECT c.id, c.status, t.n FROM commitments c
        LEFT JOIN latest l ON l.commitment_id = c.id
        LEFT JOIN last t ON t.commitment_id = c.id
        WHERE c.latest_percent IS DISTINCT FROM l.percent_complete
           OR c.latest_as_of IS DISTINCT FROM l.as_of
           OR c.last_report_at IS DISTINCT FROM t.at
           OR c.last_report_on IS DISTINCT FROM (t.at AT TIME ZONE 'UTC')::date
           OR (t.n IS NOT NULL AND c.status = 'committed')
           OR (t.n IS NULL AND c.status IN ('in_progress', 'launched', 'sustained'))
           OR c.progress <> coalesce(
                (SELECT round(sum(a.weight * a.progress) / sum(a.weight), 2)
                 FROM action_items a WHERE a.commitment_id = c.id),
                c.latest_percent, 0)
           OR (c.status IN ('launched', 'sustained') AND c.progress <> 100)
        """,
    )
    # The day `stale` counts from, for exactly the commitments that are not final.
    assert not await _violations(
        db,
        """
        SELECT coalesce(c.id, a.commitment_id) FROM commitments c
        FULL JOIN commitment_activity a ON a.commitment_id = c.id
        WHERE (c.status IN ('sustained', 'cancelled')) IS DISTINCT FROM (a.commitment_id IS NULL)
           OR a.active_on IS DISTINCT FROM greatest(c.signed_on, c.last_report_on)
              AND c.status NOT IN ('sustained', 'cancelled')
        """,
    )
    # Each item as the latest report's item update left it (untouched without reports).
    assert not await _violations(
        db,
        """
        SELECT a.id FROM action_items a
        JOIN commitments c ON c.id = a.commitment_id
        LEFT JOIN LATERAL (
            SELECT u.doc FROM progress_reports r,
                 jsonb_array_elements(r.item_updates) AS u(doc)
            WHERE r.commitment_id = c.id AND r.as_of = c.latest_as_of
              AND (u.doc ->> 'item_id')::uuid = a.id
        ) x ON true
        WHERE CASE WHEN c.latest_as_of IS NULL
                   THEN a.progress <> 0 OR a.status <> 'todo' OR a.version <> 1
                   ELSE x.doc IS NULL OR (x.doc ->> 'progress')::int <> a.progress
                        OR x.doc ->> 'status' <> a.status OR a.version <> 2 END
           OR (a.status = 'done') <> (a.progress = 100)
           OR (a.status = 'done') <> (a.completed_on IS NOT NULL)
           OR a.completed_on <> c.latest_as_of
           OR a.due_on < c.signed_on
        """,
    )
    # Only the latest report carries item updates.
    assert not await _violations(
        db,
        """
        SELECT r.id FROM progress_reports r JOIN commitments c ON c.id = r.commitment_id
        WHERE r.item_updates <> '[]' AND r.as_of <> c.latest_as_of
        """,
    )


async def test_reports_are_dated_after_signing_and_rise(db: asyncpg.Connection) -> None:
    assert not await _violations(
        db,
        """
        SELECT r.id FROM progress_reports r JOIN commitments c ON c.id = r.commitment_id
        WHERE r.as_of < c.signed_on OR r.as_of > current_date
           OR r.created_at < c.created_at OR r.created_at > now()
           OR r.created_at < r.as_of
        """,
    )
    assert not await _violations(
        db,
        """
        SELECT * FROM (
            SELECT commitment_id, as_of, percent_complete, created_at,
                   lag(percent_complete) OVER w AS previous_percent,
                   lag(as_of) OVER w AS previous_as_of,
                   lag(created_at) OVER w AS previous_created_at
            FROM progress_reports
            WINDOW w AS (PARTITION BY commitment_id ORDER BY as_of)
        ) x
        WHERE percent_complete < previous_percent OR as_of = previous_as_of
           OR created_at < previous_created_at
        """,
    )
    # Time-ordered ids, as the service makes them.
    assert not await _violations(
        db,
        """
        SELECT id FROM progress_reports
        WHERE substr(id::text, 15, 1) <> '7'
           OR ('x' || lpad(replace(left(id::text, 13), '-', ''), 16, '0'))::bit(64)::bigint
              <> (extract(epoch FROM created_at) * 1000)::bigint
        """,
    )


async def test_the_event_log_explains_every_record_and_status(db: asyncpg.Connection) -> None:
    for entity, table, action in (
        ("innovation", "innovations", "innovation.created"),
        ("commitment", "commitments", "commitment.created"),
        ("action_item", "action_items", "action_item.created"),
        ("institution", "institutions", "institution.created"),
        ("award", "awards", "award.created"),
        ("replication_program", "replication_programs", "program.created"),
    ):
        missing = await db.fetchval(
            f"""
            SELECT count(*) FROM {table} t
            WHERE (SELECT count(*) FROM events e WHERE e.entity = '{entity}'
                   AND e.entity_id = t.id::text AND e.action = '{action}') <> 1
            """  # noqa: S608 - constants
        )
        assert missing == 0, table
    # Ids follow time; nothing happens in the future.
    assert not await _violations(
        db,
        """
        SELECT * FROM (SELECT id, at, lag(at) OVER (ORDER BY id) AS previous FROM events) x
        WHERE at < previous OR at > now()
        """,
    )
    # Each commitment's transitions follow the state machine from `committed` to its status,
    # and its version counts its changes: items added, reports, status changes by hand.
    rows = await db.fetch(
        """
        SELECT c.id, c.status, c.version,
               (SELECT count(*) FROM action_items a WHERE a.commitment_id = c.id) AS items,
               (SELECT count(*) FROM progress_reports r WHERE r.commitment_id = c.id)
                   AS reports,
               coalesce((SELECT array_agg(ARRAY[e.changes ->> 'from', e.changes ->> 'to',
                                                e.changes ->> 'reason'] ORDER BY e.id)
                         FROM events e
                         WHERE e.entity = 'commitment' AND e.entity_id = c.id::text
                           AND e.action = 'commitment.transitioned'), '{}') AS moves
        FROM commitments c
        """
    )
    for r in rows:
        state = CommitmentStatus.committed
        for move_from, move_to, _ in r["moves"]:
            assert move_from == state.value, r
            assert CommitmentStatus(move_to) in TRANSITIONS[state], r
            state = CommitmentStatus(move_to)
        assert state.value == r["status"], r
        by_hand = sum(reason != "first progress report" for _, _, reason in r["moves"])
        assert r["version"] == 1 + r["items"] + r["reports"] + by_hand, r


async def test_search_terms_find_their_share(db: asyncpg.Connection) -> None:
    async def share(term: str) -> float:
        n = await db.fetchval(
            """
            SELECT count(*) FROM innovations
            WHERE search_vector @@ websearch_to_tsquery('indonesian', $1)
               OR title ILIKE '%' || $1 || '%'
            """,
            term,
        )
        return float(n) / SIZE

    for term in SEARCH_TERMS["broad"]:
        assert await share(term) > 0.4, term
    for term in SEARCH_TERMS["common"]:
        assert 0.03 <= await share(term) <= 0.13, term
    for term in SEARCH_TERMS["medium"]:
        assert 0.001 <= await share(term) <= 0.03, term
    for term in SEARCH_TERMS["rare"]:
        assert await share(term) <= 0.003, term


async def test_the_same_numbers_give_the_same_records(
    seeded: Seeded, db: asyncpg.Connection
) -> None:
    """Deterministic: the smaller data set is the larger one's first records, ids included."""
    small = await asyncpg.connect(**connect_kwargs(seeded.small))
    try:
        for table, columns in (
            ("innovations", "id, title, summary, institution_id, status, launched_on, created_at"),
            ("commitments", "id, program_id, adopter_institution_id, status, progress, version"),
            ("progress_reports", "id, commitment_id, as_of, percent_complete, item_updates"),
            ("action_items", "id, commitment_id, title, weight, progress, status"),
            ("institutions", "id, name, kind, region_code, parent_id"),
        ):
            theirs = await small.fetch(f"SELECT {columns} FROM {table} ORDER BY id")  # noqa: S608
            ids = [r["id"] for r in theirs]
            ours = await db.fetch(
                f"SELECT {columns} FROM {table} WHERE id = ANY($1) ORDER BY id",  # noqa: S608
                ids,
            )
            assert theirs, table
            assert [tuple(r) for r in ours] == [tuple(r) for r in theirs], table
        # Innovations that got no new commitments are the same, replication counts included.
        assert await small.fetchval("SELECT count(*) FROM innovations") == SMALL
    finally:
        await small.close()


@pytest.fixture
async def api(seeded: Seeded) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """The app on the seeded database, with an admin key."""
    engine = create_async_engine(seeded.url, pool_size=2, max_overflow=0)
    app = create_app()
    app.state.db = Database.from_engine(engine)
    async with AsyncSession(engine, expire_on_commit=False) as s, s.begin():
        _, key = await create_key(s, name="seed test", role=Role.admin, province_code=None)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, {"Authorization": f"Bearer {key}"}
    finally:
        await engine.dispose()


async def test_the_service_reads_the_seeded_records(
    api: tuple[httpx.AsyncClient, dict[str, str]], db: asyncpg.Connection
) -> None:
    client, admin = api
    popular = await db.fetchrow(
        "SELECT id, replication_count FROM innovations ORDER BY replication_count DESC LIMIT 1"
    )
    r = await client.get(f"/api/v1/innovations/{popular['id']}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["replications"] == popular["replication_count"]
    by_status = dict(
        await db.fetch(
            "SELECT status, count(*) FROM commitments WHERE innovation_id = $1 GROUP BY 1",
            popular["id"],
        )
    )
    assert body["replications_by_status"] == by_status

    r = await client.get("/api/v1/innovations", params={"q": "stunting", "include_total": "true"})
    assert r.status_code == 200, r.text
    assert r.json()["total"] > 0

    commitment = await db.fetchrow(
        """
        SELECT c.* FROM commitments c
        WHERE c.status = 'launched'
          AND EXISTS (SELECT 1 FROM action_items a WHERE a.commitment_id = c.id)
        ORDER BY c.id LIMIT 1
        """
    )
    r = await client.get(f"/api/v1/commitments/{commitment['id']}", headers=admin)
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["progress"] == float(commitment["progress"]) == 100
    assert detail["latest_report"]["percent_complete"] == commitment["latest_percent"]
    assert all(i["status"] == "done" for i in detail["action_items"])
    # The ETag carries the record's version in front (`"3-9f1c…"`).
    assert r.headers["etag"].strip('W/"').partition("-")[0] == str(commitment["version"])

    r = await client.get(
        f"/api/v1/commitments/{commitment['id']}/progress-reports", params={"limit": 100}
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["items"]) == await db.fetchval(
        "SELECT count(*) FROM progress_reports WHERE commitment_id = $1", commitment["id"]
    )


async def test_the_service_writes_on_the_seeded_records(
    api: tuple[httpx.AsyncClient, dict[str, str]], db: asyncpg.Connection
) -> None:
    client, admin = api
    row = await db.fetchrow(
        """
        SELECT c.id, c.version, a.id AS item FROM commitments c
        JOIN action_items a ON a.commitment_id = c.id
        WHERE c.status = 'in_progress' ORDER BY c.id, a.due_on LIMIT 1
        """
    )
    report = {
        "as_of": date.today().isoformat(),  # noqa: DTZ011
        "percent_complete": 99,
        "item_updates": [{"item_id": str(row["item"]), "progress": 100, "status": "done"}],
        "narrative": "Uji setelah seed.",
    }
    r = await client.post(
        f"/api/v1/commitments/{row['id']}/progress-reports", json=report, headers=admin
    )
    assert r.status_code == 201, r.text
    after = await db.fetchrow("SELECT * FROM commitments WHERE id = $1", row["id"])
    assert after["latest_percent"] == 99
    assert after["version"] == row["version"] + 1

    launched = await db.fetchval(
        "SELECT id FROM commitments WHERE status = 'launched' ORDER BY id DESC LIMIT 1"
    )
    r = await client.post(
        f"/api/v1/commitments/{launched}/transitions", json={"to": "sustained"}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "sustained"
