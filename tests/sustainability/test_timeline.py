"""`GET /innovations/{id}/sustainability`: the innovation's timeline with its replicas'."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import make_commitment, make_innovation, make_institution
from tests.conftest import problem
from tests.sustainability._helpers import make_assessment


@dataclass
class Seeded:
    root: str
    ids: dict[str, str]  # label → assessment id


def url(innovation_id: object) -> str:
    return f"/api/v1/innovations/{innovation_id}/sustainability"


@pytest.fixture
async def seeded(session: AsyncSession) -> Seeded:
    """Kartu Insentif Anak (Surakarta), adopted by commitment, and registered as a replica
    by another city that is itself adopted; plus an unrelated innovation."""
    surakarta = await make_institution(session, region_code="33.72")
    semarang = await make_institution(session, region_code="33.74")
    pontianak = await make_institution(session, region_code="61.71")
    root = await make_innovation(session, institution=surakarta, title="Kartu Insentif Anak")
    replica = await make_innovation(
        session,
        institution=semarang,
        title="Kartu Anak Semarang",
        replica_of=root,
        status="withdrawn",
    )
    unrelated = await make_innovation(session, institution=semarang, title="Lain")
    adopter = await make_commitment(session, innovation=root, adopter=pontianak)
    replica_adopter = await make_commitment(session, innovation=replica, adopter=pontianak)
    made = {
        "replica commitment 2024": await make_assessment(
            session, commitment=replica_adopter, period=2024
        ),
        "replica 2023": await make_assessment(session, innovation=replica, period=2023),
        "commitment 2023": await make_assessment(session, commitment=adopter, period=2023),
        "origin 2023": await make_assessment(session, innovation=root, period=2023),
        "origin 2022": await make_assessment(session, innovation=root, period=2022),
        "unrelated 2023": await make_assessment(session, innovation=unrelated, period=2023),
    }
    return Seeded(root=str(root.id), ids={k: str(v.id) for k, v in made.items()})


async def test_timeline_orders_the_innovation_its_commitments_and_replicas_by_period(
    client: httpx.AsyncClient, seeded: Seeded, admin: dict[str, str]
) -> None:
    r = await client.get(url(seeded.root), headers=admin)

    assert r.status_code == 200, r.text
    timeline = r.json()
    names = {v: k for k, v in seeded.ids.items()}
    assert (timeline["innovation_id"], timeline["title"]) == (seeded.root, "Kartu Insentif Anak")
    assert [(names[e["id"]], e["relation"]) for e in timeline["entries"]] == [
        ("origin 2022", "origin"),
        ("origin 2023", "origin"),
        ("commitment 2023", "commitment"),
        ("replica 2023", "replica"),
        ("replica commitment 2024", "replica_commitment"),
    ]


async def test_timeline_hides_unpublished_replicas_from_anonymous_clients(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    r = await client.get(url(seeded.root))

    names = {v: k for k, v in seeded.ids.items()}
    assert [names[e["id"]] for e in r.json()["entries"]] == [
        "origin 2022",
        "origin 2023",
        "commitment 2023",
    ]


async def test_timeline_of_an_innovation_without_assessments_is_empty(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_institution(session, region_code="33.29")
    innovation = await make_innovation(session, institution=owner)

    r = await client.get(url(innovation.id))

    assert r.status_code == 200
    assert r.json()["entries"] == []


async def test_timeline_of_an_unknown_innovation_is_404(client: httpx.AsyncClient) -> None:
    assert problem(await client.get(url(uuid.uuid4())), 404)["code"] == "not_found"


async def test_timeline_of_a_draft_is_404_to_anonymous_clients(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_institution(session, region_code="33.29")
    draft = await make_innovation(session, institution=owner, status="draft")

    assert problem(await client.get(url(draft.id)), 404)["code"] == "not_found"
