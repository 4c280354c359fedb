"""SQL of competitions. Steps over a whole competition (assigning, closing a stage, the
determination, nominating) are one statement each, whatever the number of entries."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy import Text as SqlText
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import keys_repository
from app.core.errors import Conflict
from app.core.pagination import SortKey, keyset_page
from app.core.repository import update_versioned
from app.core.security import hash_key
from app.models.api_key import ApiKey
from app.models.competition import (
    Competition,
    CompetitionEntry,
    CompetitionObjection,
    CompetitionRubric,
    EntryAssignment,
    EntryScore,
    FieldVerification,
    StageRanking,
)
from app.models.innovation import Award, Innovation
from app.models.institution import Institution


def _uuid_array() -> Any:
    return ARRAY(UUID(as_uuid=True))


def _int() -> Any:
    return Integer()


def _int_array() -> Any:
    return ARRAY(Integer())


def _text_array() -> Any:
    return ARRAY(SqlText())


# Titles at least this similar (pg_trgm `similarity`, 0–1) are flagged as near duplicates.
SIMILARITY_THRESHOLD = 0.6
E = CompetitionEntry

# --- Competitions -------------------------------------------------------------------------

COMPETITION_KEYS = (SortKey(Competition.year, True), SortKey(Competition.id, True))


async def get_competition(session: AsyncSession, competition_id: uuid.UUID) -> Competition | None:
    return await session.get(Competition, competition_id, populate_existing=True)


async def lock_competition(session: AsyncSession, competition_id: uuid.UUID) -> Competition | None:
    stmt = (
        select(Competition)
        .where(Competition.id == competition_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def insert_competition(session: AsyncSession, values: dict[str, Any]) -> Competition:
    competition = Competition(**values)
    session.add(competition)
    await session.flush()
    await session.refresh(competition)
    return competition


async def update_competition(
    session: AsyncSession, competition: Competition, version: int, values: dict[str, Any]
) -> Competition:
    return await update_versioned(session, competition, version, values)


def competition_filters(
    status: str | None, year: int | None, organizer: str | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if status is not None:
        where.append(Competition.status == status)
    if year is not None:
        where.append(Competition.year == year)
    if organizer == "national":
        where.append(Competition.organizer_province_code.is_(None))
    elif organizer is not None:
        where.append(Competition.organizer_province_code == organizer)
    return where


async def list_competitions(
    session: AsyncSession, where: list[ColumnElement[bool]], after: list[Any] | None, limit: int
) -> list[Competition]:
    stmt = keyset_page(select(Competition).where(*where), COMPETITION_KEYS, after, limit)
    return list((await session.scalars(stmt)).all())


async def count_competitions(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    stmt = select(func.count()).select_from(Competition).where(*where)
    return int(await session.scalar(stmt) or 0)


# --- Rubrics ------------------------------------------------------------------------------


async def latest_rubrics(
    session: AsyncSession, codes: Sequence[str]
) -> dict[str, CompetitionRubric]:
    """The highest version of each code."""
    stmt = (
        select(CompetitionRubric)
        .where(CompetitionRubric.code.in_(codes))
        .order_by(CompetitionRubric.code, CompetitionRubric.rubric_version.desc())
    )
    found: dict[str, CompetitionRubric] = {}
    for rubric in (await session.scalars(stmt)).all():
        found.setdefault(rubric.code, rubric)
    return found


async def rubrics_by_id(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CompetitionRubric]:
    stmt = select(CompetitionRubric).where(CompetitionRubric.id.in_(ids))
    return {r.id: r for r in (await session.scalars(stmt)).all()}


# --- Institutions -------------------------------------------------------------------------

AGENCY = text(
    """
    WITH RECURSIVE up(id, parent_id, kind, region_code, depth) AS (
        SELECT id, parent_id, kind, region_code, 0 FROM institutions WHERE id = :id
        UNION ALL
        SELECT i.id, i.parent_id, i.kind, i.region_code, up.depth + 1
        FROM institutions i JOIN up ON i.id = up.parent_id WHERE up.depth < 20
    )
    SELECT id, kind, region_code FROM up ORDER BY depth DESC LIMIT 1
    """
)


async def agency_of(session: AsyncSession, institution_id: uuid.UUID) -> Any | None:
    """The top of the institution's parent chain (id, kind, region_code)."""
    return (await session.execute(AGENCY, {"id": institution_id})).first()


