"""The commitments list by signing date reads its page in index order, and every filter it
offers has an index, on 20,000 commitments (the statements explained are the ones the service
sends, with their parameters).

The sort by last change (`-updated_at`) has no index on purpose: an index on `updated_at` makes
every update of a commitment by a progress report a non-HOT update (a new entry in each of the
table's indexes), which took batch ingestion at 1M innovations from 16 to 2 batches a second.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.core.pagination import encode_cursor
from app.replication import service
from app.replication.repository import CommitmentFilters
from tests import plans
from tests.plans import explain_sent, scans_of, shown, statements_sent

INNOVATIONS = 2_000
COMMITMENTS = 20_000

SEED = [
    text(
        "INSERT INTO institutions (id, name, kind, region_code)"
        " SELECT gen_random_uuid(), 'Dinas Uji ' || code, 'regional_agency', code"
        " FROM regions WHERE level <> 'province'"
    ),
    text(
        """
        WITH owners AS (SELECT array_agg(id ORDER BY name) AS ids FROM institutions)
        INSERT INTO innovations (id, title, sector, form, initiator, stage, status,
                                 institution_id)
        SELECT gen_random_uuid(), 'Inovasi ' || g, 'health', 'public_service', 'agency',
               'implementation', 'published', owners.ids[1 + g % cardinality(owners.ids)]
        FROM owners, generate_series(1, CAST(:innovations AS int)) AS g
        """
    ),
    text(
        "INSERT INTO replication_programs (id, name, province_code, fiscal_year, status)"
        " SELECT gen_random_uuid(), 'Replikasi Inovasi ' || name, code, 2022, 'active'"
        " FROM regions WHERE level = 'province'"
    ),
    # Commitment g: innovation g mod 2,000, adopter 7,919·g mod the institutions (distinct
    # pairs), in its province's programme; statuses in turn; last changed at a time that does
    # not follow the rows' order.
    text(
        """
        WITH adopters AS (
            SELECT array_agg(id ORDER BY name) AS ids,
                   array_agg(region_code ORDER BY name) AS codes
            FROM institutions
        ), innovations AS (SELECT array_agg(id ORDER BY id) AS ids FROM innovations)
        INSERT INTO commitments (id, program_id, innovation_id, adopter_institution_id,
                                 adopter_region_code, adopter_province_code,
                                 origin_province_code, signed_on, target_launch_on, status,
                                 updated_at)
        SELECT gen_random_uuid(), p.id, n.ids[1 + g % cardinality(n.ids)], a.ids[k],
               a.codes[k], left(a.codes[k], 2), '32', date '2020-01-01' + g % 1500,
               date '2021-01-01' + g % 1500,
               (ARRAY['committed', 'in_progress', 'stalled', 'launched', 'sustained',
                      'cancelled'])[1 + g % 6],
               now() - (abs(hashtext(g::text)) % 1000000) * interval '1 minute'
        FROM adopters a
        CROSS JOIN innovations n
        CROSS JOIN generate_series(1, CAST(:commitments AS int)) AS g
        CROSS JOIN LATERAL (SELECT 1 + (7919 * g) % cardinality(a.ids) AS k) pick
        JOIN replication_programs p ON p.province_code = left(a.codes[pick.k], 2)
        """
    ),
]


@pytest.fixture(scope="module")
async def seeded(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The rows, in a transaction rolled back at the end of the module (ANALYZE inside it)."""
    async with plans.seeded(
        engine,
        SEED,
        {"innovations": INNOVATIONS, "commitments": COMMITMENTS},
        ("institutions", "innovations", "replication_programs", "commitments"),
    ) as conn:
        yield conn


