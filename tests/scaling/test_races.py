"""Racing writers with real commits: one open proposal per target, one decision per version."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.security import Role
from tests.conftest import bearer, problem
from tests.core._platform import INNOVATIONS, INSTITUTIONS, engine_count, institution_body
from tests.scaling._builders import PROPOSALS

CommittedKey = Callable[..., Awaitable[str]]


async def _published_innovation(client: httpx.AsyncClient, admin: dict[str, str]) -> str:
    institution = await client.post(INSTITUTIONS, json=institution_body(), headers=admin)
    assert institution.status_code == 201, institution.text
    body = {
        "title": "Kartu Insentif Anak",
        "sector": "population_administration",
        "form": "public_service",
        "initiator": "regional_head",
        "institution_id": institution.json()["id"],
        "status": "published",
    }
    created = await client.post(INNOVATIONS, json=body, headers=admin)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def test_concurrent_proposals_for_one_target_let_exactly_one_in(
    committed_client: httpx.AsyncClient, committed_key: CommittedKey, engine: AsyncEngine
) -> None:
    admin = bearer(await committed_key(Role.admin))
    innovation_id = await _published_innovation(committed_client, admin)
    body = {"innovation_id": innovation_id, "target_scale": "national", "rationale": "Layak."}

    responses = await asyncio.gather(
        *(committed_client.post(PROPOSALS, json=body, headers=admin) for _ in range(6))
    )

    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    for loser in (r for r in responses if r.status_code == 409):
        assert problem(loser, 409)["code"] == "duplicate_proposal"
    assert (
        await engine_count(engine, "scaling_proposals", "innovation_id = :i", i=innovation_id) == 1
    )
    created = "action = 'scaling_proposal.created'"
    assert await engine_count(engine, "events", created) == 1


async def test_concurrent_decisions_with_one_etag_let_exactly_one_win(
    committed_client: httpx.AsyncClient, committed_key: CommittedKey, engine: AsyncEngine
) -> None:
    admin = bearer(await committed_key(Role.admin))
    reviewer = bearer(await committed_key(Role.reviewer))
    innovation_id = await _published_innovation(committed_client, admin)
    body = {"innovation_id": innovation_id, "target_scale": "national", "rationale": "Layak."}
    proposal_id = (await committed_client.post(PROPOSALS, json=body, headers=admin)).json()["id"]
    reviewed = await committed_client.post(f"{PROPOSALS}/{proposal_id}/review", headers=reviewer)
    assert reviewed.status_code == 200, reviewed.text
    headers = reviewer | {"If-Match": reviewed.headers["etag"]}

    responses = await asyncio.gather(
        *(
            committed_client.post(
                f"{PROPOSALS}/{proposal_id}/decision",
                json={"outcome": outcome, "notes": "Keputusan tim penilai."},
                headers=headers,
            )
            for outcome in ("approved", "rejected", "deferred", "approved")
        )
    )

    assert sorted(r.status_code for r in responses) == [200, 412, 412, 412]
    decided = "action = 'scaling_proposal.decided'"
    assert await engine_count(engine, "events", decided) == 1
    winner = next(r for r in responses if r.status_code == 200).json()["status"]
    scale = "national" if winner == "approved" else "local"
    assert (
        await engine_count(
            engine, "innovations", "id = :i AND scale = :s", i=innovation_id, s=scale
        )
        == 1
    )