def subtree(root_id: uuid.UUID) -> Any:
    """Ids of the institution and every institution under it."""
    down = (
        select(Institution.id.label("id"))
        .where(Institution.id == root_id)
        .cte("down", recursive=True)
    )
    child = select(Institution.id).join(down, Institution.parent_id == down.c.id)
    down = down.union_all(child)
    return select(down.c.id)


async def get_innovation(session: AsyncSession, innovation_id: uuid.UUID) -> Innovation | None:
    return await session.get(Innovation, innovation_id)


# --- Entries ------------------------------------------------------------------------------

ENTRY_KEYS = (SortKey(E.created_at), SortKey(E.id))


async def get_entry(session: AsyncSession, entry_id: uuid.UUID) -> CompetitionEntry | None:
    return await session.get(E, entry_id, populate_existing=True)


async def lock_entry(session: AsyncSession, entry_id: uuid.UUID) -> CompetitionEntry | None:
    stmt = (
        select(E)
        .where(E.id == entry_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def insert_entry(session: AsyncSession, values: dict[str, Any]) -> CompetitionEntry:
    entry = CompetitionEntry(**values)
    session.add(entry)
    try:
        await session.flush()
    except IntegrityError as exc:
        if "uq_competition_entries_competition_id_innovation_id" in str(exc.orig):
            raise Conflict(
                "This innovation already has an entry in this competition (one per innovation).",
                code="duplicate_entry",
            ) from exc
        raise
    await session.refresh(entry)
    return entry


async def update_entry(
    session: AsyncSession, entry: CompetitionEntry, version: int, values: dict[str, Any]
) -> CompetitionEntry:
    return await update_versioned(session, entry, version, values)


async def lock_quota(
    session: AsyncSession, competition_id: uuid.UUID, agency_id: uuid.UUID, group: str
) -> None:
    """Serialises submissions of one agency in one group (the quota is counted after)."""
    key = f"{competition_id}:{agency_id}:{group}"
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


async def count_submitted(
    session: AsyncSession, competition_id: uuid.UUID, agency_id: uuid.UUID, group: str
) -> int:
    stmt = select(func.count()).where(
        E.competition_id == competition_id,
        E.agency_id == agency_id,
        E.group == group,
        E.status != "draft",
    )
    return int(await session.scalar(stmt) or 0)


async def near_duplicates(
    session: AsyncSession, competition_id: uuid.UUID, entry_id: uuid.UUID, title: str
) -> list[dict[str, Any]]:
    similarity = func.similarity(E.title, title)
    stmt = (
        select(E.id, E.title, similarity.label("similarity"))
        .where(
            E.competition_id == competition_id,
            E.id != entry_id,
            E.status != "draft",
            similarity >= SIMILARITY_THRESHOLD,
        )
        .order_by(similarity.desc(), E.id)
        .limit(5)
    )
    return [
        {"entry_id": str(r.id), "title": r.title, "similarity": round(float(r.similarity), 3)}
        for r in (await session.execute(stmt)).all()
    ]


async def list_entries(
    session: AsyncSession,
    where: list[ColumnElement[bool]],
    after: list[Any] | None,
    limit: int,
) -> list[CompetitionEntry]:
    stmt = keyset_page(select(E).where(*where), ENTRY_KEYS, after, limit)
    return list((await session.scalars(stmt)).all())


async def count_entries(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    return int(await session.scalar(select(func.count()).select_from(E).where(*where)) or 0)


def visible_to(
    kind: str,
    *,
    key_id: uuid.UUID | None,
    province_code: str | None,
    institution_id: uuid.UUID | None,
    determined: bool,
) -> ColumnElement[bool]:
    """Which entries a viewer sees: the organiser all; an evaluator its assigned ones; a
    submitter its institution's; another province's coordinator its province's; and after
    determination everyone the finalists."""
    public: ColumnElement[bool] = E.status.in_(("finalist", "awarded")) if determined else false()
    if kind == "organiser":
        return true()
    if kind == "evaluator" and key_id is not None:
        assigned = exists().where(
            EntryAssignment.entry_id == E.id, EntryAssignment.evaluator_key_id == key_id
        )
        return or_(assigned, public)
    if kind == "submitter" and institution_id is not None:
        return or_(E.institution_id.in_(subtree(institution_id)), public)
    if kind == "province" and province_code is not None:
        return or_(E.province_code == province_code, public)
    return public


async def rankings_of(session: AsyncSession, entry_ids: Sequence[uuid.UUID]) -> list[StageRanking]:
    stmt = (
        select(StageRanking)
        .where(StageRanking.entry_id.in_(entry_ids))
        .order_by(StageRanking.entry_id, StageRanking.stage)
    )
    return list((await session.scalars(stmt)).all())


# --- Assignments and scores ---------------------------------------------------------------


def pool(competition_id: uuid.UUID, stage: int) -> list[ColumnElement[bool]]:
    """The entries a stage ranks: those in evaluation (stage 0), else those that reached the
    previous tier."""
    if stage == 0:
        return [E.competition_id == competition_id, E.status == "in_evaluation"]
    return [
        E.competition_id == competition_id,
        E.status == "finalist",
        E.tier_index == stage - 1,
    ]


async def entries_outside_pool(
    session: AsyncSession, competition_id: uuid.UUID, stage: int, entry_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    ids = func.unnest(literal(list(entry_ids), type_=_uuid_array()))
    wanted = select(ids.column_valued("id")).subquery("wanted")
    inside = select(E.id).where(*pool(competition_id, stage))
    stmt = select(wanted.c.id).where(wanted.c.id.not_in(inside)).distinct()
    return list((await session.scalars(stmt)).all())


async def non_evaluator_keys(
    session: AsyncSession, key_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    ids = func.unnest(literal(list(key_ids), type_=_uuid_array()))
    wanted = select(ids.column_valued("id")).subquery("wanted")
    live = select(ApiKey.id).where(ApiKey.role == "evaluator", ApiKey.revoked_at.is_(None))
    stmt = select(wanted.c.id).where(wanted.c.id.not_in(live)).distinct()
    return list((await session.scalars(stmt)).all())


async def insert_assignments(
    session: AsyncSession,
    competition_id: uuid.UUID,
    stage: int,
    pairs: Sequence[tuple[uuid.UUID, uuid.UUID]],
) -> int:
    """One statement; pairs already assigned are kept. Returns how many were new."""
    stmt = (
        pg_insert(EntryAssignment)
        .values(
            [
                {
                    "id": uuid.uuid4(),
                    "competition_id": competition_id,
                    "entry_id": entry_id,
                    "stage": stage,
                    "evaluator_key_id": key_id,
                }
                for entry_id, key_id in pairs
            ]
        )
        .on_conflict_do_nothing(index_elements=["entry_id", "stage", "evaluator_key_id"])
        .returning(EntryAssignment.id)
    )
    return len((await session.execute(stmt)).all())


async def is_assigned(
    session: AsyncSession, entry_id: uuid.UUID, stage: int, key_id: uuid.UUID
) -> bool:
    stmt = select(
        exists().where(
            EntryAssignment.entry_id == entry_id,
            EntryAssignment.stage == stage,
            EntryAssignment.evaluator_key_id == key_id,
        )
    )
    return bool(await session.scalar(stmt))


async def is_assigned_any(session: AsyncSession, entry_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    stmt = select(
        exists().where(
            EntryAssignment.entry_id == entry_id, EntryAssignment.evaluator_key_id == key_id
        )
    )
    return bool(await session.scalar(stmt))


async def insert_score(session: AsyncSession, values: dict[str, Any]) -> EntryScore:
    score = EntryScore(**values)
    session.add(score)
    try:
        await session.flush()
    except IntegrityError as exc:
        if "uq_entry_scores_entry_id_stage_evaluator_key_id" in str(exc.orig):
            raise Conflict(
                "This evaluator has scored this entry at this stage already.",
                code="already_scored",
            ) from exc
        raise
    await session.refresh(score)
    return score


async def scores_of(
    session: AsyncSession, entry_id: uuid.UUID, evaluator_key_id: uuid.UUID | None
) -> list[EntryScore]:
    stmt = select(EntryScore).where(EntryScore.entry_id == entry_id)
    if evaluator_key_id is not None:
        stmt = stmt.where(EntryScore.evaluator_key_id == evaluator_key_id)
    stmt = stmt.order_by(EntryScore.stage, EntryScore.created_at, EntryScore.id)
    return list((await session.scalars(stmt)).all())


async def upsert_verification(session: AsyncSession, values: dict[str, Any]) -> FieldVerification:
    fv = FieldVerification.__table__
    changing = {k: v for k, v in values.items() if k not in ("id", "entry_id")}
    stmt = (
        pg_insert(FieldVerification)
        .values(**values)
        .on_conflict_do_update(
            index_elements=["entry_id"],
            set_={**changing, "version": fv.c.version + 1, "updated_at": func.now()},
        )
        .returning(FieldVerification)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one()


# --- Closing a stage ----------------------------------------------------------------------


def _stage_figures(competition_id: uuid.UUID, stage: int) -> Any:
    """Per entry of the stage's pool: scores counted, their spread and mean. The scores are
    joined by entry (their unique index leads with it) and grouped once: no plan re-reads
    them per entry."""
    s = EntryScore
    return (
        select(
            E.id.label("entry_id"),
            E.title.label("title"),
            E.submitted_at.label("submitted_at"),
            func.count(s.id).label("n"),
            func.coalesce(func.max(s.total) - func.min(s.total), 0).label("spread"),
            func.avg(s.total).label("mean"),
        )
        .select_from(E)
        .outerjoin(s, and_(s.entry_id == E.id, s.stage == stage))
        .where(*pool(competition_id, stage))
        .group_by(E.id)
    )


async def outstanding(
    session: AsyncSession, competition_id: uuid.UUID, stage: int, threshold: float
) -> list[Any]:
    """Entries of the pool with fewer than two scores, or two that diverge and no third."""
    figures = _stage_figures(competition_id, stage).subquery("figures")
    stmt = (
        select(figures)
        .where(
            or_(
                figures.c.n < 2,
                and_(figures.c.n == 2, figures.c.spread > threshold),
            )
        )
        .order_by(figures.c.submitted_at, figures.c.entry_id)
        .limit(50)
    )
    return list((await session.execute(stmt)).all())


async def store_ranking(
    session: AsyncSession,
    competition_id: uuid.UUID,
    stage: int,
    size: int,
    needs_verification: bool,
) -> tuple[int, int]:
    """Rank the pool (score, then earlier submission) and store it: one statement.
    Returns (ranked, advanced)."""
    figures = _stage_figures(competition_id, stage).subquery("figures")
    verified = exists().where(
        FieldVerification.entry_id == figures.c.entry_id, FieldVerification.verified.is_(True)
    )
    eligible = verified if needs_verification else true()
    order = (figures.c.mean.desc(), figures.c.submitted_at.asc(), figures.c.entry_id.asc())
    ranked = select(
        figures.c.entry_id,
        figures.c.mean,
        eligible.label("eligible"),
        func.row_number().over(order_by=order).label("rank"),
    ).subquery("ranked")
    eligible_before = func.sum(func.cast(ranked.c.eligible, _int())).over(order_by=ranked.c.rank)
    rows = select(
        literal(competition_id).label("competition_id"),
        literal(stage).label("stage"),
        ranked.c.entry_id,
        ranked.c.rank,
        func.round(ranked.c.mean, 2).label("score"),
        ranked.c.eligible,
        and_(ranked.c.eligible, eligible_before <= size).label("advanced"),
    )
    stmt = (
        pg_insert(StageRanking)
        .from_select(
            ["competition_id", "stage", "entry_id", "rank", "score", "eligible", "advanced"],
            rows,
        )
        .returning(StageRanking.advanced)
    )
    result = (await session.scalars(stmt)).all()
    return len(result), sum(1 for a in result if a)


async def apply_ranking(session: AsyncSession, competition_id: uuid.UUID, stage: int) -> None:
    """Move the ranked entries: those advanced reach the tier; the others are eliminated at
    this stage (at stage 0 their status becomes `eliminated`; later they stay finalists of
    the tier below). One statement."""
    r = StageRanking
    new_status = case((r.advanced, "finalist"), else_="finalist" if stage > 0 else "eliminated")
    stmt = (
        update(E)
        .where(r.competition_id == competition_id, r.stage == stage, r.entry_id == E.id)
        .values(
            status=new_status,
            tier_index=case((r.advanced, stage), else_=E.tier_index),
            eliminated_at_stage=case((r.advanced, None), else_=stage),
            version=E.version + 1,
            updated_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


async def stage_summary(
    session: AsyncSession, competition_id: uuid.UUID, stage: int
) -> tuple[int, int]:
    r = StageRanking
    stmt = select(func.count(), func.count().filter(r.advanced)).where(
        r.competition_id == competition_id, r.stage == stage
    )
    row = (await session.execute(stmt)).one()
    return int(row[0]), int(row[1])


RANKING_KEYS = (SortKey(StageRanking.rank),)


async def ranking_page(
    session: AsyncSession,
    competition_id: uuid.UUID,
    stage: int,
    after: list[Any] | None,
    limit: int,
) -> list[Any]:
    r = StageRanking
    stmt: Select[Any] = (
        select(r.rank, r.entry_id, E.title, r.score, r.eligible, r.advanced)  # type: ignore[assignment]
        .join(E, E.id == r.entry_id)
        .where(r.competition_id == competition_id, r.stage == stage)
    )
    return list((await session.execute(keyset_page(stmt, RANKING_KEYS, after, limit))).all())


# --- Objections ---------------------------------------------------------------------------

OBJECTION_KEYS = (SortKey(CompetitionObjection.created_at), SortKey(CompetitionObjection.id))


async def insert_objection(session: AsyncSession, values: dict[str, Any]) -> CompetitionObjection:
    objection = CompetitionObjection(**values)
    session.add(objection)
    await session.flush()
    await session.refresh(objection)
    return objection


async def get_objection(
    session: AsyncSession, objection_id: uuid.UUID
) -> CompetitionObjection | None:
    return await session.get(CompetitionObjection, objection_id, populate_existing=True)


async def lock_objection(
    session: AsyncSession, objection_id: uuid.UUID
) -> CompetitionObjection | None:
    stmt = (
        select(CompetitionObjection)
        .where(CompetitionObjection.id == objection_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def update_objection(
    session: AsyncSession, objection: CompetitionObjection, values: dict[str, Any]
) -> CompetitionObjection:
    return await update_versioned(session, objection, objection.version, values)


async def list_objections(
    session: AsyncSession, competition_id: uuid.UUID, after: list[Any] | None, limit: int
) -> list[CompetitionObjection]:
    stmt = select(CompetitionObjection).where(CompetitionObjection.competition_id == competition_id)
    return list((await session.scalars(keyset_page(stmt, OBJECTION_KEYS, after, limit))).all())


async def open_objections(session: AsyncSession, competition_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = select(CompetitionObjection.id).where(
        CompetitionObjection.competition_id == competition_id,
        CompetitionObjection.status == "open",
    )
    return list((await session.scalars(stmt)).all())


async def advanced_stages(
    session: AsyncSession, competition_id: uuid.UUID, entry_id: uuid.UUID
) -> list[int]:
    r = StageRanking
    stmt = (
        select(r.stage)
        .where(r.competition_id == competition_id, r.entry_id == entry_id, r.advanced)
        .order_by(r.stage)
    )
    return list((await session.scalars(stmt)).all())


async def promote_next(
    session: AsyncSession, competition_id: uuid.UUID, stage: int, removed: uuid.UUID
) -> uuid.UUID | None:
    """The removed entry gives up its place at `stage`; the best-ranked eligible entry of
    that stage that did not advance (and is not disqualified) moves up. Returns it."""
    r = StageRanking
    await session.execute(
        update(r)
        .where(r.competition_id == competition_id, r.stage == stage, r.entry_id == removed)
        .values(advanced=False)
    )
    candidate = (
        select(r.entry_id)
        .join(E, E.id == r.entry_id)
        .where(
            r.competition_id == competition_id,
            r.stage == stage,
            r.advanced.is_(False),
            r.eligible.is_(True),
            r.entry_id != removed,
            E.status != "disqualified",
        )
        .order_by(r.rank)
        .limit(1)
        .with_for_update(of=r)
    )
    promoted = await session.scalar(candidate)
    if promoted is None:
        return None
    await session.execute(
        update(r)
        .where(r.competition_id == competition_id, r.stage == stage, r.entry_id == promoted)
        .values(advanced=True)
    )
    await session.execute(
        update(E)
        .where(E.id == promoted)
        .values(
            status="finalist",
            tier_index=func.greatest(func.coalesce(E.tier_index, -1), stage),
            eliminated_at_stage=None,
            version=E.version + 1,
            updated_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    )
    return promoted


# --- Determination and nomination ---------------------------------------------------------


async def create_awards(
    session: AsyncSession,
    competition: Competition,
    award_competition: str,
    decree_number: str,
    tiers: Sequence[str],
) -> list[Any]:
    """Every finalist's awards, one per tier reached, linked to the competition: one
    statement. An award typed in by hand for the same (innovation, competition, year, tier)
    is linked rather than duplicated. Returns (award id, innovation id, tier, inserted)."""
    tier_rows = (
        select(
            func.unnest(literal(list(range(len(tiers))), type_=_int_array())).label("idx"),
            func.unnest(literal(list(tiers), type_=_text_array())).label("tier"),
        )
    ).subquery("tier_rows")
    rows = (
        select(
            func.gen_random_uuid(),
            E.innovation_id,
            literal(award_competition),
            literal(competition.year),
            tier_rows.c.tier,
            literal(decree_number),
            literal(competition.id),
        )
        .select_from(E)
        .join(tier_rows, tier_rows.c.idx <= E.tier_index)
        .where(E.competition_id == competition.id, E.status == "finalist")
    )
    a = Award.__table__
    insert = pg_insert(Award).from_select(
        ["id", "innovation_id", "competition", "year", "tier", "decree_number", "competition_id"],
        rows,
    )
    stmt = insert.on_conflict_do_update(
        index_elements=["innovation_id", "competition", "year", "tier"],
        set_={
            "competition_id": insert.excluded.competition_id,
            "decree_number": func.coalesce(a.c.decree_number, insert.excluded.decree_number),
            "version": a.c.version + 1,
            "updated_at": func.now(),
        },
    ).returning(
        Award.id,
        Award.innovation_id,
        Award.tier,
        # Inserted now (not an award typed in by hand and linked): xmax is 0.
        (literal_column("xmax") == literal_column("'0'::xid")).label("inserted"),
    )
    return list((await session.execute(stmt)).all())


async def award_finalists(session: AsyncSession, competition_id: uuid.UUID) -> None:
    await session.execute(
        update(E)
        .where(E.competition_id == competition_id, E.status == "finalist")
        .values(status="awarded", version=E.version + 1, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )


async def nominate(
    session: AsyncSession,
    source: Competition,
    target: Competition,
    entry_ids: Sequence[uuid.UUID] | None,
    key_id: uuid.UUID | None,
) -> list[Any]:
    """Copy the source's finalists into the target as submitted entries, answers carried
    over: one statement. Innovations already entered in the target are skipped."""
    src = E.__table__.alias("src")
    target_groups = list(target.groups)
    chosen_group = case(
        (src.c.group.in_(target_groups), src.c.group),
        else_=target_groups[0],
    )
    where = [src.c.competition_id == source.id, src.c.status.in_(("finalist", "awarded"))]
    if entry_ids is not None:
        where.append(src.c.id.in_(list(entry_ids)))
    rows = select(
        func.gen_random_uuid(),
        literal(target.id),
        src.c.innovation_id,
        src.c.institution_id,
        src.c.agency_id,
        src.c.agency_kind,
        src.c.province_code,
        src.c.title,
        chosen_group,
        src.c.category,
        src.c.answers,
        src.c.video_url,
        src.c.document_urls,
        src.c.id,
        literal("submitted"),
        func.now(),
        literal(key_id, type_=E.created_by_key_id.type),
    ).where(*where)
    stmt = (
        pg_insert(E)
        .from_select(
            [
                "id",
                "competition_id",
                "innovation_id",
                "institution_id",
                "agency_id",
                "agency_kind",
                "province_code",
                "title",
                "group",
                "category",
                "answers",
                "video_url",
                "document_urls",
                "nominated_from_entry_id",
                "status",
                "submitted_at",
                "created_by_key_id",
            ],
            rows,
        )
        .on_conflict_do_nothing(index_elements=["competition_id", "innovation_id"])
        .returning(E.id, E.nominated_from_entry_id, E.province_code)
    )
    return list((await session.execute(stmt)).all())


async def finalist_ids(
    session: AsyncSession, competition_id: uuid.UUID, entry_ids: Sequence[uuid.UUID] | None
) -> list[uuid.UUID]:
    stmt = select(E.id).where(
        E.competition_id == competition_id, E.status.in_(("finalist", "awarded"))
    )
    if entry_ids is not None:
        stmt = stmt.where(E.id.in_(list(entry_ids)))
    return list((await session.scalars(stmt.order_by(E.submitted_at, E.id))).all())


# --- Statistics ---------------------------------------------------------------------------


async def entries_by_status(session: AsyncSession, competition_id: uuid.UUID) -> dict[str, int]:
    stmt = (
        select(E.status, func.count())
        .where(E.competition_id == competition_id)
        .group_by(E.status)
        .order_by(E.status)
    )
    return {s: int(n) for s, n in (await session.execute(stmt)).all()}


async def screening_failures(session: AsyncSession, competition_id: uuid.UUID) -> dict[str, int]:
    stmt = text(
        """
        SELECT reason, count(*) AS n
        FROM competition_entries e, unnest(e.screening_reasons) AS reason
        WHERE e.competition_id = :competition_id AND e.screening_result = 'failed'
        GROUP BY reason ORDER BY reason
        """
    )
    rows = (await session.execute(stmt, {"competition_id": competition_id})).all()
    return {r: int(n) for r, n in rows}


async def composition(session: AsyncSession, competition_id: uuid.UUID) -> list[Any]:
    """Per tier index reached (cumulative) × agency kind × province: innovations and
    distinct agencies, by GROUPING SETS in one statement."""
    stmt = text(
        """
        SELECT t.idx, e.agency_kind, coalesce(e.province_code, '-') AS province,
               GROUPING(e.agency_kind) AS no_kind,
               GROUPING(coalesce(e.province_code, '-')) AS no_province,
               count(*) AS innovations, count(DISTINCT e.agency_id) AS institutions
        FROM competition_entries e
        JOIN generate_series(0, 9) AS t(idx) ON t.idx <= e.tier_index
        WHERE e.competition_id = :competition_id
          AND e.status IN ('finalist', 'awarded')
        GROUP BY GROUPING SETS ((t.idx), (t.idx, e.agency_kind),
                                (t.idx, coalesce(e.province_code, '-')))
        ORDER BY t.idx
        """
    )
    return list((await session.execute(stmt, {"competition_id": competition_id})).all())


async def entries_by_tier(session: AsyncSession, competition_id: uuid.UUID) -> list[Any]:
    stmt = text(
        """
        SELECT t.idx, count(*) AS n
        FROM competition_entries e
        JOIN generate_series(0, 9) AS t(idx) ON t.idx <= e.tier_index
        WHERE e.competition_id = :competition_id
        GROUP BY t.idx ORDER BY t.idx
        """
    )
    return list((await session.execute(stmt, {"competition_id": competition_id})).all())


# --- Small look-ups -----------------------------------------------------------------------


async def region_level(session: AsyncSession, code: str) -> str | None:
    return await keys_repository.region_level(session, code)


async def within(
    session: AsyncSession, institution_id: uuid.UUID, root_id: uuid.UUID | None
) -> bool:
    """Whether the institution is `root_id` or under it."""
    if root_id is None:
        return False
    return await keys_repository.institution_within(session, institution_id, root_id)


async def unscreened(session: AsyncSession, competition_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = (
        select(E.id)
        .where(E.competition_id == competition_id, E.status == "submitted")
        .order_by(E.submitted_at, E.id)
        .limit(50)
    )
    return list((await session.scalars(stmt)).all())


async def entry_visible(
    session: AsyncSession, entry_id: uuid.UUID, clause: ColumnElement[bool]
) -> bool:
    return bool(await session.scalar(select(exists().where(E.id == entry_id, clause))))


async def ensure_evaluator_key(session: AsyncSession, key_id: uuid.UUID, name: str) -> None:
    """An evaluator key of the demo data: live (assignments need one) but its secret is
    thrown away, so it can never authenticate a request."""
    await session.execute(
        pg_insert(ApiKey)
        .values(
            id=key_id,
            name=name,
            role="evaluator",
            province_code=None,
            prefix="ih_seed",
            key_hash=hash_key("ih_" + secrets.token_urlsafe(32)),
        )
        .on_conflict_do_nothing(index_elements=[ApiKey.id])
    )
