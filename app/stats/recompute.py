"""The statistics computed from the base tables: the definition of every figure that
`app.stats.repository` reads from the tallies (`app/models/summaries.py`). The exactness test
compares the two after every write; `inovasi summaries check` does the same on a live database.

Each endpoint is one statement, whatever the number of rows: counts are GROUP BY / FILTER
aggregates computed by PostgreSQL, never a query per row. Adding a figure to the overview is
one entry in `overview_figures()` (a scalar subquery), its tally, and one field in
`schemas.Overview`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Subquery,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models.innovation import Innovation
from app.models.institutionalisation import Incentive
from app.models.region import Region
from app.models.replication import COMMITMENT_STATUSES, Commitment, ReplicationProgram
from app.models.scaling import ScalingProposal
from app.models.sustainability import VERDICTS, SustainabilityAssessment
from app.replication.repository import overdue_expr

# Statuses of a commitment that has reached its goal: the innovation runs at the adopter.
LAUNCHED_STATUSES = ("launched", "sustained")


def counts_by(column: Any, *where: ColumnElement[bool]) -> ScalarSelect[Any]:
    """`{value: count}` of `column` over the rows matching `where`, as one JSON object."""
    grouped = (
        select(column.label("key"), func.count().label("n"))
        .where(*where)
        .group_by(column)
        .subquery()
    )
    return select(
        func.coalesce(
            func.jsonb_object_agg(grouped.c.key, grouped.c.n), literal_column("'{}'::jsonb")
        )
    ).scalar_subquery()


def latest_assessments() -> Subquery:
    """Each subject's latest assessment (highest period; one per subject and period): its
    verdict and province.

    A subject is an innovation or a commitment; exactly one of the two ids is set, and
    DISTINCT ON treats the other's NULLs as equal, so each subject forms one group. The index
    `ix_sustainability_assessments_latest` serves it in order, without a sort.
    """
    a = SustainabilityAssessment
    return (
        select(a.verdict, a.province_code)
        .ext(distinct_on(a.innovation_id, a.commitment_id))
        .order_by(a.innovation_id, a.commitment_id, a.period.desc())
        .subquery("latest_assessments")
    )


def overview_figures() -> dict[str, ScalarSelect[Any]]:
    """Every figure of the overview, by name, as scalar subqueries of one statement."""
    latest = latest_assessments()
    return {
        "innovations_by_status": counts_by(Innovation.status),
        "innovations_by_scale": counts_by(Innovation.scale, Innovation.status == "published"),
        "commitments_by_status": counts_by(Commitment.status),
        "overdue_commitments": select(func.count())
        .select_from(Commitment)
        .where(overdue_expr())
        .scalar_subquery(),
        "latest_verdicts": counts_by(latest.c.verdict),
        "scaling_proposals_by_status": counts_by(ScalingProposal.status),
    }


async def overview(session: AsyncSession) -> dict[str, Any]:
    figures = overview_figures()
    stmt = select(*(q.label(n) for n, q in figures.items()))
    return dict((await session.execute(stmt)).mappings().one())


def province_statement(
    born: Subquery, adopted: Subquery, overdue: Subquery, verdicts: Subquery
) -> Any:
    """Every province with its figures, from subqueries keyed by `code`: `born` (published
    innovations), `adopted` (commitments per status, average progress), `overdue` and
    `verdicts` (subjects per latest verdict). Incentive funds (DID) received by the province and
    its regencies and cities, all years, come from their small table."""
    incentives = (
        select(
            Incentive.province_code.label("code"),
            func.sum(Incentive.amount_idr).label("incentives_idr"),
        )
        .group_by(Incentive.province_code)
        .subquery("incentives")
    )
    return (
        select(
            Region.code,
            Region.name,
            func.coalesce(born.c.innovations, 0).label("innovations"),
            *(func.coalesce(adopted.c[s], 0).label(s) for s in COMMITMENT_STATUSES),
            adopted.c.average_progress,
            func.coalesce(overdue.c.overdue, 0).label("overdue"),
            *(func.coalesce(verdicts.c[v], 0).label(f"verdict_{v}") for v in VERDICTS),
            func.coalesce(incentives.c.incentives_idr, 0).label("incentives_idr"),
        )
        .outerjoin(born, born.c.code == Region.code)
        .outerjoin(adopted, adopted.c.code == Region.code)
        .outerjoin(overdue, overdue.c.code == Region.code)
        .outerjoin(verdicts, verdicts.c.code == Region.code)
        .outerjoin(incentives, incentives.c.code == Region.code)
        .where(Region.level == "province")
        .order_by(Region.code)
    )


def _province_statement() -> Any:
    c = Commitment
    born = (
        select(Innovation.province_code.label("code"), func.count().label("innovations"))
        .where(Innovation.status == "published")
        .group_by(Innovation.province_code)
        .subquery("born")
    )
    adopted = (
        select(
            c.adopter_province_code.label("code"),
            *(func.count().filter(c.status == s).label(s) for s in COMMITMENT_STATUSES),
            func.round(func.avg(c.progress).filter(c.status != "cancelled"), 2).label(
                "average_progress"
            ),
        )
        .group_by(c.adopter_province_code)
        .subquery("adopted")
    )
    overdue = (
        select(c.adopter_province_code.label("code"), func.count().label("overdue"))
        .where(overdue_expr())
        .group_by(c.adopter_province_code)
        .subquery("overdue")
    )
    latest = latest_assessments()
    verdicts = (
        select(
            latest.c.province_code.label("code"),
            *(func.count().filter(latest.c.verdict == v).label(v) for v in VERDICTS),
        )
        .group_by(latest.c.province_code)
        .subquery("verdicts")
    )
    return province_statement(born, adopted, overdue, verdicts)


async def provinces(session: AsyncSession) -> Sequence[Any]:
    """One row per province (all of them, zeros included)."""
    return (await session.execute(_province_statement())).all()


def program_filter(
    column: Any, program_id: uuid.UUID | None, fiscal_year: int | None
) -> list[ColumnElement[bool]]:
    """Only the commitments (by their `column` of programme ids) of one programme, or of the
    programmes of one fiscal year."""
    where: list[ColumnElement[bool]] = []
    if program_id is not None:
        where.append(column == program_id)
    if fiscal_year is not None:
        where.append(
            column.in_(
                select(ReplicationProgram.id).where(ReplicationProgram.fiscal_year == fiscal_year)
            )
        )
    return where


async def replication_flows(
    session: AsyncSession, *, program_id: uuid.UUID | None, fiscal_year: int | None
) -> Sequence[Any]:
    """Commitments that are not cancelled, per (origin province, adopter province)."""
    c = Commitment
    where = [c.status != "cancelled", *program_filter(c.program_id, program_id, fiscal_year)]
    flows = (
        select(
            c.origin_province_code.label("origin"),
            c.adopter_province_code.label("adopter"),
            func.count().label("commitments"),
            func.count().filter(c.status.in_(LAUNCHED_STATUSES)).label("launched"),
        )
        .where(*where)
        .group_by(c.origin_province_code, c.adopter_province_code)
        .subquery("flows")
    )
    return (await session.execute(named_flows(flows))).all()


def named_flows(flows: Subquery) -> Any:
    """The flows of `flows` (origin, adopter, commitments, launched) with the provinces'
    names, largest first."""
    origin, adopter = aliased(Region), aliased(Region)
    return (
        select(
            flows.c.origin.label("origin_province_code"),
            origin.name.label("origin_province_name"),
            flows.c.adopter.label("adopter_province_code"),
            adopter.name.label("adopter_province_name"),
            flows.c.commitments,
            flows.c.launched,
        )
        .outerjoin(origin, origin.code == flows.c.origin)
        .outerjoin(adopter, adopter.code == flows.c.adopter)
        .order_by(*flow_order(flows.c.commitments, flows.c.origin, flows.c.adopter))
    )


def flow_order(commitments: Any, origin: Any, adopter: Any) -> tuple[Any, ...]:
    """The order of the flows: largest first, then by origin and adopter province."""
    return commitments.desc(), origin.nulls_last(), adopter.nulls_last()


async def differences(session: AsyncSession) -> list[str]:
    """The figures whose kept value (`app.stats.repository`, from the tallies) differs from
    this module's recomputation: the names, empty when every one is exact."""
    from app.stats import repository

    def plain(rows: Sequence[Any]) -> list[list[Any]]:
        return [[int(v) if isinstance(v, int) else v for v in row] for row in rows]

    kept, base = await repository.overview(session), await overview(session)
    names = [f"overview.{name}" for name in base if kept[name] != base[name]]
    if plain(await repository.provinces(session)) != plain(await provinces(session)):
        names.append("provinces")
    flows = {"program_id": None, "fiscal_year": None}
    kept_flows = await repository.replication_flows(session, **flows)
    if plain(kept_flows) != plain(await replication_flows(session, **flows)):
        names.append("replication-flows")
    return names
