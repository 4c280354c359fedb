"""SQL of replication programmes, commitments, action plans and progress reports."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    func,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.core.pagination import SortKey, keyset_after, order_by
from app.core.repository import update_versioned
from app.models.innovation import Innovation
from app.models.institution import Institution
from app.models.replication import (
    FINAL_STATUSES,
    ActionItem,
    Commitment,
    ProgressReport,
    ReplicationProgram,
)

STALE_DAYS = 90
OVERDUE_STATUSES = ("committed", "in_progress", "stalled")

# --- Programmes -------------------------------------------------------------------------

PROGRAM_SORT = (SortKey(ReplicationProgram.fiscal_year, True), SortKey(ReplicationProgram.id, True))


async def get_program(session: AsyncSession, program_id: uuid.UUID) -> ReplicationProgram | None:
    return await session.get(ReplicationProgram, program_id)


async def insert_program(session: AsyncSession, values: dict[str, Any]) -> ReplicationProgram:
    program = ReplicationProgram(**values)
    session.add(program)
    await session.flush()
    await session.refresh(program)
    return program


async def update_program(
    session: AsyncSession, program: ReplicationProgram, version: int, values: dict[str, Any]
) -> ReplicationProgram:
    return await update_versioned(session, program, version, values)


def program_filters(
    province: str | None, fiscal_year: int | None, status: str | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if province is not None:
        where.append(ReplicationProgram.province_code == province)
    if fiscal_year is not None:
        where.append(ReplicationProgram.fiscal_year == fiscal_year)
    if status is not None:
        where.append(ReplicationProgram.status == status)
    return where


async def list_programs(
    session: AsyncSession, where: list[ColumnElement[bool]], after: list[Any] | None, limit: int
) -> Sequence[ReplicationProgram]:
    stmt = select(ReplicationProgram).where(*where).order_by(*order_by(PROGRAM_SORT)).limit(limit)
    if after is not None:
        stmt = stmt.where(keyset_after(PROGRAM_SORT, after))
    return (await session.scalars(stmt)).all()


async def count_programs(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    stmt = select(func.count()).select_from(ReplicationProgram).where(*where)
    return int(await session.scalar(stmt) or 0)


# --- Commitments ------------------------------------------------------------------------


def overdue_expr() -> ColumnElement[bool]:
    # Never NULL (a commitment without a target is not overdue), so `overdue=false` can negate it.
    return and_(
        Commitment.target_launch_on.is_not(None),
        Commitment.target_launch_on < func.current_date(),
        Commitment.status.in_(OVERDUE_STATUSES),
    )


def stale_expr() -> ColumnElement[bool]:
    return and_(
        Commitment.status.notin_(FINAL_STATUSES),
        func.coalesce(Commitment.last_report_on, Commitment.signed_on)
        < func.current_date() - STALE_DAYS,
    )


COMMITMENT_SORTS: dict[str, tuple[SortKey, ...]] = {
    "-signed_on": (SortKey(Commitment.signed_on, True), SortKey(Commitment.id, True)),
    "-updated_at": (SortKey(Commitment.updated_at, True), SortKey(Commitment.id, True)),
}


def commitment_select() -> Any:
    adopter = Institution
    return (
        select(
            Commitment,
            Innovation.title.label("innovation_title"),
            adopter.name.label("adopter_name"),
            overdue_expr().label("overdue"),
            stale_expr().label("stale"),
        )
        .join(Innovation, Innovation.id == Commitment.innovation_id)
        .join(adopter, adopter.id == Commitment.adopter_institution_id)
    )


@dataclass(frozen=True, slots=True)
class CommitmentFilters:
    program_id: uuid.UUID | None = None
    province: str | None = None
    adopter_id: uuid.UUID | None = None
    innovation_id: uuid.UUID | None = None
    status: str | None = None
    overdue: bool | None = None
    stale: bool | None = None


def commitment_filters(f: CommitmentFilters) -> list[ColumnElement[bool]]:
    c = Commitment
    where: list[ColumnElement[bool]] = []
    for column, value in (
        (c.program_id, f.program_id),
        (c.adopter_province_code, f.province),
        (c.adopter_institution_id, f.adopter_id),
        (c.innovation_id, f.innovation_id),
        (c.status, f.status),
    ):
        if value is not None:
            where.append(column == value)
    if f.overdue is not None:
        where.append(overdue_expr() if f.overdue else ~overdue_expr())
    if f.stale is not None:
        where.append(stale_expr() if f.stale else ~stale_expr())
    return where


async def list_commitments(
    session: AsyncSession,
    where: list[ColumnElement[bool]],
    keys: Sequence[SortKey],
    after: list[Any] | None,
    limit: int,
) -> list[Any]:
    stmt = commitment_select().where(*where).order_by(*order_by(keys)).limit(limit)
    if after is not None:
        stmt = stmt.where(keyset_after(keys, after))
    return list((await session.execute(stmt)).all())


async def count_commitments(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    stmt = select(func.count()).select_from(Commitment).where(*where)
    return int(await session.scalar(stmt) or 0)


async def get_commitment_row(session: AsyncSession, commitment_id: uuid.UUID) -> Any | None:
    stmt = commitment_select().where(Commitment.id == commitment_id)
    return (await session.execute(stmt)).first()


async def lock_commitment(session: AsyncSession, commitment_id: uuid.UUID) -> Commitment | None:
    """The commitment, locked until the transaction ends (serialises status changes)."""
    stmt = (
        select(Commitment)
        .where(Commitment.id == commitment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def insert_commitment(session: AsyncSession, values: dict[str, Any]) -> Commitment:
    commitment = Commitment(**values)
    session.add(commitment)
    try:
        await session.flush()
    except IntegrityError as exc:
        if "uq_commitments_program_id_innovation_id_adopter_institution_id" in str(exc.orig):
            raise Conflict(
                "This adopter has already committed to this innovation in this programme.",
                code="duplicate_commitment",
            ) from exc
        raise
    return commitment


async def update_commitment(
    session: AsyncSession, commitment: Commitment, version: int, values: dict[str, Any]
) -> Commitment:
    return await update_versioned(session, commitment, version, values)


async def add_replications(session: AsyncSession, innovation_id: uuid.UUID, delta: int) -> None:
    await session.execute(
        update(Innovation)
        .where(Innovation.id == innovation_id)
        .values(replication_count=Innovation.replication_count + delta)
    )


_RECOMPUTE_PROGRESS = text(
    """
    UPDATE commitments c
    SET progress = coalesce(
            (SELECT round(sum(a.weight * a.progress) / sum(a.weight), 2)
             FROM action_items a WHERE a.commitment_id = c.id),
            c.latest_percent, 0),
        updated_at = now(), version = c.version + 1
    WHERE c.id = ANY(:ids)
    """
)


async def recompute_progress(session: AsyncSession, commitment_ids: Sequence[uuid.UUID]) -> None:
    """Keep `progress` = weighted mean of the items (else the latest reported percentage)."""
    await session.execute(_RECOMPUTE_PROGRESS, {"ids": list(commitment_ids)})


async def matrix_rows(session: AsyncSession, program_id: uuid.UUID) -> Sequence[Any]:
    stmt = (
        select(
            Commitment.id,
            Commitment.innovation_id,
            Commitment.adopter_institution_id,
            Commitment.status,
            Commitment.progress,
            Innovation.title.label("innovation_title"),
            Institution.name.label("adopter_name"),
            Institution.region_code.label("adopter_region_code"),
        )
        .join(Innovation, Innovation.id == Commitment.innovation_id)
        .join(Institution, Institution.id == Commitment.adopter_institution_id)
        .where(Commitment.program_id == program_id)
        .order_by(Innovation.title, Institution.name)
    )
    return (await session.execute(stmt)).all()


# --- Action items -----------------------------------------------------------------------


async def insert_item(session: AsyncSession, values: dict[str, Any]) -> ActionItem:
    item = ActionItem(**values)
    session.add(item)
    await session.flush()
    await session.refresh(item)
    return item


async def get_item(session: AsyncSession, item_id: uuid.UUID) -> ActionItem | None:
    return await session.get(ActionItem, item_id)


async def update_item(
    session: AsyncSession, item: ActionItem, version: int, values: dict[str, Any]
) -> ActionItem:
    return await update_versioned(session, item, version, values)


async def items_of(session: AsyncSession, commitment_id: uuid.UUID) -> Sequence[ActionItem]:
    stmt = (
        select(ActionItem)
        .where(ActionItem.commitment_id == commitment_id)
        .order_by(ActionItem.due_on.nulls_last(), ActionItem.id)
    )
    return (await session.scalars(stmt)).all()


# --- Progress reports (set-based: a batch of 500 is a handful of statements) -------------

_LOCK_COMMITMENTS = text(
    """
    SELECT c.id, c.status, c.signed_on, c.adopter_province_code,
           coalesce(array_agg(a.id) FILTER (WHERE a.id IS NOT NULL), '{}') AS item_ids
    FROM (SELECT id, status, signed_on, adopter_province_code FROM commitments
          WHERE id = ANY(:ids) ORDER BY id FOR UPDATE) c
    LEFT JOIN action_items a ON a.commitment_id = c.id
    GROUP BY c.id, c.status, c.signed_on, c.adopter_province_code
    """
)

_INSERT_REPORTS = text(
    """
    INSERT INTO progress_reports (id, commitment_id, as_of, percent_complete, item_updates,
                                  narrative, obstacles, evidence_urls, reported_by,
                                  reporter_key_id)
    SELECT r.id, r.commitment_id, r.as_of, r.percent_complete, r.item_updates::jsonb,
           r.narrative, r.obstacles,
           ARRAY(SELECT jsonb_array_elements_text(r.evidence_urls::jsonb)),
           r.reported_by, :reporter_key_id
    FROM unnest(CAST(:ids AS uuid[]), CAST(:commitment_ids AS uuid[]), CAST(:as_of AS date[]),
                CAST(:percent AS int[]), CAST(:item_updates AS text[]),
                CAST(:narrative AS text[]), CAST(:obstacles AS text[]),
                CAST(:evidence_urls AS text[]), CAST(:reported_by AS text[]))
         AS r(id, commitment_id, as_of, percent_complete, item_updates, narrative, obstacles,
              evidence_urls, reported_by)
    RETURNING id, created_at
    """
)

_APPLY_ITEM_UPDATES = text(
    """
    UPDATE action_items a
    SET progress = coalesce(u.progress, a.progress),
        status = coalesce(u.status, a.status),
        completed_on = CASE WHEN coalesce(u.status, a.status) = 'done'
                            THEN coalesce(a.completed_on, u.as_of) ELSE NULL END,
        updated_at = now(), version = a.version + 1
    FROM unnest(CAST(:ids AS uuid[]), CAST(:progress AS int[]), CAST(:status AS text[]),
                CAST(:as_of AS date[])) AS u(id, progress, status, as_of)
    WHERE a.id = u.id
    """
)

_APPLY_TO_COMMITMENTS = text(
    """
    UPDATE commitments c
    SET status = CASE WHEN c.status = 'committed' THEN 'in_progress' ELSE c.status END,
        latest_percent = CASE WHEN c.latest_as_of IS NULL OR u.as_of >= c.latest_as_of
                              THEN u.percent ELSE c.latest_percent END,
        latest_as_of = greatest(c.latest_as_of, u.as_of),
        last_report_at = now(),
        last_report_on = current_date,
        progress = coalesce(
            (SELECT round(sum(a.weight * a.progress) / sum(a.weight), 2)
             FROM action_items a WHERE a.commitment_id = c.id),
            CASE WHEN c.latest_as_of IS NULL OR u.as_of >= c.latest_as_of
                 THEN u.percent ELSE c.latest_percent END,
            0),
        updated_at = now(), version = c.version + 1
    FROM unnest(CAST(:ids AS uuid[]), CAST(:as_of AS date[]), CAST(:percent AS int[]))
         AS u(id, as_of, percent)
    WHERE c.id = u.id
    """
)


@dataclass(frozen=True, slots=True)
class CommitmentState:
    id: uuid.UUID
    status: str
    signed_on: date
    province_code: str | None
    item_ids: frozenset[uuid.UUID]


async def lock_for_reports(
    session: AsyncSession, commitment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CommitmentState]:
    rows = (await session.execute(_LOCK_COMMITMENTS, {"ids": list(commitment_ids)})).all()
    return {
        r.id: CommitmentState(
            id=r.id,
            status=r.status,
            signed_on=r.signed_on,
            province_code=r.adopter_province_code,
            item_ids=frozenset(r.item_ids),
        )
        for r in rows
    }


async def insert_reports(
    session: AsyncSession, reports: Sequence[dict[str, Any]], reporter_key_id: uuid.UUID | None
) -> dict[uuid.UUID, Any]:
    """Insert reports in one statement; returns each id's `created_at`."""
    params = {
        "ids": [r["id"] for r in reports],
        "commitment_ids": [r["commitment_id"] for r in reports],
        "as_of": [r["as_of"] for r in reports],
        "percent": [r["percent_complete"] for r in reports],
        "item_updates": [json.dumps(r["item_updates"]) for r in reports],
        "narrative": [r["narrative"] for r in reports],
        "obstacles": [r["obstacles"] for r in reports],
        "evidence_urls": [json.dumps(r["evidence_urls"]) for r in reports],
        "reported_by": [r["reported_by"] for r in reports],
        "reporter_key_id": reporter_key_id,
    }
    rows = (await session.execute(_INSERT_REPORTS, params)).all()
    return {r.id: r.created_at for r in rows}


