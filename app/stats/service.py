"""Statistics (statistik): headline counts, per-province figures and replication flows."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.replication import COMMITMENT_STATUSES
from app.models.sustainability import VERDICTS
from app.stats import repository
from app.stats.schemas import (
    CommitmentStatusCounts,
    InnovationStatusCounts,
    Overview,
    ProposalStatusCounts,
    ProvinceStats,
    ProvinceStatsList,
    ReplicationFlow,
    ReplicationFlows,
    ScaleCounts,
    VerdictCounts,
)

_FLOW_ITEMS = TypeAdapter(list[ReplicationFlow])


def _zero_filled(model: type[Any], counts: dict[str, int] | None) -> Any:
    """The counts as `model`, every key of it present (zeros for the values never seen)."""
    counts = counts or {}
    return model(**{name: int(counts.get(name, 0)) for name in model.model_fields})


async def overview(session: AsyncSession) -> Overview:
    """Counts over the whole registry, in one statement."""
    figures = await repository.overview(session)
    return Overview(
        innovations_by_status=_zero_filled(
            InnovationStatusCounts, figures["innovations_by_status"]
        ),
        innovations_by_scale=_zero_filled(ScaleCounts, figures["innovations_by_scale"]),
        commitments_by_status=_zero_filled(
            CommitmentStatusCounts, figures["commitments_by_status"]
        ),
        overdue_commitments=int(figures["overdue_commitments"]),
        latest_verdicts=_zero_filled(VerdictCounts, figures["latest_verdicts"]),
        scaling_proposals_by_status=_zero_filled(
            ProposalStatusCounts, figures["scaling_proposals_by_status"]
        ),
    )


async def provinces(session: AsyncSession) -> ProvinceStatsList:
    """Every province with its figures, in one statement."""
    rows = await repository.provinces(session)
    return ProvinceStatsList(
        items=[
            ProvinceStats(
                code=r.code,
                name=r.name,
                innovations=r.innovations,
                commitments=CommitmentStatusCounts(
                    **{s: getattr(r, s) for s in COMMITMENT_STATUSES}
                ),
                average_progress=(
                    float(r.average_progress) if r.average_progress is not None else None
                ),
                overdue=r.overdue,
                latest_verdicts=VerdictCounts(**{v: getattr(r, f"verdict_{v}") for v in VERDICTS}),
                incentives_idr=int(r.incentives_idr),
            )
            for r in rows
        ]
    )


async def replication_flows(
    session: AsyncSession, *, program_id: uuid.UUID | None, fiscal_year: int | None
) -> ReplicationFlows:
    """Origin → adopter province pairs with their commitments, largest first."""
    items = await repository.replication_flows_json(
        session, program_id=program_id, fiscal_year=fiscal_year
    )
    return ReplicationFlows(items=_FLOW_ITEMS.validate_json(items))
