"""SQL of the demo seed: what exists already, and the seed's own principals."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role, hash_key
from app.models.api_key import ApiKey
from app.models.institution import Institution
from app.models.scaling import OPEN_STATUSES, ScalingProposal
from app.models.sustainability import SustainabilityAssessment


async def existing_ids(
    session: AsyncSession, model: Any, ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `ids` are already rows of `model`'s table."""
    rows = await session.scalars(select(model.id).where(model.id.in_(list(ids))))
    return set(rows)


async def institutions_by_name(
    session: AsyncSession, keys: Sequence[tuple[str, str | None]]
) -> dict[tuple[str, str | None], uuid.UUID]:
    """Institutions already registered under these (name, region code) pairs, which are
    unique: the seed reuses them rather than registering a twin."""
    rows = await session.execute(
        select(Institution.id, Institution.name, Institution.region_code).where(
            tuple_(Institution.name, Institution.region_code).in_(list(keys))
        )
    )
    return {(r.name, r.region_code): r.id for r in rows}


async def open_proposal_exists(
    session: AsyncSession,
    innovation_id: uuid.UUID,
    target_scale: str,
    target_province_code: str | None,
) -> bool:
    """Whether a proposal for this innovation and target is open (submitted, under review or
    deferred): the one open proposal per target the service allows."""
    p = ScalingProposal
    found = await session.scalar(
        select(p.id)
        .where(
            p.innovation_id == innovation_id,
            p.target_scale == target_scale,
            p.target_province_code.is_not_distinct_from(target_province_code),
            p.status.in_(OPEN_STATUSES),
        )
        .limit(1)
    )
    return found is not None


async def assessed_periods(
    session: AsyncSession, subject_ids: Iterable[uuid.UUID]
) -> set[tuple[uuid.UUID, int]]:
    """(subject id, period) of the assessments these innovations or commitments have."""
    a = SustainabilityAssessment
    ids = list(subject_ids)
    rows = await session.execute(
        select(func.coalesce(a.innovation_id, a.commitment_id), a.period).where(
            or_(a.innovation_id.in_(ids), a.commitment_id.in_(ids))
        )
    )
    return {(subject, period) for subject, period in rows}


async def ensure_principal(
    session: AsyncSession, principal_id: uuid.UUID, name: str, role: Role
) -> None:
    """An API key row that the seed's events name as their actor, so that `inovasi keys
    list` says who made them. It is revoked from the start and its secret is thrown away: it
    can never authenticate a request."""
    await session.execute(
        insert(ApiKey)
        .values(
            id=principal_id,
            name=name,
            role=role.value,
            province_code=None,
            prefix="ih_seed",
            key_hash=hash_key("ih_" + secrets.token_urlsafe(32)),
            revoked_at=func.now(),
        )
        .on_conflict_do_nothing(index_elements=[ApiKey.id])
    )
