"""The compliance page is one statement, and it reads the OPDs without an innovation in the
order of an institutions index, stopping at the page's end: nothing sorts all the OPDs. On
a government for each of the 552 regions with 40 OPDs each (22,080 OPDs, a fifth of them
with a unit under them) and an innovation for half of them (the statements explained are
the ones the service sends, with their parameters)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.institutionalisation import service
from tests import plans
from tests.plans import nodes, shown, statements_sent

OPDS_PER_GOVERNMENT = 40

SEED = [
    text(
        "INSERT INTO institutions (id, name, kind, region_code)"
        " SELECT gen_random_uuid(), 'Pemerintah ' || name,"
        "  CASE level WHEN 'province' THEN 'provincial_government'"
        "   WHEN 'regency' THEN 'regency_government' ELSE 'city_government' END, code"
        " FROM regions"
    ),
    text(
        "INSERT INTO institutions (id, name, kind, region_code, parent_id)"
        " SELECT gen_random_uuid(), 'Dinas ' || n || ' ' || g.name, 'regional_agency',"
        "  g.region_code, g.id"
        " FROM institutions g CROSS JOIN generate_series(1, CAST(:opds AS int)) AS n"
        " WHERE g.kind LIKE '%government'"
    ),
    text(
        "INSERT INTO institutions (id, name, kind, region_code, parent_id)"
        " SELECT gen_random_uuid(), 'UPTD ' || o.name, 'regional_agency', o.region_code, o.id"
        " FROM institutions o WHERE o.name LIKE 'Dinas %' AND abs(hashtext(o.name)) % 5 = 0"
    ),
    # Half the OPDs have an innovation: in 2024 for most, in another year for the rest.
    text(
        "INSERT INTO innovations (id, title, sector, form, initiator, stage, status,"
        "  institution_id, launched_on)"
        " SELECT gen_random_uuid(), 'Inovasi ' || o.name, 'health', 'public_service', 'agency',"
        "  'implementation', 'published', o.id,"
        "  CASE WHEN abs(hashtext(o.name)) % 3 = 0 THEN date '2019-05-01'"
        "   ELSE date '2024-05-01' END"
        " FROM institutions o WHERE o.name LIKE 'Dinas %' AND abs(hashtext(o.name)) % 2 = 0"
    ),
]


@pytest.fixture(scope="module")
async def seeded(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with plans.seeded(
        engine, SEED, {"opds": OPDS_PER_GOVERNMENT}, ("institutions", "innovations")
    ) as conn:
        yield conn


@pytest.fixture
def captured(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    with statements_sent(engine) as statements:
        yield statements


async def explain_compliance(
    conn: AsyncConnection,
    captured: list[tuple[str, Any]],
    region: str | None,
    cursor: str | None = None,
) -> tuple[dict[str, Any], Any]:
    captured.clear()
    async with AsyncSession(bind=conn, join_transaction_mode="create_savepoint") as session:
        view = await service.compliance(
            session, region=region, year=2024, cursor=cursor, limit=50, include_total=False
        )
    assert view.items, "the page should list OPDs"
    # One statement for the whole page (besides the test's savepoint).
    sent = [s for s, _ in captured if "SAVEPOINT" not in s]
    assert len(sent) == 1, sent
    return await plans.explain_sent(conn, captured, "opd_page"), view


def page_scan(plan: dict[str, Any]) -> dict[str, Any]:
    """The scan that reads the page's OPDs (the institutions aliased `opd_without`), under
    the page's limit."""
    [limit] = [
        n
        for n in nodes(plan)
        if n["Node Type"] == "Limit" and any(c.get("Alias") == "opd_without" for c in nodes(n))
    ]
    [scan] = [n for n in nodes(limit) if n.get("Alias") == "opd_without"]
    return scan


def assert_no_sort(plan: dict[str, Any]) -> None:
    """No sort has the page's OPDs under it. The governments of the region (one row each,
    552 in the whole country) and the regulations in force may be sorted for their own
    lists; which of those the planner sorts depends on the statistics, the OPDs never."""
    sorts = [
        n
        for n in nodes(plan)
        if n["Node Type"] in {"Sort", "Incremental Sort"}
        and any(c.get("Alias") == "opd_without" for c in nodes(n))
    ]
    assert not sorts, shown(plan)


async def test_seed_is_in_place(seeded: AsyncConnection) -> None:
    row = (
        await seeded.execute(
            text(
                "SELECT count(*) FILTER (WHERE name LIKE 'Dinas %'),"
                " count(*) FILTER (WHERE name LIKE 'UPTD %') FROM institutions"
            )
        )
    ).one()
    assert row[0] == 552 * OPDS_PER_GOVERNMENT
    assert row[1] > 3000


@pytest.mark.parametrize(
    ("region", "index"),
    [
        ("33", "ix_institutions_province_code_name_id"),
        ("33.74", "ix_institutions_region_code_name_id"),
        (None, "ix_institutions_name_id"),
    ],
    ids=["province", "city", "country"],
)
async def test_the_page_walks_an_institutions_index_in_order(
    seeded: AsyncConnection,
    captured: list[tuple[str, Any]],
    capsys: pytest.CaptureFixture[str],
    region: str | None,
    index: str,
) -> None:
    plan, view = await explain_compliance(seeded, captured, region)

    scan = page_scan(plan)
    with capsys.disabled():
        print(f"\ncompliance page, region {region}:\n{shown(plan)}")
    assert (scan["Node Type"], scan["Index Name"]) == ("Index Scan", index), shown(plan)
    assert_no_sort(plan)
    assert [i.name for i in view.items] == sorted(i.name for i in view.items)


async def test_a_later_page_starts_at_its_cursor_in_the_index(
    seeded: AsyncConnection, captured: list[tuple[str, Any]]
) -> None:
    _, first = await explain_compliance(seeded, captured, "33")
    assert first.next_cursor is not None

    plan, second = await explain_compliance(seeded, captured, "33", first.next_cursor)

    scan = page_scan(plan)
    assert scan["Index Name"] == "ix_institutions_province_code_name_id", shown(plan)
    # The cursor is a condition of the index scan: the walk starts after it.
    assert "name" in scan["Index Cond"], shown(plan)
    assert_no_sort(plan)
    assert second.items[0].name > first.items[-1].name
