"""The scaling candidates and the sustainability due list walk an index of their kept rows in
the page's order and stop at the page's end: nothing sorts all the candidates or all the
subjects. On an OPD in each regency and city (514) with 40 innovations each (20,560; one in
ten a draft), three commitments adopting every fourth innovation elsewhere (in every status),
an assessment of every third innovation and an award for every other one (the statements
explained are the ones the service sends, with their parameters)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.replication import service as replication
from app.replication.repository import CommitmentFilters
from app.scaling import service as scaling
from app.scaling.repository import DEFAULT_THRESHOLDS, Thresholds
from app.sustainability import service as sustainability
from app.sustainability.repository import SubjectFilters
from tests import plans
from tests.dashboards.figures import mismatches
from tests.plans import assert_read_in_order_of, shown, statements_sent

PER_OPD = 40

SEED = [
    text(
        "INSERT INTO institutions (id, name, kind, region_code)"
        " SELECT gen_random_uuid(), 'Dinas Uji ' || name, 'regional_agency', code"
        " FROM regions WHERE level <> 'province'"
    ),
    text(
        "INSERT INTO innovations (id, title, sector, form, initiator, stage, status,"
        "  institution_id, launched_on)"
        " SELECT gen_random_uuid(), 'Inovasi ' || n || ' ' || o.name, 'health',"
        "  'public_service', 'agency', 'implementation',"
        "  CASE WHEN n % 10 = 0 THEN 'draft' ELSE 'published' END, o.id,"
        "  date '2018-01-01' + (n * 37 + length(o.name)) % 2500"
        " FROM institutions o CROSS JOIN generate_series(1, CAST(:per_opd AS int)) AS n"
        " WHERE o.name LIKE 'Dinas Uji %'"
    ),
    text(
        "INSERT INTO replication_programs (id, name, fiscal_year)"
        " VALUES (gen_random_uuid(), 'Program Uji Dasbor', 2024)"
    ),
    # Three adopters for every fourth innovation, spread over the country; the statuses go
    # round so that some innovations have three live replicas and others fewer.
    text(
        "WITH o AS (SELECT id, region_code, row_number() OVER (ORDER BY id) AS rn"
        "   FROM institutions WHERE name LIKE 'Dinas Uji %'),"
        " n AS (SELECT count(*) AS c FROM o),"
        " i AS (SELECT id, province_code, row_number() OVER (ORDER BY id) AS rn"
        "   FROM innovations WHERE title LIKE 'Inovasi %')"
        " INSERT INTO commitments (id, program_id, innovation_id, adopter_institution_id,"
        "  adopter_region_code, adopter_province_code, origin_province_code, signed_on,"
        "  target_launch_on, status)"
        " SELECT gen_random_uuid(), p.id, i.id, o.id, o.region_code, left(o.region_code, 2),"
        "  i.province_code, date '2021-01-01' + (i.rn % 1800)::int,"
        "  CASE WHEN k < 2 THEN date '2021-01-01' + (i.rn % 1800)::int + 200 + k * 300 END,"
        "  (ARRAY['committed', 'in_progress', 'launched', 'sustained', 'launched', 'stalled'])"
        "  [1 + (i.rn / 12 + k) % 6]"
        " FROM i CROSS JOIN generate_series(0, 2) AS k CROSS JOIN n"
        " JOIN replication_programs p ON p.name = 'Program Uji Dasbor'"
        " JOIN o ON o.rn = 1 + (i.rn * 7 + k * 131) % n.c"
        " WHERE i.rn % 4 = 0"
    ),
    text(
        "INSERT INTO sustainability_assessments (id, innovation_id, source_innovation_id,"
        "  province_code, period, operating, survived_leadership_change, legal_basis,"
        "  budget_years, in_regional_plan, in_performance_indicators, has_sop, staff_count,"
        "  beneficiaries_count, monitoring, assessed_on, score, verdict, rubric_version)"
        " SELECT gen_random_uuid(), i.id, i.id, i.province_code, 2023, true, 'yes', 'decree',"
        "  2, true, true, true, 3, 100, 'internal', date '2023-01-01' + (i.rn % 900)::int,"
        "  60 + i.rn % 40, (ARRAY['sustained', 'at_risk', 'sustained'])[1 + i.rn % 3], 1"
        " FROM (SELECT id, province_code, row_number() OVER (ORDER BY id) AS rn"
        "   FROM innovations WHERE title LIKE 'Inovasi %') i"
        " WHERE i.rn % 3 = 0"
    ),
    text(
        "INSERT INTO awards (id, innovation_id, competition, year, tier)"
        " SELECT gen_random_uuid(), i.id, 'KIPP', 2022, 'top_99'"
        " FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn"
        "   FROM innovations WHERE title LIKE 'Inovasi %') i"
        " WHERE i.rn % 2 = 0"
    ),
]
TABLES = ("innovations", "commitments", "institutions", "innovation_figures", "due_subjects")


@pytest.fixture(scope="module")
async def seeded(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with plans.seeded(engine, SEED, {"per_opd": PER_OPD}, TABLES) as conn:
        yield conn


@pytest.fixture
def captured(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    with statements_sent(engine) as statements:
        yield statements


async def test_seed_is_in_place_and_the_kept_rows_are_exact(seeded: AsyncConnection) -> None:
    row = (
        await seeded.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE met = 4), count(DISTINCT met)"
                " FROM innovation_figures"
            )
        )
    ).one()
    assert row[0] > 20_000
    assert row[1] > 100  # some candidates meet every criterion
    assert row[2] == 5  # and every number of criteria is met by some
    assert await mismatches(seeded) == []


def sent(captured: list[tuple[str, Any]]) -> list[str]:
    return [s for s, _ in captured if "SAVEPOINT" not in s]


async def explain_candidates(
    conn: AsyncConnection,
    captured: list[tuple[str, Any]],
    t: Thresholds,
    province: str | None,
    only_eligible: bool = False,
    cursor: str | None = None,
) -> tuple[dict[str, Any], Any]:
    captured.clear()
    async with AsyncSession(bind=conn, join_transaction_mode="create_savepoint") as session:
        page = await scaling.list_candidates(
            session,
            t,
            province=province,
            only_eligible=only_eligible,
            cursor=cursor,
            limit=50,
            include_total=False,
        )
    assert page.items, "the page should list candidates"
    assert len(sent(captured)) == 1, sent(captured)
    return await plans.explain_sent(conn, captured, "innovation_figures"), page


@pytest.mark.parametrize(
    ("province", "only_eligible", "index"),
    [
        (None, False, "ix_innovation_figures_candidates"),
        ("33", False, "ix_innovation_figures_province_candidates"),
        (None, True, "ix_innovation_figures_candidates"),
    ],
    ids=["country", "province", "eligible"],
)
async def test_the_candidates_page_walks_a_candidates_index_in_order(
    seeded: AsyncConnection,
    captured: list[tuple[str, Any]],
    capsys: pytest.CaptureFixture[str],
    province: str | None,
    only_eligible: bool,
    index: str,
) -> None:
    plan, page = await explain_candidates(
        seeded, captured, DEFAULT_THRESHOLDS, province, only_eligible
    )
    with capsys.disabled():
        print(f"\ncandidates {province} eligible={only_eligible}:\n{shown(plan)}")
    assert_read_in_order_of(plan, "innovation_figures", index)
    # The next page too: the cursor is a range condition of the same walk.
    assert page.next_cursor is not None
    plan, _ = await explain_candidates(
        seeded, captured, DEFAULT_THRESHOLDS, province, only_eligible, page.next_cursor
    )
    scan = assert_read_in_order_of(plan, "innovation_figures", index)
    assert "replicas" in scan["Index Cond"], shown(plan)


@pytest.mark.parametrize(
    "t",
    [DEFAULT_THRESHOLDS, Thresholds(min_replicas=2, min_other_provinces=1, min_awards=0)],
    ids=["defaults", "others"],
)
async def test_the_page_is_the_head_of_every_candidate_ranked(
    seeded: AsyncConnection, captured: list[tuple[str, Any]], t: Thresholds
) -> None:
    """The defaults walk the index, other thresholds compute the criteria from the kept rows
    and sort them: both give the first 50 of all the province's candidates ranked here."""
    _, page = await explain_candidates(seeded, captured, t, "33")
    rows = await seeded.execute(
        text(
            "SELECT innovation_id, replicas, other_provinces, verdict, awards"
            " FROM innovation_figures"
            " WHERE status = 'published' AND scale <> 'national' AND province_code = '33'"
        )
    )

    def met(r: Any) -> int:
        return (
            int(r.replicas >= t.min_replicas)
            + int(r.other_provinces >= t.min_other_provinces)
            + int(r.verdict == "sustained" or not t.require_sustained)
            + int(r.awards >= t.min_awards)
        )

    ranked = sorted(rows, key=lambda r: (met(r), r.replicas, r.innovation_id), reverse=True)
    assert [c.innovation.id for c in page.items] == [r.innovation_id for r in ranked[:50]]
    assert [c.criteria_met for c in page.items] == [met(r) for r in ranked[:50]]


