"""SQL of the innovations registry. Every list page is one statement, awards included."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.driver import RowSource, fetch_planned_per_call, fetch_row
from app.core.errors import Conflict
from app.core.pagination import SortKey, keyset_after, keyset_page, order_by
from app.core.repository import contains_folded, like_pattern, update_versioned
from app.core.totals import Total, capped_total
from app.models.figures import innovation_figures
from app.models.innovation import UNDATED, Award, Innovation
from app.models.institution import Institution
from app.models.replication import Commitment

# Written as in the index expressions (a constant, not a bound parameter cast to date, which
# PostgreSQL cannot fold and so would never match the indexes).
LAUNCHED_KEY = func.coalesce(Innovation.launched_on, literal_column(f"'{UNDATED}'::date", Date))

SORTS: dict[str, tuple[SortKey, ...]] = {
    "-launched_on": (SortKey(LAUNCHED_KEY, descending=True), SortKey(Innovation.id, True)),
    "title": (SortKey(Innovation.title), SortKey(Innovation.id)),
    "-updated_at": (SortKey(Innovation.updated_at, True), SortKey(Innovation.id, True)),
    "-replications": (
        SortKey(Innovation.replication_count, True),
        SortKey(Innovation.id, True),
    ),
}


@dataclass(frozen=True, slots=True)
class Filters:
    sector: str | None = None
    form: str | None = None
    digital: bool | None = None
    stage: str | None = None
    status: str | None = None
    scale: str | None = None
    institution_id: uuid.UUID | None = None
    province: str | None = None
    region: str | None = None
    award_competition: str | None = None
    award_tier: str | None = None
    award_year: int | None = None
    launched_from: date | None = None
    launched_to: date | None = None
    q: str | None = None
    published_only: bool = False


def _tsquery(q: str) -> ColumnElement[Any]:
    return func.websearch_to_tsquery("indonesian", bindparam("q", q, type_=String))


def where_clauses(f: Filters) -> list[ColumnElement[bool]]:
    """The filters as clauses. Every value is a bind parameter named after its filter, so
    that a page's compiled statement serves every request with the same filters set."""
    i = Innovation
    where: list[ColumnElement[bool]] = []
    if f.published_only:
        where.append(i.status == "published")
    for name, column, value in (
        ("sector", i.sector, f.sector),
        ("form", i.form, f.form),
        ("digital", i.digital, f.digital),
        ("stage", i.stage, f.stage),
        ("status", i.status, f.status),
        ("scale", i.scale, f.scale),
        ("institution_id", i.institution_id, f.institution_id),
        ("province", i.province_code, f.province),
    ):
        if value is not None:
            where.append(column == bindparam(name, value))
    if f.region is not None:
        # Regions have two levels: a province code stands for itself and every regency and
        # city under it, which is exactly its province_code; a regency or city has none below.
        # (Equalities, unlike `LIKE '33.%'`, are served by the indexes.)
        if len(f.region) == 2:
            where.append(i.province_code == bindparam("region_province", f.region))
        else:
            where.append(i.region_code == bindparam("region", f.region))
    if f.launched_from is not None:
        where.append(i.launched_on >= bindparam("launched_from", f.launched_from))
    if f.launched_to is not None:
        where.append(i.launched_on <= bindparam("launched_to", f.launched_to))
    award_conditions = [
        cond
        for cond, value in (
            (
                Award.competition == bindparam("award_competition", f.award_competition),
                f.award_competition,
            ),
            (Award.tier == bindparam("award_tier", f.award_tier), f.award_tier),
            (Award.year == bindparam("award_year", f.award_year), f.award_year),
        )
        if value is not None
    ]
    if award_conditions:
        where.append(exists().where(Award.innovation_id == i.id, *award_conditions))
    if f.q:
        where.append(
            or_(
                i.search_vector.op("@@")(_tsquery(f.q)),
                contains_folded(i.title_folded, f.q, name="q_pattern"),
            )
        )
    return where


def filter_params(f: Filters) -> dict[str, Any]:
    """The bind parameters of `where_clauses(f)`, by name."""
    params: dict[str, Any] = {
        name: getattr(f, field)
        for name, field in (
            ("sector", "sector"),
            ("form", "form"),
            ("digital", "digital"),
            ("stage", "stage"),
            ("status", "status"),
            ("scale", "scale"),
            ("institution_id", "institution_id"),
            ("province", "province"),
            ("launched_from", "launched_from"),
            ("launched_to", "launched_to"),
            ("award_competition", "award_competition"),
            ("award_tier", "award_tier"),
            ("award_year", "award_year"),
        )
        if getattr(f, field) is not None
    }
    if f.region is not None:
        params["region_province" if len(f.region) == 2 else "region"] = f.region
    if f.q:
        params["q"] = f.q
        params["q_pattern"] = like_pattern(f.q)
    return params


