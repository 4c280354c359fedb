"""Institutionalisation (pelembagaan inovasi): regulations, the "one OPD, one innovation"
compliance view, incentive funds and JIPP hubs."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import ensure_version
from app.core.errors import NotFound, field_error
from app.core.events import record_event
from app.core.pagination import decode_cursor, next_cursor
from app.core.repository import changed_fields
from app.core.schemas import Page
from app.core.security import Principal
from app.innovations import repository as innovations
from app.institutionalisation import repository
from app.institutionalisation.repository import HubFilters, IncentiveFilters, RegulationFilters
from app.institutionalisation.schemas import (
    ComplianceTotals,
    ComplianceView,
    GovernmentCompliance,
    HubCreate,
    HubRead,
    HubUpdate,
    IncentiveCreate,
    IncentiveRead,
    InstitutionRef,
    OpdWithoutInnovation,
    ProgramRef,
    RegulationCreate,
    RegulationRead,
    RegulationRef,
    RegulationUpdate,
)
from app.models.institutionalisation import JippHub
from app.regions import repository as regions

# --- Regulations ------------------------------------------------------------------------


async def _check_region(session: AsyncSession, code: str, pointer: str) -> str:
    region = await regions.get_region(session, code)
    if region is None:
        raise field_error(pointer, f"Region {code} does not exist.")
    return region.level


def _check_dates(values: dict[str, Any]) -> None:
    repealed, effective = values.get("repealed_on"), values.get("effective_on")
    if repealed is not None and effective is not None and repealed <= effective:
        raise field_error("/body/repealed_on", "A regulation is repealed after it takes effect.")


async def create_regulation(
    session: AsyncSession,
    principal: Principal,
    data: RegulationCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> RegulationRead:
    """A regulation of a region (its province's coordinator or an admin) or national
    (admins only). `record_id`: the new record's id when the caller chooses it."""
    principal.ensure_province(data.region_code, "regulation")
    if data.region_code is not None:
        await _check_region(session, data.region_code, "/body/region_code")
    values = data.model_dump(mode="json")
    values.update(
        kind=data.kind.value,
        effective_on=data.effective_on,
        repealed_on=data.repealed_on,
        id=record_id or uuid.uuid4(),
    )
    _check_dates(values)
    regulation = await repository.insert_regulation(session, values)
    await record_event(
        session,
        principal,
        "regulation.created",
        "regulation",
        regulation.id,
        values,
        regulation.region_code,
    )
    return RegulationRead.model_validate(regulation)


async def _regulation(session: AsyncSession, regulation_id: uuid.UUID) -> Any:
    regulation = await repository.get_regulation(session, regulation_id)
    if regulation is None:
        raise NotFound(f"Regulation {regulation_id} does not exist.")
    return regulation


async def get_regulation(session: AsyncSession, regulation_id: uuid.UUID) -> RegulationRead:
    return RegulationRead.model_validate(await _regulation(session, regulation_id))


async def update_regulation(
    session: AsyncSession,
    principal: Principal,
    regulation_id: uuid.UUID,
    version: int,
    data: RegulationUpdate,
) -> RegulationRead:
    """Change the fields sent (its region stays); the province rule as for creating."""
    regulation = await _regulation(session, regulation_id)
    principal.ensure_province(regulation.region_code, "regulation")
    sent: dict[str, Any] = data.model_dump(exclude_unset=True, mode="json")
    for name in ("effective_on", "repealed_on"):
        if name in sent:
            sent[name] = getattr(data, name)
    _check_dates(
        {
            "effective_on": sent.get("effective_on", regulation.effective_on),
            "repealed_on": sent.get("repealed_on", regulation.repealed_on),
        }
    )
    ensure_version(regulation.version, version)
    changes = changed_fields(regulation, sent)
    if changes:
        regulation = await repository.update_regulation(session, regulation, version, changes)
        await record_event(
            session,
            principal,
            "regulation.updated",
            "regulation",
            regulation.id,
            changes,
            regulation.region_code,
        )
    return RegulationRead.model_validate(regulation)


async def list_regulations(
    session: AsyncSession,
    filters: RegulationFilters,
    *,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[RegulationRead]:
    where = repository.regulation_filters(filters)
    name = repository.REGULATION_SORT
    after = decode_cursor(cursor, name, 2) if cursor else None
    rows = await repository.list_regulations(session, where, after, limit + 1)
    items = [RegulationRead.model_validate(r) for r in rows[:limit]]
    cursor_after = next_cursor(rows, limit, name, lambda r: [r.year, r.id])
    total = await repository.count_regulations(session, where) if include_total else None
    return Page[RegulationRead](items=items, next_cursor=cursor_after, total=total)


# --- Compliance -------------------------------------------------------------------------


def _coverage(active: int, opds: int) -> float | None:
    return round(100 * active / opds, 1) if opds else None


async def compliance(
    session: AsyncSession,
    *,
    region: str | None,
    year: int,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> ComplianceView:
    """ "Satu OPD Satu Inovasi" for the governments of `region` (all of them without one) in
    `year`: one statement, whatever the number of OPDs."""
    name = f"compliance:{region or ''}:{year}"
    after = decode_cursor(cursor, name, 2) if cursor else None
    row = await repository.compliance(session, region, year, after, limit + 1)
    if region is not None and row.region_name is None:
        raise NotFound(f"Region {region} does not exist.")
    governments = [
        GovernmentCompliance(
            institution_id=g["institution_id"],
            name=g["name"],
            kind=g["kind"],
            region_code=g["region_code"],
            opds=g["opds"],
            opds_with_innovation=g["opds_with_innovation"],
            opds_without_innovation=g["opds"] - g["opds_with_innovation"],
            coverage_pct=_coverage(g["opds_with_innovation"], g["opds"]),
            mandated=bool(g["mandated_by"]),
            mandated_by=[RegulationRef.model_validate(r) for r in g["mandated_by"]],
            incentives_idr=g["incentives_idr"],
        )
        for g in row.governments
    ]
    opds = sum(g.opds for g in governments)
    active = sum(g.opds_with_innovation for g in governments)
    rows = [OpdWithoutInnovation.model_validate(i) for i in row.items]
    items = rows[:limit]
    return ComplianceView(
        region_code=region,
        region_name=row.region_name,
        year=year,
        governments=governments,
        totals=ComplianceTotals(
            governments=len(governments),
            opds=opds,
            opds_with_innovation=active,
            opds_without_innovation=opds - active,
            coverage_pct=_coverage(active, opds),
            incentives_idr=int(row.incentives_idr),
        ),
        items=items,
        next_cursor=next_cursor(rows, limit, name, lambda i: [i.name, i.id]),
        total=opds - active if include_total else None,
    )


# --- Incentives -------------------------------------------------------------------------


async def create_incentive(
    session: AsyncSession,
    principal: Principal,
    data: IncentiveCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> IncentiveRead:
    """Record incentive funds of a region: its province's coordinator or an admin. The
    innovation rewarded, when named, is of the same province."""
    principal.ensure_province(data.region_code, "incentive")
    await _check_region(session, data.region_code, "/body/region_code")
    if data.innovation_id is not None:
        innovation = await innovations.get(session, data.innovation_id)
        if innovation is None:
            raise field_error(
                "/body/innovation_id", f"Innovation {data.innovation_id} does not exist."
            )
        if innovation.province_code != data.region_code[:2]:
            raise field_error("/body/innovation_id", "The innovation belongs to another province.")
    values = data.model_dump()
    values["id"] = record_id or uuid.uuid4()
    incentive = await repository.insert_incentive(session, values)
    await record_event(
        session,
        principal,
        "incentive.created",
        "incentive",
        incentive.id,
        values,
        incentive.region_code,
    )
    return IncentiveRead.model_validate(incentive)


async def get_incentive(session: AsyncSession, incentive_id: uuid.UUID) -> IncentiveRead:
    incentive = await repository.get_incentive(session, incentive_id)
    if incentive is None:
        raise NotFound(f"Incentive {incentive_id} does not exist.")
    return IncentiveRead.model_validate(incentive)


async def list_incentives(
    session: AsyncSession,
    filters: IncentiveFilters,
    *,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[IncentiveRead]:
    where = repository.incentive_filters(filters)
    name = repository.INCENTIVE_SORT
    after = decode_cursor(cursor, name, 2) if cursor else None
    rows = await repository.list_incentives(session, where, after, limit + 1)
    items = [IncentiveRead.model_validate(r) for r in rows[:limit]]
    cursor_after = next_cursor(rows, limit, name, lambda r: [r.year, r.id])
    total = await repository.count_incentives(session, where) if include_total else None
    return Page[IncentiveRead](items=items, next_cursor=cursor_after, total=total)


# --- JIPP hubs --------------------------------------------------------------------------


def _hub_read(row: Any) -> HubRead:
    hub: JippHub = row.JippHub
    return HubRead(
        id=hub.id,
        name=hub.name,
        province_code=hub.province_code,
        host=InstitutionRef.model_validate(row.host),
        established_on=hub.established_on,
        decree_number=hub.decree_number,
        description=hub.description,
        members=[InstitutionRef.model_validate(m) for m in row.members],
        mentors=list(hub.mentors),
        programs=[ProgramRef.model_validate(p) for p in row.programs],
        created_at=hub.created_at,
        updated_at=hub.updated_at,
        version=hub.version,
    )


async def get_hub(session: AsyncSession, hub_id: uuid.UUID) -> HubRead:
    row = await repository.get_hub_row(session, hub_id)
    if row is None:
        raise NotFound(f"JIPP hub {hub_id} does not exist.")
    return _hub_read(row)


async def list_hubs(
    session: AsyncSession,
    filters: HubFilters,
    *,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[HubRead]:
    where = repository.hub_filters(filters)
    name = repository.HUB_SORT
    after = decode_cursor(cursor, name, 2) if cursor else None
    rows = await repository.list_hubs(session, where, after, limit + 1)
    items = [_hub_read(r) for r in rows[:limit]]
    cursor_after = next_cursor(rows, limit, name, lambda r: [r.JippHub.name, r.JippHub.id])
    total = await repository.count_hubs(session, where) if include_total else None
    return Page[HubRead](items=items, next_cursor=cursor_after, total=total)


async def _check_institutions(session: AsyncSession, ids: list[uuid.UUID], pointer: str) -> None:
    if len(set(ids)) != len(ids):
        raise field_error(pointer, "Each institution may be named once.")
    missing = set(ids) - await repository.existing_institutions(session, ids)
    if missing:
        names = ", ".join(sorted(str(i) for i in missing))
        raise field_error(pointer, f"No such institution: {names}.")


async def create_hub(
    session: AsyncSession,
    principal: Principal,
    data: HubCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> HubRead:
    """A JIPP hub of a province (its coordinator or an admin), with its members."""
    principal.ensure_province(data.province_code, "hub")
    if await _check_region(session, data.province_code, "/body/province_code") != "province":
        raise field_error("/body/province_code", "Must be a province code (2 digits).")
    await _check_institutions(session, [data.host_institution_id], "/body/host_institution_id")
    await _check_institutions(session, data.member_institution_ids, "/body/member_institution_ids")
    values = data.model_dump(exclude={"member_institution_ids"})
    values["id"] = record_id or uuid.uuid4()
    hub = await repository.insert_hub(session, values)
    await repository.set_members(session, hub.id, set(data.member_institution_ids), set())
    await record_event(
        session,
        principal,
        "hub.created",
        "hub",
        hub.id,
        {**values, "member_institution_ids": data.member_institution_ids},
        hub.province_code,
    )
    return await get_hub(session, hub.id)


async def update_hub(
    session: AsyncSession,
    principal: Principal,
    hub_id: uuid.UUID,
    version: int,
    data: HubUpdate,
) -> HubRead:
    """Change the fields sent; `member_institution_ids` replaces the members."""
    hub = await repository.lock_hub(session, hub_id)
    if hub is None:
        raise NotFound(f"JIPP hub {hub_id} does not exist.")
    principal.ensure_province(hub.province_code, "hub")
    sent: dict[str, Any] = data.model_dump(exclude_unset=True)
    members = sent.pop("member_institution_ids", None)
    if "host_institution_id" in sent:
        await _check_institutions(
            session, [sent["host_institution_id"]], "/body/host_institution_id"
        )
    ensure_version(hub.version, version)
    changes = changed_fields(hub, sent)
    add: set[uuid.UUID] = set()
    remove: set[uuid.UUID] = set()
    if members is not None:
        await _check_institutions(session, members, "/body/member_institution_ids")
        current = await repository.member_ids(session, hub.id)
        add, remove = set(members) - current, current - set(members)
        if add or remove:
            changes["member_institution_ids"] = members
    if changes:
        await repository.set_members(session, hub.id, add, remove)
        columns = {k: v for k, v in changes.items() if k != "member_institution_ids"}
        hub = await repository.update_hub(session, hub, version, columns)
        await record_event(
            session, principal, "hub.updated", "hub", hub.id, changes, hub.province_code
        )
    return await get_hub(session, hub_id)


async def ensure_hub(session: AsyncSession, hub_id: uuid.UUID | None, pointer: str) -> None:
    """422 unless `hub_id` is None or a JIPP hub (for a programme's mentoring hub)."""
    if hub_id is not None and not await repository.hub_exists(session, hub_id):
        raise field_error(pointer, f"JIPP hub {hub_id} does not exist.")