async def explain_due(
    conn: AsyncConnection,
    captured: list[tuple[str, Any]],
    filters: SubjectFilters,
    cursor: str | None = None,
) -> tuple[dict[str, Any], Any]:
    captured.clear()
    async with AsyncSession(bind=conn, join_transaction_mode="create_savepoint") as session:
        page = await sustainability.list_due(
            session, filters, cursor=cursor, limit=50, include_total=False
        )
    assert page.items, "the page should list due subjects"
    assert len(sent(captured)) == 1, sent(captured)
    return await plans.explain_sent(conn, captured, "due_subjects"), page


@pytest.mark.parametrize(
    ("filters", "indexes"),
    [
        (SubjectFilters(), ("ix_due_subjects_due",)),
        (SubjectFilters(province="33"), ("ix_due_subjects_province_due",)),
        (SubjectFilters(subject_type="commitment"), ("ix_due_subjects_commitments_due",)),
        (SubjectFilters(subject_type="innovation"), ("ix_due_subjects_innovations_due",)),
        (
            SubjectFilters(subject_type="commitment", province="33"),
            ("ix_due_subjects_province_due", "ix_due_subjects_commitments_due"),
        ),
    ],
    ids=["country", "province", "commitments", "innovations", "province-commitments"],
)
async def test_the_due_page_walks_a_due_index_in_order(
    seeded: AsyncConnection,
    captured: list[tuple[str, Any]],
    capsys: pytest.CaptureFixture[str],
    filters: SubjectFilters,
    indexes: tuple[str, ...],
) -> None:
    plan, page = await explain_due(seeded, captured, filters)
    with capsys.disabled():
        print(f"\ndue {filters}:\n{shown(plan)}")
    assert_read_in_order_of(plan, "due_subjects", *indexes)
    if page.next_cursor is not None:
        plan, _ = await explain_due(seeded, captured, filters, page.next_cursor)
        scan = assert_read_in_order_of(plan, "due_subjects", *indexes)
        assert "subject_id" in scan["Index Cond"], shown(plan)