def relevance(q: str) -> ColumnElement[float]:
    """Full-text rank (title weighs most) plus trigram likeness of the title to the query."""
    return cast(
        func.ts_rank_cd(Innovation.search_vector, _tsquery(q))
        + func.word_similarity(bindparam("q", q, type_=String), Innovation.title_folded),
        Float,
    )


def relevance_sort(q: str) -> tuple[SortKey, ...]:
    return (SortKey(relevance(q), descending=True), SortKey(Innovation.id, True))


def _awards_json() -> ColumnElement[Any]:
    award = func.json_build_object(
        "id",
        Award.id,
        "innovation_id",
        Award.innovation_id,
        "competition",
        Award.competition,
        "year",
        Award.year,
        "tier",
        Award.tier,
        "decree_number",
        Award.decree_number,
        "created_at",
        Award.created_at,
        "updated_at",
        Award.updated_at,
        "version",
        Award.version,
    )
    return (
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(award, Award.year.desc(), Award.tier)),
                literal_column("'[]'::json"),
            )
        )
        .where(Award.innovation_id == Innovation.id)
        .scalar_subquery()
    )


def read_model() -> Select[Any]:
    """Innovation columns (by column name), its institution, awards, replication figures and
    latest sustainability verdict: one row each.

    The replication figures and the latest verdict at the origin are the innovation's kept row
    of `innovation_figures` (exact in the writing transaction); the awards are a subquery of
    the same statement, so a page is one round trip.
    """
    f = innovation_figures.c
    return (
        select(
            Innovation.__table__,
            Institution.name.label("institution_name"),
            Institution.kind.label("institution_kind"),
            _awards_json().label("awards"),
            f.replications_by_status,
            f.provinces_reached,
            f.verdict.label("latest_verdict"),
            f.score.label("latest_score"),
        )
        .join(Institution, Institution.id == Innovation.institution_id)
        .join(innovation_figures, f.innovation_id == Innovation.id)
    )


async def commitments_of(
    session: AsyncSession, innovation_ids: Sequence[uuid.UUID]
) -> Sequence[Any]:
    """The replication commitments adopting any of these innovations (for lineage trees)."""
    stmt = (
        select(
            Commitment.id,
            Commitment.innovation_id,
            Commitment.program_id,
            Commitment.adopter_institution_id,
            Institution.name.label("adopter_name"),
            Commitment.adopter_province_code,
            Commitment.status,
            Commitment.progress,
        )
        .join(Institution, Institution.id == Commitment.adopter_institution_id)
        .where(Commitment.innovation_id.in_(innovation_ids))
        .order_by(Commitment.signed_on, Commitment.id)
    )
    return (await session.execute(stmt)).all()


# A page's statement built once per shape (the filters set, the sort, the published-only
# rule, a cursor or not): the values travel as bind parameters. Building the read model with
# its subqueries costs more than running it from SQLAlchemy's compiled cache.
_PAGES: dict[tuple[Any, ...], Select[Any]] = {}
_PAGES_MAX = 512


# A search sorted by relevance ranks this many matches at most: the most replicated ones (the
# innovations regions chose to adopt), found through the replications index. Ranking every
# match of a word that half the registry contains would read half the registry per page. The
# number bounds the work for a word in one row in a hundred (the index walk until that many are
# found, or every match read): at 1M innovations, 200 takes 9.4 ms on average over the benchmark's
# words, 500 takes 16.3 ms (`python -m bench.search --ranked 200,500`).
RANKED_MATCHES = 200


def _keys_of(subquery: Any, keys: Sequence[SortKey]) -> list[SortKey]:
    """`keys` as the columns `_k0`, `_k1`, … of a subquery that selected them."""
    return [SortKey(subquery.c[f"_k{n}"], k.descending, k.nullable) for n, k in enumerate(keys)]


def page_statement(
    filters: Filters,
    keys: Sequence[SortKey],
    after: Sequence[Any] | None,
    limit: Any,
    *,
    ranked_matches: int | None = None,
) -> Select[Any]:
    """A page's statement: the read model with its sort key columns (`_k0`, `_k1`, …) for
    the cursor, the filters, the order, with `after` the keyset, and `limit` (a number or a
    bind parameter).

    With `ranked_matches`, the filters choose that many candidates, the most replicated
    first; their sort keys (relevance) are computed from the candidate rows themselves, and
    only the page's rows get the read model."""
    key_columns = [k.column.label(f"_k{n}") for n, k in enumerate(keys)]
    where = where_clauses(filters)
    if ranked_matches is not None:
        candidates = (
            select(Innovation.id.label("candidate_id"), *key_columns)
            .where(*where)
            .order_by(Innovation.replication_count.desc(), Innovation.id.desc())
            .limit(ranked_matches)
            .subquery("candidates")
        )
        page = keyset_page(select(candidates), _keys_of(candidates, keys), after, limit)
        top = page.subquery("page")
        return (
            read_model()
            .add_columns(*[top.c[f"_k{n}"] for n in range(len(keys))])
            .join(top, top.c.candidate_id == Innovation.id)
            .order_by(*order_by(_keys_of(top, keys)))
        )
    stmt = read_model().add_columns(*key_columns).where(*where).order_by(*order_by(keys))
    if after is not None:
        stmt = stmt.where(keyset_after(keys, after))
    return stmt.limit(limit)


