"""The kept rows of the dashboard lists (`innovation_figures`, `due_subjects`) equal a
recomputation from the base tables after each of a few writes through the API, on the demo
data; the comparison itself finds a kept row that is off, missing or left over."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.security import Role
from tests._demo import connection, demo_connection
from tests.conftest import MakeKey, bearer
from tests.dashboards.figures import mismatches
from tests.test_examples import SCHEMA
from tests.test_openapi import examples_of

__all__ = ["connection", "demo_connection"]

API = "/api/v1"


def example(path: str) -> dict[str, Any]:
    """The first request example of a POST, as a template."""
    media = SCHEMA["paths"][f"{API}{path}"]["post"]["requestBody"]["content"]["application/json"]
    return dict(examples_of(SCHEMA, media)[0])


async def institutions_outside(conn: AsyncConnection, province: str) -> list[Any]:
    rows = await conn.execute(
        text(
            "SELECT id FROM institutions WHERE region_code IS NOT NULL"
            " AND left(region_code, 2) <> :province ORDER BY region_code, id"
        ),
        {"province": province},
    )
    return [r.id for r in rows]


async def test_kept_rows_equal_a_recomputation_after_api_writes(
    client: httpx.AsyncClient, connection: AsyncConnection, make_key: MakeKey
) -> None:
    h = bearer(await make_key(Role.admin))
    assert await mismatches(connection) == []

    # A published innovation, with an award.
    body = example("/innovations") | {
        "title": f"Inovasi Uji Dasbor {uuid.uuid4().hex[:8]}",
        "status": "published",
        "launched_on": "2020-03-01",
    }
    r = await client.post(f"{API}/innovations", json=body, headers=h)
    assert r.status_code == 201, r.text
    innovation = r.json()
    assert await mismatches(connection) == []
    r = await client.post(
        f"{API}/innovations/{innovation['id']}/awards",
        json=example("/innovations/{innovation_id}/awards"),
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert await mismatches(connection) == []

    # Three commitments adopting it elsewhere, moved up to launched one step at a time.
    national = "SELECT id FROM replication_programs WHERE province_code IS NULL LIMIT 1"
    program_id = (await connection.execute(text(national))).scalar()
    adopters = await institutions_outside(connection, innovation["province_code"] or "")
    commitments = []
    for adopter in adopters[:: max(1, len(adopters) // 3)][:3]:
        body = example("/commitments") | {
            "program_id": str(program_id),
            "innovation_id": innovation["id"],
            "adopter_institution_id": str(adopter),
            "signed_on": "2021-06-01",
        }
        r = await client.post(f"{API}/commitments", json=body, headers=h)
        assert r.status_code == 201, r.text
        commitments.append(r.json()["id"])
        assert await mismatches(connection) == []
    for status in ("in_progress", "launched"):
        for commitment in commitments:
            r = await client.post(
                f"{API}/commitments/{commitment}/transitions",
                json={"to": status, "reason": "Uji daftar dasbor"},
                headers=h,
            )
            assert r.status_code == 200, r.text
            assert await mismatches(connection) == []

    # A batch of progress reports (changes no figure) and assessments of both kinds.
    reports = [
        {
            "commitment_id": c,
            "as_of": "2024-05-01",
            "percent_complete": 80,
            "narrative": "Uji daftar dasbor.",
            "reported_by": "Dinas Uji",
        }
        for c in commitments
    ]
    r = await client.post(f"{API}/progress-reports/batch", json={"reports": reports}, headers=h)
    assert r.status_code in (200, 201, 207), r.text
    assert await mismatches(connection) == []
    for subject in ({"innovation_id": innovation["id"]}, {"commitment_id": commitments[0]}):
        body = example("/sustainability-assessments")
        body.pop("commitment_id", None)
        body.pop("innovation_id", None)
        r = await client.post(
            f"{API}/sustainability-assessments",
            json=body | subject | {"period": 2024, "assessed_on": "2024-06-01"},
            headers=h,
        )
        assert r.status_code == 201, r.text
        assert await mismatches(connection) == []

    # The ranking reads the kept row: three live replicas, two or more other provinces.
    r = await client.get(f"{API}/scaling/candidates", params={"limit": 200}, headers=h)
    [mine] = [c for c in r.json()["items"] if c["innovation"]["id"] == innovation["id"]]
    assert mine["criteria"]["replicas"]["value"] == 3
    assert mine["criteria"]["awards"]["value"] == 1


async def test_mismatches_finds_a_kept_row_off_missing_or_left_over(
    connection: AsyncConnection,
) -> None:
    assert await mismatches(connection) == []
    innovation_id = (
        await connection.execute(text("SELECT innovation_id FROM innovation_figures LIMIT 1"))
    ).scalar()
    await connection.execute(
        text("UPDATE innovation_figures SET replicas = replicas + 1 WHERE innovation_id = :id"),
        {"id": innovation_id},
    )
    subject_id = (
        await connection.execute(
            text("SELECT subject_id FROM due_subjects WHERE commitment_id IS NOT NULL LIMIT 1")
        )
    ).scalar()
    await connection.execute(
        text("DELETE FROM due_subjects WHERE subject_id = :id"), {"id": subject_id}
    )

    found = await mismatches(connection)

    assert len(found) == 2, found
    assert found[0].startswith(f"innovation_figures {innovation_id}: kept"), found
    assert found[1].startswith(f"due_subjects {subject_id}: missing"), found


async def test_kept_rows_follow_the_writes_the_api_does_not_make(
    connection: AsyncConnection,
) -> None:
    """Deletes and changes of keys, straight in SQL: each statement leaves the kept rows
    equal to a recomputation."""
    statements = [
        # An award moves to an innovation that has none (so no other award of the same
        # competition, year and tier), then one is deleted.
        "UPDATE awards SET innovation_id = (SELECT id FROM innovations i WHERE NOT EXISTS"
        " (SELECT 1 FROM awards a WHERE a.innovation_id = i.id) ORDER BY id LIMIT 1)"
        " WHERE id = (SELECT id FROM awards ORDER BY id DESC LIMIT 1)",
        "DELETE FROM awards WHERE id = (SELECT id FROM awards ORDER BY id LIMIT 1)",
        # Live commitments move to another province, and to another status.
        "UPDATE commitments SET adopter_province_code = '11'"
        " WHERE status IN ('launched', 'sustained')",
        "UPDATE commitments SET status = 'launched' WHERE status = 'in_progress'",
        "UPDATE commitments SET status = 'stalled' WHERE status = 'sustained'",
        # An innovation changes province (its replicas' other provinces change with it).
        "UPDATE innovations SET province_code = '11'"
        " WHERE id IN (SELECT innovation_id FROM commitments)",
        # Assessments change period, date and verdict, and go.
        "UPDATE sustainability_assessments SET period = period - 10,"
        " assessed_on = assessed_on - 3650, verdict = 'discontinued'"
        " WHERE id IN (SELECT id FROM sustainability_assessments ORDER BY id LIMIT 3)",
        "DELETE FROM sustainability_assessments"
        " WHERE id IN (SELECT id FROM sustainability_assessments ORDER BY id DESC LIMIT 3)",
        # A live commitment is signed, and goes again.
        "INSERT INTO commitments (id, program_id, innovation_id, adopter_institution_id,"
        " adopter_region_code, adopter_province_code, origin_province_code, signed_on, status,"
        " planned_modifications)"
        " SELECT gen_random_uuid(), c.program_id, c.innovation_id, i.id, i.region_code,"
        " i.province_code, c.origin_province_code, c.signed_on, 'launched', 'uji hapus'"
        " FROM commitments c JOIN institutions i ON i.region_code IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM commitments d WHERE d.adopter_institution_id = i.id)"
        " ORDER BY c.id, i.id LIMIT 1",
        "DELETE FROM commitments WHERE planned_modifications = 'uji hapus'",
    ]
    for sql in statements:
        result = await connection.execute(text(sql))
        assert result.rowcount > 0, sql
        assert await mismatches(connection) == [], sql