async def apply_item_updates(session: AsyncSession, updates: Sequence[dict[str, Any]]) -> None:
    if not updates:
        return
    await session.execute(
        _APPLY_ITEM_UPDATES,
        {
            "ids": [u["item_id"] for u in updates],
            "progress": [u["progress"] for u in updates],
            "status": [u["status"] for u in updates],
            "as_of": [u["as_of"] for u in updates],
        },
    )


async def apply_reports_to_commitments(
    session: AsyncSession, latest: Sequence[tuple[uuid.UUID, date, int]]
) -> None:
    """Per commitment, the latest report of the batch: status, latest percentage, progress."""
    await session.execute(
        _APPLY_TO_COMMITMENTS,
        {
            "ids": [c for c, _, _ in latest],
            "as_of": [a for _, a, _ in latest],
            "percent": [p for _, _, p in latest],
        },
    )


async def list_reports(
    session: AsyncSession, commitment_id: uuid.UUID, after: list[Any] | None, limit: int
) -> Sequence[ProgressReport]:
    keys = (SortKey(ProgressReport.created_at, True), SortKey(ProgressReport.id, True))
    stmt = (
        select(ProgressReport)
        .where(ProgressReport.commitment_id == commitment_id)
        .order_by(*order_by(keys))
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(keyset_after(keys, after))
    return (await session.scalars(stmt)).all()


async def latest_report(session: AsyncSession, commitment_id: uuid.UUID) -> ProgressReport | None:
    rows = await list_reports(session, commitment_id, None, 1)
    return rows[0] if rows else None


_REPORT_EVENTS = text(
    """
    INSERT INTO events (actor_id, actor_role, action, entity, entity_id, province_code, changes)
    SELECT CAST(:actor_id AS uuid), :actor_role, 'progress_report.created', 'progress_report',
           e.id::text, e.province_code,
           jsonb_build_object('commitment_id', e.commitment_id, 'as_of', e.as_of,
                              'percent_complete', e.percent)
    FROM unnest(CAST(:ids AS uuid[]), CAST(:commitment_ids AS uuid[]), CAST(:as_of AS date[]),
                CAST(:percent AS int[]), CAST(:provinces AS text[]))
         AS e(id, commitment_id, as_of, percent, province_code)
    UNION ALL
    SELECT CAST(:actor_id AS uuid), :actor_role, 'commitment.transitioned', 'commitment',
           s.id::text, s.province_code,
           '{"from": "committed", "to": "in_progress", "reason": "first progress report"}'::jsonb
    FROM unnest(CAST(:started AS uuid[]), CAST(:started_provinces AS text[]))
         AS s(id, province_code)
    """
)


async def insert_report_events(
    session: AsyncSession,
    principal: Any,
    reports: Sequence[tuple[uuid.UUID, uuid.UUID, date, int, str | None]],
    started: Sequence[tuple[uuid.UUID, str | None]],
) -> None:
    """One event per report, and one per commitment the batch moved to in_progress."""
    await session.execute(
        _REPORT_EVENTS,
        {
            "actor_id": principal.id,
            "actor_role": principal.role.value,
            "ids": [r[0] for r in reports],
            "commitment_ids": [r[1] for r in reports],
            "as_of": [r[2] for r in reports],
            "percent": [r[3] for r in reports],
            "provinces": [r[4] for r in reports],
            "started": [s[0] for s in started],
            "started_provinces": [s[1] for s in started],
        },
    )