@pytest.mark.parametrize("status", [None, "in_progress"])
async def test_the_overdue_page_merges_short_walks_of_the_target_buckets(
    seeded: AsyncConnection,
    captured: list[tuple[str, Any]],
    capsys: pytest.CaptureFixture[str],
    status: str | None,
) -> None:
    """Overdue by signing date: one short read of `ix_commitments_overdue_walk` per 30-day
    bucket of target dates up to today's, merged; the pages are the overdue commitments in
    signing order, as a plain sort of all of them gives."""
    filters = CommitmentFilters(overdue=True, status=status)
    seen: list[Any] = []
    cursor = None
    for page_number in range(3):
        captured.clear()
        async with AsyncSession(bind=seeded, join_transaction_mode="create_savepoint") as s:
            page = await replication.list_commitments(
                s, filters, sort="-signed_on", cursor=cursor, limit=50, include_total=False
            )
        seen += [c.id for c in page.items]
        if page_number == 0:
            plan = await plans.explain_sent(seeded, captured, "generate_series")
            with capsys.disabled():
                print(f"\noverdue status={status}:\n{shown(plan)}")
            # Commitments are read through the buckets' index and by id, nothing else (on
            # this data a bucket holds a few hundred, which the planner may gather by bitmap
            # and sort; at national scale it walks each bucket's first rows in order).
            used = {n.get("Index Name") for n in plans.nodes(plan) if "Index Name" in n}
            assert "ix_commitments_overdue_walk" in used, shown(plan)
            assert used <= {
                "ix_commitments_overdue_walk",
                "pk_commitments",
                "pk_innovations",
                "pk_institutions",
            }, shown(plan)
            assert not [n for n in plans.nodes(plan) if n["Node Type"] == "Seq Scan"], shown(plan)
            bucket_conds = [
                n["Index Cond"]
                for n in plans.nodes(plan)
                if n.get("Index Name") == "ix_commitments_overdue_walk"
            ]
            assert all("= b.n" in c for c in bucket_conds), shown(plan)
        cursor = page.next_cursor
        assert cursor is not None
    expected = await seeded.execute(
        text(
            "SELECT id FROM commitments WHERE target_launch_on < CURRENT_DATE"
            " AND status IN ('committed', 'in_progress', 'stalled')"
            " AND (CAST(:status AS text) IS NULL OR status = :status)"
            " ORDER BY signed_on DESC, id DESC LIMIT 150"
        ),
        {"status": status},
    )
    assert seen == [r.id for r in expected]
