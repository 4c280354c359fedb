"""GET /replication-programs/{id}/matrix: the innovation × adopter grid of a programme."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import make_innovation, make_institution
from tests.conftest import problem
from tests.replication._api import (
    PROGRAMS,
    Headers,
    create_commitment,
    create_item,
    create_program,
    set_commitment,
)


async def test_matrix_of_a_small_programme_is_exact(
    client: httpx.AsyncClient, session: AsyncSession, admin: Headers
) -> None:
    origin = await make_institution(session, region_code="32.73")
    pikobar = await make_innovation(session, institution=origin, title="PIKOBAR")
    ekosistem = await make_innovation(session, institution=origin, title="Ekosistem Data")
    blora = await make_institution(
        session, name="Pemerintah Kabupaten Blora", kind="regency_government", region_code="33.16"
    )
    kudus = await make_institution(
        session, name="Pemerintah Kabupaten Kudus", kind="regency_government", region_code="33.19"
    )
    program = await create_program(client, admin, "33")
    other = await create_program(client, admin, "33", fiscal_year=2023)
    c1 = await create_commitment(client, admin, program["id"], pikobar.id, blora.id)
    c2 = await create_commitment(client, admin, program["id"], pikobar.id, kudus.id)
    c3 = await create_commitment(client, admin, program["id"], ekosistem.id, kudus.id)
    await create_commitment(client, admin, other["id"], ekosistem.id, blora.id)  # not in this one
    await create_item(client, admin, c1["id"], weight=1, progress=100)
    await create_item(client, admin, c1["id"], weight=3, progress=0)
    await set_commitment(session, c2["id"], status="stalled")

    r = await client.get(f"{PROGRAMS}/{program['id']}/matrix")

    assert r.status_code == 200, r.text
    assert r.json() == {
        "program": (await client.get(f"{PROGRAMS}/{program['id']}")).json(),
        "innovations": [
            {"id": str(ekosistem.id), "name": "Ekosistem Data"},
            {"id": str(pikobar.id), "name": "PIKOBAR"},
        ],
        "adopters": [
            {"id": str(blora.id), "name": "Pemerintah Kabupaten Blora", "region_code": "33.16"},
            {"id": str(kudus.id), "name": "Pemerintah Kabupaten Kudus", "region_code": "33.19"},
        ],
        "cells": [
            {
                "innovation_id": str(ekosistem.id),
                "adopter_institution_id": str(kudus.id),
                "commitment_id": c3["id"],
                "status": "committed",
                "progress": 0.0,
            },
            {
                "innovation_id": str(pikobar.id),
                "adopter_institution_id": str(blora.id),
                "commitment_id": c1["id"],
                "status": "committed",
                "progress": 25.0,
            },
            {
                "innovation_id": str(pikobar.id),
                "adopter_institution_id": str(kudus.id),
                "commitment_id": c2["id"],
                "status": "stalled",
                "progress": 0.0,
            },
        ],
    }


async def test_matrix_of_a_programme_without_commitments_is_empty(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    program = await create_program(client, admin, "33")

    body = (await client.get(f"{PROGRAMS}/{program['id']}/matrix")).json()

    assert (body["program"]["id"], body["innovations"], body["adopters"], body["cells"]) == (
        program["id"],
        [],
        [],
        [],
    )


async def test_matrix_of_an_unknown_programme_is_404(client: httpx.AsyncClient) -> None:
    problem(await client.get(f"{PROGRAMS}/{uuid.uuid4()}/matrix"), 404)
