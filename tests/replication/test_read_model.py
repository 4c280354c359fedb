"""Replication figures in the innovations read model and the lineage tree."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import make_innovation, make_institution
from tests.replication._api import cancel

COMMITMENTS = "/api/v1/commitments"


async def _program(client: httpx.AsyncClient, admin: dict[str, str], province: str | None) -> str:
    body = {"name": "Program Uji", "province_code": province, "fiscal_year": 2022}
    r = await client.post("/api/v1/replication-programs", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _commit(
    client: httpx.AsyncClient, admin: dict[str, str], program: str, innovation: str, adopter: str
) -> str:
    body = {
        "program_id": program,
        "innovation_id": innovation,
        "adopter_institution_id": adopter,
        "signed_on": "2021-11-02",
    }
    r = await client.post(COMMITMENTS, json=body, headers=admin)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_read_model_counts_replications_by_status_and_provinces_reached(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    origin = await make_institution(session, region_code="32.73")
    innovation = await make_innovation(session, institution=origin, title="PIKOBAR Uji")
    blora = await make_institution(session, kind="regency_government", region_code="33.16")
    kudus = await make_institution(session, kind="regency_government", region_code="33.19")
    sambas = await make_institution(session, kind="regency_government", region_code="61.01")
    other = await make_innovation(session, institution=origin, title="Lain")
    national = await _program(client, admin, None)
    await _commit(client, admin, national, str(other.id), str(blora.id))
    await _commit(client, admin, national, str(innovation.id), str(blora.id))
    await _commit(client, admin, national, str(innovation.id), str(kudus.id))
    cancelled = await _commit(client, admin, national, str(innovation.id), str(sambas.id))
    await cancel(client, admin, cancelled)

    body = (await client.get(f"/api/v1/innovations/{innovation.id}")).json()

    assert body["replications"] == 2
    assert body["replications_by_status"] == {"committed": 2, "cancelled": 1}
    assert body["provinces_reached"] == 1


async def test_lineage_lists_the_commitments_adopting_each_innovation(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    origin = await make_institution(session, region_code="32.73")
    innovation = await make_innovation(session, institution=origin, title="Asal")
    replica_owner = await make_institution(session, region_code="33.74")
    replica = await make_innovation(
        session, institution=replica_owner, title="Replika", replica_of=innovation
    )
    blora = await make_institution(session, kind="regency_government", region_code="33.16")
    program = await _program(client, admin, "33")
    on_origin = await _commit(client, admin, program, str(innovation.id), str(blora.id))
    on_replica = await _commit(client, admin, program, str(replica.id), str(blora.id))

    tree = (await client.get(f"/api/v1/innovations/{innovation.id}/lineage")).json()

    assert [c["id"] for c in tree["commitments"]] == [on_origin]
    assert [n["id"] for n in tree["replicas"]] == [str(replica.id)]
    assert [c["id"] for c in tree["replicas"][0]["commitments"]] == [on_replica]
    assert tree["replicas"][0]["commitments"][0]["adopter_province_code"] == "33"
