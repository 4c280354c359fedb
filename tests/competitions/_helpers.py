"""Helpers of the competition tests: a competition driven through the API, stage by stage."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.keys import create_key
from app.core.schemas import today
from app.core.security import Role
from app.models.innovation import Innovation
from app.models.institution import Institution
from tests.builders import make_innovation, make_institution
from tests.conftest import bearer

COMPETITIONS = "/api/v1/competitions"
ENTRIES = "/api/v1/entries"
PROPOSAL = [
    "significance",
    "novelty",
    "transferability",
    "resources_sustainability",
    "stakeholder_involvement",
]
PRESENTATION = [*PROPOSAL, "presentation"]


def competition_body(**over: Any) -> dict[str, Any]:
    now = today()
    body: dict[str, Any] = {
        "name": f"Kompetisi Uji {uuid.uuid4().hex[:6]}",
        "year": now.year,
        "groups": ["general", "replication"],
        "submission_opens_on": (now - timedelta(days=10)).isoformat(),
        "submission_closes_on": (now + timedelta(days=10)).isoformat(),
        "tiers": [
            {"tier": "top_99", "size": 2, "rubric": "kipp_proposal"},
            {
                "tier": "top_45",
                "size": 1,
                "rubric": "kipp_presentation",
                "field_verification": True,
            },
        ],
    }
    return body | over


async def post(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], body: Any = None
) -> httpx.Response:
    h = headers | {"Idempotency-Key": str(uuid.uuid4())}
    return await client.post(url, json=body if body is not None else {}, headers=h)


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    data: dict[str, Any] = response.json()
    return data


async def new_competition(
    client: httpx.AsyncClient, admin: dict[str, str], **over: Any
) -> dict[str, Any]:
    return await ok(await post(client, COMPETITIONS, admin, competition_body(**over)), 201)


async def move(
    client: httpx.AsyncClient, admin: dict[str, str], competition_id: str, to: str
) -> dict[str, Any]:
    return await ok(
        await post(client, f"{COMPETITIONS}/{competition_id}/transitions", admin, {"to": to})
    )


async def regency(session: AsyncSession, region_code: str = "33.29") -> Institution:
    """A regency government with one agency (OPD) under it."""
    return await make_institution(
        session,
        name=f"Pemkab Uji {uuid.uuid4().hex[:6]}",
        kind="regency_government",
        region_code=region_code,
    )


async def innovation(
    session: AsyncSession,
    institution: Institution,
    title: str | None = None,
    launched_on: date | None = date(2015, 1, 1),
) -> Innovation:
    return await make_innovation(
        session,
        institution=institution,
        title=title or f"Inovasi {uuid.uuid4().hex}",
        launched_on=launched_on,
    )


async def draft(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    competition_id: str,
    innovation_id: uuid.UUID,
    group: str = "general",
    **over: Any,
) -> httpx.Response:
    body = {
        "innovation_id": str(innovation_id),
        "group": group,
        "answers": {"significance": "Rahasia sampai penetapan."},
    } | over
    return await post(client, f"{COMPETITIONS}/{competition_id}/entries", headers, body)


async def submitted(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    competition_id: str,
    innovation_id: uuid.UUID,
    group: str = "general",
) -> dict[str, Any]:
    entry = await ok(await draft(client, headers, competition_id, innovation_id, group), 201)
    return await ok(await post(client, f"{ENTRIES}/{entry['id']}/submit", headers))


async def evaluator(session: AsyncSession, name: str = "Penilai") -> tuple[str, dict[str, str]]:
    key, plaintext = await create_key(session, name=name, role=Role.evaluator, province_code=None)
    await session.flush()
    return str(key.id), bearer(plaintext)


async def submitter(session: AsyncSession, institution_id: uuid.UUID) -> dict[str, str]:
    _, plaintext = await create_key(
        session,
        name="Admin instansi",
        role=Role.submitter,
        province_code=None,
        institution_id=institution_id,
    )
    await session.flush()
    return bearer(plaintext)


def criteria(value: int, keys: list[str] = PROPOSAL) -> dict[str, int]:
    return dict.fromkeys(keys, value)


async def score(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    entry_id: str,
    value: int,
    stage: int = 0,
    comment: str = "",
) -> httpx.Response:
    keys = PROPOSAL if stage == 0 else PRESENTATION
    return await post(
        client,
        f"{ENTRIES}/{entry_id}/scores",
        headers,
        {"stage": stage, "criteria": criteria(value, keys), "comment": comment},
    )


async def in_evaluation(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    n: int,
    **over: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A competition in evaluation with `n` entries that passed screening (each of its own
    regency, submitted in order)."""
    competition = await new_competition(client, admin, **over)
    cid = competition["id"]
    await move(client, admin, cid, "open")
    entries = []
    for _ in range(n):
        inno = await innovation(session, await regency(session))
        entries.append(await submitted(client, admin, cid, inno.id))
    await move(client, admin, cid, "screening")
    for e in entries:
        await ok(await post(client, f"{ENTRIES}/{e['id']}/screening", admin, {"result": "passed"}))
    competition = await move(client, admin, cid, "evaluation")
    return competition, entries


async def assign(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    competition_id: str,
    pairs: list[tuple[str, str]],
    stage: int = 0,
) -> dict[str, Any]:
    body = {
        "stage": stage,
        "assignments": [{"entry_id": e, "evaluator_key_id": k} for e, k in pairs],
    }
    return await ok(await post(client, f"{COMPETITIONS}/{competition_id}/assignments", admin, body))


async def close(
    client: httpx.AsyncClient, admin: dict[str, str], competition_id: str, stage: int
) -> httpx.Response:
    return await post(client, f"{COMPETITIONS}/{competition_id}/stages/{stage}/close", admin)


async def end_objection_window(session: AsyncSession, competition_id: str) -> None:
    await session.execute(
        text("UPDATE competitions SET objection_closes_on = current_date - 1 WHERE id = :id"),
        {"id": competition_id},
    )


async def verify(
    client: httpx.AsyncClient, admin: dict[str, str], entry_id: str, verified: bool = True
) -> None:
    body = {"visited_on": today().isoformat(), "team": ["Tim Observasi"], "verified": verified}
    await ok(await post(client, f"{ENTRIES}/{entry_id}/field-verification", admin, body))
