"""Composition of a tier, read back from the statistics: KIPP 2019's Top 99 was 19
innovations of 12 ministries, 12 of 8 provincial governments, 21 of 18 cities, 41 of 27
regencies, 5 of 4 agencies and 1 of 1 state enterprise; 25 from Jawa Tengah (3 of the
province, 22 of its regencies and cities)."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import make_institution
from tests.competitions._helpers import (
    COMPETITIONS,
    innovation,
    move,
    new_competition,
    submitted,
)

# (kind, [innovations per institution]) with the region of each institution chosen below.
SHAPE = {
    "ministry": [2] * 7 + [1] * 5,  # 19 of 12
    "agency": [2, 1, 1, 1],  # 5 of 4
    "state_enterprise": [1],  # 1 of 1
}


async def _codes(session: AsyncSession, level: str, like: str, n: int) -> list[str]:
    rows = await session.scalars(
        text("SELECT code FROM regions WHERE level = :l AND code LIKE :p ORDER BY code LIMIT :n"),
        {"l": level, "p": like, "n": n},
    )
    codes = list(rows)
    assert len(codes) == n
    return codes


async def test_kipp_2019_top_99_composition_reads_back_exactly(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    plan: list[tuple[str, str | None, int]] = []  # (kind, region, innovations)
    for kind, counts in SHAPE.items():
        plan += [(kind, None, n) for n in counts]
    others = await _codes(session, "province", "1%", 7)
    plan += [("provincial_government", "33", 3)]
    plan += [
        ("provincial_government", c, n) for c, n in zip(others, [2, 2, 1, 1, 1, 1, 1], strict=True)
    ]
    jt_cities = await _codes(session, "city", "33.%", 6)
    other_cities = await _codes(session, "city", "3_._%", 18)
    other_cities = [c for c in other_cities if not c.startswith("33.")][:12]
    plan += [("city_government", c, 1) for c in jt_cities]
    plan += [
        ("city_government", c, n) for c, n in zip(other_cities, [2, 2, 2] + [1] * 9, strict=True)
    ]
    jt_regencies = await _codes(session, "regency", "33.%", 10)
    other_regencies = await _codes(session, "regency", "32.%", 17)
    plan += [
        ("regency_government", c, n) for c, n in zip(jt_regencies, [2] * 6 + [1] * 4, strict=True)
    ]
    plan += [
        ("regency_government", c, n)
        for c, n in zip(other_regencies, [2] * 8 + [1] * 9, strict=True)
    ]
    assert sum(n for _, _, n in plan) == 99

    c = await new_competition(client, admin, tiers=[{"tier": "top_99", "size": 99}])
    await move(client, admin, c["id"], "open")
    for number, (kind, region, count) in enumerate(plan):
        top = await make_institution(
            session, name=f"Instansi {number}", kind=kind, region_code=region
        )
        for k in range(count):
            # Regional innovations belong to an agency (OPD) under the government: the entry
            # counts for the government, the top of the chain.
            owner = top
            if region is not None and k % 2 == 0:
                owner = await make_institution(
                    session, name=f"Dinas {number}-{k}", parent_id=top.id, region_code=region
                )
            await submitted(client, admin, c["id"], (await innovation(session, owner)).id)
    # The evaluation itself is exercised elsewhere: here the 99 are finalists, determined.
    await session.execute(
        text(
            "UPDATE competition_entries SET status = 'awarded', tier_index = 0 "
            "WHERE competition_id = :c"
        ),
        {"c": c["id"]},
    )
    await session.execute(
        text("UPDATE competitions SET status = 'determined', stages_closed = 1 WHERE id = :c"),
        {"c": c["id"]},
    )

    stats = (await client.get(f"{COMPETITIONS}/{c['id']}/stats")).json()
    (top_99,) = stats["tiers"]
    assert (top_99["tier"], top_99["innovations"]) == ("top_99", 99)
    assert top_99["by_kind"] == {
        "agency": {"innovations": 5, "institutions": 4},
        "city_government": {"innovations": 21, "institutions": 18},
        "ministry": {"innovations": 19, "institutions": 12},
        "provincial_government": {"innovations": 12, "institutions": 8},
        "regency_government": {"innovations": 41, "institutions": 27},
        "state_enterprise": {"innovations": 1, "institutions": 1},
    }
    assert top_99["institutions"] == 70
    assert top_99["by_province"]["33"] == {"innovations": 25, "institutions": 17}
    assert top_99["by_province"]["-"] == {"innovations": 25, "institutions": 17}
