"""Innovations registry (registri inovasi): records, awards, lineage, search and export."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import ensure_version
from app.core.driver import RowSource
from app.core.errors import NotFound, field_error
from app.core.events import record_event
from app.core.pagination import decode_cursor, next_cursor
from app.core.repository import changed_fields
from app.core.schemas import Page
from app.core.security import Principal, ensure_institution
from app.core.transitions import ensure_transition
from app.innovations import repository
from app.innovations.repository import Filters
from app.innovations.schemas import (
    KIPP_TIERS,
    AwardCreate,
    AwardRead,
    Competition,
    InnovationCreate,
    InnovationRead,
    InnovationStatus,
    InnovationUpdate,
    LineageNode,
)
from app.institutions import repository as institutions

S = InnovationStatus
TRANSITIONS: dict[InnovationStatus, frozenset[InnovationStatus]] = {
    S.draft: frozenset({S.published, S.withdrawn}),
    S.published: frozenset({S.withdrawn}),
    S.withdrawn: frozenset(),
}
RELEVANCE = "relevance"


def to_read(row: Mapping[str, Any]) -> InnovationRead:
    """The read model from a row of `repository.read_model()` (by column name)."""
    score = row["latest_score"]
    awards = row["awards"]
    by_status = row["replications_by_status"]
    return InnovationRead(
        id=row["id"],
        title=row["title"],
        summary=row["summary"],
        problem=row["problem"],
        approach=row["approach"],
        outcomes=row["outcomes"],
        sector=row["sector"],
        form=row["form"],
        digital=row["digital"],
        initiator=row["initiator"],
        stage=row["stage"],
        launched_on=row["launched_on"],
        # Nested values as plain data: validated in the same call as the rest.
        institution={
            "id": row["institution_id"],
            "name": row["institution_name"],
            "kind": row["institution_kind"],
        },
        region_code=row["region_code"],
        province_code=row["province_code"],
        replica_of_id=row["replica_of_id"],
        status=row["status"],
        scale=row["scale"],
        tags=row["tags"],
        evidence_urls=row["evidence_urls"],
        replications=row["replication_count"],
        # json columns arrive as text from the driver
        replications_by_status=json.loads(by_status) if isinstance(by_status, str) else by_status,
        provinces_reached=row["provinces_reached"],
        latest_verdict=row["latest_verdict"],
        latest_score=float(score) if score is not None else None,
        awards=json.loads(awards) if isinstance(awards, str) else awards,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


async def _institution_province(session: AsyncSession, institution_id: uuid.UUID) -> str | None:
    institution = await institutions.get(session, institution_id)
    if institution is None:
        raise field_error("/body/institution_id", f"Institution {institution_id} does not exist.")
    return institution.province_code


async def _check_replica_of(
    session: AsyncSession, innovation_id: uuid.UUID | None, replica_of_id: uuid.UUID
) -> None:
    if await repository.get(session, replica_of_id) is None:
        raise field_error("/body/replica_of_id", f"Innovation {replica_of_id} does not exist.")
    if innovation_id is not None and await repository.creates_cycle(
        session, innovation_id, replica_of_id
    ):
        raise field_error("/body/replica_of_id", "An innovation cannot replicate itself.")


async def create_innovation(
    session: AsyncSession,
    principal: Principal,
    data: InnovationCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> InnovationRead:
    """Register an innovation; coordinators only for institutions of their province.
    `record_id`: the new record's id when the caller chooses it, else a random one."""
    province = await _institution_province(session, data.institution_id)
    principal.ensure_province(province, "institution")
    await ensure_institution(session, principal, data.institution_id, "institution")
    if data.status == S.withdrawn:
        raise field_error("/body/status", "A new innovation is draft or published.")
    if data.replica_of_id is not None:
        await _check_replica_of(session, None, data.replica_of_id)
    values = data.model_dump(mode="json")
    values["id"] = record_id or uuid.uuid4()
    values["institution_id"] = data.institution_id
    values["replica_of_id"] = data.replica_of_id
    values["launched_on"] = data.launched_on
    innovation = await repository.insert(session, values)
    await record_event(
        session, principal, "innovation.created", "innovation", innovation.id, values, province
    )
    return await get_innovation(session, None, innovation.id, visible_to_writer=True)


async def get_innovation(
    source: RowSource,
    principal: Principal | None,
    innovation_id: uuid.UUID,
    *,
    visible_to_writer: bool = False,
) -> InnovationRead:
    """One innovation; anonymous clients see published ones only. `source` is the request's
    session, or where a read that needs none runs (`app.core.db.Reads`)."""
    row = await repository.get_row(source, innovation_id)
    if row is None or (
        principal is None and not visible_to_writer and row["status"] != S.published
    ):
        raise NotFound(f"Innovation {innovation_id} does not exist.")
    return to_read(row)


