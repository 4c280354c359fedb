"""Institutions (instansi): who owns innovations and who adopts them."""

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
from app.institutions import repository
from app.institutions.schemas import (
    InstitutionCreate,
    InstitutionKind,
    InstitutionRead,
    InstitutionUpdate,
)
from app.models.institution import Institution
from app.regions import repository as regions

K = InstitutionKind
# Region level each kind must sit on; None: no region at all; "any": a region of any level.
_REGION_RULE: dict[InstitutionKind, tuple[str, ...] | None] = {
    K.ministry: None,
    K.provincial_government: ("province",),
    K.regency_government: ("regency",),
    K.city_government: ("city",),
    K.regional_agency: ("province", "regency", "city"),
    K.hospital: ("province", "regency", "city"),
    K.regional_enterprise: ("province", "regency", "city"),
}
_REGION_OPTIONAL = {K.agency, K.university, K.state_enterprise, K.other}
_GOVERNMENTS = {K.provincial_government, K.regency_government, K.city_government}
_SORT = "name"


async def _check_rules(
    session: AsyncSession,
    *,
    institution_id: uuid.UUID | None,
    kind: InstitutionKind,
    region_code: str | None,
    parent_id: uuid.UUID | None,
) -> None:
    if region_code is not None:
        region = await regions.get_region(session, region_code)
        if region is None:
            raise field_error("/body/region_code", f"Region {region_code} does not exist.")
        level = region.level
    else:
        level = None
    if kind not in _REGION_OPTIONAL:
        allowed = _REGION_RULE[kind]
        if allowed is None and region_code is not None:
            raise field_error("/body/region_code", f"A {kind.value} has no region.")
        if allowed is not None and level not in allowed:
            raise field_error(
                "/body/region_code",
                f"A {kind.value} needs a region of level {' or '.join(allowed)}.",
            )
    if parent_id is None:
        return
    parent = await repository.get(session, parent_id)
    if parent is None:
        raise field_error("/body/parent_id", f"Institution {parent_id} does not exist.")
    if institution_id is not None and await repository.is_ancestor(
        session, parent_id, institution_id
    ):
        raise field_error("/body/parent_id", "An institution cannot be its own ancestor.")
    if parent.region_code and region_code != parent.region_code:
        if kind == K.regional_agency or parent.kind in {k.value for k in _GOVERNMENTS}:
            raise field_error(
                "/body/parent_id",
                "The parent belongs to another region; an OPD sits in its government's region.",
            )


async def create_institution(
    session: AsyncSession,
    principal: Principal,
    data: InstitutionCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> InstitutionRead:
    """Register an institution; coordinators only inside their own province.

    `record_id` is the new record's id when the caller chooses it (the demo seed uses stable
    ids); else a random one."""
    principal.ensure_province(data.region_code, "institution")
    await _check_rules(
        session,
        institution_id=None,
        kind=data.kind,
        region_code=data.region_code,
        parent_id=data.parent_id,
    )
    values = data.model_dump()
    values["kind"] = data.kind.value
    institution = await repository.insert(
        session, {**values, "id": record_id} if record_id else values
    )
    await record_event(
        session,
        principal,
        "institution.created",
        "institution",
        institution.id,
        values,
        institution.province_code,
    )
    return InstitutionRead.model_validate(institution)


async def _load(session: AsyncSession, institution_id: uuid.UUID) -> Institution:
    institution = await repository.get(session, institution_id)
    if institution is None:
        raise NotFound(f"Institution {institution_id} does not exist.")
    return institution


async def get_institution(session: AsyncSession, institution_id: uuid.UUID) -> InstitutionRead:
    return InstitutionRead.model_validate(await _load(session, institution_id))


async def update_institution(
    session: AsyncSession,
    principal: Principal,
    institution_id: uuid.UUID,
    expected_version: int,
    data: InstitutionUpdate,
) -> InstitutionRead:
    """Apply the fields sent; the province rule holds for the record before and after."""
    institution = await _load(session, institution_id)
    principal.ensure_province(institution.region_code, "institution")
    sent: dict[str, Any] = data.model_dump(exclude_unset=True)
    if "kind" in sent:
        sent["kind"] = InstitutionKind(sent["kind"]).value
    region_code = sent.get("region_code", institution.region_code)
    principal.ensure_province(region_code, "institution")
    await _check_rules(
        session,
        institution_id=institution.id,
        kind=InstitutionKind(sent.get("kind", institution.kind)),
        region_code=region_code,
        parent_id=sent.get("parent_id", institution.parent_id),
    )
    ensure_version(institution.version, expected_version)
    changes = changed_fields(institution, sent)
    if not changes:
        return InstitutionRead.model_validate(institution)
    updated = await repository.update(session, institution, expected_version, changes)
    await record_event(
        session,
        principal,
        "institution.updated",
        "institution",
        updated.id,
        changes,
        updated.province_code,
    )
    return InstitutionRead.model_validate(updated)


async def list_institutions(
    session: AsyncSession,
    *,
    kind: InstitutionKind | None,
    region: str | None,
    province: str | None,
    parent_id: uuid.UUID | None,
    q: str | None,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[InstitutionRead]:
    where = repository.filters(
        kind=kind.value if kind else None,
        region=region,
        province=province,
        parent_id=parent_id,
        q=q,
    )
    after = decode_cursor(cursor, _SORT, 2) if cursor else None
    rows = await repository.list_page(session, where, after, limit + 1)
    items = [InstitutionRead.model_validate(r) for r in rows[:limit]]
    cursor_after = next_cursor(rows, limit, _SORT, lambda r: [r.name, r.id])
    total = await repository.count(session, where) if include_total else None
    return Page[InstitutionRead](items=items, next_cursor=cursor_after, total=total)
