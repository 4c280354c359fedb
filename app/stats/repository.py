"""SQL of the statistics, read from the tallies kept as the data changes
(`app/models/summaries.py`): a few hundred rows per figure whatever the number of innovations,
so the dashboards answer in the same time at 10k and at 1M. `app.stats.recompute` holds the
same figures computed from the base tables, their definition; the shapes returned here are
the same, and the exactness test compares them after every write.

Each tally holds signed deltas; a figure sums its key's rows (`HAVING sum(n) <> 0`: a key whose
rows cancel out is absent, as a group with no rows is from the base tables).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ScalarSelect,
    Text,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.replication import COMMITMENT_STATUSES
from app.models.scaling import ScalingProposal
from app.models.summaries import (
    commitment_adopter_tallies,
    commitment_deadline_tallies,
    commitment_flow_tallies,
    commitment_tallies,
    innovation_tallies,
    verdict_tallies,
)
from app.models.sustainability import VERDICTS
from app.stats.recompute import (
    LAUNCHED_STATUSES,
    counts_by,
    flow_order,
    named_flows,
    program_filter,
    province_statement,
)

innovations, commitments = innovation_tallies.c, commitment_flow_tallies.c
# Keyed by adopter and status only: what the overview and the provinces sum.
adopters = commitment_adopter_tallies.c
by_program = commitment_tallies.c
deadlines, verdicts = commitment_deadline_tallies.c, verdict_tallies.c


def total(n: Any, *where: ColumnElement[bool]) -> Any:
    """The sum of the deltas `n` (of the rows matching `where`), as a bigint (0 for none)."""
    summed = func.sum(n)
    return cast(func.coalesce(summed.filter(*where) if where else summed, 0), BigInteger)


def tallied_by(column: Any, n: Any, *where: ColumnElement[bool]) -> ScalarSelect[Any]:
    """`{value: count}` of `column` over the tally rows matching `where`, as one JSON object."""
    grouped = (
        select(column.label("key"), total(n).label("n"))
        .where(*where)
        .group_by(column)
        .having(func.sum(n) != 0)
        .subquery()
    )
    return select(
        func.coalesce(
            func.jsonb_object_agg(grouped.c.key, grouped.c.n), literal_column("'{}'::jsonb")
        )
    ).scalar_subquery()


def overdue_now() -> ColumnElement[bool]:
    """Deadline tally rows of commitments overdue today (`overdue_expr`'s date condition)."""
    return deadlines.target_launch_on < func.current_date()


async def overview(session: AsyncSession) -> dict[str, Any]:
    figures = {
        "innovations_by_status": tallied_by(innovations.status, innovations.n),
        "innovations_by_scale": tallied_by(
            innovations.scale, innovations.n, innovations.status == "published"
        ),
        "commitments_by_status": tallied_by(adopters.status, adopters.n),
        "overdue_commitments": select(total(deadlines.n)).where(overdue_now()).scalar_subquery(),
        "latest_verdicts": tallied_by(verdicts.verdict, verdicts.n),
        # Proposals are few (a handful per thousand innovations): counted where they are.
        "scaling_proposals_by_status": counts_by(ScalingProposal.status),
    }
    stmt = select(*(q.label(n) for n, q in figures.items()))
    return dict((await session.execute(stmt)).mappings().one())


async def provinces(session: AsyncSession) -> Sequence[Any]:
    """One row per province (all of them, zeros included)."""
    born = (
        select(innovations.province_code.label("code"), total(innovations.n).label("innovations"))
        .where(innovations.status == "published")
        .group_by(innovations.province_code)
        .subquery("born")
    )
    live = adopters.status != "cancelled"
    adopted = (
        select(
            adopters.adopter_province_code.label("code"),
            *(total(adopters.n, adopters.status == s).label(s) for s in COMMITMENT_STATUSES),
            func.round(
                func.sum(adopters.progress_sum).filter(live)
                / func.nullif(func.sum(adopters.n).filter(live), 0),
                2,
            ).label("average_progress"),
        )
        .group_by(adopters.adopter_province_code)
        .subquery("adopted")
    )
    overdue = (
        select(deadlines.adopter_province_code.label("code"), total(deadlines.n).label("overdue"))
        .where(overdue_now())
        .group_by(deadlines.adopter_province_code)
        .subquery("overdue")
    )
    by_verdict = (
        select(
            verdicts.province_code.label("code"),
            *(total(verdicts.n, verdicts.verdict == v).label(v) for v in VERDICTS),
        )
        .group_by(verdicts.province_code)
        .subquery("verdicts")
    )
    stmt = province_statement(born, adopted, overdue, by_verdict)
    return (await session.execute(stmt)).all()


def _flows(program_id: uuid.UUID | None, fiscal_year: int | None) -> Any:
    """Commitments that are not cancelled, per (origin province, adopter province): from the
    tally over every programme, or the one by programme when a programme or year is asked."""
    scoped = program_id is not None or fiscal_year is not None
    tally = by_program if scoped else commitments
    where = [
        tally.status != "cancelled",
        *(program_filter(by_program.program_id, program_id, fiscal_year) if scoped else ()),
    ]
    flows = (
        select(
            tally.origin_province_code.label("origin"),
            tally.adopter_province_code.label("adopter"),
            total(tally.n).label("commitments"),
            total(tally.n, tally.status.in_(LAUNCHED_STATUSES)).label("launched"),
        )
        .where(*where)
        .group_by(tally.origin_province_code, tally.adopter_province_code)
        .having(func.sum(tally.n) != 0)
        .subquery("flows")
    )
    return named_flows(flows)


async def replication_flows(
    session: AsyncSession, *, program_id: uuid.UUID | None, fiscal_year: int | None
) -> Sequence[Any]:
    """The flows (`_flows`) as rows."""
    return (await session.execute(_flows(program_id, fiscal_year))).all()


async def replication_flows_json(
    session: AsyncSession, *, program_id: uuid.UUID | None, fiscal_year: int | None
) -> str:
    """The same flows as a JSON array of objects keyed by column name, in the same order,
    written by PostgreSQL. A province pair is a row (up to 40 × 40), and turning the rows into
    Python values and then into models took most of the request's CPU: at 1M innovations
    (1,474 pairs) 6.3 ms, against 1.2 ms to read the array as text and parse it with
    pydantic."""
    f = _flows(program_id, fiscal_year).subquery("f")
    rows = func.json_agg(
        aggregate_order_by(
            literal_column("f"),
            *flow_order(f.c.commitments, f.c.origin_province_code, f.c.adopter_province_code),
        )
    )
    stmt = select(cast(func.coalesce(rows, literal_column("'[]'::json")), Text)).select_from(f)
    return str((await session.execute(stmt)).scalar_one())


async def compact(session: AsyncSession) -> None:
    """Fold each key's deltas into one row (one caller at a time; the figures do not move)."""
    await session.execute(select(func.compact_tallies()))
