"""The scaling-proposal workflow: propose → review → decide, what approval changes, the
events of every step, and every forbidden move."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role
from app.models.innovation import Innovation
from tests.builders import make_award
from tests.conftest import MakeKey, bearer, problem, version_of
from tests.core._platform import key_id
from tests.scaling._builders import (
    PROPOSALS,
    Headers,
    actions_of,
    decide,
    make_assessment,
    make_origin,
    make_replica,
    proposed,
    review,
    stored_innovation,
    stored_proposals,
)


@pytest.fixture
async def coordinator(make_key: MakeKey) -> Headers:
    return bearer(await make_key(Role.coordinator, "33", name="Biro Organisasi Jawa Tengah"))


@pytest.fixture
async def reviewer(make_key: MakeKey) -> Headers:
    return bearer(await make_key(Role.reviewer, name="Tim Penilai KemenPANRB"))


@pytest.fixture
async def kia(session: AsyncSession) -> Innovation:
    """Kota Surakarta's Kartu Insentif Anak, replicated in three other provinces."""
    kia = await make_origin(session, title="Kartu Insentif Anak", region_code="33.72")
    for region in ("35.78", "61.01", "62.01"):
        await make_replica(session, innovation=kia, region_code=region)
    await make_assessment(session, innovation=kia, period=2025, verdict="sustained")
    await make_award(session, innovation=kia, competition="KIPP", year=2015, tier="top_99")
    return kia


async def under_review(
    client: httpx.AsyncClient, proposer: Headers, reviewer: Headers, innovation: Innovation
) -> httpx.Response:
    created = await proposed(client, proposer, innovation)
    r = await review(client, reviewer, created.json()["id"])
    assert r.status_code == 200, r.text
    return r


# --- The whole workflow -----------------------------------------------------------------


