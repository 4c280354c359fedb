"""Competitions and the rules at submission: window, age, quota, one entry per innovation,
the near-duplicate flag, the status machine, and who may submit for whom."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.schemas import today
from app.core.security import Role
from tests.builders import make_institution
from tests.competitions._helpers import (
    COMPETITIONS,
    ENTRIES,
    draft,
    innovation,
    move,
    new_competition,
    ok,
    post,
    regency,
    submitted,
    submitter,
)
from tests.conftest import MakeKey, bearer, problem


async def test_a_competition_starts_planned_with_kipp_defaults(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {
        "name": "KIPP 2027",
        "year": 2027,
        "groups": ["general", "replication"],
        "submission_opens_on": "2027-01-02",
        "submission_closes_on": "2027-02-28",
    }
    created = await ok(await post(client, COMPETITIONS, admin, body), 201)
    assert created["status"] == "planned"
    assert created["organizer"] == "national"
    assert [(t["tier"], t["size"]) for t in created["tiers"]] == [
        ("top_99", 99),
        ("top_45", 45),
        ("outstanding", 5),
    ]
    assert created["group_rules"] == {
        "general": {"min_age_years": 2, "quota": 10},
        "replication": {"min_age_years": 1, "quota": 5},
    }
    rubrics = (await client.get(f"{COMPETITIONS}/{created['id']}/rubrics")).json()
    assert [r["code"] for r in rubrics] == ["kipp_proposal", "kipp_presentation"]
    assert [c["weight"] for c in rubrics[0]["criteria"]] == [20, 20, 20, 20, 20]


async def test_an_illegal_move_is_409_naming_the_allowed_ones(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    c = await new_competition(client, admin)
    r = await post(client, f"{COMPETITIONS}/{c['id']}/transitions", admin, {"to": "evaluation"})
    assert problem(r, 409)["allowed"] == ["open"]


async def test_a_coordinator_organises_only_its_province(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    coordinator = bearer(await make_key(Role.coordinator, "33"))
    from tests.competitions._helpers import competition_body

    mine = await post(
        client, COMPETITIONS, coordinator, competition_body(organizer_province_code="33")
    )
    assert mine.status_code == 201, mine.text
    national = await post(client, COMPETITIONS, coordinator, competition_body())
    assert problem(national, 403)["code"] == "other_province"


async def test_an_over_quota_submission_is_422_naming_the_quota(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c = await new_competition(
        client, admin, group_rules={"general": {"min_age_years": 2, "quota": 1}}
    )
    await move(client, admin, c["id"], "open")
    government = await regency(session)
    health = await make_institution(session, parent_id=government.id, region_code="33.29")
    education = await make_institution(session, parent_id=government.id, region_code="33.29")
    await submitted(client, admin, c["id"], (await innovation(session, health)).id)
    second = await ok(
        await draft(client, admin, c["id"], (await innovation(session, education)).id), 201
    )
    r = await post(client, f"{ENTRIES}/{second['id']}/submit", admin)
    body = problem(r, 422)
    assert body["code"] == "over_quota"
    assert "quota in the general group is 1" in body["detail"]
    # Another group has its own quota.
    other = await ok(
        await draft(client, admin, c["id"], (await innovation(session, health)).id, "replication"),
        201,
    )
    assert (await post(client, f"{ENTRIES}/{other['id']}/submit", admin)).status_code == 200


async def test_an_innovation_too_young_for_its_group_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c = await new_competition(client, admin)
    await move(client, admin, c["id"], "open")
    closes = today() + timedelta(days=10)
    young = await innovation(
        session, await regency(session), launched_on=closes - timedelta(days=400)
    )
    entry = await ok(await draft(client, admin, c["id"], young.id, "general"), 201)
    body = problem(await post(client, f"{ENTRIES}/{entry['id']}/submit", admin), 422)
    assert body["code"] == "too_young"
    assert "at least 2 year(s)" in body["detail"]
    # Old enough for the replication group (1 year).
    patched = await client.patch(
        f"{ENTRIES}/{entry['id']}",
        json={"group": "replication"},
        headers=admin | {"If-Match": f'"{entry["version"]}"'},
    )
    assert patched.status_code == 200, patched.text
    assert (await post(client, f"{ENTRIES}/{entry['id']}/submit", admin)).status_code == 200


async def test_submission_outside_the_window_is_409(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    past = today() - timedelta(days=30)
    c = await new_competition(
        client,
        admin,
        submission_opens_on=(past - timedelta(days=9)).isoformat(),
        submission_closes_on=past.isoformat(),
    )
    await move(client, admin, c["id"], "open")
    entry = await ok(
        await draft(client, admin, c["id"], (await innovation(session, await regency(session))).id),
        201,
    )
    r = await post(client, f"{ENTRIES}/{entry['id']}/submit", admin)
    assert problem(r, 409)["code"] == "submission_closed"


async def test_one_entry_per_innovation(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c = await new_competition(client, admin)
    inno = await innovation(session, await regency(session))
    assert (await draft(client, admin, c["id"], inno.id)).status_code == 201
    assert problem(await draft(client, admin, c["id"], inno.id), 409)["code"] == "duplicate_entry"


async def test_a_similar_title_is_flagged_not_refused(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c = await new_competition(client, admin)
    await move(client, admin, c["id"], "open")
    first = await submitted(
        client,
        admin,
        c["id"],
        (
            await innovation(
                session, await regency(session), title="Sayangi dan Dampingi Ibu dan Anak"
            )
        ).id,
    )
    second = await submitted(
        client,
        admin,
        c["id"],
        (
            await innovation(
                session, await regency(session), title="Sayangi dan Dampingi Ibu & Anak"
            )
        ).id,
    )
    other = await submitted(
        client,
        admin,
        c["id"],
        (await innovation(session, await regency(session), title="Data Kota Magelang Open")).id,
    )
    assert first["near_duplicates"] == []
    assert [d["entry_id"] for d in second["near_duplicates"]] == [first["id"]]
    assert second["near_duplicates"][0]["similarity"] >= 0.6
    assert other["near_duplicates"] == []
    assert second["status"] == "submitted"


async def test_a_submitter_acts_for_its_institution_and_those_under_it(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    government = await regency(session)
    office = await make_institution(session, parent_id=government.id, region_code="33.29")
    stranger = await regency(session, "33.01")
    key = await submitter(session, government.id)
    body = {
        "title": "Inovasi Dinas",
        "sector": "health",
        "form": "public_service",
        "initiator": "agency",
        "launched_on": "2015-01-01",
        "status": "published",
    }
    mine = await post(client, "/api/v1/innovations", key, body | {"institution_id": str(office.id)})
    assert mine.status_code == 201, mine.text
    theirs = await post(
        client, "/api/v1/innovations", key, body | {"institution_id": str(stranger.id)}
    )
    assert problem(theirs, 403)["code"] == "other_institution"

    c = await new_competition(client, admin)
    await move(client, admin, c["id"], "open")
    entry = await ok(await draft(client, key, c["id"], mine.json()["id"]), 201)
    assert entry["agency_id"] == str(government.id)
    assert (await post(client, f"{ENTRIES}/{entry['id']}/submit", key)).status_code == 200
    foreign = await innovation(session, stranger)
    assert problem(await draft(client, key, c["id"], foreign.id), 403)["code"] == (
        "other_institution"
    )
    # Another institution's submitter cannot even see the entry.
    other_key = await submitter(session, stranger.id)
    assert (await client.get(f"{ENTRIES}/{entry['id']}", headers=other_key)).status_code == 404


async def test_a_submitter_key_needs_an_institution(session: AsyncSession) -> None:
    from app.core.errors import Unprocessable
    from app.core.keys import create_key

    with pytest.raises(Unprocessable, match="--institution"):
        await create_key(session, name="x", role=Role.submitter, province_code=None)
    count = await session.scalar(text("SELECT count(*) FROM api_keys WHERE role = 'submitter'"))
    assert count == 0


async def test_a_coordinator_submits_only_for_its_province(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], make_key: MakeKey
) -> None:
    c = await new_competition(client, admin)
    inno = await innovation(session, await regency(session))  # 33.29, Jawa Tengah
    other = bearer(await make_key(Role.coordinator, "61"))
    assert problem(await draft(client, other, c["id"], inno.id), 403)["code"] == "other_province"
    own = bearer(await make_key(Role.coordinator, "33"))
    assert (await draft(client, own, c["id"], inno.id)).status_code == 201


async def test_a_patch_may_not_null_a_rule(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    c = await new_competition(client, admin)
    r = await client.patch(
        f"{COMPETITIONS}/{c['id']}",
        json={"objection_days": None},
        headers=admin | {"If-Match": f'"{c["version"]}"'},
    )
    assert problem(r, 422)["errors"][0]["pointer"] == "/body/objection_days"
    changed = await client.patch(
        f"{COMPETITIONS}/{c['id']}",
        json={"group_rules": {"general": {"min_age_years": 3, "quota": 4}}},
        headers=admin | {"If-Match": f'"{c["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["group_rules"]["general"] == {"min_age_years": 3, "quota": 4}
    assert changed.json()["group_rules"]["replication"] == {"min_age_years": 1, "quota": 5}


async def test_evaluation_waits_for_every_screening(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c = await new_competition(client, admin)
    await move(client, admin, c["id"], "open")
    entry = await submitted(
        client, admin, c["id"], (await innovation(session, await regency(session))).id
    )
    await move(client, admin, c["id"], "screening")
    r = await post(client, f"{COMPETITIONS}/{c['id']}/transitions", admin, {"to": "evaluation"})
    body = problem(r, 409)
    assert body["code"] == "screening_outstanding"
    assert body["errors"] == [{"pointer": f"/entries/{entry['id']}", "detail": "Not screened."}]
    failed = await post(
        client,
        f"{ENTRIES}/{entry['id']}/screening",
        admin,
        {"result": "failed", "reasons": ["too_young"]},
    )
    assert (await ok(failed))["status"] == "screened_out"
    await move(client, admin, c["id"], "evaluation")
    early = await post(client, f"{COMPETITIONS}/{c['id']}/transitions", admin, {"to": "objection"})
    assert problem(early, 409)["code"] == "stages_open"
