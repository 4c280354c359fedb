"""The common list queries use an index, not a sequential scan, on a 20,000-row registry.

The statements explained are the ones the service really sends (captured from the driver,
with their bound parameters), so a query that cannot match an index expression, such as a
parameter cast that PostgreSQL cannot fold, shows up here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.core.pagination import encode_cursor
from app.core.security import Principal, Role
from app.innovations import repository as innovations_repository
from app.innovations import service
from app.innovations.repository import Filters
from app.models.innovation import UNDATED
from tests.plans import nodes, statements_sent

ROWS = 20_000
SECTORS = (
    "education",
    "health",
    "population_administration",
    "licensing",
    "social_protection",
    "economy",
    "environment",
    "governance",
    "public_order",
    "agriculture_food",
    "infrastructure",
    "disaster_response",
    "data_information",
    "other",
)

SEED_INSTITUTIONS = text(
    "INSERT INTO institutions (id, name, kind, region_code)"
    " SELECT gen_random_uuid(), 'Dinas Uji ' || code, 'regional_agency', code"
    " FROM regions WHERE level <> 'province'"
)
# Set-based, one statement: 80% published, one in 20 undated, one in 100 about plastic bags,
# one in 500 named PIKOBAR.
SEED_INNOVATIONS = text(
    """
    WITH owners AS (SELECT array_agg(id ORDER BY name) AS ids FROM institutions)
    INSERT INTO innovations (
        id, title, summary, sector, form, initiator, stage, status, launched_on,
        institution_id, replication_count, updated_at
    )
    SELECT
        gen_random_uuid(),
        CASE WHEN g % 500 = 0 THEN 'PIKOBAR Jilid ' || g
             ELSE (ARRAY['Layanan', 'Sistem', 'Gerakan', 'Aplikasi', 'Program'])[1 + g % 5]
                  || ' ' || substr(md5(g::text), 1, 10) END,
        CASE WHEN g % 100 = 0 THEN 'Mengurangi penggunaan kantong plastik di pasar.'
             ELSE 'Pelayanan publik desa ' || (g % 997) END,
        (CAST(:sectors AS text[]))[1 + g % cardinality(CAST(:sectors AS text[]))],
        'public_service', 'agency', 'implementation',
        CASE WHEN g % 10 < 8 THEN 'published' WHEN g % 10 = 8 THEN 'draft'
             ELSE 'withdrawn' END,
        CASE WHEN g % 20 = 0 THEN NULL ELSE date '2005-01-01' + (g * 37 % 7000) END,
        owners.ids[1 + g % cardinality(owners.ids)],
        g % 13,
        now() - make_interval(mins => g)
    FROM owners, generate_series(1, :rows) AS g
    """
)

ADMIN = Principal(id=uuid.uuid4(), name="explain", role=Role.admin, province_code=None)


@pytest.fixture(scope="module")
async def seeded(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection holding the seeded rows in a transaction that is rolled back at the end
    of the module (ANALYZE inside it sees and counts them)."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            await conn.execute(SEED_INSTITUTIONS)
            await conn.execute(SEED_INNOVATIONS, {"rows": ROWS, "sectors": list(SECTORS)})
            # What autovacuum does on a live server: move the GIN indexes' pending entries
            # into the index proper (a bulk load leaves them all pending, and the planner
            # then prices a search through them as a scan of the pending list).
            for index in ("ix_innovations_search_vector", "ix_innovations_title_trgm"):
                await conn.execute(
                    text("SELECT gin_clean_pending_list(CAST(:index AS regclass))"),
                    {"index": index},
                )
            await conn.execute(text("ANALYZE institutions"))
            await conn.execute(text("ANALYZE innovations"))
            yield conn
        finally:
            await transaction.rollback()


@pytest.fixture
def captured(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[tuple[str, Any]]]:
    """Statements (with their driver arguments) sent while the test runs: through SQLAlchemy,
    and those planned per call (`app.core.driver`), marked `planned`."""
    run = innovations_repository.fetch_planned_per_call

    async def capture(session: AsyncSession, stmt: Any, params: Any) -> Any:
        compiled = stmt.compile(dialect=engine.dialect)
        values = compiled.construct_params(dict(params))
        arguments = tuple(values[name] for name in compiled.positiontup or ())
        statements.append(("/* planned */ " + str(compiled), arguments))
        return await run(session, stmt, params)

    monkeypatch.setattr(innovations_repository, "fetch_planned_per_call", capture)
    with statements_sent(engine) as statements:
        yield statements


async def explain_list(
    conn: AsyncConnection,
    captured: list[tuple[str, Any]],
    filters: Filters,
    *,
    principal: Principal | None = None,
    sort: str | None = None,
    cursor: str | None = None,
    keep: bool = False,
) -> dict[str, Any]:
    """The plan of the page query that `service.list_innovations` runs for these arguments."""
    async with AsyncSession(bind=conn, join_transaction_mode="create_savepoint") as session:
        page = await service.list_innovations(
            session, principal, filters, sort=sort, cursor=cursor, limit=50, include_total=False
        )
    assert page.items, "the query should find rows"
    [(statement, parameters)] = [
        (s, p) for s, p in captured if "FROM innovations JOIN institutions" in s
    ]
    if not keep:
        captured.clear()
    result = await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
    raw = result.scalar_one()
    plan: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return plan


def _compact(plan: dict[str, Any], depth: int = 0) -> str:
    """The plan as indented lines, as EXPLAIN prints it in text."""
    detail = ", ".join(
        f"{k}: {plan[k]}"
        for k in ("Relation Name", "Index Name", "Index Cond", "Filter", "Sort Key", "Plan Rows")
        if k in plan
    )
    lines = ["  " * depth + f"{plan['Node Type']} ({detail})"]
    lines += [_compact(child, depth + 1) for child in plan.get("Plans", [])]
    return "\n".join(lines)


def on_innovations(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in nodes(plan) if n.get("Relation Name") == "innovations"]


def assert_uses_an_index(plan: dict[str, Any]) -> set[str]:
    """No sequential scan of innovations; the names of the indexes the plan reads it with."""
    scans = on_innovations(plan)
    shown = _compact(plan)
    assert scans, shown
    assert not [n for n in scans if n["Node Type"] == "Seq Scan"], shown
    used = {n["Index Name"] for n in nodes(plan) if "Index Name" in n}
    assert any(name.startswith("ix_innovations_") for name in used), shown
    return used


def assert_ordered_by_index(plan: dict[str, Any], *indexes: str) -> None:
    """The page is read in order from one of `indexes`: an index scan, no sort of the rows."""
    shown = _compact(plan)
    # (A sort of one innovation's awards, for its JSON array, is fine; a sort of innovations
    # means the page was not read in index order.)
    sorts = [n for n in nodes(plan) if n["Node Type"] in {"Sort", "Incremental Sort"}]
    assert not [n for n in sorts if on_innovations(n)], shown
    assert [
        n
        for n in on_innovations(plan)
        if n["Node Type"] == "Index Scan" and n["Index Name"] in indexes
    ], shown


async def test_seed_is_in_place(seeded: AsyncConnection) -> None:
    counts = (
        await seeded.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE status = 'published'),"
                " count(*) FILTER (WHERE launched_on IS NULL) FROM innovations"
            )
        )
    ).one()
    assert tuple(counts) == (ROWS, ROWS * 8 // 10, ROWS // 20)


# The indexes that serve each sort in order, with the id as tie-breaker (status-led ones for
# anonymous lists, which always filter status = 'published'; the planner may pick either).
SORT_INDEXES = {
    "-launched_on": ("ix_innovations_status_launched_on_id", "ix_innovations_launched_on_id"),
    "title": ("ix_innovations_status_title_id", "ix_innovations_title_id"),
    "-updated_at": (
        "ix_innovations_published_updated_at_id",
        "ix_innovations_status_updated_at_id",
        "ix_innovations_updated_at_id",
    ),
    "-replications": (
        "ix_innovations_status_replication_count_id",
        "ix_innovations_replication_count_id",
    ),
}
MIDDLE_OF = {
    "-launched_on": f"coalesce(launched_on, '{UNDATED}'::date) DESC, id DESC",
    "title": "title, id",
    "-updated_at": "updated_at DESC, id DESC",
    "-replications": "replication_count DESC, id DESC",
}


async def deep_cursor(
    conn: AsyncConnection, sort: str, province: str | None = None, offset: int = ROWS // 3
) -> str:
    """A cursor `offset` rows into the published innovations (of `province`, if given) in
    `sort` order: by default a third of the way into all of them."""
    row = (
        await conn.execute(
            text(
                f"SELECT coalesce(launched_on, '{UNDATED}'::date) AS launched,"  # noqa: S608
                " title, updated_at, replication_count, id"
                " FROM innovations WHERE status = 'published'"
                " AND (CAST(:province AS text) IS NULL OR province_code = :province)"
                f" ORDER BY {MIDDLE_OF[sort]} OFFSET {offset} LIMIT 1"
            ),
            {"province": province},
        )
    ).one()
    key = {
        "-launched_on": row.launched,
        "title": row.title,
        "-updated_at": row.updated_at,
        "-replications": row.replication_count,
    }[sort]
    return encode_cursor(sort, [key, row.id])


@pytest.mark.parametrize("sort", list(SORT_INDEXES))
async def test_anonymous_first_page_reads_the_sort_index_in_order(
    seeded: AsyncConnection, captured: list[tuple[str, Any]], sort: str
) -> None:
    plan = await explain_list(seeded, captured, Filters(), sort=sort)

    assert_ordered_by_index(plan, *SORT_INDEXES[sort])


@pytest.mark.parametrize("sort", list(SORT_INDEXES))
async def test_anonymous_deep_page_starts_inside_the_sort_index(
    seeded: AsyncConnection, captured: list[tuple[str, Any]], sort: str
) -> None:
    cursor = await deep_cursor(seeded, sort)

    plan = await explain_list(seeded, captured, Filters(), sort=sort, cursor=cursor)

    assert_ordered_by_index(plan, *SORT_INDEXES[sort])
    # The cursor is an index condition (a range scan starting at the cursor), not a filter
    # applied to every row before it.
    [scan] = on_innovations(plan)
    assert "ROW(" in scan.get("Index Cond", ""), _compact(plan)


async def test_default_sort_is_served_by_the_launched_on_index(
    seeded: AsyncConnection, captured: list[tuple[str, Any]]
) -> None:
    plan = await explain_list(seeded, captured, Filters())

    assert_ordered_by_index(plan, *SORT_INDEXES["-launched_on"])


async def test_cursor_among_the_undated_still_reads_the_index(
    seeded: AsyncConnection, captured: list[tuple[str, Any]]
) -> None:
    cursor = encode_cursor("-launched_on", [date(1900, 1, 1), uuid.UUID(int=2**127)])

    plan = await explain_list(seeded, captured, Filters(), cursor=cursor)

    assert_ordered_by_index(plan, *SORT_INDEXES["-launched_on"])


async def test_writer_default_list_reads_the_launched_on_index(
    seeded: AsyncConnection, captured: list[tuple[str, Any]]
) -> None:
    plan = await explain_list(seeded, captured, Filters(), principal=ADMIN)

    assert_ordered_by_index(plan, "ix_innovations_launched_on_id")


PROVINCE_INDEX = "ix_innovations_province_code_status_launched_on_id"


async def test_province_first_page_reads_the_province_index_in_order(
    seeded: AsyncConnection, captured: list[tuple[str, Any]]
) -> None:
    plan = await explain_list(seeded, captured, Filters(province="33"))

    assert_ordered_by_index(plan, PROVINCE_INDEX)


async def test_province_deep_page_starts_inside_the_province_index(
    seeded: AsyncConnection, captured: list[tuple[str, Any]]
) -> None:
    cursor = await deep_cursor(seeded, "-launched_on", province="33", offset=100)

    plan = await explain_list(seeded, captured, Filters(province="33"), cursor=cursor)

    assert_ordered_by_index(plan, PROVINCE_INDEX)
    [scan] = on_innovations(plan)
    assert "ROW(" in scan.get("Index Cond", ""), _compact(plan)


@pytest.mark.parametrize(
    "filters",
    [
        pytest.param(Filters(province="33"), id="province"),
        pytest.param(Filters(sector="health"), id="sector"),
        pytest.param(Filters(region="33"), id="region_province"),
        pytest.param(Filters(region="33.74"), id="region_city"),
        pytest.param(Filters(q="kantong plastik"), id="search"),
        pytest.param(Filters(q="pikob"), id="search_partial_name"),
    ],
)
async def test_filtered_list_uses_an_index(
    seeded: AsyncConnection, captured: list[tuple[str, Any]], filters: Filters
) -> None:
    plan = await explain_list(seeded, captured, filters)

    assert_uses_an_index(plan)


async def test_filtered_pages_are_planned_for_each_call(
    seeded: AsyncConnection, captured: list[tuple[str, Any]]
) -> None:
    # How many rows a filter value selects varies by value (provinces are skewed): a prepared
    # statement's generic plan, made for an average value, is no plan for a filtered page.
    planned = []
    for filters in (Filters(province="33"), Filters()):
        await explain_list(seeded, captured, filters, keep=True)
        [statement] = [
            s
            for s, _ in captured
            if "FROM innovations JOIN institutions" in s and not s.startswith("EXPLAIN")
        ]
        planned.append(statement.startswith("/* planned */"))
        captured.clear()

    assert planned == [True, False]


async def test_search_reads_the_full_text_and_trigram_indexes(
    seeded: AsyncConnection, captured: list[tuple[str, Any]]
) -> None:
    plan = await explain_list(seeded, captured, Filters(q="kantong plastik"))

    assert {"ix_innovations_search_vector", "ix_innovations_title_trgm"} <= assert_uses_an_index(
        plan
    )
