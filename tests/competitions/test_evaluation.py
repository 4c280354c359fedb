"""Evaluation: assignments, confidential scores, the two-scores rule and the third score on
divergence, field verification, closing a stage, objections, determination, nomination and
the event feed."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import Role
from tests.competitions._helpers import (
    COMPETITIONS,
    ENTRIES,
    assign,
    close,
    end_objection_window,
    evaluator,
    in_evaluation,
    innovation,
    move,
    new_competition,
    ok,
    post,
    regency,
    score,
    verify,
)
from tests.conftest import MakeKey, bearer, problem


async def _scored_stage0(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    values: list[int],
    **over: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[tuple[str, dict[str, str]]]]:
    """A competition in evaluation whose entries (one per value) have two equal scores."""
    c, entries = await in_evaluation(client, session, admin, len(values), **over)
    evaluators = [await evaluator(session, "A"), await evaluator(session, "B")]
    await assign(client, admin, c["id"], [(e["id"], k) for e in entries for k, _ in evaluators])
    for e, v in zip(entries, values, strict=True):
        for _, headers in evaluators:
            assert (await score(client, headers, e["id"], v)).status_code == 201
    return c, entries, evaluators


async def test_an_evaluator_sees_and_scores_only_its_assigned_entries(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c, entries = await in_evaluation(client, session, admin, 2)
    (a_id, a), (b_id, b) = await evaluator(session, "A"), await evaluator(session, "B")
    mine, other = entries
    await assign(
        client, admin, c["id"], [(mine["id"], a_id), (mine["id"], b_id), (other["id"], b_id)]
    )
    r = await client.get(f"{ENTRIES}/{other['id']}", headers=a)
    assert problem(r, 404)["detail"] == f"Entry {other['id']} does not exist."
    assert "significance" not in r.text
    assert problem(await score(client, a, other["id"], 8), 404)["code"] == "not_found"
    listed = (await client.get(f"{COMPETITIONS}/{c['id']}/entries", headers=a)).json()
    assert [e["id"] for e in listed["items"]] == [mine["id"]]
    assert listed["items"][0]["answers"] == {"significance": "Rahasia sampai penetapan."}
    assert listed["items"][0]["stage_scores"] is None
    # An evaluator reads its own score, never another's.
    assert (await score(client, a, mine["id"], 8, comment="Kuat")).status_code == 201
    assert (await score(client, b, mine["id"], 3, comment="Lemah")).status_code == 201
    own = (await client.get(f"{ENTRIES}/{mine['id']}/scores", headers=a)).json()
    assert [s["comment"] for s in own] == ["Kuat"]
    everything = (await client.get(f"{ENTRIES}/{mine['id']}/scores", headers=admin)).json()
    assert sorted(s["comment"] for s in everything) == ["Kuat", "Lemah"]
    # The public sees nothing of an undetermined competition's entries.
    anonymous = (await client.get(f"{COMPETITIONS}/{c['id']}/entries")).json()
    assert anonymous["items"] == []
    assert (await client.get(f"{ENTRIES}/{mine['id']}")).status_code == 404


async def test_a_score_needs_every_criterion_on_the_scale(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c, (entry,) = await in_evaluation(client, session, admin, 1)
    a_id, a = await evaluator(session)
    await assign(client, admin, c["id"], [(entry["id"], a_id)])
    r = await post(
        client, f"{ENTRIES}/{entry['id']}/scores", a, {"stage": 0, "criteria": {"significance": 11}}
    )
    pointers = {e["pointer"] for e in problem(r, 422)["errors"]}
    assert "/body/criteria/novelty" in pointers
    assert "/body/criteria/significance" in pointers
    ok_score = await ok(await score(client, a, entry["id"], 10), 201)
    assert ok_score["total"] == 100.0
    assert problem(await score(client, a, entry["id"], 9), 409)["code"] == "already_scored"


async def test_a_stage_will_not_close_while_a_divergence_is_unresolved(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c, entries = await in_evaluation(client, session, admin, 3)
    evaluators = [await evaluator(session, n) for n in "ABC"]
    (a_id, a), (b_id, b), (c_id, third) = evaluators
    await assign(client, admin, c["id"], [(e["id"], k) for e in entries for k in (a_id, b_id)])
    for e in entries[:2]:
        await score(client, a, e["id"], 8)
        await score(client, b, e["id"], 8)
    split = entries[2]
    await score(client, a, split["id"], 9)  # 88.89
    await score(client, b, split["id"], 3)  # 22.22: more than 20 apart
    r = await close(client, admin, c["id"], 0)
    body = problem(r, 409)
    assert body["code"] == "stage_outstanding"
    assert split["id"] in body["detail"]
    assert [e["pointer"] for e in body["errors"]] == [f"/entries/{split['id']}"]
    assert "a third is needed" in body["errors"][0]["detail"]
    assert (await session.scalar(text("SELECT count(*) FROM stage_rankings"))) == 0
    # The third score resolves it.
    await assign(client, admin, c["id"], [(split["id"], c_id)])
    assert (await score(client, third, split["id"], 7)).status_code == 201
    closed = await ok(await close(client, admin, c["id"], 0))
    assert (closed["ranked"], closed["advanced"], closed["closed_now"]) == (3, 2, True)


async def test_a_missing_score_keeps_the_stage_open(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c, (entry,) = await in_evaluation(client, session, admin, 1)
    a_id, a = await evaluator(session)
    await assign(client, admin, c["id"], [(entry["id"], a_id)])
    await score(client, a, entry["id"], 8)
    body = problem(await close(client, admin, c["id"], 0), 409)
    assert "1 score(s) of the 2 needed" in body["errors"][0]["detail"]


async def test_closing_ranks_by_score_then_earlier_submission_and_again_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c, entries, _ = await _scored_stage0(client, session, admin, [6, 9, 9, 4])
    closed = await ok(await close(client, admin, c["id"], 0))
    assert (closed["ranked"], closed["advanced"]) == (4, 2)
    ranking = (
        await client.get(f"{COMPETITIONS}/{c['id']}/stages/0/ranking", headers=admin)
    ).json()["items"]
    assert [r["entry_id"] for r in ranking] == [entries[i]["id"] for i in (1, 2, 0, 3)]
    assert [r["advanced"] for r in ranking] == [True, True, False, False]
    statuses = {
        e["id"]: e["status"]
        for e in (await client.get(f"{COMPETITIONS}/{c['id']}/entries", headers=admin)).json()[
            "items"
        ]
    }
    assert [statuses[e["id"]] for e in entries] == [
        "eliminated",
        "finalist",
        "finalist",
        "eliminated",
    ]
    before = await session.scalar(
        text("SELECT max(version) FROM competitions WHERE id = :i"), {"i": c["id"]}
    )
    again = await ok(await close(client, admin, c["id"], 0))
    assert (again["ranked"], again["advanced"], again["closed_now"]) == (4, 2, False)
    after = await session.scalar(
        text("SELECT max(version) FROM competitions WHERE id = :i"), {"i": c["id"]}
    )
    assert before == after
    # The ranking is not published before determination.
    assert problem(await client.get(f"{COMPETITIONS}/{c['id']}/stages/0/ranking"), 403)


async def test_an_unverified_entry_cannot_enter_a_verified_tier(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c, entries, evaluators = await _scored_stage0(client, session, admin, [9, 8, 4])
    await ok(await close(client, admin, c["id"], 0))
    top, second = entries[0], entries[1]
    await assign(
        client,
        admin,
        c["id"],
        [(e["id"], k) for e in (top, second) for k, _ in evaluators],
        stage=1,
    )
    for e in (top, second):
        for _, h in evaluators:
            assert (
                await score(client, h, e["id"], 9 if e is top else 7, stage=1)
            ).status_code == 201
    await verify(client, admin, top["id"], verified=False)
    await verify(client, admin, second["id"], verified=True)
    closed = await ok(await close(client, admin, c["id"], 1))
    assert closed["advanced"] == 1
    final = await ok(await client.get(f"{ENTRIES}/{second['id']}", headers=admin))
    assert final["tier"] == "top_45"
    assert (await ok(await client.get(f"{ENTRIES}/{top['id']}", headers=admin)))["tier"] == "top_99"


async def _to_objection(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    values: list[int],
    **over: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Stage 0 closed with the given scores; a one-stage competition in objection."""
    tiers = [{"tier": "top_99", "size": 2, "rubric": "kipp_proposal"}]
    c, entries, _ = await _scored_stage0(client, session, admin, values, tiers=tiers, **over)
    await ok(await close(client, admin, c["id"], 0))
    await move(client, admin, c["id"], "objection")
    return c, entries


