"""The innovations read model's `latest_verdict` and `latest_score`: the latest assessment
(highest period) of the innovation at its origin, in the page's one statement."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import make_commitment, make_innovation, make_institution
from tests.sustainability._helpers import make_assessment

INNOVATIONS = "/api/v1/innovations"


async def test_latest_verdict_is_the_highest_period_at_origin(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_institution(session, region_code="33.29")
    innovation = await make_innovation(session, institution=owner)
    adopter = await make_institution(session, region_code="61.71")
    replica = await make_commitment(session, innovation=innovation, adopter=adopter)
    await make_assessment(session, innovation=innovation, period=2024, verdict="at_risk", score=50)
    # Recorded later but for an earlier period: does not replace 2024.
    await make_assessment(
        session, innovation=innovation, period=2023, score=90, assessed_on=date(2025, 6, 1)
    )
    # A replica's assessment is not the origin's.
    await make_assessment(session, commitment=replica, period=2025, score=99)

    body = (await client.get(f"{INNOVATIONS}/{innovation.id}")).json()

    assert (body["latest_verdict"], body["latest_score"]) == ("at_risk", 50.0)


async def test_innovation_never_assessed_has_no_latest_verdict(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_institution(session, region_code="33.29")
    innovation = await make_innovation(session, institution=owner)

    body = (await client.get(f"{INNOVATIONS}/{innovation.id}")).json()

    assert (body["latest_verdict"], body["latest_score"]) == (None, None)


async def test_list_page_carries_each_innovations_own_latest_verdict(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_institution(session, region_code="33.29")
    kept = await make_innovation(session, institution=owner, title="Bertahan")
    lapsed = await make_innovation(session, institution=owner, title="Berhenti")
    await make_innovation(session, institution=owner, title="Belum")
    await make_assessment(session, innovation=kept, period=2024, score="81.25")
    await make_assessment(session, innovation=lapsed, period=2024, verdict="discontinued", score=12)

    r = await client.get(INNOVATIONS, params={"sort": "title"})

    figures = {i["title"]: (i["latest_verdict"], i["latest_score"]) for i in r.json()["items"]}
    assert figures == {
        "Belum": (None, None),
        "Berhenti": ("discontinued", 12.0),
        "Bertahan": ("sustained", 81.25),
    }