async def update_innovation(
    session: AsyncSession,
    principal: Principal,
    innovation_id: uuid.UUID,
    expected_version: int,
    data: InnovationUpdate,
) -> InnovationRead:
    """Apply the fields sent. Status moves draft → published → withdrawn only."""
    innovation = await repository.get(session, innovation_id)
    if innovation is None:
        raise NotFound(f"Innovation {innovation_id} does not exist.")
    principal.ensure_province(innovation.province_code, "innovation")
    await ensure_institution(session, principal, innovation.institution_id, "innovation")
    # A stale If-Match comes first: the other answers (illegal move, bad reference) would
    # judge a request made against a state the client has not seen.
    ensure_version(innovation.version, expected_version)
    sent: dict[str, Any] = data.model_dump(exclude_unset=True, mode="json")
    if "institution_id" in sent:
        sent["institution_id"] = data.institution_id
        if data.institution_id != innovation.institution_id:
            principal.ensure_province(
                await _institution_province(session, sent["institution_id"]), "institution"
            )
            await ensure_institution(session, principal, sent["institution_id"], "institution")
    if "replica_of_id" in sent:
        sent["replica_of_id"] = data.replica_of_id
        if data.replica_of_id is not None:
            await _check_replica_of(session, innovation.id, data.replica_of_id)
    if "launched_on" in sent:
        sent["launched_on"] = data.launched_on
    if "status" in sent and sent["status"] != innovation.status:
        ensure_transition(TRANSITIONS, S(innovation.status), S(sent["status"]), "An innovation")
    changes = changed_fields(innovation, sent)
    if changes:
        updated = await repository.update(session, innovation, expected_version, changes)
        await record_event(
            session,
            principal,
            "innovation.updated",
            "innovation",
            innovation.id,
            changes,
            updated.province_code,
        )
    return await get_innovation(session, principal, innovation_id)


async def add_award(
    session: AsyncSession,
    principal: Principal,
    innovation_id: uuid.UUID,
    data: AwardCreate,
    *,
    record_id: uuid.UUID | None = None,
) -> AwardRead:
    """Record an award (KIPP tiers top_99, top_45, top_5, outstanding; IGA; other)."""
    innovation = await repository.get(session, innovation_id)
    if innovation is None:
        raise NotFound(f"Innovation {innovation_id} does not exist.")
    principal.ensure_province(innovation.province_code, "innovation")
    if data.competition == Competition.KIPP and data.tier not in KIPP_TIERS:
        raise field_error("/body/tier", "KIPP tiers are top_99, top_45, top_5 and outstanding.")
    values = data.model_dump(mode="json")
    award = await repository.insert_award(
        session, {**values, "id": record_id or uuid.uuid4(), "innovation_id": innovation_id}
    )
    await record_event(
        session,
        principal,
        "award.created",
        "award",
        award.id,
        {**values, "innovation_id": innovation_id},
        innovation.province_code,
    )
    return AwardRead.model_validate(award)


def _chosen_sort(sort: str | None, q: str | None) -> str:
    return sort or (RELEVANCE if q else "-launched_on")


def _sort_keys(sort: str, q: str | None) -> tuple[str, Any]:
    if sort == RELEVANCE:
        if not q:
            raise field_error("/query/sort", "Sorting by relevance needs a search query `q`.")
        return RELEVANCE, repository.relevance_sort(q)
    return sort, repository.SORTS[sort]


async def list_innovations(
    session: AsyncSession,
    principal: Principal | None,
    filters: Filters,
    *,
    sort: str | None,
    cursor: str | None,
    limit: int,
    include_total: bool,
) -> Page[InnovationRead]:
    """A page of innovations with derived figures; anonymous clients see published ones.

    Sorted by relevance, a list ranks the `RANKED_MATCHES` most replicated matches (the
    export streams every match)."""
    if principal is None:
        filters = Filters(**{**_as_dict(filters), "published_only": True})
    name, keys = _sort_keys(_chosen_sort(sort, filters.q), filters.q)
    cursor_name = f"{name}:{filters.q}" if name == RELEVANCE else name
    after = decode_cursor(cursor, cursor_name, len(keys)) if cursor else None
    ranked = repository.RANKED_MATCHES if name == RELEVANCE else None
    rows, key_values = await repository.list_page(
        session, filters, name, keys, after, limit + 1, ranked_matches=ranked
    )
    items = [to_read(r) for r in rows[:limit]]
    cursor_after = next_cursor(key_values, limit, cursor_name, list)
    if not include_total:
        return Page[InnovationRead](items=items, next_cursor=cursor_after)
    total = await repository.count(session, repository.where_clauses(filters))
    return Page[InnovationRead](
        items=items,
        next_cursor=cursor_after,
        total=total.value,
        total_is_estimate=total.estimate,
    )


def _as_dict(filters: Filters) -> dict[str, Any]:
    return {name: getattr(filters, name) for name in Filters.__dataclass_fields__}


async def lineage(
    session: AsyncSession, principal: Principal | None, innovation_id: uuid.UUID
) -> LineageNode:
    """The replica tree below an innovation (anonymous clients see published nodes only)."""
    await get_innovation(session, principal, innovation_id)
    rows = await repository.lineage(session, innovation_id, published_only=principal is None)
    nodes: dict[uuid.UUID, LineageNode] = {}
    for row in rows:
        node = LineageNode(
            id=row.id,
            title=row.title,
            status=row.status,
            institution_id=row.institution_id,
            province_code=row.province_code,
            replicas=[],
            commitments=[],
        )
        nodes[row.id] = node
        if row.depth > 0 and row.replica_of_id in nodes:
            nodes[row.replica_of_id].replicas.append(node)
    for c in await repository.commitments_of(session, list(nodes)):
        nodes[c.innovation_id].commitments.append(
            {
                "id": str(c.id),
                "program_id": str(c.program_id),
                "adopter_institution_id": str(c.adopter_institution_id),
                "adopter_name": c.adopter_name,
                "adopter_province_code": c.adopter_province_code,
                "status": c.status,
                "progress": float(c.progress),
            }
        )
    return nodes[innovation_id]
