from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.core.db import Session
from app.core.docs import problems
from app.core.routing import AppRoute
from app.core.schemas import Id
from app.core.security import open_data
from app.stats import service
from app.stats.schemas import Overview, ProvinceStatsList, ReplicationFlows

router = APIRouter(prefix="/stats", tags=["stats"], route_class=AppRoute)


@router.get(
    "/overview",
    response_model=Overview,
    summary="Headline counts",
    responses=problems(401),
    dependencies=[Depends(open_data())],
)
async def overview(session: Session) -> Overview:
    """The registry in a few numbers, for a dashboard's first screen: innovations by status
    and (published ones) by scale, commitments by status, overdue commitments, assessed
    subjects by the verdict of their latest sustainability assessment, and scaling proposals
    by status.

    Every status, scale and verdict is present, with 0 when there is none. Open data: no key.
    """
    return await service.overview(session)


@router.get(
    "/provinces",
    response_model=ProvinceStatsList,
    summary="Figures per province",
    responses=problems(401),
    dependencies=[Depends(open_data())],
)
async def provinces(session: Session) -> ProvinceStatsList:
    """One row for each of the 38 provinces (by code, zeros included), ready for a choropleth
    map: published innovations born there; commitments adopted there by status; the average
    progress of those not cancelled (null when there are none); how many are overdue; and
    the province's assessed subjects by their latest verdict. Open data: no key."""
    return await service.provinces(session)


@router.get(
    "/replication-flows",
    response_model=ReplicationFlows,
    summary="Replication flows between provinces",
    responses=problems(401, 422),
    dependencies=[Depends(open_data())],
)
async def replication_flows(
    session: Session,
    program: Annotated[
        Id | None, Query(description="Only the commitments of this programme.")
    ] = None,
    fiscal_year: Annotated[
        int | None,
        Query(ge=2000, le=2100, description="Only the commitments of programmes of this year."),
    ] = None,
) -> ReplicationFlows:
    """Where innovations travel: for each pair (origin province → adopter province), the
    commitments that are not cancelled, and how many of them are launched or sustained.
    Largest flows first; for a flow map or a Sankey diagram.

    The origin is the province of the innovation's institution (null for a ministry's
    innovation); the adopter's is its institution's. Cancelled commitments are left out.
    An unknown `program` gives an empty list. Open data: no key."""
    return await service.replication_flows(session, program_id=program, fiscal_year=fiscal_year)
