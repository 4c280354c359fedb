"""The assessments list reads its page in index order, for every sort and filter, on 20,000
assessments (the statements explained are the ones the service sends, with their parameters).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.core.pagination import encode_cursor
from app.sustainability import service
from app.sustainability.repository import AssessmentFilters
from tests import plans
from tests.plans import explain_sent, nodes, scans_of, shown, statements_sent

INNOVATIONS = 2_000
PERIODS = (2015, 2024)  # ten periods each: 20,000 assessments

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
        """
        INSERT INTO sustainability_assessments (
            id, innovation_id, source_innovation_id, province_code, period, operating,
            survived_leadership_change, legal_basis, budget_years, in_regional_plan,
            in_performance_indicators, has_sop, staff_count, beneficiaries_count, monitoring,
            assessed_on, score, verdict, rubric_version)
        SELECT gen_random_uuid(), i.id, i.id, i.province_code, p, true, 'yes', 'decree', 1,
               true, false, true, 2, 100, 'internal',
               make_date(p + 1, 1 + abs(hashtext(i.id::text || p)) % 12, 1),
               s.score,
               CASE WHEN s.score >= 70 THEN 'sustained' WHEN s.score >= 35 THEN 'at_risk'
                    ELSE 'discontinued' END,
               1
        FROM innovations i, generate_series(CAST(:first AS int), CAST(:last AS int)) AS p,
             LATERAL (SELECT (abs(hashtext(p || i.id::text)) % 10001) / 100.0 AS score) s
        """
    ),
]


@pytest.fixture(scope="module")
async def seeded(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The rows, in a transaction rolled back at the end of the module (ANALYZE inside it)."""
    async with plans.seeded(
        engine,
        SEED,
        {"innovations": INNOVATIONS, "first": PERIODS[0], "last": PERIODS[1]},
        ("institutions", "innovations", "sustainability_assessments"),
    ) as conn:
        yield conn


@pytest.fixture
def captured(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    with statements_sent(engine) as statements:
        yield statements


async def explain_page(
    conn: AsyncConnection,
    captured: list[tuple[str, Any]],
    filters: AssessmentFilters,
    sort: str = "-period",
    cursor: str | None = None,
) -> dict[str, Any]:
    async with AsyncSession(bind=conn, join_transaction_mode="create_savepoint") as session:
        page = await service.list_assessments(
            session, filters, sort=sort, cursor=cursor, limit=50, include_total=False
        )
    assert page.items
    return await explain_sent(conn, captured, "FROM sustainability_assessments JOIN")


def on_assessments(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return scans_of(plan, "sustainability_assessments")


def assert_read_in_order_of(plan: dict[str, Any], *indexes: str) -> dict[str, Any]:
    return plans.assert_read_in_order_of(plan, "sustainability_assessments", *indexes)


PERIOD_INDEX = "ix_sustainability_assessments_period_id"


@pytest.mark.parametrize(
    ("filters", "sort", "indexes"),
    [
        (AssessmentFilters(), "-period", [PERIOD_INDEX]),
        (AssessmentFilters(), "-assessed_on", ["ix_sustainability_assessments_assessed_on_id"]),
        (
            AssessmentFilters(province="33"),
            "-period",
            [PERIOD_INDEX, "ix_sustainability_assessments_province_code_period_id"],
        ),
        (
            AssessmentFilters(verdict="discontinued"),
            "-period",
            [PERIOD_INDEX, "ix_sustainability_assessments_verdict_period_id"],
        ),
    ],
    ids=["default", "assessed_on", "province", "verdict"],
)
async def test_list_page_is_read_in_index_order(
    seeded: AsyncConnection,
    captured: list[tuple[str, Any]],
    filters: AssessmentFilters,
    sort: str,
    indexes: list[str],
) -> None:
    plan = await explain_page(seeded, captured, filters, sort)

    assert_read_in_order_of(plan, *indexes)


async def test_deep_page_starts_inside_the_period_index(
    seeded: AsyncConnection, captured: list[tuple[str, Any]]
) -> None:
    cursor = encode_cursor("-period", [2019, uuid.UUID(int=2**127)])

    plan = await explain_page(seeded, captured, AssessmentFilters(), cursor=cursor)

    scan = assert_read_in_order_of(plan, PERIOD_INDEX)
    assert "ROW(" in scan.get("Index Cond", ""), shown(plan)


async def test_one_innovations_assessments_use_its_subject_index(
    seeded: AsyncConnection, captured: list[tuple[str, Any]]
) -> None:
    innovation = (await seeded.execute(text("SELECT id FROM innovations LIMIT 1"))).scalar_one()

    plan = await explain_page(seeded, captured, AssessmentFilters(innovation_id=innovation))

    assert "Seq Scan" not in {n["Node Type"] for n in on_assessments(plan)}, shown(plan)
    used = {n.get("Index Name") for n in nodes(plan)}
    # Any index that leads with innovation_id serves it (the second is the statistics', the
    # third the due list's kept rows').
    leading_innovation_id = {
        "uq_sustainability_assessments_innovation_id_period",
        "ix_sustainability_assessments_latest",
        "ix_sustainability_assessments_innovation_id_assessed_on",
    }
    assert used & leading_innovation_id, shown(plan)
