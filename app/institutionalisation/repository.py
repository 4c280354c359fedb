"""SQL of institutionalisation: regulations, incentives, JIPP hubs, and the compliance view
("one OPD, one innovation"), which is one statement per page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    and_,
    delete,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.core.errors import Conflict
from app.core.pagination import SortKey, keyset_page
from app.core.repository import update_versioned
from app.models.institution import Institution
from app.models.institutionalisation import Incentive, JippHub, JippHubMember, Regulation
from app.models.region import Region
from app.models.replication import ReplicationProgram

GOVERNMENT_KINDS = ("provincial_government", "regency_government", "city_government")


def in_region(province_code: Any, region_code: Any, region: str | None) -> ColumnElement[bool]:
    """A record of `region` or a region under it: an equality on the province code (a
    province) or on the region code (a regency or city), which an index led by that column
    serves in its order."""
    if region is None:
        return true()
    if len(region) == 2:
        return province_code == region  # type: ignore[no-any-return]
    return region_code == region  # type: ignore[no-any-return]


# --- Regulations ------------------------------------------------------------------------

REGULATION_KEYS = (SortKey(Regulation.year, True), SortKey(Regulation.id, True))
REGULATION_SORT = "-year"


def in_force(year: Any) -> ColumnElement[bool]:
    """A regulation in force at some time in `year`: effective by its end, not repealed
    before it began."""
    r = Regulation
    return and_(
        r.effective_on <= func.make_date(year, 12, 31),
        or_(r.repealed_on.is_(None), r.repealed_on > func.make_date(year, 1, 1)),
    )


@dataclass(frozen=True, slots=True)
class RegulationFilters:
    region: str | None = None
    national: bool | None = None
    kind: str | None = None
    year: int | None = None
    mandates_yearly_innovation: bool | None = None


def regulation_filters(f: RegulationFilters) -> list[ColumnElement[bool]]:
    r = Regulation
    where: list[ColumnElement[bool]] = []
    if f.region is not None:
        where.append(in_region(r.province_code, r.region_code, f.region))
    if f.national is not None:
        where.append(r.region_code.is_(None) if f.national else r.region_code.is_not(None))
    if f.kind is not None:
        where.append(r.kind == f.kind)
    if f.year is not None:
        where.append(r.year == f.year)
    if f.mandates_yearly_innovation is not None:
        where.append(r.mandates_yearly_innovation == f.mandates_yearly_innovation)
    return where


async def list_regulations(
    session: AsyncSession, where: list[ColumnElement[bool]], after: list[Any] | None, limit: int
) -> Sequence[Regulation]:
    stmt = keyset_page(select(Regulation).where(*where), REGULATION_KEYS, after, limit)
    return (await session.scalars(stmt)).all()


async def count_regulations(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    stmt = select(func.count()).select_from(Regulation).where(*where)
    return int(await session.scalar(stmt) or 0)


async def get_regulation(session: AsyncSession, regulation_id: uuid.UUID) -> Regulation | None:
    return await session.get(Regulation, regulation_id)


_DUPLICATE_REGULATION = "A regulation of this kind, number and year exists for this region."


def _regulation_conflict(exc: IntegrityError) -> Conflict | None:
    if "uq_regulations_region_code_kind_number_year" in str(exc.orig):
        return Conflict(_DUPLICATE_REGULATION, code="duplicate_regulation")
    return None


async def insert_regulation(session: AsyncSession, values: dict[str, Any]) -> Regulation:
    regulation = Regulation(**values)
    session.add(regulation)
    try:
        await session.flush()
    except IntegrityError as exc:
        conflict = _regulation_conflict(exc)
        if conflict is not None:
            raise conflict from exc
        raise
    await session.refresh(regulation)
    return regulation


async def update_regulation(
    session: AsyncSession, regulation: Regulation, version: int, values: dict[str, Any]
) -> Regulation:
    try:
        return await update_versioned(session, regulation, version, values)
    except IntegrityError as exc:
        conflict = _regulation_conflict(exc)
        if conflict is not None:
            raise conflict from exc
        raise


# --- Compliance -------------------------------------------------------------------------


def opd_has_innovation(opd_id: Any, year: Any) -> ColumnElement[bool]:
    """The SQL function `opd_has_innovation` (see the migration): the OPD, or a unit under
    it, has an innovation (not withdrawn) registered or launched in the year."""
    return func.opd_has_innovation(opd_id, year, type_=Boolean)


def is_government(institution_id: Any) -> ColumnElement[bool]:
    """The SQL function `is_government` (see the migration): a pemprov, pemkab or pemkot."""
    return func.is_government(institution_id, type_=Boolean)


def compliance_statement(
    region: str | None, year: int, after: list[Any] | None, limit: int
) -> Select[Any]:
    """The whole compliance page in one statement: the region's name, every government with
    its figures (JSON), the incentives of the region in the year, and `limit` OPDs without an
    innovation after the cursor (JSON, by name then id).

    The OPDs of a page are read in the order of `ix_institutions_province_code_name_id` (a
    province), `ix_institutions_region_code_name_id` (a regency or city) or
    `ix_institutions_name_id` (the whole country), and the walk stops at the page's end:
    nothing sorts all the OPDs. The figures of each government count its OPDs through
    `ix_institutions_parent_id`.
    """
    gov = aliased(Institution, name="government")
    opd = aliased(Institution, name="opd")
    year_param: ColumnElement[int] = literal_column(str(int(year)))
    governments = (
        select(gov.id, gov.name, gov.kind, gov.region_code)
        .where(
            gov.kind.in_(GOVERNMENT_KINDS), in_region(gov.province_code, gov.region_code, region)
        )
        .subquery("governments")
    )
    counted = (
        select(
            func.count().label("opds"),
            func.count().filter(opd_has_innovation(opd.id, year_param)).label("active"),
        )
        .where(
            opd.parent_id == governments.c.id,
            in_region(opd.province_code, opd.region_code, region),
        )
        .lateral("counted")
    )
    r = Regulation
    regulation = func.json_build_object(
        "id", r.id, "region_code", r.region_code, "kind", r.kind,
        "number", r.number, "year", r.year, "title", r.title,
    )  # fmt: skip
    mandated_by = (
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(regulation, r.year, r.id)),
                literal_column("'[]'::json"),
            )
        )
        .where(
            r.mandates_yearly_innovation,
            or_(r.region_code.is_(None), r.region_code == governments.c.region_code),
            in_force(year_param),
        )
        .scalar_subquery()
    )
    incentives = (
        select(func.coalesce(func.sum(Incentive.amount_idr), 0))
        .where(Incentive.region_code == governments.c.region_code, Incentive.year == year)
        .scalar_subquery()
    )
    government = func.json_build_object(
        "institution_id", governments.c.id,
        "name", governments.c.name,
        "kind", governments.c.kind,
        "region_code", governments.c.region_code,
        "opds", counted.c.opds,
        "opds_with_innovation", counted.c.active,
        "mandated_by", mandated_by,
        "incentives_idr", incentives,
    )  # fmt: skip
    governments_json = (
        select(
            func.coalesce(
                func.json_agg(
                    aggregate_order_by(government, governments.c.region_code, governments.c.name)
                ),
                literal_column("'[]'::json"),
            )
        )
        .select_from(governments)
        .join(counted, true())
        .scalar_subquery()
    )
    region_incentives = (
        select(func.coalesce(func.sum(Incentive.amount_idr), 0))
        .where(
            in_region(Incentive.province_code, Incentive.region_code, region),
            Incentive.year == year,
        )
        .scalar_subquery()
    )
    # The OPDs in the region that are under a government (is_government: see the migration)
    # and have no innovation in the year, in index order; their government's name is read
    # for the page's rows only.
    lacking = aliased(Institution, name="opd_without")
    page = keyset_page(
        select(
            lacking.id, lacking.name, lacking.kind, lacking.region_code, lacking.parent_id
        ).where(
            in_region(lacking.province_code, lacking.region_code, region),
            is_government(lacking.parent_id),
            ~opd_has_innovation(lacking.id, year_param),
        ),
        (SortKey(lacking.name), SortKey(lacking.id)),
        after,
        limit,
    ).subquery("opd_page")
    parent = aliased(Institution, name="parent")
    item = func.json_build_object(
        "id", page.c.id, "name", page.c.name, "kind", page.c.kind,
        "region_code", page.c.region_code, "government_id", parent.id,
        "government_name", parent.name,
    )  # fmt: skip
    items = (
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(item, page.c.name, page.c.id)),
                literal_column("'[]'::json"),
            )
        )
        .select_from(page)
        .join(parent, parent.id == page.c.parent_id)
        .scalar_subquery()
    )
    region_name = (
        select(Region.name).where(Region.code == region).scalar_subquery()
        if region is not None
        else literal_column("NULL::text")
    )
    return select(
        region_name.label("region_name"),
        governments_json.label("governments"),
        region_incentives.label("incentives_idr"),
        items.label("items"),
    )


async def compliance(
    session: AsyncSession, region: str | None, year: int, after: list[Any] | None, limit: int
) -> Any:
    """One row: region_name, governments (JSON), incentives_idr, items (JSON)."""
    stmt = compliance_statement(region, year, after, limit)
    row = (await session.execute(stmt)).one()
    return row


# --- Incentives -------------------------------------------------------------------------

INCENTIVE_KEYS = (SortKey(Incentive.year, True), SortKey(Incentive.id, True))
INCENTIVE_SORT = "-year"


@dataclass(frozen=True, slots=True)
class IncentiveFilters:
    region: str | None = None
    year: int | None = None
    innovation_id: uuid.UUID | None = None


def incentive_filters(f: IncentiveFilters) -> list[ColumnElement[bool]]:
    i = Incentive
    where: list[ColumnElement[bool]] = []
    if f.region is not None:
        where.append(in_region(i.province_code, i.region_code, f.region))
    if f.year is not None:
        where.append(i.year == f.year)
    if f.innovation_id is not None:
        where.append(i.innovation_id == f.innovation_id)
    return where


async def list_incentives(
    session: AsyncSession, where: list[ColumnElement[bool]], after: list[Any] | None, limit: int
) -> Sequence[Incentive]:
    stmt = keyset_page(select(Incentive).where(*where), INCENTIVE_KEYS, after, limit)
    return (await session.scalars(stmt)).all()


async def count_incentives(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    stmt = select(func.count()).select_from(Incentive).where(*where)
    return int(await session.scalar(stmt) or 0)


async def sum_incentives(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    stmt = select(func.coalesce(func.sum(Incentive.amount_idr), 0)).where(*where)
    return int(await session.scalar(stmt) or 0)


async def get_incentive(session: AsyncSession, incentive_id: uuid.UUID) -> Incentive | None:
    return await session.get(Incentive, incentive_id)


async def insert_incentive(session: AsyncSession, values: dict[str, Any]) -> Incentive:
    incentive = Incentive(**values)
    session.add(incentive)
    await session.flush()
    await session.refresh(incentive)
    return incentive


# --- JIPP hubs --------------------------------------------------------------------------

HUB_KEYS = (SortKey(JippHub.name), SortKey(JippHub.id))
HUB_SORT = "name"


def _institution_json(i: Any) -> Any:
    return func.json_build_object(
        "id", i.id, "name", i.name, "kind", i.kind, "region_code", i.region_code
    )


def _hub_select() -> Select[Any]:
    """Hubs with their host, members and mentored programmes, in one statement (the lists
    as JSON subqueries of each row)."""
    h = JippHub
    host = aliased(Institution, name="host")
    member = aliased(Institution, name="member")
    members = (
        select(
            func.coalesce(
                func.json_agg(
                    aggregate_order_by(_institution_json(member), member.name, member.id)
                ),
                literal_column("'[]'::json"),
            )
        )
        .select_from(JippHubMember)
        .join(member, member.id == JippHubMember.institution_id)
        .where(JippHubMember.hub_id == h.id)
        .scalar_subquery()
    )
    p = ReplicationProgram
    program = func.json_build_object("id", p.id, "name", p.name, "fiscal_year", p.fiscal_year)
    programs = (
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(program, p.fiscal_year.desc(), p.id)),
                literal_column("'[]'::json"),
            )
        )
        .where(p.mentor_hub_id == h.id)
        .scalar_subquery()
    )
    return select(
        h,
        _institution_json(host).label("host"),
        members.label("members"),
        programs.label("programs"),
    ).join(host, host.id == h.host_institution_id)


@dataclass(frozen=True, slots=True)
class HubFilters:
    province: str | None = None


def hub_filters(f: HubFilters) -> list[ColumnElement[bool]]:
    return [JippHub.province_code == f.province] if f.province is not None else []


async def list_hubs(
    session: AsyncSession, where: list[ColumnElement[bool]], after: list[Any] | None, limit: int
) -> list[Any]:
    stmt = keyset_page(_hub_select().where(*where), HUB_KEYS, after, limit)
    return list((await session.execute(stmt)).all())


async def count_hubs(session: AsyncSession, where: list[ColumnElement[bool]]) -> int:
    stmt = select(func.count()).select_from(JippHub).where(*where)
    return int(await session.scalar(stmt) or 0)


async def get_hub_row(session: AsyncSession, hub_id: uuid.UUID) -> Any | None:
    return (await session.execute(_hub_select().where(JippHub.id == hub_id))).first()


async def lock_hub(session: AsyncSession, hub_id: uuid.UUID) -> JippHub | None:
    stmt = (
        select(JippHub)
        .where(JippHub.id == hub_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def hub_exists(session: AsyncSession, hub_id: uuid.UUID) -> bool:
    return (await session.scalar(select(JippHub.id).where(JippHub.id == hub_id))) is not None


_DUPLICATE_HUB = "A JIPP hub with this name exists."


def _hub_conflict(exc: IntegrityError) -> Conflict | None:
    if "uq_jipp_hubs_name" in str(exc.orig):
        return Conflict(_DUPLICATE_HUB, code="duplicate_hub")
    return None


async def insert_hub(session: AsyncSession, values: dict[str, Any]) -> JippHub:
    hub = JippHub(**values)
    session.add(hub)
    try:
        await session.flush()
    except IntegrityError as exc:
        conflict = _hub_conflict(exc)
        if conflict is not None:
            raise conflict from exc
        raise
    return hub


async def update_hub(
    session: AsyncSession, hub: JippHub, version: int, values: dict[str, Any]
) -> JippHub:
    try:
        return await update_versioned(session, hub, version, values)
    except IntegrityError as exc:
        conflict = _hub_conflict(exc)
        if conflict is not None:
            raise conflict from exc
        raise


async def member_ids(session: AsyncSession, hub_id: uuid.UUID) -> set[uuid.UUID]:
    rows = await session.scalars(
        select(JippHubMember.institution_id).where(JippHubMember.hub_id == hub_id)
    )
    return set(rows)


async def set_members(
    session: AsyncSession, hub_id: uuid.UUID, add: set[uuid.UUID], remove: set[uuid.UUID]
) -> None:
    if remove:
        await session.execute(
            delete(JippHubMember).where(
                JippHubMember.hub_id == hub_id, JippHubMember.institution_id.in_(remove)
            )
        )
    if add:
        await session.execute(
            insert(JippHubMember)
            .values([{"hub_id": hub_id, "institution_id": i} for i in sorted(add)])
            .on_conflict_do_nothing()
        )


async def existing_institutions(session: AsyncSession, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    rows = await session.scalars(select(Institution.id).where(Institution.id.in_(list(ids))))
    return set(rows)