@pytest.fixture
def captured(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    with statements_sent(engine) as statements:
        yield statements


async def explain_page(
    conn: AsyncConnection,
    captured: list[tuple[str, Any]],
    filters: CommitmentFilters,
    sort: str = "-signed_on",
    cursor: str | None = None,
) -> dict[str, Any]:
    async with AsyncSession(bind=conn, join_transaction_mode="create_savepoint") as session:
        page = await service.list_commitments(
            session, filters, sort=sort, cursor=cursor, limit=50, include_total=False
        )
    assert page.items
    return await explain_sent(conn, captured, "FROM commitments JOIN")


def on_commitments(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return scans_of(plan, "commitments")


def assert_read_in_order_of(plan: dict[str, Any], *indexes: str) -> dict[str, Any]:
    return plans.assert_read_in_order_of(plan, "commitments", *indexes)


SIGNED_ON_INDEX = "ix_commitments_signed_on_id"


@pytest.mark.parametrize(
    ("filters", "sort", "indexes"),
    [
        (CommitmentFilters(), "-signed_on", [SIGNED_ON_INDEX]),
        (
            CommitmentFilters(province="33"),
            "-signed_on",
            [SIGNED_ON_INDEX, "ix_commitments_adopter_province_code_signed_on_id"],
        ),
        (
            CommitmentFilters(status="in_progress"),
            "-signed_on",
            [SIGNED_ON_INDEX, "ix_commitments_status_signed_on_id"],
        ),
    ],
    ids=["default", "province", "status"],
)
async def test_list_page_is_read_in_index_order(
    seeded: AsyncConnection,
    captured: list[tuple[str, Any]],
    filters: CommitmentFilters,
    sort: str,
    indexes: list[str],
) -> None:
    plan = await explain_page(seeded, captured, filters, sort)

    assert_read_in_order_of(plan, *indexes)


async def test_deep_page_starts_inside_the_signing_index(
    seeded: AsyncConnection, captured: list[tuple[str, Any]]
) -> None:
    cursor = encode_cursor("-signed_on", [date(2022, 1, 1), uuid.UUID(int=2**127)])

    plan = await explain_page(seeded, captured, CommitmentFilters(), "-signed_on", cursor)

    scan = assert_read_in_order_of(plan, SIGNED_ON_INDEX)
    assert "ROW(" in scan.get("Index Cond", ""), shown(plan)


async def test_stale_page_starts_its_walk_of_the_signing_index_at_the_cutoff(
    seeded: AsyncConnection, captured: list[tuple[str, Any]]
) -> None:
    """Recently signed commitments are seldom stale: a walk from the newest probed 420,995 of
    them for a page at 1M (2.9 s); from the cutoff, 205 (9 ms)."""
    plan = await explain_page(seeded, captured, CommitmentFilters(stale=True), "-signed_on")

    scan = assert_read_in_order_of(plan, SIGNED_ON_INDEX)
    assert "signed_on <" in scan.get("Index Cond", ""), shown(plan)


@pytest.mark.parametrize(
    "filters",
    [
        CommitmentFilters(province="51"),
        CommitmentFilters(status="cancelled"),
        CommitmentFilters(overdue=True),
        CommitmentFilters(stale=True),
        CommitmentFilters(program_id=uuid.UUID(int=0)),
        CommitmentFilters(innovation_id=uuid.UUID(int=0)),
        CommitmentFilters(adopter_id=uuid.UUID(int=0)),
    ],
    ids=["province", "status", "overdue", "stale", "program", "innovation", "adopter"],
)
async def test_every_filter_reads_an_index(
    seeded: AsyncConnection,
    captured: list[tuple[str, Any]],
    filters: CommitmentFilters,
) -> None:
    filters = await with_real_ids(seeded, filters)

    plan = await explain_page(seeded, captured, filters)

    scans = on_commitments(plan)
    assert scans, shown(plan)
    assert "Seq Scan" not in {n["Node Type"] for n in scans}, shown(plan)


async def with_real_ids(conn: AsyncConnection, filters: CommitmentFilters) -> CommitmentFilters:
    """The placeholder ids of `filters` replaced by those of the first commitment."""
    row = (
        await conn.execute(
            text(
                "SELECT program_id, innovation_id, adopter_institution_id FROM commitments"
                " ORDER BY id LIMIT 1"
            )
        )
    ).one()
    placeholder = uuid.UUID(int=0)
    return CommitmentFilters(
        program_id=row.program_id if filters.program_id == placeholder else None,
        innovation_id=row.innovation_id if filters.innovation_id == placeholder else None,
        adopter_id=row.adopter_institution_id if filters.adopter_id == placeholder else None,
        province=filters.province,
        status=filters.status,
        overdue=filters.overdue,
        stale=filters.stale,
    )
