"""SQL of sustainability monitoring: rubrics, assessments and the derived lists.

Every list page is one statement: the due list reads the kept `due_subjects` in index order,
the at-risk list is computed in SQL for all subjects at once (a window over each subject's
periods).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from app.core.errors import Conflict
from app.core.pagination import SortKey, keyset_page
from app.core.totals import Total, capped_total
from app.models.figures import due_subjects
from app.models.innovation import Innovation
from app.models.institution import Institution
from app.models.replication import Commitment
from app.models.sustainability import SustainabilityAssessment, SustainabilityRubric

SA = SustainabilityAssessment
# A score that fell by this much or more since the subject's previous assessment is at risk.
SCORE_DROP = 15
# Commitments in the due list's scope (kept as `due_subjects.in_scope` by the migration
# `20261205_1340`, with the innovations that are published).
DUE_COMMITMENT_STATUSES = ("launched", "sustained")

# --- Rubrics ------------------------------------------------------------------------------


async def current_rubric(session: AsyncSession) -> SustainabilityRubric | None:
    """The highest version: one small row, read in the caller's transaction."""
    stmt = select(SustainabilityRubric).order_by(SustainabilityRubric.version.desc()).limit(1)
    return (await session.scalars(stmt)).first()


async def get_rubric(session: AsyncSession, version: int) -> SustainabilityRubric | None:
    return await session.get(SustainabilityRubric, version)


# --- Assessments --------------------------------------------------------------------------


def assessment_select() -> Any:
    """An assessment with its source innovation's title and, for a commitment, the adopter."""
    return (
        select(
            SA,
            Innovation.title.label("source_innovation_title"),
            Institution.name.label("adopter_name"),
        )
        .join(Innovation, Innovation.id == SA.source_innovation_id)
        .outerjoin(Commitment, Commitment.id == SA.commitment_id)
        .outerjoin(Institution, Institution.id == Commitment.adopter_institution_id)
    )


async def insert_assessment(
    session: AsyncSession, values: dict[str, Any]
) -> SustainabilityAssessment:
    assessment = SA(**values)
    session.add(assessment)
    try:
        await session.flush()
    except IntegrityError as exc:
        message = str(exc.orig)
        if (
            "uq_sustainability_assessments_innovation_id_period" in message
            or "uq_sustainability_assessments_commitment_id_period" in message
        ):
            raise Conflict(
                f"This subject already has an assessment for {values['period']}.",
                code="duplicate_assessment",
            ) from exc
        raise
    return assessment


async def get_assessment_row(session: AsyncSession, assessment_id: uuid.UUID) -> Any | None:
    stmt = assessment_select().where(SA.id == assessment_id)
    return (await session.execute(stmt)).first()


ASSESSMENT_SORTS: dict[str, tuple[SortKey, ...]] = {
    "-period": (SortKey(SA.period, True), SortKey(SA.id, True)),
    "-assessed_on": (SortKey(SA.assessed_on, True), SortKey(SA.id, True)),
}


@dataclass(frozen=True, slots=True)
class AssessmentFilters:
    innovation_id: uuid.UUID | None = None
    commitment_id: uuid.UUID | None = None
    source_innovation_id: uuid.UUID | None = None
    subject_type: str | None = None
    province: str | None = None
    period: int | None = None
    verdict: str | None = None


