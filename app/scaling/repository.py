"""SQL of scaling up: the candidates ranking (one statement per page) and proposals."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    cast,
    false,
    func,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.core.pagination import SortKey, keyset_page
from app.core.repository import update_versioned
from app.core.totals import Total, capped_total
from app.models.figures import innovation_figures
from app.models.innovation import Award, Innovation
from app.models.scaling import ScalingProposal

# Replicas that count towards scaling up: launched, or launched and since sustained.
LIVE_STATUSES = ("launched", "sustained")
# Scales an approval may raise from: a provincial approval never lowers a national one.
LOWER_SCALES = {"provincial": ("local",), "national": ("local", "provincial")}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """What each criterion asks for. The defaults are the programme's usual bar."""

    min_replicas: int = 3
    min_other_provinces: int = 2
    require_sustained: bool = True
    min_awards: int = 1

    def cursor_name(self) -> str:
        """Part of every cursor: a page of one set of thresholds never continues another."""
        return (
            f"candidates:{self.min_replicas}:{self.min_other_provinces}:"
            f"{int(self.require_sustained)}:{self.min_awards}"
        )


DEFAULT_THRESHOLDS = Thresholds()


def _met(t: Thresholds) -> ColumnElement[int]:
    """Criteria met under `t`: the kept column under the default thresholds (what the
    candidates indexes are sorted by), else computed from the kept figures of each row."""
    f = innovation_figures.c
    if t == DEFAULT_THRESHOLDS:
        return f.met
    return (
        cast(f.replicas >= t.min_replicas, Integer)
        + cast(f.other_provinces >= t.min_other_provinces, Integer)
        + cast(_sustained_met(t), Integer)
        + cast(f.awards >= t.min_awards, Integer)
    )


def _sustained_met(t: Thresholds) -> ColumnElement[bool]:
    f = innovation_figures.c
    return func.coalesce(f.verdict == "sustained", false()) if t.require_sustained else true()


def _figures(t: Thresholds, where: Sequence[ColumnElement[bool]] = ()) -> Subquery:
    """Per innovation: the figures, each criterion's verdict and the number met.

    The figures are the kept rows of `innovation_figures` (exact in the writing transaction,
    see `app.models.figures`), so a page reads one row per candidate it shows. Under the
    default thresholds the ranking is a walk of a candidates index, in the page's order.
    Under other thresholds the criteria met are computed from each candidate's kept row and
    the candidates are sorted (a pass over the kept rows of the candidates, no aggregate over
    the base tables).
    """
    f = innovation_figures.c
    return (
        select(
            f.innovation_id.label("id"),
            Innovation.title.label("title"),
            f.province_code.label("province_code"),
            f.scale.label("scale"),
            f.status.label("status"),
            f.replicas.label("replicas"),
            f.other_provinces.label("other_provinces"),
            f.verdict.label("verdict"),
            f.score.label("score"),
            f.period.label("period"),
            f.awards.label("awards"),
            (f.replicas >= t.min_replicas).label("replicas_met"),
            (f.other_provinces >= t.min_other_provinces).label("provinces_met"),
            _sustained_met(t).label("sustained_met"),
            (f.awards >= t.min_awards).label("awards_met"),
            _met(t).label("met"),
        )
        .select_from(innovation_figures)
        .join(Innovation, Innovation.id == f.innovation_id)
        .where(*where)
        .subquery("figures")
    )


def candidate_filters(province: str | None) -> list[ColumnElement[bool]]:
    """Published innovations not yet national (optionally of one province): the predicate
    of the candidates indexes, on the kept rows."""
    f = innovation_figures.c
    # Written into the statement (not bound), so that a prepared statement's generic plan
    # still matches the indexes' predicate.
    where = [f.status == literal_column("'published'"), f.scale != literal_column("'national'")]
    if province is not None:
        where.append(f.province_code == province)
    return where


def candidate_keys(figures: Subquery) -> tuple[SortKey, ...]:
    """The ranking: criteria met, then replicas, then id (all descending)."""
    return (
        SortKey(figures.c.met, True),
        SortKey(figures.c.replicas, True),
        SortKey(figures.c.id, True),
    )


def _candidates(
    t: Thresholds, where: Sequence[ColumnElement[bool]], criteria_total: int, only_eligible: bool
) -> tuple[Select[Any], Subquery]:
    figures = _figures(t, where)
    stmt = select(figures)
    if only_eligible:
        stmt = stmt.where(figures.c.met == criteria_total)
    return stmt, figures


async def list_candidates(
    session: AsyncSession,
    t: Thresholds,
    where: Sequence[ColumnElement[bool]],
    *,
    criteria_total: int,
    only_eligible: bool,
    after: list[Any] | None,
    limit: int,
) -> list[Any]:
    """One page of the ranking, in one statement."""
    stmt, figures = _candidates(t, where, criteria_total, only_eligible)
    keys = candidate_keys(figures)
    stmt = keyset_page(stmt, keys, after, limit)
    return list((await session.execute(stmt)).all())


