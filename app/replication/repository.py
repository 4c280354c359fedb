"""SQL of replication programmes, commitments, action plans and progress reports."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Integer,
    String,
    and_,
    bindparam,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import stale
from app.core.driver import fetch_in_transaction
from app.core.errors import Conflict
from app.core.pagination import SortKey, keyset_page
from app.core.repository import update_versioned
from app.core.security import Principal
from app.core.totals import Total, capped_total
from app.models.innovation import Innovation
from app.models.institution import Institution
from app.models.replication import (
    FINAL_STATUSES,
    ActionItem,
    Commitment,
    CommitmentActivity,
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
    stmt = keyset_page(select(ReplicationProgram).where(*where), PROGRAM_SORT, after, limit)
    return (await session.scalars(stmt)).all()


async def count_programs(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    stmt = select(func.count()).select_from(ReplicationProgram).where(*where)
    return int(await session.scalar(stmt) or 0)


# --- Commitments ------------------------------------------------------------------------


def overdue_expr() -> ColumnElement[bool]:
    # Never NULL (a commitment without a target is not overdue), so `overdue=false` can negate it.
    # The statuses are written into the statement (not bound): the plan of a prepared
    # statement that asyncpg runs again must still match the partial index's predicate.
    return and_(
        Commitment.target_launch_on.is_not(None),
        Commitment.target_launch_on < func.current_date(),
        Commitment.status.in_([literal_column(f"'{s}'") for s in OVERDUE_STATUSES]),
    )


def stale_expr() -> ColumnElement[bool]:
    # From the later of the signing and the latest report (GREATEST skips a NULL): a signing
    # date moved past the reports restarts the 90 days as a report would.
    return and_(
        Commitment.status.notin_(FINAL_STATUSES),
        func.greatest(Commitment.signed_on, Commitment.last_report_on)
        < func.current_date() - STALE_DAYS,
    )


def stale_filter() -> ColumnElement[bool]:
    """`stale_expr` through the index of `commitment_activity` (which holds the commitments
    that are not final, with the day their 90 days count from). The day is never before the
    signing, so a stale commitment was signed before the cutoff too: said outright, it lets a
    page by signing date start its walk at the cutoff (at 1M, 9 ms instead of 2.9 s)."""
    cutoff = func.current_date() - STALE_DAYS
    return and_(
        Commitment.id.in_(
            select(CommitmentActivity.commitment_id).where(CommitmentActivity.active_on < cutoff)
        ),
        Commitment.signed_on < cutoff,
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
        where.append(stale_filter() if f.stale else ~stale_expr())
    return where


async def list_commitments(
    session: AsyncSession,
    where: list[ColumnElement[bool]],
    keys: Sequence[SortKey],
    after: list[Any] | None,
    limit: int,
) -> list[Any]:
    stmt = keyset_page(commitment_select().where(*where), keys, after, limit)
    return list((await session.execute(stmt)).all())


# The overdue list by signing date, as a merge: every open commitment with a target date is in
# a 30-day bucket of that date (`ix_commitments_overdue_walk`, each bucket by signing date);
# the buckets up to today's are walked one by one, each for at most a page of overdue rows, and
# the page is the first rows of their union. A walk of the signing-date index would pass over
# every commitment signed since, most of them not yet due; this reads a page per bucket (about
# one bucket a month of target dates) whatever the number of commitments.
OVERDUE_WALK = """
SELECT w.id, w.signed_on FROM generate_series(:walk_first, :walk_last) AS b(n)
CROSS JOIN LATERAL (
    SELECT c.id, c.signed_on FROM commitments c
    WHERE c.status IN ('committed', 'in_progress', 'stalled')
      AND c.target_launch_on IS NOT NULL
      AND (c.target_launch_on - DATE '2000-01-01') / 30 = b.n
      AND c.target_launch_on < CURRENT_DATE{status}{after}
    ORDER BY c.signed_on DESC, c.id DESC
    LIMIT :walk_limit
) w
ORDER BY w.signed_on DESC, w.id DESC
LIMIT :walk_limit
"""
# The first bucket (from the index's first entry) and today's.
OVERDUE_BUCKETS = text(
    "SELECT (SELECT min((f.target_launch_on - DATE '2000-01-01') / 30) FROM commitments f"
    " WHERE f.status IN ('committed', 'in_progress', 'stalled')"
    " AND f.target_launch_on IS NOT NULL),"
    " (CURRENT_DATE - DATE '2000-01-01') / 30"
)


def overdue_walk_applies(f: CommitmentFilters, sort: str) -> bool:
    """The merge serves `overdue=true` by signing date, alone or with an open status."""
    alone = CommitmentFilters(overdue=True, status=f.status)
    return (
        sort == "-signed_on" and f == alone and (f.status is None or f.status in OVERDUE_STATUSES)
    )


async def list_overdue_commitments(
    session: AsyncSession, status: str | None, after: list[Any] | None, limit: int
) -> list[Any]:
    """A page of overdue commitments by signing date (newest first), through the merge.

    Two statements: the buckets' range first, so that the planner knows how many buckets
    the walk has (a few dozen, not the thousand it assumes of a series of unknown bounds,
    which made it compile the statement to machine code, 25 ms, for a 2 ms walk)."""
    first, last = (await session.execute(OVERDUE_BUCKETS)).one()
    if first is None:
        return []
    params: dict[str, Any] = {"walk_limit": limit, "walk_first": first, "walk_last": last}
    binds: list[BindParameter[Any]] = [
        bindparam(name, type_=Integer) for name in ("walk_limit", "walk_first", "walk_last")
    ]
    status_sql = after_sql = ""
    if status is not None:
        status_sql = "\n      AND c.status = :walk_status"
        params["walk_status"] = status
        binds.append(bindparam("walk_status", type_=String))
    if after is not None:
        after_sql = "\n      AND (c.signed_on, c.id) < (:walk_signed_on, :walk_id)"
        params["walk_signed_on"], params["walk_id"] = after
        binds += [
            bindparam("walk_signed_on", type_=Date),
            bindparam("walk_id", type_=UUID(as_uuid=True)),
        ]
    walk = (
        text(OVERDUE_WALK.format(status=status_sql, after=after_sql))
        .bindparams(*binds)
        .columns(id=UUID(as_uuid=True), signed_on=Date)
        .subquery("walk")
    )
    stmt = (
        commitment_select()
        .join(walk, walk.c.id == Commitment.id)
        .order_by(Commitment.signed_on.desc(), Commitment.id.desc())
    )
    return list((await session.execute(stmt, params)).all())


async def count_commitments(session: AsyncSession, where: list[ColumnElement[bool]]) -> Total:
    """Exact up to `TOTAL_CAP`, else the planner's estimate (flagged)."""
    return await capped_total(session, select(Commitment.id).where(*where))


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


