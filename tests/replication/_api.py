"""Helpers shared by the replication tests: a small programme set up through the API, request
bodies, page walks and database reads.

Institutions and innovations are built with the ORM builders (they are not what these tests
are about); programmes, commitments, items and reports go through the API, so that every
derived column (adopter province, origin province, progress) is the one the service writes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role
from tests.builders import make_innovation, make_institution
from tests.conftest import MakeKey, bearer

PROGRAMS = "/api/v1/replication-programs"
COMMITMENTS = "/api/v1/commitments"
BATCH = "/api/v1/progress-reports/batch"
Headers = dict[str, str]

SIGNED_ON = "2021-11-02"


def program_body(province: str | None = "33", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Replikasi Inovasi Jawa Tengah 2021",
        "province_code": province,
        "fiscal_year": 2022,
        "signed_on": SIGNED_ON,
        "coordinator": "Sekretaris Daerah Provinsi Jawa Tengah",
        "status": "active",
    }
    return body | fields


def commitment_body(
    program: object, innovation: object, adopter: object, **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "program_id": str(program),
        "innovation_id": str(innovation),
        "adopter_institution_id": str(adopter),
        "signed_on": SIGNED_ON,
    }
    return body | fields


def report_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"as_of": "2022-03-31", "percent_complete": 40}
    return body | fields


def url_of(commitment: object, tail: str = "") -> str:
    return f"{COMMITMENTS}/{commitment}{tail}"


async def create_program(
    client: httpx.AsyncClient, headers: Headers, province: str | None = "33", **fields: Any
) -> dict[str, Any]:
    r = await client.post(PROGRAMS, json=program_body(province, **fields), headers=headers)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def create_commitment(
    client: httpx.AsyncClient,
    headers: Headers,
    program: object,
    innovation: object,
    adopter: object,
    **fields: Any,
) -> dict[str, Any]:
    body = commitment_body(program, innovation, adopter, **fields)
    r = await client.post(COMMITMENTS, json=body, headers=headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def create_item(
    client: httpx.AsyncClient, headers: Headers, commitment: object, **fields: Any
) -> dict[str, Any]:
    body = {"title": "Menyusun Perbup"} | fields
    r = await client.post(url_of(commitment, "/action-items"), json=body, headers=headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def post_report(
    client: httpx.AsyncClient, headers: Headers, commitment: object, **fields: Any
) -> httpx.Response:
    return await client.post(
        url_of(commitment, "/progress-reports"), json=report_body(**fields), headers=headers
    )


async def cancel(client: httpx.AsyncClient, headers: Headers, commitment: object) -> None:
    r = await client.post(
        url_of(commitment, "/transitions"),
        json={"to": "cancelled", "reason": "Anggaran dialihkan"},
        headers=headers,
    )
    assert r.status_code == 200, r.text


@dataclass(frozen=True)
class Scene:
    """A province-33 programme with one commitment: Kab. Blora (33.16) adopts an innovation
    of Kota Bandung (32.73)."""

    program: str
    innovation: str
    origin: str
    adopter: str
    commitment: str


async def make_scene(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    *,
    province: str = "33",
    adopter_region: str = "33.16",
    **commitment_fields: Any,
) -> Scene:
    origin = await make_institution(session, region_code="32.73")
    innovation = await make_innovation(session, institution=origin, title="PIKOBAR Uji")
    adopter = await make_institution(session, kind="regency_government", region_code=adopter_region)
    program = await create_program(client, admin, province)
    commitment = await create_commitment(
        client, admin, program["id"], innovation.id, adopter.id, **commitment_fields
    )
    return Scene(
        program=program["id"],
        innovation=str(innovation.id),
        origin=str(origin.id),
        adopter=str(adopter.id),
        commitment=commitment["id"],
    )


async def key(make_key: MakeKey, role: Role, province: str | None = None) -> Headers:
    return bearer(await make_key(role, province, name=f"{role.value}-{province}"))


def keyed(headers: Headers, idempotency_key: str | None = None) -> Headers:
    return headers | {"Idempotency-Key": idempotency_key or f"k-{uuid.uuid4()}"}


async def walk(
    client: httpx.AsyncClient, url: str, params: dict[str, Any], *, limit: int
) -> list[dict[str, Any]]:
    """Every page of `url` with `params`, `limit` rows at a time; the pages' bodies."""
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = params | {"limit": limit} | ({"cursor": cursor} if cursor else {})
        r = await client.get(url, params=query)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 200, "the cursor never ends"


def walked_ids(pages: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for page in pages for item in page["items"]]


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


# --- Database reads -----------------------------------------------------------------------


async def rows(session: AsyncSession, sql: str, **params: Any) -> list[Any]:
    return list((await session.execute(text(sql), params)).all())


async def scalar(session: AsyncSession, sql: str, **params: Any) -> Any:
    return (await session.execute(text(sql), params)).scalar()


async def count(session: AsyncSession, table: str, where: str = "true", **params: Any) -> int:
    return int(await scalar(session, f"SELECT count(*) FROM {table} WHERE {where}", **params))  # noqa: S608


async def commitment_row(session: AsyncSession, commitment: object) -> Any:
    found = await rows(session, "SELECT * FROM commitments WHERE id = :id", id=str(commitment))
    assert len(found) == 1
    return found[0]


async def events_of(session: AsyncSession, entity_id: object) -> list[Any]:
    return await rows(
        session,
        "SELECT action, entity, actor_role, province_code, changes FROM events "
        "WHERE entity_id = :id ORDER BY id",
        id=str(entity_id),
    )


async def set_commitment(session: AsyncSession, commitment: object, **values: Any) -> None:
    """Put a commitment in a state the API reaches only over time (old dates, a status)."""
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    await session.execute(
        text(f"UPDATE commitments SET {assignments} WHERE id = :id"),  # noqa: S608
        {**values, "id": str(commitment)},
    )


REPLICATION_TABLES = (
    "replication_programs",
    "commitments",
    "commitment_activity",
    "action_items",
    "progress_reports",
    "events",
    "idempotency_keys",
)


async def snapshot(session: AsyncSession) -> dict[str, Any]:
    """Row counts of the replication tables and the event log, and every record's version:
    what a refused write could have changed."""
    state: dict[str, Any] = {t: await count(session, t) for t in REPLICATION_TABLES}
    for table in ("replication_programs", "commitments", "action_items"):
        state[f"{table}.versions"] = sorted(
            (str(r.id), r.version, getattr(r, "status", None))
            for r in await rows(session, f"SELECT * FROM {table}")  # noqa: S608
        )
    return state


def days_ago(n: int) -> date:
    return date.today() - timedelta(days=n)
