"""Statistics on the demo data set, with the exact figures it must give.

The demo (app/demo/data.py) has 15 published innovations (5 born in Jawa Tengah, 6 in Jawa
Barat, one each in Aceh, Kepulauan Riau, Jawa Timur and Sulawesi Selatan; Kartu Insentif Anak
national, by one approved scaling proposal; one proposal submitted, one under review), and 32
commitments: 19 in Jawa Tengah (4 sustained, of which Sragen's by its assessment, 5 launched,
4 in progress, 3 stalled, 2 committed, 1 cancelled), 10 in Kalimantan Barat (1 sustained,
4 launched, 2 in progress, 1 stalled, 2 committed) and 3 of the national round of 2015, all
launched, in Jawa Barat, Sulawesi Selatan and Aceh (Kartu Insentif Anak of Jawa Tengah).
Launched and sustained ones are at 100 % progress, in progress 45 %, stalled and cancelled
25 %, committed 0 %. Every target date lies in 2015, 2022 or 2023, so every commitment still
committed (with a target), in progress or stalled is overdue.

Eight subjects have one assessment each, of 2023: sustained Gerakan Kembali Bersekolah and Kartu
Insentif Anak (Jawa Tengah) and the commitments of Blora and Sragen (Jawa Tengah); at risk
Bandung Anti Kantong Plastik (Jawa Barat) and Sanggau's commitment (Kalimantan Barat);
discontinued PIKOBAR (Jawa Barat) and Purbalingga's commitment (Jawa Tengah).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.demo import data
from app.models.scaling import ScalingProposal
from app.models.sustainability import SustainabilityAssessment, SustainabilityRubric
from tests.builders import make_innovation, make_institution
from tests.conftest import problem

OVERVIEW = "/api/v1/stats/overview"
PROVINCES = "/api/v1/stats/provinces"
FLOWS = "/api/v1/stats/replication-flows"
NO_VERDICTS = {"sustained": 0, "at_risk": 0, "discontinued": 0}
DEMO_VERDICTS = {"sustained": 4, "at_risk": 2, "discontinued": 2}
NO_COMMITMENTS = {
    "committed": 0,
    "in_progress": 0,
    "stalled": 0,
    "launched": 0,
    "sustained": 0,
    "cancelled": 0,
}


def flow(origin: str, origin_name: str, adopter: str, adopter_name: str, n: int, launched: int):
    return {
        "origin_province_code": origin,
        "origin_province_name": origin_name,
        "adopter_province_code": adopter,
        "adopter_province_name": adopter_name,
        "commitments": n,
        "launched": launched,
    }


JT, KB = "Jawa Tengah", "Kalimantan Barat"
ALL_FLOWS = [
    flow("33", JT, "33", JT, 9, 5),
    flow("32", "Jawa Barat", "61", KB, 5, 3),
    flow("73", "Sulawesi Selatan", "33", JT, 4, 2),
    flow("11", "Aceh", "33", JT, 3, 2),
    flow("21", "Kepulauan Riau", "61", KB, 2, 1),
    flow("32", "Jawa Barat", "33", JT, 2, 0),
    flow("35", "Jawa Timur", "61", KB, 2, 1),
    flow("33", JT, "11", "Aceh", 1, 1),
    flow("33", JT, "32", "Jawa Barat", 1, 1),
    flow("33", JT, "61", KB, 1, 0),
    flow("33", JT, "73", "Sulawesi Selatan", 1, 1),
]
# The national round of 2015 (Kartu Insentif Anak); every other commitment is of 2022.
FLOWS_2015 = [f for f in ALL_FLOWS if f["adopter_province_code"] in ("11", "32", "73")]


def by_code(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["code"]: row for row in body["items"]}


# --- Overview -----------------------------------------------------------------------------


async def test_overview_counts_the_demo(client: httpx.AsyncClient) -> None:
    r = await client.get(OVERVIEW)

    assert r.status_code == 200, r.text
    assert r.json() == {
        "innovations_by_status": {"draft": 0, "published": 20, "withdrawn": 0},
        "innovations_by_scale": {"local": 19, "provincial": 0, "national": 1},
        "commitments_by_status": {
            "committed": 4,
            "in_progress": 6,
            "stalled": 4,
            "launched": 12,
            "sustained": 5,
            "cancelled": 1,
        },
        "overdue_commitments": 12,
        "latest_verdicts": DEMO_VERDICTS,
        "scaling_proposals_by_status": {
            "submitted": 1,
            "under_review": 1,
            "approved": 1,
            "rejected": 0,
            "deferred": 0,
        },
    }


async def test_overview_counts_drafts_by_status_but_scale_over_published_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_institution(session, region_code="33.29")
    await make_innovation(session, institution=owner, status="draft", scale="local")
    await make_innovation(session, institution=owner, status="withdrawn", scale="provincial")

    body = (await client.get(OVERVIEW)).json()

    assert body["innovations_by_status"] == {"draft": 1, "published": 20, "withdrawn": 1}
    assert body["innovations_by_scale"] == {"local": 19, "provincial": 0, "national": 1}


async def test_overview_counts_each_subject_once_by_its_latest_verdict(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # Gerakan Kembali Bersekolah, sustained in 2023: at risk in 2024 (and an older 2022).
    await assess(session, innovation="gkb", period=2022, verdict="discontinued")
    await assess(session, innovation="gkb", period=2024, verdict="at_risk")
    # Blora's commitment, sustained in 2023: discontinued in 2024.
    await assess(
        session, commitment=("jateng_2021", "gkb", "gov_blora"), period=2024, verdict="discontinued"
    )
    # Data Kota Magelang Open, never assessed by the demo: sustained in 2024.
    await assess(session, innovation="dkmo", period=2024, verdict="sustained")

    body = (await client.get(OVERVIEW)).json()

    # From 4 / 2 / 2: two sustained subjects move, one new sustained one.
    assert body["latest_verdicts"] == {"sustained": 3, "at_risk": 3, "discontinued": 3}


async def test_overview_counts_scaling_proposals_by_every_status(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_institution(session, region_code="33.29")
    for status in ("submitted", "under_review", "deferred", "rejected", "rejected"):
        innovation = await make_innovation(session, institution=owner)
        session.add(
            ScalingProposal(
                innovation_id=innovation.id,
                province_code="33",
                target_scale="national",
                rationale="Uji",
                evidence={},
                status=status,
                proposed_by="uji",
            )
        )
    await session.flush()

    body = (await client.get(OVERVIEW)).json()

    assert body["scaling_proposals_by_status"] == {
        "submitted": 2,
        "under_review": 2,
        "approved": 1,
        "rejected": 2,
        "deferred": 1,
    }


# --- Provinces ----------------------------------------------------------------------------


async def test_provinces_lists_all_38_provinces_by_code(client: httpx.AsyncClient) -> None:
    r = await client.get(PROVINCES)

    assert r.status_code == 200, r.text
    codes = [row["code"] for row in r.json()["items"]]
    assert len(codes) == 38
    assert codes == sorted(codes)
    assert codes[0] == "11"
    assert codes[-1] == "96"


async def test_provinces_gives_jawa_tengah_its_figures(client: httpx.AsyncClient) -> None:
    rows = by_code((await client.get(PROVINCES)).json())

    assert rows["33"] == {
        "code": "33",
        "name": "Jawa Tengah",
        "innovations": 10,
        "commitments": {
            "committed": 2,
            "in_progress": 4,
            "stalled": 3,
            "launched": 5,
            "sustained": 4,
            "cancelled": 1,
        },
        # (4 + 5) × 100 + 4 × 45 + 3 × 25 + 2 × 0 over the 18 not cancelled
        "average_progress": 64.17,
        "overdue": 8,
        # Gerakan Kembali Bersekolah and Kartu Insentif Anak, Blora and Sragen sustained;
        # Purbalingga discontinued.
        "latest_verdicts": {"sustained": 4, "at_risk": 0, "discontinued": 1},
        # The demo's incentives (app/demo/institutionalisation.py), all years.
        "incentives_idr": 10_750_000_000,
    }


async def test_provinces_gives_kalimantan_barat_its_figures(client: httpx.AsyncClient) -> None:
    rows = by_code((await client.get(PROVINCES)).json())

    assert rows["61"] == {
        "code": "61",
        "name": "Kalimantan Barat",
        "innovations": 0,
        "commitments": {
            "committed": 2,
            "in_progress": 2,
            "stalled": 1,
            "launched": 4,
            "sustained": 1,
            "cancelled": 0,
        },
        # (1 + 4) × 100 + 2 × 45 + 1 × 25 + 2 × 0 over 10
        "average_progress": 61.5,
        "overdue": 4,
        # Sanggau's commitment to Menyeting Gigi Emas
        "latest_verdicts": {"sustained": 0, "at_risk": 1, "discontinued": 0},
        "incentives_idr": 1_000_000_000,
    }


async def test_provinces_counts_published_innovations_where_they_were_born(
    client: httpx.AsyncClient,
) -> None:
    rows = by_code((await client.get(PROVINCES)).json())

    born = {code: row["innovations"] for code, row in rows.items() if row["innovations"]}
    assert born == {"11": 1, "21": 1, "32": 6, "33": 10, "35": 1, "73": 1}


async def test_provinces_without_commitments_have_zeros_and_no_average(
    client: httpx.AsyncClient,
) -> None:
    rows = by_code((await client.get(PROVINCES)).json())

    assert rows["35"]["commitments"] == NO_COMMITMENTS
    assert rows["35"]["average_progress"] is None
    assert rows["35"]["overdue"] == 0
    assert rows["96"] == {
        "code": "96",
        "name": "Papua Barat Daya",
        "innovations": 0,
        "commitments": NO_COMMITMENTS,
        "average_progress": None,
        "overdue": 0,
        "latest_verdicts": NO_VERDICTS,
        "incentives_idr": 0,
    }


async def test_provinces_leave_out_unpublished_innovations(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await make_institution(session, region_code="61.71")
    await make_innovation(session, institution=owner, status="draft")
    await make_innovation(session, institution=owner, status="withdrawn")

    rows = by_code((await client.get(PROVINCES)).json())

    assert rows["61"]["innovations"] == 0


async def test_provinces_count_subjects_by_their_latest_verdict_where_they_are(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # Origin innovations count where they were born, commitments where their adopter is.
    # Gerakan Kembali Bersekolah (Jawa Tengah) sustained in 2023, at risk in 2024:
    await assess(session, innovation="gkb", period=2024, verdict="at_risk")
    # Bandung Anti Kantong Plastik (Jawa Barat) at risk in 2023, discontinued in 2024:
    await assess(session, innovation="bakp", period=2024, verdict="discontinued")
    # Two Kalimantan Barat commitments of Jawa Barat and Kepulauan Riau innovations, new:
    await assess(
        session,
        commitment=("kalbar_2022", "pikobar", "gov_kubu_raya"),
        period=2023,
        verdict="sustained",
    )
    await assess(
        session, commitment=("kalbar_2022", "pidj", "gov_sambas"), period=2023, verdict="at_risk"
    )

    rows = by_code((await client.get(PROVINCES)).json())

    assert rows["33"]["latest_verdicts"] == {"sustained": 3, "at_risk": 1, "discontinued": 1}
    assert rows["32"]["latest_verdicts"] == {"sustained": 0, "at_risk": 0, "discontinued": 2}
    assert rows["61"]["latest_verdicts"] == {"sustained": 1, "at_risk": 2, "discontinued": 0}


async def test_average_progress_leaves_out_cancelled_commitments(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    # Cancel Kendal's commitment to Bandung Anti Kantong Plastik (committed, 0 %): the 17
    # left average 1155 / 17.
    commitment = data.commitment_id("jateng_2021", "bakp", "gov_kendal")
    r = await client.post(
        f"/api/v1/commitments/{commitment}/transitions",
        json={"to": "cancelled", "reason": "Anggaran dialihkan"},
        headers=admin,
    )
    assert r.status_code == 200, r.text

    rows = by_code((await client.get(PROVINCES)).json())

    assert rows["33"]["average_progress"] == 67.94
    assert rows["33"]["commitments"]["cancelled"] == 2
    assert rows["33"]["overdue"] == 7


# --- Replication flows --------------------------------------------------------------------


async def test_flows_give_every_origin_adopter_pair_largest_first(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get(FLOWS)

    assert r.status_code == 200, r.text
    assert r.json() == {"items": ALL_FLOWS}


async def test_flows_of_one_programme(client: httpx.AsyncClient) -> None:
    r = await client.get(FLOWS, params={"program": str(data.program_id("kalbar_2022"))})

    assert r.status_code == 200, r.text
    assert r.json()["items"] == [f for f in ALL_FLOWS if f["adopter_province_code"] == "61"]


async def test_flows_of_a_fiscal_year(client: httpx.AsyncClient) -> None:
    both = await client.get(FLOWS, params={"fiscal_year": 2022})
    national = await client.get(FLOWS, params={"fiscal_year": 2015})
    none = await client.get(FLOWS, params={"fiscal_year": 2021})

    assert both.json()["items"] == [f for f in ALL_FLOWS if f not in FLOWS_2015]
    assert national.json()["items"] == FLOWS_2015
    assert none.json() == {"items": []}


async def test_flows_of_an_unknown_programme_are_empty(client: httpx.AsyncClient) -> None:
    r = await client.get(FLOWS, params={"program": str(uuid.uuid4())})

    assert r.status_code == 200, r.text
    assert r.json() == {"items": []}


async def test_flows_leave_out_cancelled_commitments(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    # Cancel Sambas' commitment to Proses Izin Dengan Jarimu (launched): 21 → 61 drops to 1.
    commitment = data.commitment_id("kalbar_2022", "pidj", "gov_sambas")
    r = await client.post(
        f"/api/v1/commitments/{commitment}/transitions",
        json={"to": "cancelled", "reason": "Dihentikan"},
        headers=admin,
    )
    assert r.status_code == 200, r.text

    items = (await client.get(FLOWS)).json()["items"]

    kepri = [f for f in items if f["origin_province_code"] == "21"]
    assert kepri == [flow("21", "Kepulauan Riau", "61", KB, 1, 0)]


async def test_flows_refuse_a_malformed_programme_id(client: httpx.AsyncClient) -> None:
    body = problem(await client.get(FLOWS, params={"program": "jateng"}), 422)

    assert [e["pointer"] for e in body["errors"]] == ["/query/program"]


async def test_flows_refuse_a_fiscal_year_out_of_range(client: httpx.AsyncClient) -> None:
    body = problem(await client.get(FLOWS, params={"fiscal_year": 1999}), 422)

    assert [e["pointer"] for e in body["errors"]] == ["/query/fiscal_year"]


# --- One statement each, whatever the number of rows --------------------------------------


@contextmanager
def statements(connection: AsyncConnection) -> Iterator[list[str]]:
    executed: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            executed.append(statement)

    event.listen(connection.sync_connection, "before_cursor_execute", count)
    try:
        yield executed
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", count)


@pytest.mark.parametrize("path", [OVERVIEW, PROVINCES, FLOWS])
async def test_each_statistic_is_one_statement(
    client: httpx.AsyncClient, connection: AsyncConnection, path: str
) -> None:
    with statements(connection) as executed:
        r = await client.get(path)

    assert r.status_code == 200, r.text
    assert len(executed) == 1, executed


# --- Helpers ------------------------------------------------------------------------------


async def assess(
    session: AsyncSession,
    *,
    period: int,
    verdict: str,
    innovation: str | None = None,
    commitment: tuple[str, str, str] | None = None,
) -> None:
    """A stored assessment of a demo subject with the given verdict (as the sustainability
    service would store it: the subject's source innovation and province copied)."""
    if await session.get(SustainabilityRubric, 1) is None:
        session.add(
            SustainabilityRubric(
                version=1, title="Uji", definition={}, effective_on=date(2022, 1, 1)
            )
        )
        await session.flush()
    if innovation is not None:
        subject = {"innovation_id": data.innovation_id(innovation)}
        spec = next(i for i in data.INNOVATIONS if i.key == innovation)
        owner = next(i for i in data.INSTITUTIONS if i.key == spec.owner)
        source, province = data.innovation_id(innovation), (owner.region_code or "")[:2]
    else:
        assert commitment is not None
        program, source_key, adopter_key = commitment
        subject = {"commitment_id": data.commitment_id(program, source_key, adopter_key)}
        adopter = next(i for i in data.INSTITUTIONS if i.key == adopter_key)
        source, province = data.innovation_id(source_key), (adopter.region_code or "")[:2]
    session.add(
        SustainabilityAssessment(
            **subject,
            source_innovation_id=source,
            province_code=province,
            period=period,
            operating=verdict != "discontinued",
            survived_leadership_change="yes",
            legal_basis="decree",
            budget_years=1,
            in_regional_plan=True,
            in_performance_indicators=True,
            has_sop=True,
            staff_count=1,
            beneficiaries_count=100,
            monitoring="internal",
            assessed_on=date(period, 11, 1),
            score={"sustained": 80, "at_risk": 50, "discontinued": 0}[verdict],
            verdict=verdict,
            rubric_version=1,
        )
    )
    await session.flush()