async def test_proposal_reviewed_and_approved_makes_the_innovation_national(
    client: httpx.AsyncClient,
    session: AsyncSession,
    coordinator: Headers,
    reviewer: Headers,
    kia: Innovation,
) -> None:
    version_before = kia.version
    created = await proposed(client, coordinator, kia, rationale="Layak menjadi program nasional.")
    proposal_id = created.json()["id"]
    assert created.headers["location"] == f"{PROPOSALS}/{proposal_id}"
    assert version_of(created.headers["ETag"]) == 1
    assert created.json()["status"] == "submitted"
    assert created.json()["proposed_by"] == "Biro Organisasi Jawa Tengah"
    assert created.json()["decision"] is None

    reviewed = await review(client, reviewer, proposal_id)
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["status"] == "under_review"
    assert reviewed.json()["reviewed_at"] is not None

    decided = await decide(
        client,
        reviewer,
        proposal_id,
        "approved",
        reviewed.headers["etag"],
        notes="Memenuhi seluruh kriteria.",
        conditions="Pedoman teknis nasional dalam 6 bulan.",
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["status"] == "approved"
    assert body["version"] == 3
    assert version_of(decided.headers["ETag"]) == 3
    assert body["decision"] | {"decided_at": None} == {
        "outcome": "approved",
        "notes": "Memenuhi seluruh kriteria.",
        "conditions": "Pedoman teknis nasional dalam 6 bulan.",
        "decided_by": "Tim Penilai KemenPANRB",
        "decided_at": None,
    }

    innovation = await stored_innovation(session, kia.id)
    assert innovation.scale == "national"
    assert innovation.version == version_before + 1
    assert await actions_of(session, proposal_id) == [
        "scaling_proposal.created",
        "scaling_proposal.review_started",
        "scaling_proposal.decided",
    ]
    assert await actions_of(session, kia.id) == ["innovation.scaled"]
    [stored] = await stored_proposals(session)
    assert (stored.status, stored.outcome, stored.decided_by) == (
        "approved",
        "approved",
        "Tim Penilai KemenPANRB",
    )
    assert stored.decided_by_key_id is not None
    served = (await client.get(f"/api/v1/innovations/{kia.id}")).json()
    assert served["scale"] == "national"


async def test_each_step_records_who_did_it_and_what_changed(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_key: MakeKey,
    reviewer: Headers,
    kia: Innovation,
) -> None:
    admin_key = await make_key(Role.admin)
    reviewed = await under_review(client, bearer(admin_key), reviewer, kia)
    proposal_id = reviewed.json()["id"]
    await decide(client, reviewer, proposal_id, "approved", reviewed.headers["etag"])

    rows = (
        await session.execute(
            text(
                "SELECT action, actor_id, actor_role, province_code, changes FROM events "
                "WHERE entity_id IN (:p, :i) ORDER BY id"
            ),
            {"p": proposal_id, "i": str(kia.id)},
        )
    ).all()
    reviewer_id = await key_id(session, reviewer["Authorization"].removeprefix("Bearer "))
    assert [(r.action, r.actor_id, r.actor_role, r.province_code) for r in rows] == [
        ("scaling_proposal.created", await key_id(session, admin_key), "admin", "33"),
        ("scaling_proposal.review_started", reviewer_id, "reviewer", "33"),
        ("scaling_proposal.decided", reviewer_id, "reviewer", "33"),
        ("innovation.scaled", reviewer_id, "reviewer", "33"),
    ]
    created, started, decided, scaled = (r.changes for r in rows)
    assert created["target_scale"] == "national"
    assert created["evidence"]["criteria_met"] == 4
    assert started == {"from": "submitted", "to": "under_review", "notes": ""}
    assert (decided["from"], decided["to"], decided["outcome"]) == (
        "under_review",
        "approved",
        "approved",
    )
    assert scaled == {"scale": "national", "scaling_proposal_id": proposal_id}


async def test_deferred_proposal_is_reviewed_again_then_rejected_and_scale_stays(
    client: httpx.AsyncClient,
    session: AsyncSession,
    coordinator: Headers,
    reviewer: Headers,
    kia: Innovation,
) -> None:
    reviewed = await under_review(client, coordinator, reviewer, kia)
    proposal_id = reviewed.json()["id"]

    deferred = await decide(
        client,
        reviewer,
        proposal_id,
        "deferred",
        reviewed.headers["etag"],
        notes="Menunggu penilaian keberlanjutan 2026.",
        conditions="Lampirkan Perda.",
    )
    assert deferred.status_code == 200, deferred.text
    assert deferred.json()["status"] == "deferred"
    assert deferred.json()["decision"]["outcome"] == "deferred"
    again = await review(client, reviewer, proposal_id)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "under_review"
    rejected = await decide(
        client, reviewer, proposal_id, "rejected", again.headers["etag"], notes="Belum layak."
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision"]["notes"] == "Belum layak."

    assert (await stored_innovation(session, kia.id)).scale == "local"
    assert await actions_of(session, proposal_id) == [
        "scaling_proposal.created",
        "scaling_proposal.review_started",
        "scaling_proposal.decided",
        "scaling_proposal.review_started",
        "scaling_proposal.decided",
    ]
    assert await actions_of(session, kia.id) == []


async def test_provincial_approval_makes_a_local_innovation_provincial(
    client: httpx.AsyncClient,
    session: AsyncSession,
    coordinator: Headers,
    reviewer: Headers,
    kia: Innovation,
) -> None:
    created = await proposed(
        client, coordinator, kia, target_scale="provincial", target_province_code="33"
    )
    assert created.json()["target_province_code"] == "33"
    reviewed = await review(client, reviewer, created.json()["id"])

    r = await decide(client, reviewer, created.json()["id"], "approved", reviewed.headers["etag"])

    assert r.status_code == 200, r.text
    assert (await stored_innovation(session, kia.id)).scale == "provincial"


async def test_provincial_approval_leaves_a_national_innovation_national(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    reviewer: Headers,
    kia: Innovation,
) -> None:
    provincial = await proposed(
        client, admin, kia, target_scale="provincial", target_province_code="33"
    )
    provincial_reviewed = await review(client, reviewer, provincial.json()["id"])
    national = await under_review(client, admin, reviewer, kia)
    await decide(client, reviewer, national.json()["id"], "approved", national.headers["etag"])
    version = (await stored_innovation(session, kia.id)).version

    r = await decide(
        client,
        reviewer,
        provincial.json()["id"],
        "approved",
        provincial_reviewed.headers["etag"],
    )

    assert r.status_code == 200, r.text
    innovation = await stored_innovation(session, kia.id)
    assert (innovation.scale, innovation.version) == ("national", version)
    assert await actions_of(session, kia.id) == ["innovation.scaled"]


# --- Forbidden moves --------------------------------------------------------------------

WRONG_DECIDERS = [
    pytest.param(Role.admin, None, id="admin"),
    pytest.param(Role.coordinator, "33", id="coordinator"),
    pytest.param(Role.integration, "33", id="integration"),
]


@pytest.mark.parametrize(("role", "province"), WRONG_DECIDERS)
async def test_only_reviewers_may_start_a_review(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_key: MakeKey,
    admin: Headers,
    kia: Innovation,
    role: Role,
    province: str | None,
) -> None:
    created = await proposed(client, admin, kia)

    r = await review(client, bearer(await make_key(role, province)), created.json()["id"])

    assert problem(r, 403)["code"] == "role_not_allowed"
    [stored] = await stored_proposals(session)
    assert (stored.status, stored.version) == ("submitted", 1)


@pytest.mark.parametrize(("role", "province"), WRONG_DECIDERS)
async def test_only_reviewers_may_decide(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_key: MakeKey,
    admin: Headers,
    reviewer: Headers,
    kia: Innovation,
    role: Role,
    province: str | None,
) -> None:
    reviewed = await under_review(client, admin, reviewer, kia)
    headers = bearer(await make_key(role, province))

    r = await decide(client, headers, reviewed.json()["id"], "approved", reviewed.headers["etag"])

    assert problem(r, 403)["code"] == "role_not_allowed"
    [stored] = await stored_proposals(session)
    assert (stored.status, stored.outcome) == ("under_review", None)
    assert (await stored_innovation(session, kia.id)).scale == "local"


@pytest.mark.parametrize(
    ("role", "province"),
    [
        pytest.param(Role.reviewer, None, id="reviewer"),
        pytest.param(Role.integration, "33", id="integration"),
    ],
)
async def test_reviewers_and_integrations_may_not_propose(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_key: MakeKey,
    kia: Innovation,
    role: Role,
    province: str | None,
) -> None:
    r = await client.post(
        PROPOSALS,
        json={"innovation_id": str(kia.id), "target_scale": "national", "rationale": "Layak."},
        headers=bearer(await make_key(role, province)),
    )

    assert problem(r, 403)["code"] == "role_not_allowed"
    assert await stored_proposals(session) == []


async def test_decision_on_a_submitted_proposal_is_409_naming_the_allowed_move(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    reviewer: Headers,
    kia: Innovation,
) -> None:
    created = await proposed(client, admin, kia)

    r = await decide(client, reviewer, created.json()["id"], "approved", created.headers["etag"])

    body = problem(r, 409)
    assert body["code"] == "illegal_transition"
    assert body["allowed"] == ["under_review"]
    [stored] = await stored_proposals(session)
    assert stored.status == "submitted"
    assert (await stored_innovation(session, kia.id)).scale == "local"


async def test_review_of_a_proposal_under_review_is_409_naming_the_decisions(
    client: httpx.AsyncClient, admin: Headers, reviewer: Headers, kia: Innovation
) -> None:
    reviewed = await under_review(client, admin, reviewer, kia)

    r = await review(client, reviewer, reviewed.json()["id"])

    assert problem(r, 409)["allowed"] == ["approved", "deferred", "rejected"]


@pytest.mark.parametrize("outcome", ["approved", "rejected"])
async def test_an_approved_or_rejected_proposal_is_final(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    reviewer: Headers,
    kia: Innovation,
    outcome: str,
) -> None:
    reviewed = await under_review(client, admin, reviewer, kia)
    proposal_id = reviewed.json()["id"]
    decided = await decide(client, reviewer, proposal_id, outcome, reviewed.headers["etag"])
    assert decided.status_code == 200, decided.text

    again = await review(client, reviewer, proposal_id)
    redecided = await decide(client, reviewer, proposal_id, "deferred", decided.headers["etag"])

    assert problem(again, 409)["allowed"] == []
    assert problem(redecided, 409)["allowed"] == []
    [stored] = await stored_proposals(session)
    assert (stored.status, stored.version) == (outcome, 3)


async def test_decision_without_if_match_is_428(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    reviewer: Headers,
    kia: Innovation,
) -> None:
    reviewed = await under_review(client, admin, reviewer, kia)

    r = await decide(client, reviewer, reviewed.json()["id"], "approved", None)

    assert problem(r, 428)["code"] == "if_match_required"
    [stored] = await stored_proposals(session)
    assert stored.status == "under_review"
    assert (await stored_innovation(session, kia.id)).scale == "local"


async def test_decision_with_a_stale_etag_is_412(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    reviewer: Headers,
    kia: Innovation,
) -> None:
    created = await proposed(client, admin, kia)
    proposal_id = created.json()["id"]
    await review(client, reviewer, proposal_id)

    # The ETag read before the review started is out of date.
    r = await decide(client, reviewer, proposal_id, "approved", created.headers["etag"])

    assert problem(r, 412)["code"] == "stale_version"
    [stored] = await stored_proposals(session)
    assert (stored.status, stored.version) == ("under_review", 2)
    assert (await stored_innovation(session, kia.id)).scale == "local"


async def test_review_with_a_stale_etag_is_412(
    client: httpx.AsyncClient, admin: Headers, reviewer: Headers, kia: Innovation
) -> None:
    created = await proposed(client, admin, kia)

    r = await review(client, reviewer, created.json()["id"], **{"If-Match": '"7"'})

    assert problem(r, 412)["code"] == "stale_version"


async def test_review_and_decision_of_an_unknown_proposal_are_404(
    client: httpx.AsyncClient, reviewer: Headers
) -> None:
    unknown = "0b6c1d8e-4f7a-4a53-9a57-3f0c1e2d4b5a"

    assert problem(await review(client, reviewer, unknown), 404)["code"] == "not_found"
    assert problem(await decide(client, reviewer, unknown, "approved", '"1"'), 404)
    assert problem(await client.get(f"{PROPOSALS}/{unknown}"), 404)


async def test_decision_needs_notes(
    client: httpx.AsyncClient, admin: Headers, reviewer: Headers, kia: Innovation
) -> None:
    reviewed = await under_review(client, admin, reviewer, kia)

    r = await decide(
        client, reviewer, reviewed.json()["id"], "rejected", reviewed.headers["etag"], notes=" "
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/notes"


async def test_a_decision_of_submitted_is_not_an_outcome(
    client: httpx.AsyncClient, admin: Headers, reviewer: Headers, kia: Innovation
) -> None:
    reviewed = await under_review(client, admin, reviewer, kia)

    r = await decide(
        client, reviewer, reviewed.json()["id"], "under_review", reviewed.headers["etag"]
    )

    assert problem(r, 422)["errors"][0]["pointer"] == "/body/outcome"


async def test_review_needs_no_body(
    client: httpx.AsyncClient, admin: Headers, reviewer: Headers, kia: Innovation
) -> None:
    created = await proposed(client, admin, kia)

    r = await client.post(f"{PROPOSALS}/{created.json()['id']}/review", headers=reviewer)

    assert r.status_code == 200, r.text
    assert r.json()["status"] == "under_review"
