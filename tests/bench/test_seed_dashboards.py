"""The bench seed's sustainability assessments and scaling proposals are what the service would
have stored, and its inserts fill the dashboards' summaries (`bench/seed.py`)."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from decimal import Decimal
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
from app.main import create_app
from app.models.scaling import OPEN_STATUSES
from app.scaling.schemas import ProposalStatus
from app.scaling.service import SCALE_RANK, TRANSITIONS
from app.sustainability.schemas import RubricDefinition
from app.sustainability.service import score
from bench.seed import INDICATOR_DRAWS, seed
from tests.conftest import drop_database
from tests.harness import fresh_database

SIZE = 5_000


@pytest.fixture(scope="module")
def seeded(server: URL) -> Iterator[URL]:
    name = f"inovasi_test_seed_dashboards_{os.getpid()}"
    url = fresh_database(server, name)
    try:
        asyncio.run(seed(url, SIZE))
        yield url
    finally:
        asyncio.run(drop_database(server, name))


@pytest.fixture
async def db(seeded: URL) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(**connect_kwargs(seeded))
    try:
        yield conn
    finally:
        await conn.close()


async def test_assessments_are_scored_as_the_service_scores_them(db: asyncpg.Connection) -> None:
    definition = await db.fetchval(
        "SELECT definition FROM sustainability_rubrics ORDER BY version DESC LIMIT 1"
    )
    rubric = RubricDefinition.model_validate(json.loads(definition))
    rows = await db.fetch("SELECT * FROM sustainability_assessments")
    assert len(rows) > SIZE // 10
    verdicts = set()
    for row in rows:
        scored = score(rubric, dict(row))
        assert row["score"] == scored.score, row["id"]
        assert row["verdict"] == scored.verdict.value, row["id"]
        assert json.loads(row["breakdown"]) == [p.model_dump() for p in scored.breakdown]
        assert row["assessed_on"].year == row["period"]
        verdicts.add((row["innovation_id"] is None, row["verdict"]))
    # Every verdict, of origins and of replicas.
    assert len(verdicts) == 6
    assert not await db.fetch(
        """
        SELECT 1 FROM sustainability_assessments a
        LEFT JOIN innovations i ON i.id = a.innovation_id
        LEFT JOIN commitments c ON c.id = a.commitment_id
        WHERE a.source_innovation_id <> coalesce(i.id, c.innovation_id)
           OR a.province_code IS DISTINCT FROM coalesce(i.province_code, c.adopter_province_code)
           OR i.status <> 'published' OR c.status NOT IN ('launched', 'sustained')
           OR a.assessed_on > current_date
        """
    )


async def test_no_launched_commitment_was_left_with_a_sustained_verdict(
    db: asyncpg.Connection,
) -> None:
    """The service moves a launched commitment to sustained with such a verdict."""
    assert not await db.fetch(
        """
        SELECT 1 FROM sustainability_assessments a JOIN commitments c ON c.id = a.commitment_id
        WHERE a.verdict = 'sustained'
          AND (c.status = 'launched'
               OR a.created_at < (SELECT max(e.at) FROM events e
                                  WHERE e.entity_id = c.id::text
                                    AND e.changes ->> 'to' = 'sustained'))
        """
    )


async def test_proposals_follow_the_service_rules(db: asyncpg.Connection) -> None:
    rows = await db.fetch(
        """
        SELECT p.*, i.scale, i.status AS innovation_status, i.version AS innovation_version,
               (SELECT array_agg(e.action ORDER BY e.id) FROM events e
                WHERE e.entity_id = p.id::text) AS actions
        FROM scaling_proposals p JOIN innovations i ON i.id = p.innovation_id
        """
    )
    statuses = {"submitted", "under_review", *TRANSITIONS[ProposalStatus.under_review]}
    assert rows
    assert {r["status"] for r in rows} <= statuses
    for r in rows:
        assert r["innovation_status"] == "published"
        assert (r["target_scale"] == "provincial") == (r["target_province_code"] is not None)
        moves = ["scaling_proposal.created"] + ["scaling_proposal.review_started"] * (
            r["reviewed_at"] is not None
        )
        moves += ["scaling_proposal.decided"] * (r["decided_at"] is not None)
        assert r["actions"] == moves, r["id"]
        assert r["version"] == len(moves)
        assert (r["outcome"] is not None) == (r["status"] not in ("submitted", "under_review"))
        evidence = r["evidence"] and json.loads(r["evidence"])
        assert evidence["criteria_met"] == sum(c["met"] for c in evidence["criteria"].values())
        if r["status"] == "approved":  # the approval raised the innovation's scale
            assert r["scale"] == r["target_scale"]
            assert r["innovation_version"] == 2
        else:
            assert SCALE_RANK[r["scale"]] < SCALE_RANK[r["target_scale"]]
    open_targets = [
        (r["innovation_id"], r["target_scale"], r["target_province_code"])
        for r in rows
        if r["status"] in OPEN_STATUSES
    ]
    assert len(open_targets) == len(set(open_targets))


async def test_the_inserts_filled_the_summaries(db: asyncpg.Connection) -> None:
    assert await db.fetchval("SELECT sum(n) FROM innovation_tallies") == await db.fetchval(
        "SELECT count(*) FROM innovations"
    )
    for tally in ("commitment_tallies", "commitment_flow_tallies", "commitment_adopter_tallies"):
        assert (
            await db.fetchval(f"SELECT sum(progress_sum) FROM {tally}")  # noqa: S608
            == (await db.fetchval("SELECT sum(progress) FROM commitments"))
            > Decimal(0)
        ), tally
    assert await db.fetchval("SELECT sum(n) FROM verdict_tallies") == await db.fetchval(
        "SELECT count(DISTINCT (innovation_id, commitment_id)) FROM sustainability_assessments"
    )


@pytest.fixture
async def api(seeded: URL) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """The app on the seeded database, with an admin key."""
    engine = create_async_engine(seeded, pool_size=2, max_overflow=0)
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


def _shape(value: Any) -> Any:
    """The keys of a JSON document, nested (lists by their first element)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return [_shape(value[0])] if isinstance(value, list) and value else type(value).__name__


