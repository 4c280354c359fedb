"""Typed async builders: records inserted through the ORM into the test's transaction.

Each builder flushes and refreshes, so the returned object carries what the database filled
in (ids, defaults, trigger-copied columns). Keyword arguments only; sensible defaults for the
rest, so a test names just what it is about.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.innovation import Award, Innovation
from app.models.institution import Institution
from app.models.replication import Commitment, ReplicationProgram


async def make_institution(
    session: AsyncSession,
    *,
    name: str | None = None,
    kind: str = "regional_agency",
    region_code: str | None = "33.29",
    parent_id: uuid.UUID | None = None,
) -> Institution:
    institution = Institution(
        name=name or f"Dinas Uji {uuid.uuid4().hex[:10]}",
        kind=kind,
        region_code=region_code,
        parent_id=parent_id,
    )
    session.add(institution)
    await session.flush()
    await session.refresh(institution)
    return institution


async def make_innovation(
    session: AsyncSession,
    *,
    institution: Institution,
    title: str = "Inovasi Uji",
    status: str = "published",
    sector: str = "health",
    form: str = "public_service",
    digital: bool = False,
    initiator: str = "agency",
    stage: str = "implementation",
    launched_on: date | None = date(2020, 1, 1),
    scale: str = "local",
    summary: str = "",
    problem: str = "",
    approach: str = "",
    replica_of: Innovation | None = None,
    replication_count: int = 0,
    tags: Sequence[str] = (),
    updated_at: datetime | None = None,
) -> Innovation:
    innovation = Innovation(
        id=uuid.uuid4(),
        title=title,
        status=status,
        sector=sector,
        form=form,
        digital=digital,
        initiator=initiator,
        stage=stage,
        launched_on=launched_on,
        scale=scale,
        summary=summary,
        problem=problem,
        approach=approach,
        institution_id=institution.id,
        replica_of_id=replica_of.id if replica_of else None,
        replication_count=replication_count,
        tags=list(tags),
    )
    if updated_at is not None:
        innovation.updated_at = updated_at
    session.add(innovation)
    await session.flush()
    await session.refresh(innovation)
    return innovation


async def make_award(
    session: AsyncSession,
    *,
    innovation: Innovation,
    competition: str = "KIPP",
    year: int = 2019,
    tier: str = "top_99",
    decree_number: str | None = None,
) -> Award:
    award = Award(
        innovation_id=innovation.id,
        competition=competition,
        year=year,
        tier=tier,
        decree_number=decree_number,
    )
    session.add(award)
    await session.flush()
    await session.refresh(award)
    return award


async def make_program(
    session: AsyncSession, *, province_code: str | None = "33"
) -> ReplicationProgram:
    program = ReplicationProgram(
        name=f"Program Uji {uuid.uuid4().hex[:6]}",
        province_code=province_code,
        fiscal_year=2022,
        status="active",
    )
    session.add(program)
    await session.flush()
    return program


async def make_commitment(
    session: AsyncSession,
    *,
    innovation: Innovation,
    adopter: Institution,
    status: str = "launched",
    program: ReplicationProgram | None = None,
) -> Commitment:
    program = program or await make_program(session, province_code=adopter.province_code)
    commitment = Commitment(
        program_id=program.id,
        innovation_id=innovation.id,
        adopter_institution_id=adopter.id,
        adopter_region_code=adopter.region_code,
        adopter_province_code=adopter.province_code,
        origin_province_code=innovation.province_code,
        signed_on=date(2021, 11, 2),
        status=status,
    )
    session.add(commitment)
    await session.flush()
    await session.refresh(commitment)
    return commitment