def assessment_filters(f: AssessmentFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    for column, value in (
        (SA.innovation_id, f.innovation_id),
        (SA.commitment_id, f.commitment_id),
        (SA.source_innovation_id, f.source_innovation_id),
        (SA.province_code, f.province),
        (SA.period, f.period),
        (SA.verdict, f.verdict),
    ):
        if value is not None:
            where.append(column == value)
    if f.subject_type == "innovation":
        where.append(SA.innovation_id.is_not(None))
    elif f.subject_type == "commitment":
        where.append(SA.commitment_id.is_not(None))
    return where


async def list_assessments(
    session: AsyncSession,
    where: list[ColumnElement[bool]],
    keys: Sequence[SortKey],
    after: list[Any] | None,
    limit: int,
) -> list[Any]:
    stmt = keyset_page(assessment_select().where(*where), keys, after, limit)
    return list((await session.execute(stmt)).all())


async def count_assessments(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    stmt = select(func.count()).select_from(SA).where(*where)
    return int(await session.scalar(stmt) or 0)


# --- Due: subjects with no assessment in the last 12 months ------------------------------


@dataclass(frozen=True, slots=True)
class SubjectFilters:
    subject_type: str | None = None
    province: str | None = None


def _due_where(f: SubjectFilters, year_ago: date) -> list[ColumnElement[bool]]:
    """Subjects in scope with no assessment made after `year_ago` (never assessed ones have
    the key 1900-01-01) and, for an innovation, launched (else registered) by then."""
    d = due_subjects.c
    where: list[ColumnElement[bool]] = [
        d.in_scope,
        d.assessed_key <= year_ago,
        or_(d.eligible_on.is_(None), d.eligible_on <= year_ago),
    ]
    if f.subject_type == "innovation":
        where.append(d.innovation_id.is_not(None))
    elif f.subject_type == "commitment":
        where.append(d.commitment_id.is_not(None))
    if f.province is not None:
        where.append(d.province_code == f.province)
    return where


def _due_subjects(f: SubjectFilters, year_ago: date) -> Any:
    """Published innovations launched (else registered) a year ago or more, and launched or
    sustained commitments, with no assessment made after `year_ago`.

    Read from `due_subjects` (each subject's latest assessment, kept in the writing
    transaction, see `app.models.figures`): innovations and commitments are rows of one index,
    so a page is a walk of that index in the page's order (the whole list, behind the
    province or behind the subject kind), and the titles and names are looked up for the
    page's rows only."""
    d = due_subjects.c
    is_innovation = d.innovation_id.is_not(None)
    return (
        select(
            case((is_innovation, literal("innovation")), else_=literal("commitment")).label(
                "subject_type"
            ),
            d.subject_id.label("subject_id"),
            d.innovation_id.label("innovation_id"),
            d.commitment_id.label("commitment_id"),
            Innovation.id.label("source_innovation_id"),
            Innovation.title.label("source_innovation_title"),
            Institution.name.label("adopter_name"),
            d.province_code.label("province_code"),
            func.coalesce(Commitment.status, Innovation.status).label("status"),
            case((is_innovation, Innovation.launched_on)).label("launched_on"),
            d.last_assessed_on.label("last_assessed_on"),
            d.last_period.label("last_period"),
            d.assessed_key.label("assessed_key"),
        )
        .select_from(due_subjects)
        .outerjoin(Commitment, Commitment.id == d.commitment_id)
        .join(Innovation, Innovation.id == func.coalesce(d.innovation_id, Commitment.innovation_id))
        .outerjoin(Institution, Institution.id == Commitment.adopter_institution_id)
        .where(*_due_where(f, year_ago))
        .subquery("due")
    )


def due_sort(due: Any) -> tuple[SortKey, ...]:
    """Never assessed first, then the longest since the last assessment."""
    return (SortKey(due.c.assessed_key), SortKey(due.c.subject_id))


async def list_due(
    session: AsyncSession, f: SubjectFilters, year_ago: date, after: list[Any] | None, limit: int
) -> tuple[list[Any], list[list[Any]]]:
    """A page of due subjects and, for each, its sort key values (for the cursor)."""
    due = _due_subjects(f, year_ago)
    keys = due_sort(due)
    stmt = keyset_page(
        select(due, *(k.column.label(f"_k{n}") for n, k in enumerate(keys))), keys, after, limit
    )
    rows = list((await session.execute(stmt)).all())
    width = len(rows[0]) - len(keys) if rows else 0
    return rows, [list(r[width:]) for r in rows]


async def count_due(session: AsyncSession, f: SubjectFilters, year_ago: date) -> Total:
    """Exact up to `TOTAL_CAP`, else the planner's estimate (flagged)."""
    stmt = select(due_subjects.c.subject_id).where(*_due_where(f, year_ago))
    return await capped_total(session, stmt)


# --- At risk: the latest assessment is weak, or the score fell --------------------------


@dataclass(frozen=True, slots=True)
class AtRiskFilters:
    subject_type: str | None = None
    province: str | None = None
    verdict: str | None = None


def _at_risk(f: AtRiskFilters) -> Any:
    """Each subject's latest assessment (highest period) with the previous one's score,
    kept when its verdict is at_risk or discontinued or its score fell by SCORE_DROP or more."""

    def over(fn: Any) -> Any:
        return fn.over(partition_by=(SA.innovation_id, SA.commitment_id), order_by=SA.period.desc())

    ranked = select(
        SA.id,
        SA.innovation_id,
        SA.commitment_id,
        SA.source_innovation_id,
        SA.province_code,
        SA.period,
        SA.assessed_on,
        SA.score,
        SA.verdict,
        over(func.row_number()).label("rn"),
        over(func.lead(SA.score)).label("previous_score"),
        over(func.lead(SA.period)).label("previous_period"),
    )
    if f.province is not None:
        ranked = ranked.where(SA.province_code == f.province)
    if f.subject_type == "innovation":
        ranked = ranked.where(SA.innovation_id.is_not(None))
    elif f.subject_type == "commitment":
        ranked = ranked.where(SA.commitment_id.is_not(None))
    r = ranked.subquery("ranked")
    weak = r.c.verdict.in_(("at_risk", "discontinued"))
    dropped = r.c.previous_score - r.c.score >= SCORE_DROP
    stmt = (
        select(
            r.c.id.label("assessment_id"),
            r.c.innovation_id,
            r.c.commitment_id,
            r.c.source_innovation_id,
            Innovation.title.label("source_innovation_title"),
            Institution.name.label("adopter_name"),
            r.c.province_code,
            r.c.period,
            r.c.assessed_on,
            r.c.score,
            r.c.verdict,
            r.c.previous_period,
            r.c.previous_score,
            func.coalesce(dropped, false()).label("score_drop"),
        )
        .join(Innovation, Innovation.id == r.c.source_innovation_id)
        .outerjoin(Commitment, Commitment.id == r.c.commitment_id)
        .outerjoin(Institution, Institution.id == Commitment.adopter_institution_id)
        .where(r.c.rn == 1, or_(weak, dropped))
    )
    if f.verdict is not None:
        stmt = stmt.where(r.c.verdict == f.verdict)
    return stmt.subquery("at_risk")


def at_risk_sort(at_risk: Any) -> tuple[SortKey, ...]:
    """Lowest score first."""
    return (SortKey(at_risk.c.score), SortKey(at_risk.c.assessment_id))


async def list_at_risk(
    session: AsyncSession, f: AtRiskFilters, after: list[Any] | None, limit: int
) -> list[Any]:
    at_risk = _at_risk(f)
    keys = at_risk_sort(at_risk)
    stmt = keyset_page(select(at_risk), keys, after, limit)
    return list((await session.execute(stmt)).all())


async def count_at_risk(session: AsyncSession, f: AtRiskFilters) -> int:
    return int(await session.scalar(select(func.count()).select_from(_at_risk(f))) or 0)


# --- Timeline -----------------------------------------------------------------------------


async def timeline(
    session: AsyncSession, innovation_id: uuid.UUID, published_only: bool, max_depth: int = 20
) -> list[Any]:
    """Assessments of the innovation, of its registered replicas (any depth) and of the
    commitments adopting any of them, with each one's depth in the lineage: one statement."""
    tree = (
        select(Innovation.id, literal(0).label("depth"))
        .where(Innovation.id == innovation_id)
        .cte("tree", recursive=True)
    )
    child = select(Innovation.id, (tree.c.depth + 1).label("depth")).join(
        tree, and_(Innovation.replica_of_id == tree.c.id, tree.c.depth < max_depth)
    )
    if published_only:
        child = child.where(Innovation.status == "published")
    tree = tree.union(child)
    stmt = (
        assessment_select()
        .add_columns(tree.c.depth)
        .join(tree, tree.c.id == SA.source_innovation_id)
        .order_by(
            SA.period,
            tree.c.depth,
            SA.commitment_id.is_not(None),
            Innovation.title,
            Institution.name,
            SA.id,
        )
    )
    return list((await session.execute(stmt)).all())