async def test_the_service_stores_what_the_seed_stored(
    api: tuple[httpx.AsyncClient, dict[str, str]], db: asyncpg.Connection
) -> None:
    """An assessment with a seeded one's values, for the next period, is the same row but for
    its period, dates and ids; its event has the same fields; a proposal's evidence and event
    have the shape of the seeded ones."""
    client, admin = api
    seeded = await db.fetchrow(
        """
        SELECT a.* FROM sustainability_assessments a
        WHERE a.innovation_id IS NOT NULL AND a.period = 2025 AND NOT EXISTS (
            SELECT 1 FROM sustainability_assessments b
            WHERE b.innovation_id = a.innovation_id AND b.period = 2026)
        ORDER BY a.id LIMIT 1
        """
    )
    fields = [*INDICATOR_DRAWS, "operating", "incentive_idr", "notes", "evidence_urls"]
    body = {k: seeded[k] for k in fields} | {
        "innovation_id": str(seeded["innovation_id"]),
        "period": 2026,
        "assessed_on": str(date.today()),  # noqa: DTZ011
    }
    r = await client.post(
        "/api/v1/sustainability-assessments",
        json=body,
        headers={**admin, "Idempotency-Key": "seed-test-assessment"},
    )
    assert r.status_code == 201, r.text
    stored = await db.fetchrow(
        "SELECT * FROM sustainability_assessments WHERE id = $1", uuid.UUID(r.json()["id"])
    )
    differing = {"id", "period", "assessed_on", "created_at", "updated_at", "assessed_by_key_id"}
    assert {k: v for k, v in stored.items() if k not in differing} == {
        k: v for k, v in seeded.items() if k not in differing
    }
    events = {
        e["entity_id"]: json.loads(e["changes"])
        for e in await db.fetch(
            "SELECT entity_id, changes FROM events WHERE entity_id = ANY($1::text[])",
            [str(stored["id"]), str(seeded["id"])],
        )
    }
    assert _shape(events[str(stored["id"])]) == _shape(events[str(seeded["id"])])

    proposal = await db.fetchrow(
        "SELECT * FROM scaling_proposals WHERE status = 'rejected' ORDER BY id LIMIT 1"
    )
    if proposal is None:
        pytest.skip("no rejected proposal at this size")
    body = {k: proposal[k] for k in ("target_scale", "target_province_code", "rationale")}
    body["innovation_id"] = str(proposal["innovation_id"])
    r = await client.post(
        "/api/v1/scaling-proposals",
        json=body,
        headers={**admin, "Idempotency-Key": "seed-test-proposal"},
    )
    assert r.status_code == 201, r.text
    made = await db.fetchrow(
        "SELECT p.evidence, e.changes FROM scaling_proposals p"
        " JOIN events e ON e.entity_id = p.id::text WHERE p.id = $1",
        uuid.UUID(r.json()["id"]),
    )
    seeded_event = await db.fetchval(
        "SELECT changes FROM events WHERE entity_id = $1 AND action = 'scaling_proposal.created'",
        str(proposal["id"]),
    )
    assert _shape(json.loads(made["evidence"])) == _shape(json.loads(proposal["evidence"]))
    assert set(json.loads(made["changes"])) == set(json.loads(seeded_event))