async def test_an_upheld_objection_moves_the_next_entry_up(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], make_key: MakeKey
) -> None:
    c, entries = await _to_objection(client, session, admin, [9, 8, 7, 3])
    someone = bearer(await make_key(Role.integration, "33"))
    objection = await ok(
        await post(
            client,
            f"{COMPETITIONS}/{c['id']}/objections",
            someone,
            {"entry_id": entries[0]["id"], "grounds": "Sudah tidak berjalan."},
        ),
        201,
    )
    resolved = await ok(
        await post(
            client,
            f"/api/v1/objections/{objection['id']}/resolution",
            admin,
            {"outcome": "upheld", "note": "Terbukti."},
        )
    )
    assert resolved["status"] == "upheld"
    assert resolved["promoted_entry_ids"] == [entries[2]["id"]]
    statuses = [
        (await ok(await client.get(f"{ENTRIES}/{e['id']}", headers=admin)))["status"]
        for e in entries
    ]
    assert statuses == ["disqualified", "finalist", "finalist", "eliminated"]


async def test_a_rejected_objection_keeps_the_entry(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c, entries = await _to_objection(client, session, admin, [9, 8, 7])
    objection = await ok(
        await post(
            client,
            f"{COMPETITIONS}/{c['id']}/objections",
            admin,
            {"entry_id": entries[0]["id"], "grounds": "Ragu."},
        ),
        201,
    )
    resolved = await ok(
        await post(
            client,
            f"/api/v1/objections/{objection['id']}/resolution",
            admin,
            {"outcome": "rejected", "note": "Tidak terbukti."},
        )
    )
    assert resolved["promoted_entry_ids"] == []
    assert (await ok(await client.get(f"{ENTRIES}/{entries[0]['id']}", headers=admin)))[
        "status"
    ] == "finalist"


async def test_the_determination_creates_exactly_the_finalists_awards_once(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c, entries, evaluators = await _scored_stage0(client, session, admin, [9, 8, 7])
    await ok(await close(client, admin, c["id"], 0))
    top, second = entries[0], entries[1]
    await assign(
        client,
        admin,
        c["id"],
        [(e["id"], k) for e in (top, second) for k, _ in evaluators],
        stage=1,
    )
    for e in (top, second):
        for _, h in evaluators:
            await score(client, h, e["id"], 9 if e is top else 6, stage=1)
        await verify(client, admin, e["id"])
    await ok(await close(client, admin, c["id"], 1))
    await move(client, admin, c["id"], "objection")
    body = {"decree_number": "KEP/1/2026", "determined_on": "2026-01-01"}
    early = await post(client, f"{COMPETITIONS}/{c['id']}/determination", admin, body)
    assert problem(early, 409)["code"] == "objection_window_open"
    await end_objection_window(session, c["id"])
    done = await ok(await post(client, f"{COMPETITIONS}/{c['id']}/determination", admin, body))
    assert done["awards"] == 3
    assert done["competition"]["status"] == "determined"
    rows = (
        await session.execute(
            text(
                "SELECT innovation_id::text, competition, tier, decree_number FROM awards "
                "WHERE competition_id = :c ORDER BY tier, innovation_id"
            ),
            {"c": c["id"]},
        )
    ).all()
    expected = sorted(
        [
            (top["innovation_id"], "KIPP", "top_45", "KEP/1/2026"),
            (top["innovation_id"], "KIPP", "top_99", "KEP/1/2026"),
            (second["innovation_id"], "KIPP", "top_99", "KEP/1/2026"),
        ],
        key=lambda r: (r[2], r[0]),
    )
    assert [tuple(r) for r in rows] == expected
    again = await post(client, f"{COMPETITIONS}/{c['id']}/determination", admin, body)
    assert problem(again, 409)["code"] == "already_determined"
    assert (
        await session.scalar(
            text("SELECT count(*) FROM awards WHERE competition_id = :c"), {"c": c["id"]}
        )
        == 3
    )
    # Read-only afterwards.
    patched = await client.patch(
        f"{COMPETITIONS}/{c['id']}",
        json={"description": "x"},
        headers=admin | {"If-Match": f'"{done["competition"]["version"]}"'},
    )
    assert problem(patched, 409)["code"] == "competition_determined"
    # Open data now: the finalists with their totals, and the rankings.
    public = (await client.get(f"{COMPETITIONS}/{c['id']}/entries")).json()["items"]
    assert sorted(e["id"] for e in public) == sorted([top["id"], second["id"]])
    assert all(e["stage_scores"] for e in public)
    assert (await client.get(f"{COMPETITIONS}/{c['id']}/stages/0/ranking")).status_code == 200
    stats = (await client.get(f"{COMPETITIONS}/{c['id']}/stats")).json()
    assert stats["entries_by_tier"] == {"top_99": 2, "top_45": 1}
    assert stats["entries_by_status"] == {"awarded": 2, "eliminated": 1}


async def test_events_carry_no_score_comment_or_answer(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c, entries, _ = await _scored_stage0(client, session, admin, [7, 9])
    changes = (
        await session.execute(
            text(
                "SELECT action, changes::text FROM events WHERE action LIKE 'competition%' "
                "OR action LIKE 'entry_score%'"
            )
        )
    ).all()
    assert {a for a, _ in changes} >= {
        "entry_score.created",
        "competition_entry.created",
        "competition_entry.submitted",
    }
    for _, ch in changes:
        assert "Rahasia" not in ch
        assert not {"criteria", "total", "comment", "answers"} & set(json.loads(ch))


async def test_provincial_finalists_are_nominated_into_the_open_national_competition(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    province, entries = await _to_objection(
        client, session, admin, [9, 8, 2], organizer_province_code="33"
    )
    await end_objection_window(session, province["id"])
    await ok(
        await post(
            client,
            f"{COMPETITIONS}/{province['id']}/determination",
            admin,
            {"decree_number": "SK/33/1", "determined_on": "2026-01-01"},
        )
    )
    national = await new_competition(client, admin)
    await move(client, admin, national["id"], "open")
    result = await ok(
        await post(
            client,
            f"{COMPETITIONS}/{province['id']}/nominations",
            admin,
            {"target_competition_id": national["id"]},
        )
    )
    assert (len(result["nominated"]), result["skipped"]) == (2, [])
    carried = await ok(await client.get(f"{ENTRIES}/{result['nominated'][0]}", headers=admin))
    assert carried["status"] == "submitted"
    assert carried["nominated_from_entry_id"] == entries[0]["id"]
    assert carried["answers"] == {"significance": "Rahasia sampai penetapan."}
    again = await ok(
        await post(
            client,
            f"{COMPETITIONS}/{province['id']}/nominations",
            admin,
            {"target_competition_id": national["id"]},
        )
    )
    assert (again["nominated"], len(again["skipped"])) == ([], 2)


async def test_a_determined_competition_refuses_new_entries(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    c, _ = await _to_objection(client, session, admin, [9, 8])
    await end_objection_window(session, c["id"])
    await ok(
        await post(
            client,
            f"{COMPETITIONS}/{c['id']}/determination",
            admin,
            {"decree_number": "X/1", "determined_on": "2026-01-01"},
        )
    )
    inno = await innovation(session, await regency(session))
    r = await post(
        client,
        f"{COMPETITIONS}/{c['id']}/entries",
        admin,
        {"innovation_id": str(inno.id), "group": "general"},
    )
    assert problem(r, 409)["code"] == "competition_determined"