async def get_commitments(
    session: AsyncSession, commitment_ids: Sequence[uuid.UUID]
) -> Sequence[Commitment]:
    """Commitments this transaction has locked, as they are now, in id order."""
    stmt = (
        select(Commitment)
        .where(Commitment.id.in_(commitment_ids))
        .order_by(Commitment.id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).all()


async def set_status(
    session: AsyncSession, read: Sequence[Commitment], status: str, reason: str | None
) -> Sequence[Commitment]:
    """Set the status of these commitments (locked by this transaction), each at the version
    it was read at (else 412). By primary key: a row-value list of (id, version) pairs made
    PostgreSQL scan the table for a batch's 500 commitments."""
    expected = {c.id: c.version + 1 for c in read}
    stmt = (
        update(Commitment)
        .where(Commitment.id.in_(list(expected)))
        .values(
            status=status,
            status_reason=reason,
            version=Commitment.version + 1,
            updated_at=func.now(),
        )
        .returning(Commitment)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    updated = (await session.scalars(stmt)).all()
    if {c.id: c.version for c in updated} != expected:
        raise stale()
    return sorted(updated, key=lambda c: c.id)


async def add_replications(session: AsyncSession, innovation_id: uuid.UUID, delta: int) -> None:
    await session.execute(
        update(Innovation)
        .where(Innovation.id == innovation_id)
        .values(replication_count=Innovation.replication_count + delta)
    )


def progress_sql(weight: str, progress: str, latest_percent: str) -> str:
    """The one definition of a commitment's progress, as an SQL aggregate over its action
    items' rows: the mean of the items' `progress` weighted by `weight`, to two decimals;
    with no items (NULL weights, as a LEFT JOIN gives), the latest reported percentage; with
    neither, 0. Both statements that write `commitments.progress` are built with it."""
    return f"coalesce(round(sum({weight} * {progress}) / sum({weight}), 2), {latest_percent}, 0)"


RECOMPUTE_PROGRESS = text(
    f"""
    UPDATE commitments c
    SET progress = p.progress, updated_at = now(), version = c.version + 1
    FROM (
        SELECT c2.id, {progress_sql("a.weight", "a.progress", "c2.latest_percent")} AS progress
        FROM commitments c2 LEFT JOIN action_items a ON a.commitment_id = c2.id
        WHERE c2.id = ANY(:ids)
        GROUP BY c2.id, c2.latest_percent
    ) p
    WHERE c.id = p.id
    """  # noqa: S608 - built from constants
)


async def recompute_progress(session: AsyncSession, commitment_ids: Sequence[uuid.UUID]) -> None:
    """Keep `progress` = weighted mean of the items (else the latest reported percentage)."""
    await session.execute(RECOMPUTE_PROGRESS, {"ids": list(commitment_ids)})


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


# --- Progress reports (set-based: a batch of 500 is one statement) ----------------------

# One statement ingests a whole batch. It reads the valid reports from one JSON parameter,
# reads their commitments (locked beforehand by `LOCK_BATCH`), decides for each
# report whether it may be stored, and for the accepted ones inserts the reports, applies the
# item updates, updates each commitment from its latest report (latest percentage, progress)
# and writes the reports' events. Within a batch, the report with the latest `as_of` (then the
# later one) decides both the percentage and an item's state. It does not change a
# commitment's status: it returns the commitments that got their first report while
# `committed`, and the service moves them with its one transition (`apply_transitions`).
#
# The CTEs of one statement see the same snapshot, not each other's writes: the commitment's
# progress is therefore computed from the items joined with `items_updated`, not re-read.
INGEST = text(
    f"""
    WITH input AS MATERIALIZED (
        SELECT e.ord::int AS ord, r.commitment_id, r.as_of, r.percent_complete,
               r.item_updates, r.narrative, r.obstacles, r.evidence_urls, r.reported_by
        FROM jsonb_array_elements(CAST(:reports AS jsonb)) WITH ORDINALITY AS e(doc, ord),
             jsonb_to_record(e.doc) AS r(commitment_id uuid, as_of date, percent_complete int,
                                         item_updates jsonb, narrative text, obstacles text,
                                         evidence_urls jsonb, reported_by text)
    ), locked AS MATERIALIZED (
        -- Locked by `LOCK_BATCH` before this statement started, and read here by the row
        -- addresses (ctid) it returned: no index walk again. See `LOCK_BATCH`.
        SELECT c.id, c.ctid AS row_id, c.status, c.signed_on, c.adopter_province_code,
               c.latest_as_of, c.latest_percent
        FROM commitments c
        WHERE c.ctid = ANY(CAST(:row_ids AS tid[]))
    ), items AS MATERIALIZED (
        -- Every action item of the locked commitments, read once: it checks the item updates
        -- and gives the commitments' progress.
        SELECT a.id, a.ctid AS row_id, a.commitment_id, a.weight, a.progress
        FROM action_items a
        -- An array, not `IN (SELECT …)`: the planner estimated the locked rows at 200 and
        -- read every action item to hash-join them; the array walks the index per commitment.
        WHERE a.commitment_id = ANY(ARRAY(SELECT id FROM locked))
    ), foreign_items AS (
        -- Per report, its first item update that names no item of its commitment.
        SELECT DISTINCT ON (i.ord) i.ord, u.n
        FROM input i
        CROSS JOIN jsonb_array_elements(i.item_updates) WITH ORDINALITY AS u(doc, n)
        LEFT JOIN items a
            ON a.id = CAST(u.doc ->> 'item_id' AS uuid) AND a.commitment_id = i.commitment_id
        WHERE a.id IS NULL
        ORDER BY i.ord, u.n
    ), checked AS MATERIALIZED (
        SELECT i.*, l.row_id, l.status AS commitment_status, l.signed_on,
               l.adopter_province_code,
            CASE
                WHEN l.id IS NULL THEN 'not_found'
                WHEN CAST(:province AS text) IS NOT NULL
                     AND l.adopter_province_code IS DISTINCT FROM CAST(:province AS text)
                    THEN 'other_province'
                WHEN l.status = 'cancelled' THEN 'commitment_cancelled'
                WHEN i.as_of < l.signed_on THEN 'before_signing'
                ELSE 'foreign_item:' || (f.n - 1)
            END AS problem
        FROM input i
        LEFT JOIN locked l ON l.id = i.commitment_id
        LEFT JOIN foreign_items f ON f.ord = i.ord
    ), accepted AS MATERIALIZED (
        -- Time-ordered ids (UUID version 7: milliseconds, then the report's position in the
        -- batch, then random bits): reports of one transaction share `created_at`, and the
        -- id orders them as they were sent; the primary key grows at its right edge.
        SELECT CAST(lpad(to_hex(CAST(extract(epoch FROM now()) * 1000 AS bigint)), 12, '0')
                    || '7' || lpad(to_hex(c.ord), 3, '0')
                    || substr(r.u, 20, 4) || substr(r.u, 25, 12) AS uuid) AS id,
               c.*
        FROM checked c, LATERAL (SELECT CAST(gen_random_uuid() AS text) AS u) r
        WHERE c.problem IS NULL
    ), inserted AS (
        INSERT INTO progress_reports (id, commitment_id, as_of, percent_complete, item_updates,
                                      narrative, obstacles, evidence_urls, reported_by,
                                      reporter_key_id)
        SELECT a.id, a.commitment_id, a.as_of, a.percent_complete, a.item_updates,
               a.narrative, a.obstacles,
               ARRAY(SELECT jsonb_array_elements_text(a.evidence_urls)),
               a.reported_by, CAST(:actor_id AS uuid)
        FROM accepted a
    ), item_changes AS (
        SELECT DISTINCT ON (CAST(u.doc ->> 'item_id' AS uuid))
               CAST(u.doc ->> 'item_id' AS uuid) AS item_id,
               CAST(u.doc ->> 'progress' AS int) AS progress,
               u.doc ->> 'status' AS status,
               a.as_of
        FROM accepted a, jsonb_array_elements(a.item_updates) WITH ORDINALITY AS u(doc, n)
        ORDER BY CAST(u.doc ->> 'item_id' AS uuid), a.as_of DESC, a.ord DESC, u.n DESC
    ), items_updated AS (
        UPDATE action_items ai
        SET progress = coalesce(ic.progress, ai.progress),
            status = coalesce(ic.status, ai.status),
            completed_on = CASE WHEN coalesce(ic.status, ai.status) = 'done'
                                THEN coalesce(ai.completed_on, ic.as_of) END,
            updated_at = now(), version = ai.version + 1
        FROM item_changes ic JOIN items i ON i.id = ic.item_id
        WHERE ai.ctid = i.row_id
        RETURNING ai.id, ai.progress
    ), latest AS (
        -- Per commitment, its latest report in the batch, and the percentage it leaves (a
        -- report older than the latest one stored keeps that one's).
        SELECT DISTINCT ON (a.commitment_id) a.commitment_id, a.row_id, a.as_of,
               l.status = 'committed' AS starts,
               CASE WHEN l.latest_as_of IS NULL OR a.as_of >= l.latest_as_of
                    THEN a.percent_complete ELSE l.latest_percent END AS latest_percent
        FROM accepted a JOIN locked l ON l.id = a.commitment_id
        ORDER BY a.commitment_id, a.as_of DESC, a.ord DESC
    ), progress AS MATERIALIZED (
        -- Computed once: inlined, it was aggregated again for every commitment updated. It
        -- carries what the update needs, so that the update joins no other CTE (estimated
        -- at one row each, two CTEs were joined by a nested loop: 500 × 500 rows, half the
        -- statement's time).
        SELECT l.row_id, l.as_of, l.starts, l.latest_percent,
               {progress_sql("ai.weight", "coalesce(iu.progress, ai.progress)", "l.latest_percent")}
                   AS progress
        FROM latest l
        LEFT JOIN items ai ON ai.commitment_id = l.commitment_id
        LEFT JOIN items_updated iu ON iu.id = ai.id
        GROUP BY l.commitment_id, l.row_id, l.as_of, l.starts, l.latest_percent
    ), commitments_updated AS (
        UPDATE commitments c
        SET latest_percent = p.latest_percent,
            latest_as_of = greatest(c.latest_as_of, p.as_of),
            last_report_at = now(),
            last_report_on = current_date,
            progress = p.progress,
            -- A commitment the report starts gets its new version from the transition
            -- that follows, in the same transaction: one version per request, as ever.
            updated_at = now(), version = c.version + CASE WHEN p.starts THEN 0 ELSE 1 END
        FROM progress p
        WHERE c.ctid = p.row_id
        RETURNING c.id
    ), events_inserted AS (
        INSERT INTO events (actor_id, actor_role, action, entity, entity_id, province_code,
                            changes)
        SELECT CAST(:actor_id AS uuid), :actor_role, 'progress_report.created',
               'progress_report', a.id::text, a.adopter_province_code,
               jsonb_build_object('commitment_id', a.commitment_id, 'as_of', a.as_of,
                                  'percent_complete', a.percent_complete)
        FROM accepted a
        ORDER BY a.ord
    )
    SELECT array_agg(c.problem ORDER BY c.ord) AS problems,
           array_agg(c.signed_on ORDER BY c.ord) AS signed_on,
           array_agg(a.id ORDER BY c.ord) AS ids,
           now() AS created_at,
           ARRAY(SELECT l.commitment_id FROM latest l WHERE l.starts
                 ORDER BY l.commitment_id) AS first_reported,
           (SELECT count(*) FROM latest) - (SELECT count(*) FROM commitments_updated)
           + (SELECT count(*) FROM item_changes) - (SELECT count(*) FROM items_updated)
               AS missed
    FROM checked c LEFT JOIN accepted a ON a.ord = c.ord
    """  # noqa: S608 - built from constants
)

# The batch's commitments, locked in id order (so that concurrent batches never deadlock)
# before `INGEST` runs, in a statement of its own. A statement reads with the snapshot it took
# when it started: had `INGEST` itself waited for the lock of another report on the same
# commitment, it would have read the action items as they were before that report, and the
# progress it writes would have undone that report's item updates. Once these locks are held,
# every earlier writer of these commitments has committed, and `INGEST` starts after them.
#
# It returns each locked row's address (ctid), and `INGEST` reads and updates the commitments,
# and updates their action items, by address rather than walking the primary keys again (at
# national scale, three walks of 500 random keys were a tenth of a batch's database time).
# An address stays the row's own until the transaction ends, because no one else can write
# these rows meanwhile: every writer of a commitment locks it first, and every writer of an
# action item (`service.update_item`, `service.add_item`) locks its commitment first. Were
# that ever broken, an update by address would find the row moved and skip it: `INGEST`
# counts its updates (`missed`), and `ingest_reports` then fails the transaction.
LOCK_BATCH = text(
    """
    SELECT c.ctid FROM commitments c
    WHERE c.id = ANY(CAST(:ids AS uuid[]))
    ORDER BY c.id
    FOR UPDATE
    """
)


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What the database decided for the reports of a batch, in their order.

    `ids[n]` is the stored report's id, or None when report n was refused; `problems[n]` then
    says why: `not_found`, `other_province`, `commitment_cancelled`, `before_signing` (see
    `signed_on[n]`) or `foreign_item:<k>` (its k-th item update names another commitment's
    item). Every stored report has `created_at`, the transaction's time. `first_reported`
    are the commitments that were `committed` and got their first accepted report.
    """

    ids: list[uuid.UUID | None]
    problems: list[str | None]
    signed_on: list[date | None]
    created_at: datetime
    first_reported: list[uuid.UUID]


async def ingest_reports(
    session: AsyncSession,
    reports_json: str,
    commitment_ids: Sequence[uuid.UUID],
    principal: Principal,
) -> IngestOutcome:
    """Store the reports that may be stored: lock their commitments (`commitment_ids`), then
    one statement does the rest (see `LOCK_BATCH` and `INGEST`).

    `reports_json` is a JSON array of valid reports (each with `commitment_id`). A scoped
    principal may only report on commitments of its own province.
    """
    locked = await fetch_in_transaction(session, LOCK_BATCH, {"ids": list(set(commitment_ids))})
    (row,) = await fetch_in_transaction(
        session,
        INGEST,
        {
            "reports": reports_json,
            "row_ids": [r["ctid"] for r in locked],
            "province": principal.province_code if principal.is_scoped else None,
            "actor_id": principal.id,
            "actor_role": principal.role.value,
        },
    )
    if row["missed"]:
        # See `LOCK_BATCH`: a row of the batch was written by someone who did not lock it.
        raise RuntimeError(f"{row['missed']} commitment or action item updates found no row")
    return IngestOutcome(
        row["ids"], row["problems"], row["signed_on"], row["created_at"], row["first_reported"]
    )


async def list_reports(
    session: AsyncSession, commitment_id: uuid.UUID, after: list[Any] | None, limit: int
) -> Sequence[ProgressReport]:
    keys = (SortKey(ProgressReport.created_at, True), SortKey(ProgressReport.id, True))
    stmt = keyset_page(
        select(ProgressReport).where(ProgressReport.commitment_id == commitment_id),
        keys,
        after,
        limit,
    )
    return (await session.scalars(stmt)).all()


async def latest_report(session: AsyncSession, commitment_id: uuid.UUID) -> ProgressReport | None:
    rows = await list_reports(session, commitment_id, None, 1)
    return rows[0] if rows else None