async def list_page(
    session: AsyncSession,
    filters: Filters,
    sort: str,
    keys: Sequence[SortKey],
    after: list[Any] | None,
    limit: int,
    *,
    ranked_matches: int | None = None,
) -> tuple[Sequence[Mapping[str, Any]], list[list[Any]]]:
    """Rows of a page and, for each, the values of its sort key (for the cursor)."""
    params = filter_params(filters)
    filtered = bool(params)
    shape = (tuple(params), filters.published_only, sort, after is not None, ranked_matches)
    stmt = _PAGES.get(shape)
    if stmt is None:
        stmt = page_statement(
            filters, keys, after, bindparam("limit", type_=Integer), ranked_matches=ranked_matches
        )
        if len(_PAGES) >= _PAGES_MAX:
            _PAGES.clear()
        _PAGES[shape] = stmt
    params["limit"] = limit
    if after is not None:
        params.update({f"after_{n}": v for n, v in enumerate(after)})
    rows: Sequence[Mapping[str, Any]]
    if filtered:
        # Planned for this call's values (see app.core.driver).
        rows = await fetch_planned_per_call(session, stmt, params)
    else:
        connection = await session.connection()
        rows = (await connection.execute(stmt, params)).mappings().all()
    return rows, [[r[f"_k{n}"] for n in range(len(keys))] for r in rows]


async def count(session: AsyncSession, where: list[ColumnElement[bool]]) -> Total:
    """Exact up to `TOTAL_CAP`, else the planner's estimate (flagged): a search for a common
    word never counts a million matches."""
    return await capped_total(session, select(Innovation.id).where(*where))


_GET_ROW = read_model().where(Innovation.id == bindparam("innovation_id"))


async def get_row(source: RowSource, innovation_id: uuid.UUID) -> Mapping[str, Any] | None:
    # On the driver (see app.core.driver): the read by id is the service's busiest request.
    return await fetch_row(source, _GET_ROW, {"innovation_id": innovation_id})


async def get(session: AsyncSession, innovation_id: uuid.UUID) -> Innovation | None:
    return await session.get(Innovation, innovation_id)


async def insert(session: AsyncSession, values: dict[str, Any]) -> Innovation:
    innovation = Innovation(**values)
    session.add(innovation)
    await session.flush()
    return innovation


async def update(
    session: AsyncSession, innovation: Innovation, expected_version: int, values: dict[str, Any]
) -> Innovation:
    return await update_versioned(session, innovation, expected_version, values)


async def insert_award(session: AsyncSession, values: dict[str, Any]) -> Award:
    award = Award(**values)
    session.add(award)
    try:
        await session.flush()
    except IntegrityError as exc:
        if "uq_awards_innovation_id_competition_year_tier" in str(exc.orig):
            raise Conflict(
                "This innovation already has this award for that competition, year and tier.",
                code="duplicate_award",
            ) from exc
        raise
    await session.refresh(award)
    return award


async def creates_cycle(
    session: AsyncSession, innovation_id: uuid.UUID, replica_of_id: uuid.UUID
) -> bool:
    """Whether `innovation_id` is `replica_of_id` or one of its ancestors (lineage loop)."""
    chain = (
        select(Innovation.id, Innovation.replica_of_id)
        .where(Innovation.id == replica_of_id)
        .cte("chain", recursive=True)
    )
    chain = chain.union(
        select(Innovation.id, Innovation.replica_of_id).join(
            chain, Innovation.id == chain.c.replica_of_id
        )
    )
    hit = await session.scalar(select(chain.c.id).where(chain.c.id == innovation_id).limit(1))
    return hit is not None


async def lineage(
    session: AsyncSession, root_id: uuid.UUID, published_only: bool, max_depth: int = 20
) -> Sequence[Any]:
    """The innovation and every replica below it, with each node's parent id, in one query."""
    base = select(
        Innovation.id,
        Innovation.title,
        Innovation.status,
        Innovation.institution_id,
        Innovation.province_code,
        Innovation.replica_of_id,
        literal(0).label("depth"),
    ).where(Innovation.id == root_id)
    tree = base.cte("tree", recursive=True)
    child = select(
        Innovation.id,
        Innovation.title,
        Innovation.status,
        Innovation.institution_id,
        Innovation.province_code,
        Innovation.replica_of_id,
        (tree.c.depth + 1).label("depth"),
    ).join(tree, and_(Innovation.replica_of_id == tree.c.id, tree.c.depth < max_depth))
    if published_only:
        child = child.where(Innovation.status == "published")
    tree = tree.union_all(child)
    stmt = select(tree).order_by(tree.c.depth, tree.c.title, tree.c.id)
    return (await session.execute(stmt)).all()