async def count_candidates(
    session: AsyncSession,
    t: Thresholds,
    where: Sequence[ColumnElement[bool]],
    *,
    criteria_total: int,
    only_eligible: bool,
) -> Total:
    """Exact up to `TOTAL_CAP`, else the planner's estimate (flagged)."""
    f = innovation_figures.c
    stmt = select(f.innovation_id).where(*where)
    if only_eligible:
        stmt = stmt.where(_met(t) == criteria_total)
    return await capped_total(session, stmt)


async def evidence_row(session: AsyncSession, innovation_id: uuid.UUID) -> Any | None:
    """The innovation's figures under the default thresholds, with the read model's extras
    (replications by status, provinces reached, awards): one statement."""
    f = innovation_figures.c
    figures = _figures(DEFAULT_THRESHOLDS, [f.innovation_id == innovation_id])
    award = func.json_build_object(
        "competition", Award.competition, "year", Award.year, "tier", Award.tier
    )
    awards = (
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(award, Award.year.desc(), Award.tier)),
                literal_column("'[]'::json"),
            )
        )
        .where(Award.innovation_id == figures.c.id)
        .scalar_subquery()
    )
    stmt = select(
        figures,
        f.replications_by_status,
        f.provinces_reached,
        awards.label("award_list"),
        func.now().label("taken_at"),
    ).join_from(figures, innovation_figures, f.innovation_id == figures.c.id)
    return (await session.execute(stmt)).first()


# --- Proposals --------------------------------------------------------------------------

PROPOSAL_KEYS = (
    SortKey(ScalingProposal.created_at, True),
    SortKey(ScalingProposal.id, True),
)
PROPOSAL_SORT = "-created_at"


def _proposal_select() -> Select[ScalingProposal, str]:
    return select(ScalingProposal, Innovation.title.label("innovation_title")).join(
        Innovation, Innovation.id == ScalingProposal.innovation_id
    )


@dataclass(frozen=True, slots=True)
class ProposalFilters:
    status: str | None = None
    innovation_id: uuid.UUID | None = None
    target_scale: str | None = None
    province: str | None = None


def proposal_filters(f: ProposalFilters) -> list[ColumnElement[bool]]:
    p = ScalingProposal
    return [
        column == value
        for column, value in (
            (p.status, f.status),
            (p.innovation_id, f.innovation_id),
            (p.target_scale, f.target_scale),
            (p.province_code, f.province),
        )
        if value is not None
    ]


async def list_proposals(
    session: AsyncSession, where: list[ColumnElement[bool]], after: list[Any] | None, limit: int
) -> list[Any]:
    stmt = keyset_page(_proposal_select().where(*where), PROPOSAL_KEYS, after, limit)
    return list((await session.execute(stmt)).all())


async def count_proposals(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    stmt = select(func.count()).select_from(ScalingProposal).where(*where)
    return int(await session.scalar(stmt) or 0)


async def get_proposal_row(session: AsyncSession, proposal_id: uuid.UUID) -> Any | None:
    stmt = _proposal_select().where(ScalingProposal.id == proposal_id)
    return (await session.execute(stmt)).first()


async def lock_proposal(session: AsyncSession, proposal_id: uuid.UUID) -> ScalingProposal | None:
    """The proposal, locked until the transaction ends (serialises its workflow steps)."""
    stmt = (
        select(ScalingProposal)
        .where(ScalingProposal.id == proposal_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def insert_proposal(session: AsyncSession, values: dict[str, Any]) -> ScalingProposal:
    proposal = ScalingProposal(**values)
    session.add(proposal)
    try:
        await session.flush()
    except IntegrityError as exc:
        if "ux_scaling_proposals_open_target" in str(exc.orig):
            raise Conflict(
                "This innovation already has an open proposal for this target; decide that "
                "one first.",
                code="duplicate_proposal",
            ) from exc
        raise
    await session.refresh(proposal)
    return proposal


async def update_proposal(
    session: AsyncSession, proposal: ScalingProposal, version: int, values: dict[str, Any]
) -> ScalingProposal:
    return await update_versioned(session, proposal, version, values)


async def raise_scale(
    session: AsyncSession, innovation_id: uuid.UUID, target: str
) -> tuple[str, str | None] | None:
    """Set the innovation's scale to `target` unless it is already there or above.

    Returns (the new scale, the innovation's province) when it changed, else None.
    """
    stmt = (
        update(Innovation)
        .where(Innovation.id == innovation_id, Innovation.scale.in_(LOWER_SCALES[target]))
        .values(scale=target, version=Innovation.version + 1, updated_at=func.now())
        .returning(Innovation.scale, Innovation.province_code)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(stmt)).first()
    return (row.scale, row.province_code) if row is not None else None
