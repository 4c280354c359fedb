"""Two transactions writing the same innovation's figures at once both count: the second
trigger waits for the first writer's kept row, then recomputes in a snapshot that sees the
first writer's commit (committed transactions on the real engine; the rows are removed
afterwards)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.dashboards.figures import mismatches

ADOPTERS = ("35.78", "61.71", "73.71")


@pytest.fixture
async def world(engine: AsyncEngine) -> AsyncIterator[dict[str, Any]]:
    ids: dict[str, Any] = {
        "origin": uuid.uuid4(),
        "innovation": uuid.uuid4(),
        "program": uuid.uuid4(),
        "adopters": [uuid.uuid4() for _ in ADOPTERS],
    }
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO institutions (id, name, kind, region_code)"
                " VALUES (:id, :name, 'regional_agency', :region)"
            ),
            [{"id": ids["origin"], "name": f"Dinas Uji {ids['origin']}", "region": "33.74"}]
            + [
                {"id": a, "name": f"Dinas Uji {a}", "region": region}
                for a, region in zip(ids["adopters"], ADOPTERS, strict=True)
            ],
        )
        await conn.execute(
            text(
                "INSERT INTO innovations (id, title, sector, form, initiator, stage, status,"
                " institution_id, launched_on) VALUES (:id, 'Inovasi Uji Serentak', 'health',"
                " 'public_service', 'agency', 'implementation', 'published', :origin,"
                " date '2020-01-01')"
            ),
            {"id": ids["innovation"], "origin": ids["origin"]},
        )
        await conn.execute(
            text(
                "INSERT INTO replication_programs (id, name, fiscal_year)"
                " VALUES (:id, 'Program Uji Serentak', 2024)"
            ),
            {"id": ids["program"]},
        )
    try:
        yield ids
    finally:
        async with engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM sustainability_assessments WHERE innovation_id = :id"),
                {"id": ids["innovation"]},
            )
            await conn.execute(
                text("DELETE FROM commitments WHERE innovation_id = :id"),
                {"id": ids["innovation"]},
            )
            await conn.execute(
                text("DELETE FROM replication_programs WHERE id = :id"), {"id": ids["program"]}
            )
            await conn.execute(
                text("DELETE FROM innovations WHERE id = :id"), {"id": ids["innovation"]}
            )
            await conn.execute(
                text("DELETE FROM institutions WHERE id = ANY(:ids)"),
                {"ids": [ids["origin"], *ids["adopters"]]},
            )


INSERT_COMMITMENT = text(
    "INSERT INTO commitments (id, program_id, innovation_id, adopter_institution_id,"
    " adopter_region_code, adopter_province_code, origin_province_code, signed_on, status)"
    " VALUES (gen_random_uuid(), :program, :innovation, :adopter, :region, :province,"
    " '33', date '2021-01-01', 'launched')"
)


async def test_two_writers_of_one_innovation_both_count(
    engine: AsyncEngine, world: dict[str, Any]
) -> None:
    first_inserted = asyncio.Event()

    async def write(n: int, wait_for: asyncio.Event | None) -> None:
        async with engine.begin() as conn:
            if wait_for is not None:
                await wait_for.wait()
            await conn.execute(
                INSERT_COMMITMENT,
                {
                    "program": world["program"],
                    "innovation": world["innovation"],
                    "adopter": world["adopters"][n],
                    "region": ADOPTERS[n],
                    "province": ADOPTERS[n][:2],
                },
            )
            if wait_for is None:
                first_inserted.set()
                # Hold the transaction open while the second writer's trigger runs.
                await asyncio.sleep(0.5)

    await asyncio.gather(write(0, None), write(1, first_inserted))

    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT replicas, other_provinces FROM innovation_figures"
                    " WHERE innovation_id = :id"
                ),
                {"id": world["innovation"]},
            )
        ).one()
        assert tuple(row) == (2, 2)
        assert await mismatches(conn) == []
